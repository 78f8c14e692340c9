"""Dispatcher throughput, the event loop during a pass, and FSRS vs rotation.

- Throughput: 10,000 enrolled people all due at the same minute, one dispatcher tick
  against an in-memory port that counts messages (no platform limits), on SQLite. Target >= 1,000
  deliveries/s, so that the platforms' own limits are always the bound. During each run
  a 20 ms heartbeat task records the longest the event loop was held (target <= 100 ms),
  and a Slack front door (``SlackAdapter`` in HTTP mode, against the fake Slack API of
  the tests) is sent a signed DM event every 50 ms from another thread, as Slack would:
  its acknowledgement times are the figure Slack's 3 s retry rule is about (target p99
  <= 300 ms).
- Simulation: ``trainbot simulate --learners 200 --days 60``: recall at the end with FSRS
  scheduling vs a fixed rotation at the same push times.
"""

from __future__ import annotations

import asyncio
import gc
import http.client
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert

from adapters.cli import freeze_startup_objects
from adapters.slack import SlackAdapter
from bot.app import TrainBot
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher, TickReport
from bot.events import Conversation, Reply
from bot.library import CourseLibrary
from bot.ratelimit import RateLimiter
from bot.settings import Settings, load_settings
from bot.simulation import simulate
from bot.store.db import Database
from bot.store.models import Delivery, Person

ROOT = Path(__file__).resolve().parent.parent
MONDAY_0930_SHANGHAI = datetime(2026, 11, 16, 1, 30, tzinfo=UTC)


def populate(db: Database, count: int) -> None:
    """``count`` enrolled frontline learners in Shanghai (``u0``, ``u1`` ...)."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rows = [
        {
            "platform": "memory",
            "platform_user_id": f"u{index}",
            "display_name": f"u{index}",
            "language": "zh",
            "timezone": "Asia/Shanghai",
            "track_id": "frontline",
            "role": "learner",
            "status": "active",
            "enrolled_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for index in range(count)
    ]
    with db.session() as session:
        session.execute(insert(Person), rows)


class CountingOutbound:
    """An outbound port that counts what it is sent, like a platform, keeping no replies.

    ``adapters.memory.MemoryOutbound`` keeps every reply for tests to read; 30,000 of them
    made the garbage collector's full passes, and so the loop stalls, grow with the pass.
    A real front door keeps nothing, and neither does this one.
    """

    platform = "memory"

    def __init__(self) -> None:
        self.sent = 0
        self.distinct: set[tuple[str, int]] = set()

    async def send(self, conversation: Conversation, reply: Reply) -> str | None:
        """Count one message (and its chat and text, to check nothing went out twice)."""
        self.sent += 1
        self.distinct.add((conversation.chat_id, hash(reply.text)))
        return f"{conversation.chat_id}:{self.sent}"


def throughput(people: int = 10_000, runs: int = 3) -> dict[str, Any]:
    """Deliveries per second of one tick with ``people`` due at once (median of runs), the
    longest event-loop stall and Slack's acknowledgement times during it."""
    rates: list[float] = []
    stalls: list[float] = []
    acks: list[float] = []
    deliveries = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as workdir:
            url = f"sqlite:///{Path(workdir) / 'bench.db'}"
            db = Database(url)
            db.upgrade()
            populate(db, people)
            settings = load_settings(
                database_url=url, content_dir=ROOT / "content", reminder_hours=0
            )
            library = CourseLibrary(settings.content_dir)
            library.reload()
            outbound = CountingOutbound()
            dispatcher = Dispatcher(
                db=db,
                library=library,
                settings=settings,
                clock=FakeClock(MONDAY_0930_SHANGHAI),
                outbound={"memory": outbound},
                limiters={"memory": RateLimiter()},
                concurrency=64,
            )
            bot = TrainBot(settings=settings, db=db, library=library)
            freeze_startup_objects()  # as `trainbot run` does once it has started
            try:
                pass_run = asyncio.run(_pass_with_probes(dispatcher, bot, settings))
            finally:
                gc.unfreeze()
                bot.close()
            with db.session() as session:
                deliveries = session.query(Delivery).filter(Delivery.sent_at.is_not(None)).count()
            assert pass_run.report.sent == deliveries == outbound.sent == len(outbound.distinct)
            rates.append(deliveries / pass_run.seconds)
            stalls.append(pass_run.longest_stall)
            acks.extend(pass_run.acks)
            db.dispose()
    ordered = sorted(acks)
    return {
        "people": people,
        "deliveries": deliveries,
        "runs": runs,
        "rate_median": statistics.median(rates),
        "rates": rates,
        "stall_ms_max": max(stalls) * 1000,
        "stalls_ms": [round(stall * 1000, 1) for stall in stalls],
        "acks": len(ordered),
        "ack_ms_p50": statistics.median(ordered) * 1000,
        "ack_ms_p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "ack_ms_max": ordered[-1] * 1000,
    }


@dataclass
class _PassRun:
    report: TickReport
    seconds: float
    longest_stall: float
    acks: list[float]


async def _pass_with_probes(dispatcher: Dispatcher, bot: TrainBot, settings: Settings) -> _PassRun:
    """One tick, with a heartbeat on the loop and Slack events from another thread."""
    from tests.fake_slack import BOT_TOKEN, FakeSlack, event_envelope, json_body, signed_headers

    fake = FakeSlack()
    await fake.start()
    fake.add_user("UBENCH", "Bench", locale="en-US")
    slack_settings = settings.model_copy(
        update={
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": fake.signing_secret,
            "slack_api_url": fake.api_url,
        }
    )
    door = SlackAdapter(bot, slack_settings, host="127.0.0.1", port=0)
    await door.start()
    longest = 0.0
    stop = threading.Event()
    acks: list[float] = []

    async def heartbeat() -> None:
        nonlocal longest
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.02)
            longest = max(longest, time.perf_counter() - before - 0.02)

    def slack_sends_events() -> None:
        target = urlsplit(door.url)
        number = 0
        while not stop.is_set():
            number += 1
            event = {
                "type": "message",
                "channel": "DBENCH",
                "channel_type": "im",
                "user": "UBENCH",
                "text": "/help",
                "ts": f"1763340000.{number:06d}",
            }
            body = json_body(event_envelope(event))
            headers = signed_headers(body, content_type="application/json")
            connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
            started = time.perf_counter()
            connection.request("POST", target.path, body=body, headers=headers)
            status = connection.getresponse().status
            acks.append(time.perf_counter() - started)
            connection.close()
            assert status == 200
            stop.wait(0.05)

    beating = asyncio.create_task(heartbeat())
    prober = threading.Thread(target=slack_sends_events, daemon=True)
    await asyncio.sleep(0.1)
    prober.start()
    try:
        started = time.perf_counter()
        report = await dispatcher.tick()
        seconds = time.perf_counter() - started
    finally:
        stop.set()
        await asyncio.to_thread(prober.join, 30)
        beating.cancel()
        await door.stop()
        await fake.stop()
    return _PassRun(report, seconds, longest, acks)


def fsrs_vs_rotation(learners: int = 200, days: int = 60, seed: int = 1) -> dict[str, Any]:
    """The simulator's end-of-run recall for FSRS and the fixed-rotation baseline."""
    settings = load_settings(content_dir=ROOT / "content")
    started = time.perf_counter()
    result = asyncio.run(simulate(settings, learners=learners, days=days, seed=seed))
    data = result.as_dict()
    data["seconds"] = time.perf_counter() - started
    return data


if __name__ == "__main__":
    import json
    import logging

    logging.disable(logging.WARNING)
    print(json.dumps(throughput(), indent=2))
