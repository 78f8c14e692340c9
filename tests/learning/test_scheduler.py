"""The scheduler owns its jobs, runs a dispatch pass at start, and stops gracefully."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.memory import MemoryOutbound
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.events import Conversation, Reply
from bot.library import CourseLibrary
from bot.scheduler import BotScheduler, Runtime
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import Delivery, DeliveryStatus, Person


def _enrol(db: Database, count: int) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with db.session() as session:
        for index in range(count):
            session.add(
                Person(
                    platform="memory",
                    platform_user_id=f"p{index}",
                    display_name=f"p{index}",
                    language="en",
                    timezone="Asia/Shanghai",
                    track_id="frontline",
                    enrolled_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )


class SlowOutbound(MemoryOutbound):
    """A platform that takes a while for every message."""

    delay: float = 0.05

    async def send(self, conversation: Conversation, reply: Reply) -> str | None:
        await asyncio.sleep(self.delay)
        return await super().send(conversation, reply)


def _runtime(settings: Settings, outbound: MemoryOutbound) -> tuple[Database, Runtime]:
    db = Database(settings.database_url)
    db.upgrade()
    library = CourseLibrary(settings.content_dir)
    library.reload()
    dispatcher = Dispatcher(
        db=db,
        library=library,
        settings=settings,
        clock=FakeClock(datetime(2026, 11, 16, 2, tzinfo=UTC)),  # Monday 10:00 in Shanghai
        outbound={"memory": outbound},
        concurrency=2,
    )
    return db, Runtime(dispatcher=dispatcher, library=library, knowledge=None)


async def test_jobs_are_registered_and_a_dispatch_pass_runs_at_start(settings: Settings) -> None:
    outbound = MemoryOutbound()
    db, runtime = _runtime(settings, outbound)
    _enrol(db, 2)
    scheduler = BotScheduler(settings, runtime)
    scheduler.start()
    try:
        jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
        assert set(jobs) == {
            "dispatch",
            "reingest",
            "retention",
            "weekly-report",
            "report-retry",
            "practice-rules",
        }
        assert jobs["dispatch"].trigger.interval == timedelta(seconds=settings.dispatch_interval)
        for _ in range(200):  # the first pass runs at once, not a minute later
            if len(outbound.sent) == 6:
                break
            await asyncio.sleep(0.05)
        assert sorted({s.conversation.chat_id for s in outbound.sent}) == ["p0", "p1"]
        assert len(outbound.sent) == 6  # a lesson and two quizzes each
    finally:
        await scheduler.stop()
    await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
    assert not scheduler.scheduler.running
    db.dispose()


async def test_stop_lets_the_sends_under_way_finish_and_releases_the_rest(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    outbound = SlowOutbound()
    db, runtime = _runtime(settings, outbound)
    _enrol(db, 40)
    scheduler = BotScheduler(settings, runtime)
    scheduler.start()
    for _ in range(400):
        if len(outbound.sent) >= 4:
            break
        await asyncio.sleep(0.01)
    await scheduler.stop(timedelta(seconds=30))
    with db.session() as session:
        rows = session.scalars(select(Delivery)).all()
        sent = [row for row in rows if row.status is DeliveryStatus.SENT]
        claimed = [row for row in rows if row.status is DeliveryStatus.CLAIMED]
        # Every send that began finished and was recorded; nothing was sent unrecorded.
        assert len(sent) == len(outbound.sent) < 120
        # What was claimed but not begun is handed back at once, not after the lease.
        assert claimed and all(row.lease_expires_at is not None for row in claimed)
        now = runtime.dispatcher.clock.now()
        assert all(row.lease_expires_at <= now for row in claimed)  # type: ignore[operator]
        assert all(row.send_started_at is None for row in claimed)
    assert any("released for the next run" in r.getMessage() for r in caplog.records)
    # Another process picks them up on its next pass and sends each exactly once.
    other = Dispatcher(
        db=db,
        library=runtime.library,
        settings=settings,
        clock=runtime.dispatcher.clock,
        outbound={"memory": outbound},
    )
    await other.tick()
    assert len(outbound.sent) == 120
    assert len({(s.conversation.chat_id, s.reply.text) for s in outbound.sent}) == 120
    db.dispose()


async def test_a_failing_job_does_not_stop_the_scheduler(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    outbound = MemoryOutbound()
    db, runtime = _runtime(settings, outbound)
    scheduler = BotScheduler(settings, runtime)

    async def broken() -> None:
        raise RuntimeError("boom")

    await scheduler._tracked(broken, "broken job")
    assert any("broken job failed" in r.getMessage() for r in caplog.records)
    await scheduler.stop()
    db.dispose()
