"""The operations endpoints (adapters.ops) and the metrics the bot records (bot.metrics).

In-process: the endpoints' answers for a working store, a store that cannot be reached, a
store that hangs, a broken Q&A index and a platform that does not answer; the counters
moving when the dispatcher pushes and when a question is asked. Then ``serve()`` with the
endpoints on a free port and the real Telegram front door against the fake Bot API.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest

from adapters.ops import DOWN, OK, CachedProbe, Check, OpsServer, ReadyDoor
from adapters.runner import serve
from adapters.telegram import TelegramAdapter, error_code
from bot import metrics
from bot.app import TrainBot
from bot.clock import FakeClock
from bot.events import Person
from bot.qa import KnowledgeService
from bot.settings import Settings
from bot.store.db import Database
from tests.drivers import ConsoleDriver
from tests.fake_telegram import FakeTelegram
from tests.learning.test_dispatcher import Harness, add_person, make_settings


@dataclass
class StubIndex:
    """Stands in for the Q&A service: only ``problem`` is read."""

    problem: str | None = None


@dataclass
class StubDoor:
    """A front door whose platform answers as told."""

    platform: str
    check: Check

    async def ready(self) -> Check:
        return self.check


@pytest.fixture
async def ops_for() -> AsyncIterator[Any]:
    """Make started operations servers on free ports; stopped after the test."""
    servers: list[OpsServer] = []

    async def make(
        db: Any,
        *,
        index: StubIndex | None = None,
        doors: list[ReadyDoor] | None = None,
        serving: bool = True,
        **kwargs: Any,
    ) -> OpsServer:
        server = OpsServer(
            db=db,
            knowledge=cast(KnowledgeService, index or StubIndex()),
            doors=doors or [],
            host="127.0.0.1",
            port=0,
            **kwargs,
        )
        line = await server.start()
        assert line.startswith("operations: /healthz, /readyz and /metrics on http://127.0.0.1:")
        if serving:
            server.serving()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.stop()


async def get(url: str) -> tuple[int, str, str]:
    """Status, content type and body of a GET."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


async def get_json(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- /healthz and /readyz -------------------------------------------------------------------


async def test_healthz_answers_while_the_loop_runs(ops_for: Any, sqlite_database: Database) -> None:
    server = await ops_for(sqlite_database, serving=False)
    status, content_type, body = await get(f"{server.url}/healthz")
    assert (status, body) == (200, '{"status": "ok"}')
    assert content_type.startswith("application/json")


async def test_ready_with_a_working_store(ops_for: Any, database: Database) -> None:
    server = await ops_for(database, doors=[StubDoor("telegram", Check(OK))])
    status, body = await get_json(f"{server.url}/readyz")
    assert status == 200
    assert body == {
        "status": "ok",
        "store": {"status": "ok"},
        "index": {"status": "ok"},
        "platforms": {"telegram": {"status": "ok"}},
    }


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_store_that_cannot_be_reached_is_not_ready(
    ops_for: Any, tmp_path: Path, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}"  # a folder: SQLite cannot open it as a database
    else:
        url = f"postgresql+psycopg://trainbot@127.0.0.1:{free_port()}/nowhere"
    db = Database(url)
    try:
        server = await ops_for(db)
        status, body = await get_json(f"{server.url}/readyz")
        again, _ = await get_json(f"{server.url}/readyz")
    finally:
        db.dispose()
    assert (status, again) == (503, 503)
    assert body["status"] == "down"
    assert body["store"]["status"] == "down" and "OperationalError" in body["store"]["detail"]
    assert body["index"] == {"status": "ok"}
    warnings = [r.getMessage() for r in caplog.records if r.name == "adapters.ops"]
    assert len(warnings) == 1 and warnings[0].startswith("readiness is down: store: ")


class HangingStore:
    """A store whose ``SELECT 1`` never comes back (a network partition)."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def run(self, work: Any) -> Any:
        self.calls += 1
        await self.release.wait()
        return 1


async def test_a_hanging_store_times_out_and_probes_do_not_pile_up(ops_for: Any) -> None:
    store = HangingStore()
    server = await ops_for(store, store_timeout=0.2)
    first = await get_json(f"{server.url}/readyz")
    second = await get_json(f"{server.url}/readyz")
    healthz, _, _ = await get(f"{server.url}/healthz")  # the loop was never blocked
    assert first[0] == second[0] == 503
    assert first[1]["store"] == {"status": "down", "detail": "no answer within 0.2 s"}
    assert store.calls == 1  # the second probe waited for the first check
    assert healthz == 200
    store.release.set()
    await asyncio.sleep(0.05)
    status, body = await get_json(f"{server.url}/readyz")
    assert (status, body["store"]) == (200, {"status": "ok"})
    assert store.calls == 2


async def test_a_broken_index_is_degraded_not_down(ops_for: Any, sqlite_database: Database) -> None:
    problem = "the Q&A index in var/index is damaged: run 'trainbot ingest --rebuild'"
    server = await ops_for(sqlite_database, index=StubIndex(problem))
    status, body = await get_json(f"{server.url}/readyz")
    assert status == 200
    assert body["status"] == "degraded"
    assert body["index"] == {"status": "degraded", "detail": problem}
    assert body["store"] == {"status": "ok"}


async def test_a_platform_that_does_not_answer_is_not_ready(
    ops_for: Any, sqlite_database: Database
) -> None:
    doors: list[ReadyDoor] = [
        StubDoor("telegram", Check(OK)),
        StubDoor("slack", Check(DOWN, "ClientConnectorError: cannot connect")),
    ]
    server = await ops_for(sqlite_database, doors=doors)
    status, body = await get_json(f"{server.url}/readyz")
    assert status == 503
    assert body["platforms"] == {
        "telegram": {"status": "ok"},
        "slack": {"status": "down", "detail": "ClientConnectorError: cannot connect"},
    }


async def test_starting_and_stopping_are_not_ready(ops_for: Any, sqlite_database: Database) -> None:
    server = await ops_for(sqlite_database, serving=False)
    starting = await get_json(f"{server.url}/readyz")
    server.serving()
    serving = await get_json(f"{server.url}/readyz")
    server.stopping()
    stopping = await get_json(f"{server.url}/readyz")
    assert [starting[0], serving[0], stopping[0]] == [503, 200, 503]
    assert [starting[1]["status"], stopping[1]["status"]] == ["starting", "stopping"]


async def test_a_platform_is_asked_at_most_once_per_ttl() -> None:
    calls: list[float] = []
    now = [100.0]

    async def get_me() -> None:
        calls.append(now[0])
        if len(calls) == 2:
            raise ConnectionError("connection refused")

    probe = CachedProbe(get_me, ttl=15, timeout=1, clock=lambda: now[0])
    results = await asyncio.gather(*(probe.check() for _ in range(5)))
    assert results == [Check(OK)] * 5 and calls == [100.0]
    now[0] += 14
    assert await probe.check() == Check(OK) and len(calls) == 1
    now[0] += 2
    assert await probe.check() == Check(DOWN, "ConnectionError: connection refused")
    assert len(calls) == 2


async def test_the_telegram_door_is_ready_when_the_bot_api_answers(bot: TrainBot) -> None:
    async with FakeTelegram() as telegram:
        bot.ctx.settings.telegram_token = telegram.token
        bot.ctx.settings.telegram_api_url = telegram.api_url
        door = TelegramAdapter(bot, bot.ctx.settings)
        assert await door.ready() == Check(DOWN, "not started")
        await door.start()
        try:
            before = len(telegram.calls("getMe"))
            assert await door.ready() == Check(OK)
            assert await door.ready() == Check(OK)
            assert len(telegram.calls("getMe")) == before + 1  # the second answer was cached
            door._reachable.ttl = 0  # as if 15 s had passed
            telegram.fail_next("getMe", 500, "Internal Server Error")
            check = await door.ready()
        finally:
            await door.stop()
    assert check.status == DOWN and "Internal Server Error" in check.detail
    assert telegram.token.partition(":")[2] not in check.detail


async def test_the_slack_door_is_ready_when_auth_test_answers_and_counts_its_errors(
    bot: TrainBot,
) -> None:
    from adapters.slack import SlackAdapter
    from bot.events import Conversation, ConversationKind, Reply
    from bot.ports import RecipientUnreachable
    from tests.fake_slack import BOT_TOKEN, FakeSlack

    slack = FakeSlack()
    await slack.start()
    settings = bot.ctx.settings
    settings.slack_bot_token = BOT_TOKEN
    settings.slack_signing_secret = slack.signing_secret
    settings.slack_api_url = slack.api_url
    door = SlackAdapter(bot, settings, host="127.0.0.1", port=0)
    code = {"platform": "slack", "code": "channel_not_found"}
    before = metrics.value("trainbot_platform_errors_total", **code)
    try:
        assert await door.ready() == Check(DOWN, "not started")
        await door.start()
        tests_at_start = len(slack.calls_of("auth.test"))
        assert await door.ready() == Check(OK)
        assert await door.ready() == Check(OK)
        assert len(slack.calls_of("auth.test")) == tests_at_start + 1
        slack.fail_next("chat.postMessage", error="channel_not_found")
        with pytest.raises(RecipientUnreachable):
            await door.send(Conversation("slack", "CGONE", ConversationKind.CHANNEL), Reply("hi"))
        door._reachable.ttl = 0
        slack.fail_next("auth.test", error="invalid_auth")
        check = await door.ready()
    finally:
        await door.stop()
        await slack.stop()
    assert check.status == DOWN and "invalid_auth" in check.detail
    assert metrics.value("trainbot_platform_errors_total", **code) == before + 1


# -- the metrics ----------------------------------------------------------------------------


async def test_metrics_are_in_the_prometheus_format(
    ops_for: Any, sqlite_database: Database
) -> None:
    server = await ops_for(sqlite_database)
    status, content_type, body = await get(f"{server.url}/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=")
    for name in (
        "trainbot_deliveries_total",
        "trainbot_dispatch_lag_seconds",
        "trainbot_questions_total",
        "trainbot_ask_seconds",
        "trainbot_platform_errors_total",
        "trainbot_events_total",
        "trainbot_index_version",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in body, name
    assert "python_gc_objects_collected_total" not in body  # our registry, not the global one


def sent(kind: str, outcome: str = metrics.SENT) -> float:
    return metrics.value("trainbot_deliveries_total", kind=kind, outcome=outcome)


async def test_a_push_counts_its_outcome_and_its_lag_from_the_due_moment(
    sqlite_database: Database,
) -> None:
    # 08:56 in Shanghai; the lesson is due at 09:00 and the next pass runs at 09:03.
    clock = FakeClock(datetime(2026, 11, 16, 0, 56, tzinfo=UTC))
    harness = Harness(sqlite_database, make_settings(sqlite_database.url), clock)
    add_person(harness.db, "ling", "Asia/Shanghai")
    add_person(harness.db, "gone", "Asia/Shanghai")
    harness.outbound.blocked.add("gone")
    lessons, unreachable = sent("lesson"), sent("lesson", metrics.UNREACHABLE)
    lags = metrics.value("trainbot_dispatch_lag_seconds_count")
    lag_sum = metrics.value("trainbot_dispatch_lag_seconds_sum")
    slow = metrics.value("trainbot_dispatch_lag_seconds_bucket", le="120.0")
    dispatcher = harness.dispatcher()
    await dispatcher.tick()
    assert sent("lesson") == lessons  # nothing due yet
    clock.advance(timedelta(minutes=7))
    report = await dispatcher.tick()
    assert (report.sent, report.unreachable) == (1, 1)
    assert sent("lesson") == lessons + 1
    assert sent("lesson", metrics.UNREACHABLE) == unreachable + 1
    assert metrics.value("trainbot_dispatch_lag_seconds_count") == lags + 1
    assert metrics.value("trainbot_dispatch_lag_seconds_sum") == pytest.approx(lag_sum + 180)
    assert metrics.value("trainbot_dispatch_lag_seconds_bucket", le="120.0") == slow  # > 120 s


async def test_a_failing_platform_counts_retries_and_the_final_failure(
    sqlite_database: Database,
) -> None:
    clock = FakeClock(datetime(2026, 11, 16, 1, 0, tzinfo=UTC))
    harness = Harness(sqlite_database, make_settings(sqlite_database.url), clock)
    add_person(harness.db, "wei", "Asia/Shanghai")
    harness.outbound.fail_next = 1000
    retrying, failed = sent("lesson", metrics.RETRYING), sent("lesson", metrics.FAILED)
    dispatcher = harness.dispatcher(max_send_attempts=2)
    await dispatcher.tick()
    assert sent("lesson", metrics.RETRYING) == retrying + 1
    clock.advance(timedelta(minutes=3))  # after the pause before the next try
    await dispatcher.tick()
    assert sent("lesson", metrics.FAILED) == failed + 1
    assert sent("lesson", metrics.RETRYING) == retrying + 1


async def test_questions_count_by_outcome_with_their_time(bot: TrainBot) -> None:
    person = Person("console", "asker", "Asker", "zh-CN", None)
    chat = ConsoleDriver(bot, person)
    answered = metrics.value("trainbot_questions_total", outcome="answered")
    declined = metrics.value("trainbot_questions_total", outcome="declined")
    unavailable = metrics.value("trainbot_questions_total", outcome="unavailable")
    timed = metrics.value("trainbot_ask_seconds_count")
    events = metrics.value("trainbot_events_total", platform="console")
    (answer,) = await chat.say("培训覆盖率怎么计算？")
    assert "[1]" in answer
    await chat.say("/ask 火星上的天气怎么样？")
    bot.ctx.knowledge = None  # as when the index cannot be used
    await chat.say("/ask 培训覆盖率怎么计算？")
    await chat.say("/help")  # not a question: not counted
    assert metrics.value("trainbot_questions_total", outcome="answered") == answered + 1
    assert metrics.value("trainbot_questions_total", outcome="declined") == declined + 1
    assert metrics.value("trainbot_questions_total", outcome="unavailable") == unavailable + 1
    assert metrics.value("trainbot_ask_seconds_count") == timed + 3
    assert metrics.value("trainbot_events_total", platform="console") == events + 4


async def test_send_failures_count_by_platform_and_code(bot: TrainBot) -> None:
    from bot.events import Conversation, ConversationKind, Reply
    from bot.ports import RecipientUnreachable

    async with FakeTelegram() as telegram:
        bot.ctx.settings.telegram_token = telegram.token
        bot.ctx.settings.telegram_api_url = telegram.api_url
        door = TelegramAdapter(bot, bot.ctx.settings)
        await door.start()
        user = 555_000_111
        telegram.add_user(user, "Bo")
        telegram.pressed_start(user)
        before = metrics.value("trainbot_platform_errors_total", platform="telegram", code="403")
        telegram.block_next()
        try:
            with pytest.raises(RecipientUnreachable):
                await door.send(
                    Conversation("telegram", str(user), ConversationKind.DIRECT), Reply("hi")
                )
        finally:
            await door.stop()
    after = metrics.value("trainbot_platform_errors_total", platform="telegram", code="403")
    assert after == before + 1


def test_error_codes_stay_a_short_list() -> None:
    from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

    assert error_code(Forbidden("Forbidden: bot was blocked by the user")) == "403"
    assert error_code(RetryAfter(3)) == "429"
    assert error_code(BadRequest("Bad Request: chat not found")) == "400"
    assert error_code(TimedOut()) == "timeout"
    assert error_code(NetworkError("Bad Gateway (502)")) == "502"
    assert error_code(NetworkError("Internal Server Error")) == "5xx"
    assert metrics.error_code("channel_not_found") == "channel_not_found"
    assert metrics.error_code(503) == "503"
    assert metrics.error_code("Something: with a <url> and spaces") == "other"


# -- serve() with the endpoints -------------------------------------------------------------


async def test_serve_opens_the_endpoints_first_and_closes_them_last(
    bot: TrainBot, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    answers: dict[str, tuple[int, Any]] = {}
    async with FakeTelegram() as telegram:
        settings.telegram_token = telegram.token
        settings.telegram_api_url = telegram.api_url
        settings.ops_listen = "127.0.0.1"
        stop = asyncio.Event()

        async def probe() -> None:
            line = next(
                r.getMessage() for r in caplog.records if r.getMessage().startswith("operations:")
            )
            url = line.rpartition(" on ")[2]
            answers["readyz"] = await get_json(f"{url}/readyz")
            answers["healthz"] = await get_json(f"{url}/healthz")
            answers["url"] = (0, url)
            stop.set()

        code = await asyncio.wait_for(
            serve(
                bot,
                settings,
                [TelegramAdapter(bot, settings)],
                stop=stop,
                on_started=probe,
                ops_port=0,
            ),
            120,
        )
    assert code == 0
    status, body = answers["readyz"]
    assert status == 200, body
    assert body["store"] == body["index"] == {"status": "ok"}
    assert body["platforms"] == {"telegram": {"status": "ok"}}
    assert answers["healthz"] == (200, {"status": "ok"})
    lines = [r.getMessage() for r in caplog.records if r.name == "adapters.runner"]
    assert lines[0].startswith("operations: ") and lines[-1] == "stopped"
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(f"{answers['url'][1]}/healthz")  # closed once stopped


async def test_a_busy_ops_port_is_one_clear_error(bot: TrainBot, settings: Settings) -> None:
    from bot.errors import ConfigError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        settings.ops_listen = "127.0.0.1"
        with pytest.raises(
            ConfigError, match=f"TRAINBOT_OPS_PORT: cannot listen on 127.0.0.1:{port}"
        ):
            await serve(bot, settings, [], stop=asyncio.Event(), ops_port=port)


# -- a real trainbot run --------------------------------------------------------------------


def sample(exposition: str, name: str) -> float:
    """One sample's value in a Prometheus text exposition (0 when absent)."""
    for line in exposition.splitlines():
        if line.startswith(name + " "):
            return float(line.rpartition(" ")[2])
    return 0.0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_running_bot_serves_its_endpoints_and_counts_its_pushes(
    tmp_path: Path, private_index_dir: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    """``trainbot run`` with TRAINBOT_OPS_PORT and JSON logs: probed as an operator would."""
    from tests.test_exactly_once import BotProcess, bot_env, course_due_every_day, enrol, until

    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    course = course_due_every_day(tmp_path / "course")
    async with FakeTelegram() as telegram:
        ids = enrol(url, telegram, 2)
        env = {
            **bot_env(tmp_path, course, private_index_dir, telegram, url),
            "TRAINBOT_OPS_PORT": str(free_port()),
            "TRAINBOT_OPS_LISTEN": "127.0.0.1",
            "TRAINBOT_LOG_FORMAT": "json",
        }
        process = await BotProcess(env, tmp_path).start()
        try:
            await until(lambda: "operations:" in process.log, 120, "the endpoints", process)
            (started,) = [
                json.loads(line)["message"] for line in process.lines if "operations:" in line
            ]
            ops = started.rpartition(" on ")[2]
            assert ops == f"http://127.0.0.1:{env['TRAINBOT_OPS_PORT']}"
            await until(lambda: len(telegram.delivered()) >= 2 * len(ids), 60, "pushes", process)
            exposition = ""
            for _ in range(100):  # the counters move once the rows are marked sent
                _, _, exposition = await get(f"{ops}/metrics")
                if sample(exposition, "trainbot_dispatch_lag_seconds_count") >= 2 * len(ids):
                    break
                await asyncio.sleep(0.05)
            healthz = await get_json(f"{ops}/healthz")
            readyz = await get_json(f"{ops}/readyz")
            process.send_signal(signal.SIGTERM)
            code = await process.wait(60)
        finally:
            await process.kill()
    assert code == 0, process.log
    assert healthz == (200, {"status": "ok"})
    assert readyz == (
        200,
        {
            "status": "ok",
            "store": {"status": "ok"},
            "index": {"status": "ok"},
            "platforms": {"telegram": {"status": "ok"}},
        },
    ), process.log
    lessons = 'trainbot_deliveries_total{kind="lesson",outcome="sent"}'
    quizzes = 'trainbot_deliveries_total{kind="quiz",outcome="sent"}'
    assert sample(exposition, lessons) == sample(exposition, quizzes) == len(ids)
    assert sample(exposition, "trainbot_dispatch_lag_seconds_count") == 2 * len(ids)
    # Every line on stderr is one JSON object, the token in none of them.
    records = [json.loads(line) for line in process.lines]
    assert all({"time", "level", "logger", "message", "process"} <= set(r) for r in records)
    assert records[-1]["message"] == "stopped"
    assert telegram.token.partition(":")[2] not in process.log
