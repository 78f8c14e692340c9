"""The scheduler: a dispatch tick every minute, and a nightly re-ingest of the materials.

APScheduler 3 persists jobs in the store (``apscheduler_jobs`` table), so a job missed
while the bot was down runs once after a restart (``coalesce``). Persisted jobs must name
importable module-level functions; they reach the running bot through :data:`RUNTIME`,
which :class:`BotScheduler` fills in when it starts.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from bot.dispatcher import Dispatcher
from bot.library import CourseLibrary
from bot.qa import KnowledgeService
from bot.settings import Settings
from bot.store.db import normalise_url

logger = logging.getLogger(__name__)

DISPATCH_JOB = "dispatch"
REINGEST_JOB = "reingest"
WEEKLY_REPORT_JOB = "weekly-report"


@dataclass
class Runtime:
    """What scheduled jobs act on."""

    dispatcher: Dispatcher
    library: CourseLibrary
    knowledge: KnowledgeService | None


RUNTIME: Runtime | None = None
_dispatch_lock = asyncio.Lock()


async def dispatch_tick() -> None:
    """Job: one dispatcher pass (skipped if the previous one is still running)."""
    if RUNTIME is None or _dispatch_lock.locked():
        return
    async with _dispatch_lock:
        try:
            await RUNTIME.dispatcher.tick()
        except Exception:  # a tick must never kill the scheduler
            logger.exception("dispatch tick failed")


async def nightly_reingest() -> None:
    """Job: reload the course and re-ingest the materials if they changed."""
    if RUNTIME is None:
        return
    problems = RUNTIME.library.reload()
    if problems:
        logger.error("course content has problems; still serving the last good content")
    if RUNTIME.knowledge is not None:
        report = await asyncio.to_thread(RUNTIME.knowledge.ingest)
        if report.changed:
            logger.info("materials re-ingested: %s", report.summary())


async def weekly_reports() -> None:
    """Job: the Monday summaries (managers, review channel, trainers' content gaps)."""
    if RUNTIME is None:
        return
    from bot.reports.schedule import send_weekly_reports

    try:
        await send_weekly_reports(RUNTIME.dispatcher)
    except Exception:  # the next start (or next week) tries again; sent ones stay sent
        logger.exception("weekly summaries failed")


class BotScheduler:
    """Owns the APScheduler instance and its jobs.

    Args:
        settings: configuration (the job store uses the same database).
        runtime: the dispatcher, course library and knowledge service jobs act on.
        persistent: keep jobs in the store (off for tests and the simulator).
    """

    def __init__(self, settings: Settings, runtime: Runtime, *, persistent: bool = True) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        jobstores: dict[str, Any] = {}
        if persistent:
            from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

            jobstores["default"] = SQLAlchemyJobStore(url=normalise_url(settings.database_url))
        self.scheduler = AsyncIOScheduler(
            jobstores=jobstores,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
            timezone=settings.timezone,
        )
        self.settings = settings
        self.runtime = runtime

    def start(self) -> None:
        """Register the jobs (replacing stored definitions) and start."""
        global RUNTIME
        RUNTIME = self.runtime
        self.scheduler.add_job(
            dispatch_tick, "interval", minutes=1, id=DISPATCH_JOB, replace_existing=True
        )
        self.scheduler.add_job(
            nightly_reingest, "cron", hour=3, minute=15, id=REINGEST_JOB, replace_existing=True
        )
        from datetime import UTC, datetime

        from bot.reports.schedule import run_is_due

        day, clock = self.settings.report_schedule.split()
        hour, minute = clock.split(":")
        # Re-adding a stored job recomputes its next run, which would drop a run missed
        # while the bot was down; so run now when this week's time has passed. Every
        # summary is claimed before it is sent, so a run already made sends nothing again.
        now = datetime.now(UTC)
        catch_up = run_is_due(now, self.settings.report_schedule, self.settings.timezone)
        self.scheduler.add_job(
            weekly_reports,
            "cron",
            day_of_week=day.lower()[:3],
            hour=int(hour),
            minute=int(minute),
            id=WEEKLY_REPORT_JOB,
            replace_existing=True,
            **({"next_run_time": now} if catch_up else {}),
        )
        self.scheduler.start()
        logger.info("scheduler started: dispatch every minute, re-ingest nightly at 03:15")

    def shutdown(self) -> None:
        """Stop without waiting for future runs."""
        global RUNTIME
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        RUNTIME = None


async def wait_for_running_jobs() -> None:
    """Wait until a dispatch pass already under way has finished its sends."""
    async with _dispatch_lock:
        return
