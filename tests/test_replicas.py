"""Two bot replicas, as deployed past one machine: real ``trainbot run`` processes on one
PostgreSQL store and one real Chroma server, Telegram in webhook mode and Slack in HTTP
mode, each replica on its own ports as a load balancer would reach them.

What a person would see is counted at the fake platforms: 1,000 people due at once are each
pushed exactly once while one replica is stopped mid-pass and comes back (a rolling
restart); Slack events sent to alternate replicas, and retried to the other one, are
answered once; a re-ingest is used by the other replica for its next question; and a
replica killed with SIGKILL mid-pass loses no push.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.slack import EVENTS_PATH
from bot.store.db import Database
from bot.store.models import IndexVersion
from tests.chroma_server import free_port
from tests.fake_slack import (
    BOT_TOKEN,
    FakeSlack,
    deliver,
    dm_channel_of,
    event_envelope,
    json_body,
    plain_text,
)
from tests.fake_telegram import FakeTelegram
from tests.test_exactly_once import (
    PUSHES,
    BotProcess,
    assert_store_agrees,
    bot_env,
    course_due_every_day,
    enrol,
    pushes_per_person,
    stored,
    until,
)

pytestmark = pytest.mark.postgres

PEOPLE = 1000
CODE_WORD = "What is the replica drill code word?"


def replica_env(
    name: str,
    tmp_path: Path,
    course: Path,
    url: str,
    chroma: str,
    telegram: FakeTelegram,
    slack: FakeSlack,
) -> tuple[dict[str, str], str]:
    """One replica's environment, and the URL its Slack events arrive at."""
    slack_port = free_port()
    env = bot_env(tmp_path, course, tmp_path / name / "index", telegram, url) | {
        "TRAINBOT_CHROMA_URL": chroma,
        "TRAINBOT_INDEX_POLL": "1",
        "TRAINBOT_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram",
        "TRAINBOT_TELEGRAM_WEBHOOK_SECRET": "replica-shared-secret",
        "TRAINBOT_TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
        "TRAINBOT_TELEGRAM_WEBHOOK_PORT": str(free_port()),
        "TRAINBOT_SLACK_BOT_TOKEN": BOT_TOKEN,
        "TRAINBOT_SLACK_SIGNING_SECRET": slack.signing_secret,
        "TRAINBOT_SLACK_API_URL": slack.api_url,
        "TRAINBOT_SLACK_PORT": str(slack_port),
        "TRAINBOT_STOP_GRACE": "5",
    }
    return env, f"http://127.0.0.1:{slack_port}{EVENTS_PATH}"


def up(bot: BotProcess) -> bool:
    """The replica's doors and scheduler are running."""
    return "scheduler started" in bot.log


def published(url: str) -> list[int]:
    db = Database(url)
    with db.session() as session:
        ids = list(session.scalars(select(IndexVersion.id).order_by(IndexVersion.id)))
    db.dispose()
    return ids


def dm(user: str, text: str) -> dict[str, object]:
    return {
        "type": "message",
        "channel": dm_channel_of(user),
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": f"1765000000.{abs(hash((user, text))) % 1_000_000:06d}",
    }


def posts_in(slack: FakeSlack, user: str) -> list[str]:
    channel = dm_channel_of(user)
    return [plain_text(m) for m in slack.messages if m.kind == "post" and m.channel == channel]


async def test_two_replicas_push_answer_follow_the_index_and_survive_a_kill(
    tmp_path: Path, postgres_url: str, chroma_server: str
) -> None:
    url = postgres_url
    course = course_due_every_day(tmp_path / "course")
    Database(url).upgrade()
    slack = FakeSlack()
    await slack.start()
    bots: list[BotProcess] = []
    try:
        async with FakeTelegram() as telegram:
            (env_a, events_a), (env_b, events_b) = (
                replica_env(name, tmp_path, course, url, chroma_server, telegram, slack)
                for name in ("a", "b")
            )
            a = await BotProcess(env_a, tmp_path).start()
            b = await BotProcess(env_b, tmp_path).start()
            bots += [a, b]
            # Both start on an empty store: one builds the index, the other follows it.
            await until(lambda: up(a) and up(b), 240, "both replicas up", a, b)
            assert published(url) == [1], a.log + b.log
            followers = [bot for bot in (a, b) if "not building the Q&A index here" in bot.log]
            builders = [bot for bot in (a, b) if "building the Q&A index from" in bot.log]
            assert len(followers) == len(builders) == 1, a.log + b.log
            assert builders != followers, "only the one holding the lease says it builds"
            assert "Q&A is unavailable" not in a.log + b.log

            # 1,000 people due at once; replica b is stopped mid-pass and started again.
            ids = enrol(url, telegram, PEOPLE)
            await until(lambda: len(telegram.delivered()) >= 300, 120, "the first pushes", a, b)
            b.send_signal(signal.SIGTERM)
            assert await b.wait(60) == 0, b.log
            b = await BotProcess(env_b, tmp_path).start()
            bots.append(b)
            await until(
                lambda: len(telegram.delivered()) >= PUSHES * PEOPLE, 240, "every push", a, b
            )
            await until(lambda: up(b), 120, "replica b back", b)
            await asyncio.sleep(3)  # more passes of both: nothing more may go out
            assert pushes_per_person(telegram) == Counter(dict.fromkeys(ids, PUSHES))
            assert_store_agrees(url, telegram, ids)

            # Slack events to alternate replicas, each retried to the other one.
            users = [f"UREP{n:02d}" for n in range(12)]
            for user in [*users, "UONCE"]:
                slack.add_user(user, user.title(), locale="en-US")
            status, _ = await deliver(
                events_a,
                json_body(event_envelope(dm("UONCE", "help"))),
                content_type="application/json",
            )
            assert status == 200
            for n, user in enumerate(users):
                envelope = event_envelope(dm(user, "help"))
                first, other = (events_a, events_b) if n % 2 == 0 else (events_b, events_a)
                body = json_body(envelope)
                assert (await deliver(first, body, content_type="application/json"))[0] == 200
                retried = await deliver(other, body, content_type="application/json", retry_num=1)
                assert retried[0] == 200
            await until(
                lambda: all(posts_in(slack, user) for user in [*users, "UONCE"]),
                60,
                "every Slack answer",
                a,
                b,
            )
            await asyncio.sleep(2)  # a second answer would be out by now
            once = len(posts_in(slack, "UONCE"))
            assert once >= 1
            assert {user: len(posts_in(slack, user)) for user in users} == dict.fromkeys(
                users, once
            )

            # A re-ingest on replica a's machine; replica b's next question uses it.
            (course / "materials" / "replica-drill.md").write_text(
                "# Replica drill\n\nThe replica drill code word is heliotrope; say it when "
                "the drill starts.\n",
                encoding="utf-8",
            )
            ingest = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "adapters",
                "ingest",
                cwd=tmp_path,
                env=env_a,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            output, _ = await asyncio.wait_for(ingest.communicate(), 240)
            assert ingest.returncode == 0, output.decode()
            assert "published as index version 2" in output.decode()
            slack.add_user("UASK", "Asker", locale="en-US")
            status, _ = await deliver(
                events_b,
                json_body(event_envelope(dm("UASK", CODE_WORD))),
                content_type="application/json",
            )
            assert status == 200
            await until(lambda: bool(posts_in(slack, "UASK")), 60, "the answer", b)
            assert "heliotrope" in "\n".join(posts_in(slack, "UASK")), b.log

            # Replica b is killed mid-pass: nothing is lost; only a send under way at the
            # kill may go twice, and the store says which.
            more = enrol(url, telegram, 300, first=800_000_000)
            before = len(telegram.delivered())
            await until(lambda: len(telegram.delivered()) >= before + 100, 60, "the pass", a, b)
            b.send_signal(signal.SIGKILL)
            await b.wait(30)
            await until(
                lambda: min(pushes_per_person(telegram).get(i, 0) for i in more) >= PUSHES,
                120,
                "every push after the kill",
                a,
            )
            await asyncio.sleep(3)
            counts = pushes_per_person(telegram)
            assert min(counts[i] for i in more) == PUSHES
            extra = sum(counts[i] - PUSHES for i in more)
            assert extra <= 16  # at most the sends in flight at the kill
            flagged = [
                row for row in stored(url) if row.error and "outcome is unknown" in row.error
            ]
            assert len(flagged) >= extra
            assert all(counts[i] == PUSHES for i in ids), "the first people got nothing more"

            a.send_signal(signal.SIGTERM)
            assert await a.wait(60) == 0, a.log
    finally:
        for bot in bots:
            await bot.kill()
        await slack.stop()
