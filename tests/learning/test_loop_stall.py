"""The event loop stays free during a dispatch pass: it only waits for the store's work."""

from __future__ import annotations

import asyncio
import gc
import time
from datetime import UTC, datetime

from adapters.cli import freeze_startup_objects
from adapters.memory import MemoryOutbound
from benchmarks.dispatch import populate
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.library import CourseLibrary
from bot.ratelimit import RateLimiter
from bot.store.db import Database
from tests.learning.test_dispatcher import make_settings

PEOPLE = 2_000
BOUND = 0.25
"""The longest the loop may be held (a 2,000-person pass used to hold it 4.4 s)."""


class Heartbeat:
    """Wakes every 20 ms and records how late each wake-up was."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.beats = 0

    async def run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.02)
            self.longest = max(self.longest, time.perf_counter() - before - 0.02)
            self.beats += 1


async def test_a_pass_with_thousands_due_never_holds_the_loop(
    sqlite_database: Database,
) -> None:
    now = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
    populate(sqlite_database, PEOPLE)  # frontline learners in Shanghai
    settings = make_settings(sqlite_database.url)
    library = CourseLibrary(settings.content_dir)
    library.reload()
    outbound = MemoryOutbound()
    dispatcher = Dispatcher(
        db=sqlite_database,
        library=library,
        settings=settings,
        clock=FakeClock(now),
        outbound={"memory": outbound},
        limiters={"memory": RateLimiter()},
    )
    freeze_startup_objects()  # as `trainbot run` does once it has started
    heartbeat = Heartbeat()
    beating = asyncio.create_task(heartbeat.run())
    await asyncio.sleep(0.05)
    try:
        report = await dispatcher.tick()
    finally:
        beating.cancel()
        gc.unfreeze()
    assert report.sent == 3 * PEOPLE and len(outbound.sent) == 3 * PEOPLE
    assert heartbeat.beats > 10
    assert heartbeat.longest < BOUND, f"the loop was held {heartbeat.longest * 1000:.0f} ms"
