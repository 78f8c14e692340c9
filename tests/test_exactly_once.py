"""Exactly once under real conditions: real ``trainbot run`` processes against the fake
Telegram server, with many people due, stopped by SIGTERM, killed with SIGKILL, facing a
platform slower than the client's timeout, or sharing the store with a second process (two
replicas in webhook mode).

Every push is counted where a person would see it, at the fake server, and the store's
rows must agree with what was sent.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import Delivery, DeliveryStatus, Person
from tests.conftest import REPO, SAMPLE_CONTENT
from tests.fake_telegram import FakeTelegram

FIRST_USER = 700_000_000


def course_due_every_day(directory: Path) -> Path:
    """The sample course, with a lesson and a quiz every day and no blackouts."""
    shutil.copytree(SAMPLE_CONTENT, directory)
    tracks = yaml.safe_load((directory / "tracks.yaml").read_text(encoding="utf-8"))
    for track in tracks["tracks"]:
        track["cadence"] = {
            "lesson_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "quiz_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "quizzes_per_day": 1,
        }
    (directory / "tracks.yaml").write_text(yaml.safe_dump(tracks), encoding="utf-8")
    (directory / "calendar.yaml").write_text("blackouts: []\n", encoding="utf-8")
    return directory


def enrol(url: str, telegram: FakeTelegram, count: int, *, first: int = FIRST_USER) -> list[int]:
    """``count`` people on Telegram (ids from ``first``), enrolled on the frontline track,
    due now."""
    db = Database(url)
    db.upgrade()
    now = datetime.now(UTC)
    ids = [first + index for index in range(count)]
    with db.session() as session:
        for user_id in ids:
            telegram.add_user(user_id, f"P{user_id}", language_code="en")
            telegram.pressed_start(user_id)  # enrolled people have opened the private chat
            session.add(
                Person(
                    platform="telegram",
                    platform_user_id=str(user_id),
                    chat_id=str(user_id),
                    display_name=f"P{user_id}",
                    language="en",
                    timezone="UTC",
                    track_id="frontline",
                    enrolled_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
    db.dispose()
    return ids


class BotProcess:
    """One ``trainbot run`` process; its log lines are collected as they come."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.lines: list[str] = []
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> BotProcess:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "adapters",
            "run",
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.lines.append(line.decode(errors="replace"))

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def send_signal(self, signum: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, seconds: float = 60) -> int:
        assert self.process is not None and self._reader is not None
        code = await asyncio.wait_for(self.process.wait(), seconds)
        await asyncio.wait_for(self._reader, 10)
        return code

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def until(
    condition: Callable[[], bool], seconds: float, what: str, *bots: BotProcess
) -> None:
    """Wait until ``condition()`` holds (checked every 50 ms)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    logs = "\n".join(bot.log[-3000:] for bot in bots)
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return course_due_every_day(tmp_path / "course")


PUSHES = 2  # a lesson and a quiz per person


def bot_env(
    tmp_path: Path, course: Path, index: Path, telegram: FakeTelegram, url: str
) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
        "TRAINBOT_DATABASE_URL": url,
        "TRAINBOT_CONTENT_DIR": str(course),
        "TRAINBOT_INDEX_DIR": str(index),
        "TRAINBOT_TELEGRAM_TOKEN": telegram.token,
        "TRAINBOT_TELEGRAM_API_URL": telegram.api_url,
        "TRAINBOT_TIMEZONE": "UTC",
        "TRAINBOT_LANGUAGE": "en",
        "TRAINBOT_WORKING_DAYS": "mon,tue,wed,thu,fri,sat,sun",
        "TRAINBOT_QUIET_HOURS": "",
        "TRAINBOT_QUIZ_TIME": "00:00",
        "TRAINBOT_LESSON_TIME": "00:00",
        "TRAINBOT_REMINDER_HOURS": "0",
        "TRAINBOT_DISPATCH_INTERVAL": "1",
        "TRAINBOT_CLAIM_LEASE": "3",
    }


def replica_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` for one of several replicas: webhook mode on a port of its own."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    return {
        **env,
        "TRAINBOT_TELEGRAM_WEBHOOK_URL": "https://trainbot.example.com/telegram",
        "TRAINBOT_TELEGRAM_WEBHOOK_PORT": str(port),
        "TRAINBOT_TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
    }


def pushes_per_person(telegram: FakeTelegram) -> Counter[int]:
    """How many pushes each chat received (carried out by the platform)."""
    return Counter(int(call.params["chat_id"]) for call in telegram.delivered("sendMessage"))


def stored(url: str) -> list[Delivery]:
    db = Database(url)
    with db.session() as session:
        rows = list(session.scalars(select(Delivery).order_by(Delivery.id)).all())
        session.expunge_all()
    db.dispose()
    return rows


def assert_store_agrees(url: str, telegram: FakeTelegram, ids: list[int]) -> None:
    rows = stored(url)
    assert len(rows) == PUSHES * len(ids)  # one claim per push, never two
    assert all(row.status is DeliveryStatus.SENT for row in rows), Counter(r.status for r in rows)
    refs = {row.message_ref for row in rows}
    sent_refs = {
        f"{call.params['chat_id']}:{call.result['message_id']}"
        for call in telegram.delivered("sendMessage")
    }
    assert refs <= sent_refs  # every row names a message the platform has


async def test_sigterm_mid_pass_then_restart_sends_each_push_exactly_once(
    tmp_path: Path, course: Path, private_index_dir: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    async with FakeTelegram() as telegram:
        ids = enrol(url, telegram, 100)
        env = bot_env(tmp_path, course, private_index_dir, telegram, url)
        first = await BotProcess(env, tmp_path).start()
        try:
            await until(lambda: len(telegram.delivered()) >= 30, 60, "the first pushes", first)
            first.send_signal(signal.SIGTERM)
            code = await first.wait(30)
        finally:
            await first.kill()
        assert code == 0, first.log
        assert "stopped" in first.lines[-1] and "Traceback" not in first.log
        assert "released for the next run" in first.log, first.log
        sent_by_first = len(telegram.delivered())
        assert sent_by_first < PUSHES * len(ids)  # the signal came mid-pass
        second = await BotProcess(env, tmp_path).start()
        try:
            await until(
                lambda: len(telegram.delivered()) >= PUSHES * len(ids), 60, "every push", second
            )
            await asyncio.sleep(2)  # a few more passes: nothing more may go out
            second.send_signal(signal.SIGTERM)
            assert await second.wait(30) == 0, second.log
        finally:
            await second.kill()
    assert pushes_per_person(telegram) == Counter(dict.fromkeys(ids, PUSHES))
    assert_store_agrees(url, telegram, ids)


async def test_kill_9_mid_pass_then_restart_loses_nothing(
    tmp_path: Path, course: Path, private_index_dir: Path
) -> None:
    """A killed process cannot say which sends the platform took: only those repeat."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    async with FakeTelegram() as telegram:
        ids = enrol(url, telegram, 100)
        env = bot_env(tmp_path, course, private_index_dir, telegram, url)
        first = await BotProcess(env, tmp_path).start()
        try:
            await until(lambda: len(telegram.delivered()) >= 30, 60, "the first pushes", first)
            first.send_signal(signal.SIGKILL)
            assert await first.wait(30) == -signal.SIGKILL
        finally:
            await first.kill()
        second = await BotProcess(env, tmp_path).start()
        try:
            await until(
                lambda: min(pushes_per_person(telegram).get(i, 0) for i in ids) >= PUSHES,
                60,
                "every person's pushes",
                second,
            )
            await asyncio.sleep(2)
            second.send_signal(signal.SIGTERM)
            assert await second.wait(30) == 0, second.log
        finally:
            await second.kill()
    counts = pushes_per_person(telegram)
    assert set(counts) == set(ids)  # nobody lost
    repeated = {chat for chat, count in counts.items() if count > PUSHES}
    assert min(counts.values()) == PUSHES and max(counts.values()) <= PUSHES + 1
    assert len(repeated) <= 16  # at most the sends in flight at the kill (the concurrency)
    rows = stored(url)
    assert all(row.status is DeliveryStatus.SENT for row in rows)
    flagged = [row for row in rows if row.error and "outcome is unknown" in row.error]
    extra = sum(count - PUSHES for count in counts.values())
    assert len(flagged) >= extra  # every repeat is one the store says may be a repeat


async def test_a_platform_slower_than_the_timeout_gets_each_push_once(
    tmp_path: Path, course: Path, private_index_dir: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    async with FakeTelegram() as telegram:
        ids = enrol(url, telegram, 40)
        telegram.slow_down("sendMessage", 2.5, count=10)  # slower than the 1 s timeout
        env = {
            **bot_env(tmp_path, course, private_index_dir, telegram, url),
            "TRAINBOT_SEND_TIMEOUT": "1",
        }
        bot = await BotProcess(env, tmp_path).start()
        try:
            await until(lambda: len(telegram.delivered()) >= PUSHES * len(ids), 60, "every push")
            await asyncio.sleep(4)  # long enough for any retry to show
            bot.send_signal(signal.SIGTERM)
            assert await bot.wait(30) == 0, bot.log
        finally:
            await bot.kill()
    assert pushes_per_person(telegram) == Counter(dict.fromkeys(ids, PUSHES))
    rows = stored(url)
    assert all(row.status is DeliveryStatus.SENT for row in rows)
    unconfirmed = [row for row in rows if row.error and "not confirmed" in row.error]
    assert len(unconfirmed) == 10  # the row says what happened
    assert "not confirmed" in bot.log


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_two_processes_with_a_pass_longer_than_the_lease_send_once(
    tmp_path: Path,
    course: Path,
    private_index_dir: Path,
    backend: str,
    request: pytest.FixtureRequest,
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    async with FakeTelegram() as telegram:
        ids = enrol(url, telegram, 120)  # 240 pushes at Telegram's 30/s: longer than the lease
        env = bot_env(tmp_path, course, private_index_dir, telegram, url)
        # Replicas receive Telegram through a webhook: one token has one long poller only.
        bots = [await BotProcess(replica_env(env), tmp_path).start() for _ in range(2)]
        try:
            await until(lambda: len(telegram.delivered()) >= PUSHES * len(ids), 90, "every push")
            await asyncio.sleep(4)  # more passes of both: nothing more may go out
            for bot in bots:
                bot.send_signal(signal.SIGTERM)
            codes = [await bot.wait(30) for bot in bots]
        finally:
            for bot in bots:
                await bot.kill()
    assert codes == [0, 0], [bot.log for bot in bots]
    assert pushes_per_person(telegram) == Counter(dict.fromkeys(ids, PUSHES))
    assert_store_agrees(url, telegram, ids)
