"""The scheduler keeps its jobs in the store and drives the dispatcher."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from adapters.memory import MemoryOutbound
from bot import scheduler as scheduler_module
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.library import CourseLibrary
from bot.scheduler import BotScheduler, Runtime, dispatch_tick
from bot.settings import Settings
from bot.store.db import Database


async def test_jobs_persist_in_the_store_and_the_tick_dispatches(settings: Settings) -> None:
    db = Database(settings.database_url)
    db.upgrade()
    library = CourseLibrary(settings.content_dir)
    library.reload()
    outbound = MemoryOutbound()
    dispatcher = Dispatcher(
        db=db,
        library=library,
        settings=settings,
        clock=FakeClock(datetime(2026, 11, 16, 2, tzinfo=UTC)),
        outbound={"memory": outbound},
    )
    runtime = Runtime(dispatcher=dispatcher, library=library, knowledge=None)
    first = BotScheduler(settings, runtime)
    first.start()
    jobs = {job.id: job for job in first.scheduler.get_jobs()}
    assert set(jobs) == {"dispatch", "reingest", "weekly-report"}
    first.shutdown()
    with db.engine.connect() as connection:
        stored = (
            connection.execute(text("SELECT id FROM apscheduler_jobs ORDER BY id")).scalars().all()
        )
    assert stored == ["dispatch", "reingest", "weekly-report"]
    second = BotScheduler(settings, runtime)  # a restart finds them and replaces them
    second.start()
    assert len(second.scheduler.get_jobs()) == 3
    assert scheduler_module.RUNTIME is runtime
    await dispatch_tick()  # the job function itself, as APScheduler calls it
    second.shutdown()
    assert scheduler_module.RUNTIME is None
    db.dispose()
