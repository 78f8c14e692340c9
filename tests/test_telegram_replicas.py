"""Telegram with several processes: one long poller per token, replicas in webhook mode,
every update answered once.

The in-process tests run the real adapter against the fake Bot API server with a store on
SQLite and PostgreSQL; the others start real ``trainbot run`` processes (``python -m
adapters run``) sharing one store and one fake Telegram, and count the bot's messages at
the fake server, where a person would see them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import signal
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update

from adapters.telegram import (
    TelegramAdapter,
    poller_lease_length,
    poller_lease_name,
    polling_conflict,
    second_poller,
    update_key,
    webhook_secret,
)
from bot.app import TrainBot
from bot.errors import ConfigError
from bot.leases import named_holder
from bot.settings import Settings, load_settings
from bot.store.db import Database
from bot.store.models import NamedLease
from tests.conftest import REPO, SAMPLE_CONTENT
from tests.fake_telegram import FakeTelegram, telegram_user_id
from tests.test_exactly_once import BotProcess, until

WEBHOOK_URL = "https://trainbot.example.com/telegram/updates"
HELP = "your training assistant"


# -- names, secrets and lines ----------------------------------------------------------------


def test_the_lease_and_the_update_records_name_a_hash_of_the_token_never_the_token() -> None:
    token = "7123456789:AAHsecret-part-of-the-token"
    digest = hashlib.sha256(token.encode()).hexdigest()[:16]
    assert poller_lease_name(token) == f"telegram-poller:{digest}"
    assert update_key(token, 4242) == f"{digest}:4242"
    for name in (poller_lease_name(token), update_key(token, 4242)):
        assert "AAHsecret" not in name and "7123456789" not in name
    assert poller_lease_name("7123456789:AAHanother-token") != poller_lease_name(token)


def test_the_poller_lease_is_30_seconds_or_the_claim_lease_when_shorter() -> None:
    assert poller_lease_length(load_settings()) == timedelta(seconds=30)
    assert poller_lease_length(load_settings(claim_lease=3)) == timedelta(seconds=3)


def test_without_a_configured_secret_every_replica_derives_the_same_one() -> None:
    first = load_settings(telegram_token="7123456789:AAHone")
    again = load_settings(telegram_token="7123456789:AAHone")
    other = load_settings(telegram_token="7123456789:AAHtwo")
    secret = webhook_secret(first)
    assert secret == webhook_secret(again) != webhook_secret(other)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret)  # what Telegram accepts
    assert "AAHone" not in secret
    configured = load_settings(telegram_token="7123456789:AAHone", telegram_webhook_secret="s-1")
    assert webhook_secret(configured) == "s-1"


def test_the_refusal_names_the_other_process_and_both_ways_out() -> None:
    line = second_poller("shop-server:4711:9f8e7d6c")
    assert line.startswith("another trainbot process (shop-server:4711) is already long-polling")
    assert "one poller per token" in line
    assert "TRAINBOT_TELEGRAM_WEBHOOK_URL" in line and "Telegram with several processes" in line
    assert "9f8e7d6c" not in line and "\n" not in line
    assert "(unknown)" in second_poller(None)


def test_a_409_says_what_to_check() -> None:
    from telegram.error import Conflict

    polled = polling_conflict(
        Conflict("Conflict: terminated by other getUpdates request; make sure that only one")
    )
    assert "another program is long-polling this bot" in polled
    hooked = polling_conflict(
        Conflict("Conflict: can't use getUpdates method while webhook is active")
    )
    assert "a webhook is set for this bot" in hooked


# -- in process: the lease ----------------------------------------------------------------------


def point_at(settings: Settings, server: FakeTelegram) -> Settings:
    settings.telegram_token = server.token
    settings.telegram_api_url = server.api_url
    settings.telegram_webhook_url = ""
    settings.claim_lease = 3  # a 3 s poller lease, renewed every second
    return settings


async def test_a_second_poller_on_the_same_store_is_refused_until_the_first_stops(
    bot: TrainBot, database: Database
) -> None:
    async with FakeTelegram() as server:
        settings = point_at(bot.ctx.settings, server)
        first = TelegramAdapter(bot, settings, store=database)
        assert (await first.start()).startswith("telegram: long polling")
        try:
            second = TelegramAdapter(bot, settings, store=database)
            with pytest.raises(ConfigError) as refused:
                await second.start()
            pid = f":{os.getpid()})"
            assert "is already long-polling this Telegram bot" in str(refused.value)
            assert pid in str(refused.value)
            assert server.token not in str(refused.value)
            # refused before it said a word to Telegram
            assert len(server.calls("getMe")) == 1
            await second.stop()  # harmless after a refusal
            with database.session() as session:
                held = named_holder(session, poller_lease_name(server.token), now=now())
                assert held is not None and f":{os.getpid()}:" in held.owner
        finally:
            await first.stop()
        third = TelegramAdapter(bot, settings, store=database)
        assert (await third.start()).startswith("telegram: long polling")  # released at stop
        await third.stop()


def now() -> datetime:
    return datetime.now(UTC)


async def test_a_poller_whose_lease_was_taken_over_stops_polling_and_resumes_later(
    bot: TrainBot, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A stalled poller does not fight the process that took over; it stands by."""
    caplog.set_level(logging.INFO)
    async with FakeTelegram() as server:
        settings = point_at(bot.ctx.settings, server)
        adapter = TelegramAdapter(bot, settings, store=database)
        await adapter.start()
        name = poller_lease_name(server.token)
        try:
            with database.session() as session:  # another process takes it over
                session.execute(
                    update(NamedLease)
                    .where(NamedLease.name == name)
                    .values(owner="elsewhere:99:0000", expires_at=now() + timedelta(hours=1))
                )
            updater = adapter._require_app().updater
            assert updater is not None

            await until(lambda: not updater.running, 10, "polling to stop")
            assert "took over long polling for this bot" in caplog.text
            polls = len(server.calls("getUpdates"))
            await asyncio.sleep(1.5)
            assert len(server.calls("getUpdates")) <= polls + 1  # at most PTB's final confirm
            with database.session() as session:  # the other process went away
                session.execute(
                    update(NamedLease).where(NamedLease.name == name).values(expires_at=now())
                )

            await until(lambda: "long polling again" in caplog.text, 10, "polling again")
            assert updater.running
            user = server.add_user(telegram_user_id("ria"), "Ria", language_code="en")
            update_id = await server.push_update(
                server.message_update(user["id"], user["id"], "/help")
            )
            await server.wait_confirmed(update_id)
            await adapter.drain()
            assert any(HELP in c.params["text"] for c in server.delivered())
        finally:
            await adapter.stop()


async def test_telegrams_own_409_is_one_clear_line(
    bot: TrainBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with FakeTelegram() as server:
        settings = point_at(bot.ctx.settings, server)
        adapter = TelegramAdapter(bot, settings)
        await adapter.start()
        try:
            for _ in range(2):
                server.fail_next(
                    "getUpdates",
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            user = server.add_user(telegram_user_id("ola"), "Ola", language_code="en")
            # releases the poll under way; the next two answer 409, then it is fetched
            update_id = await server.push_update(
                server.message_update(user["id"], user["id"], "/help")
            )
            await server.wait_confirmed(update_id, seconds=30)
            await adapter.drain()
        finally:
            await adapter.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "adapters.telegram"]
    lines = [line for line in lines if "409" in line]
    assert len(lines) == 1, lines  # not one per retry
    assert "another program is long-polling this bot" in lines[0]
    assert not any(r.exc_info for r in caplog.records if r.name.startswith("telegram"))


async def test_a_poller_started_beside_webhook_replicas_says_it_removes_their_webhook(
    bot: TrainBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with FakeTelegram() as server:
        server.webhook = {"url": WEBHOOK_URL}  # replicas set it earlier
        adapter = TelegramAdapter(bot, point_at(bot.ctx.settings, server))
        await adapter.start()
        await adapter.stop()
    assert f"a webhook was set for this bot ({WEBHOOK_URL}); long polling removes it" in (
        caplog.text
    )
    assert server.calls("deleteWebhook") and not server.webhook


async def test_an_update_delivered_twice_is_answered_once(bot: TrainBot) -> None:
    async with FakeTelegram() as server:
        settings = point_at(bot.ctx.settings, server)
        port = free_port()
        settings.telegram_webhook_url = WEBHOOK_URL
        settings.telegram_webhook_port = port
        settings.telegram_webhook_listen = "127.0.0.1"
        adapter = TelegramAdapter(bot, settings)
        await adapter.start()
        try:
            user = server.add_user(telegram_user_id("ida"), "Ida", language_code="en")
            update = {"update_id": 7001, **server.message_update(user["id"], user["id"], "/help")}
            secret = webhook_secret(settings)
            async with aiohttp.ClientSession() as http:
                for _ in range(3):  # Telegram retries what it thinks failed
                    assert await post_update(http, port, update, secret) == 200
            await adapter.drain()
            other = {"update_id": 7002, **server.message_update(user["id"], user["id"], "/help")}
            async with aiohttp.ClientSession() as http:
                assert await post_update(http, port, other, secret) == 200
            await adapter.drain()
        finally:
            await adapter.stop()
    assert helps_to(server) == Counter({user["id"]: 2})  # one answer per update
    assert server.calls("deleteWebhook") == []


async def test_a_webhook_removed_by_a_poller_is_registered_again_by_the_readiness_probe(
    bot: TrainBot, caplog: pytest.LogCaptureFixture
) -> None:
    """A long poller started by mistake deletes the replicas' webhook; they take it back."""
    async with FakeTelegram() as server:
        settings = point_at(bot.ctx.settings, server)
        settings.telegram_webhook_url = WEBHOOK_URL
        settings.telegram_webhook_port = free_port()
        settings.telegram_webhook_listen = "127.0.0.1"
        adapter = TelegramAdapter(bot, settings)
        await adapter.start()
        try:
            assert (await adapter.ready()).status == "ok"
            assert len(server.calls("setWebhook")) == 1  # at start; the probe found it set
            server.webhook = {}  # what a poller's deleteWebhook leaves
            adapter._reachable = type(adapter._reachable)(adapter._get_me)  # no cached answer
            with caplog.at_level(logging.WARNING, logger="adapters.telegram"):
                assert (await adapter.ready()).status == "ok"
            assert server.webhook["url"] == WEBHOOK_URL
            assert server.webhook["secret_token"] == webhook_secret(settings)
            assert "registering it again" in caplog.text
        finally:
            await adapter.stop()


# -- real processes ---------------------------------------------------------------------------


def free_port() -> int:
    """A local port nothing listens on (bound to 0, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A migrated store (two processes creating a SQLite store at once can collide)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    db = Database(url)
    db.upgrade()
    db.dispose()
    return url


def run_env(tmp_path: Path, index: Path, telegram: FakeTelegram, url: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
        "TRAINBOT_DATABASE_URL": url,
        "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
        "TRAINBOT_INDEX_DIR": str(index),
        "TRAINBOT_TELEGRAM_TOKEN": telegram.token,
        "TRAINBOT_TELEGRAM_API_URL": telegram.api_url,
        "TRAINBOT_LANGUAGE": "en",
        "TRAINBOT_CLAIM_LEASE": "3",  # the poller lease follows it: 3 s
    }


def helps_to(telegram: FakeTelegram) -> Counter[int]:
    """How many help answers each chat received."""
    return Counter(
        int(call.params["chat_id"])
        for call in telegram.delivered("sendMessage")
        if HELP in call.params["text"]
    )


async def ask_for_help(telegram: FakeTelegram, name: str) -> int:
    user = telegram.add_user(telegram_user_id(name), name.title(), language_code="en")
    await telegram.push_update(telegram.message_update(user["id"], user["id"], "/help"))
    return int(user["id"])


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_second_long_poller_exits_with_one_line_and_a_killed_one_frees_the_token(
    tmp_path: Path, private_index_dir: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = store_url(backend, tmp_path, request)
    async with FakeTelegram() as telegram:
        env = run_env(tmp_path, private_index_dir, telegram, url)
        first = await BotProcess(env, tmp_path).start()
        second: BotProcess | None = None
        third: BotProcess | None = None
        try:
            await until(lambda: "telegram: long polling" in first.log, 120, "polling", first)
            second = await BotProcess(env, tmp_path).start()
            code = await second.wait(120)
            assert code not in (0, None), second.log
            (line,) = [line for line in second.lines if line.startswith("trainbot:")]
            assert first.process is not None
            assert line.startswith(
                f"trainbot: another trainbot process ({socket.gethostname()[:40]}:"
                f"{first.process.pid}) is already long-polling this Telegram bot"
            ), line
            assert "TRAINBOT_TELEGRAM_WEBHOOK_URL" in line
            assert "Traceback" not in second.log and telegram.token not in second.log
            assert "telegram: long polling" not in second.log
            # the first one still polls and answers
            amy = await ask_for_help(telegram, "amy")
            await until(lambda: helps_to(telegram)[amy] == 1, 30, "the answer", first)

            first.send_signal(signal.SIGKILL)  # no release: the lease has to run out
            assert await first.wait(30) == -signal.SIGKILL
            third = await BotProcess(env, tmp_path).start()
            await until(lambda: "telegram: long polling" in third.log, 120, "the new poller", third)
            bo = await ask_for_help(telegram, "bo")
            await until(lambda: helps_to(telegram)[bo] == 1, 30, "the new answer", third)
            third.send_signal(signal.SIGTERM)
            assert await third.wait(60) == 0, third.log
        finally:
            for bot in (first, second, third):
                if bot is not None:
                    await bot.kill()
    assert helps_to(telegram) == Counter({amy: 1, bo: 1})
    assert telegram.token not in first.log + third.log
    db = Database(url)
    with db.session() as session:  # the one that stopped cleanly let go at once
        assert named_holder(session, poller_lease_name(telegram.token), now=now()) is None
    db.dispose()


def webhook_env(base: dict[str, str], port: int) -> dict[str, str]:
    return {
        **base,
        "TRAINBOT_TELEGRAM_WEBHOOK_URL": WEBHOOK_URL,
        "TRAINBOT_TELEGRAM_WEBHOOK_PORT": str(port),
        "TRAINBOT_TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
    }


async def post_update(
    http: aiohttp.ClientSession, port: int, update: dict[str, Any], secret: str
) -> int:
    async with http.post(
        f"http://127.0.0.1:{port}/telegram/updates",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    ) as response:
        return response.status


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_webhook_replicas_answer_each_update_once_and_a_stopped_one_keeps_the_hook(
    tmp_path: Path, private_index_dir: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = store_url(backend, tmp_path, request)
    async with FakeTelegram() as telegram:
        base = run_env(tmp_path, private_index_dir, telegram, url)
        ports = [free_port(), free_port()]
        replicas = [await BotProcess(webhook_env(base, port), tmp_path).start() for port in ports]
        try:
            for replica in replicas:
                await until(lambda r=replica: "telegram: webhook" in r.log, 120, "webhook", replica)
            hooks = telegram.calls("setWebhook")
            assert len(hooks) == 2 and {h.params["url"] for h in hooks} == {WEBHOOK_URL}
            secrets = {h.params["secret_token"] for h in hooks}
            assert len(secrets) == 1  # both replicas agree without a configured secret
            (secret,) = secrets
            assert secret and telegram.token not in secret
            users = [telegram_user_id(f"rep{n}") for n in range(12)]
            async with aiohttp.ClientSession() as http:
                for n, user in enumerate(users):
                    telegram.add_user(user, f"Rep{n}", language_code="en")
                    update = {
                        "update_id": 90_000 + n,
                        **telegram.message_update(user, user, "/help"),
                    }
                    here, there = ports[n % 2], ports[(n + 1) % 2]
                    if n % 3 == 0:  # the retry reaches the other replica at the same moment
                        statuses = await asyncio.gather(
                            post_update(http, here, update, secret),
                            post_update(http, there, update, secret),
                        )
                    else:  # or a moment later, and once more to the first
                        statuses = [
                            await post_update(http, here, update, secret),
                            await post_update(http, there, update, secret),
                            await post_update(http, here, update, secret),
                        ]
                    assert set(statuses) == {200}
                assert await post_update(http, ports[0], update, "guess") == 403
                await until(
                    lambda: all(helps_to(telegram)[u] >= 1 for u in users),
                    60,
                    "every answer",
                    *replicas,
                )
                await asyncio.sleep(2)  # time for a second answer to show, if there were one
                assert helps_to(telegram) == Counter(dict.fromkeys(users, 1))
                for replica in replicas:  # both did some of the work
                    assert "already handled; repeat ignored" in replica.log, replica.log[-2000:]

                # a rolling restart: one replica stops, the other keeps receiving
                replicas[0].send_signal(signal.SIGTERM)
                assert await replicas[0].wait(60) == 0, replicas[0].log
                assert telegram.calls("deleteWebhook") == []
                assert telegram.webhook.get("url") == WEBHOOK_URL
                late = telegram_user_id("late")
                telegram.add_user(late, "Late", language_code="en")
                update = {"update_id": 91_000, **telegram.message_update(late, late, "/help")}
                assert await post_update(http, ports[1], update, secret) == 200
                await until(lambda: helps_to(telegram)[late] == 1, 30, "late answer", *replicas)
            replicas[1].send_signal(signal.SIGTERM)
            assert await replicas[1].wait(60) == 0, replicas[1].log
        finally:
            for replica in replicas:
                await replica.kill()
    assert telegram.calls("deleteWebhook") == [] and telegram.calls("getUpdates") == []
    for replica in replicas:
        assert "Traceback" not in replica.log and telegram.token not in replica.log
        assert secret not in replica.log
