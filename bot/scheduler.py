"""The scheduler: a dispatch pass every minute, the Monday summaries (and their retries
every ten minutes), a nightly re-ingest and the nightly retention purge.

Jobs live in memory, owned by :class:`BotScheduler`, and every one of them is safe to run
again: the dispatcher and the weekly summaries claim what they send in the store, so a
pass repeated after a restart or run by a second process sends nothing twice. That is why
nothing is persisted in an APScheduler job store: APScheduler 3 does not support several
processes sharing one (its FAQ: duplicate or missed runs), and each job catches up by
itself at start instead: a dispatch pass runs at once, and the weekly summaries run at
once when this week's time has passed (:func:`bot.reports.schedule.run_is_due`).

:meth:`BotScheduler.stop` is the graceful stop: no new runs, the dispatcher stops
claiming, and running jobs get ``grace`` to finish what they began before their claims
are released for the next process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.dispatcher import Dispatcher
from bot.library import CourseLibrary
from bot.qa import IngestBusy, KnowledgeDamaged, KnowledgeService
from bot.settings import Settings

logger = logging.getLogger(__name__)

DISPATCH_JOB = "dispatch"
REINGEST_JOB = "reingest"
INDEX_FOLLOW_JOB = "index-follow"
RETENTION_JOB = "retention"
WEEKLY_REPORT_JOB = "weekly-report"
REPORT_RETRY_JOB = "report-retry"
PRACTICE_JOB = "practice-rules"
REPORT_RETRY_MINUTES = 10


@dataclass
class Runtime:
    """What scheduled jobs act on."""

    dispatcher: Dispatcher
    library: CourseLibrary
    knowledge: KnowledgeService | None


class BotScheduler:
    """Owns the APScheduler instance, its jobs and the runs under way.

    Args:
        settings: configuration (dispatch interval, report schedule, time zone).
        runtime: the dispatcher, course library and knowledge service jobs act on.
    """

    def __init__(self, settings: Settings, runtime: Runtime) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600},
            timezone=settings.timezone,
        )
        self.settings = settings
        self.runtime = runtime
        self._running: set[asyncio.Task[Any]] = set()
        self._following: asyncio.Task[None] | None = None

    # -- jobs --------------------------------------------------------------------------

    async def dispatch_tick(self) -> None:
        """Job: one dispatcher pass (APScheduler skips it while the last one runs)."""
        await self._tracked(self.runtime.dispatcher.tick, "dispatch pass")

    async def weekly_reports(self) -> None:
        """Job: the Monday summaries (managers, review channel, trainers' content gaps)."""
        from bot.reports.schedule import send_weekly_reports

        await self._tracked(
            lambda: send_weekly_reports(self.runtime.dispatcher), "weekly summaries"
        )

    async def retry_reports(self) -> None:
        """Job: summaries and channel posts whose last try failed, or whose sender died."""
        from bot.reports.schedule import retry_unsent_reports

        await self._tracked(
            lambda: retry_unsent_reports(self.runtime.dispatcher), "weekly summary retry"
        )

    async def nightly_reingest(self) -> None:
        """Job: reload the course and re-ingest the materials if they changed."""

        async def run() -> None:
            problems = await asyncio.to_thread(self.runtime.library.reload)
            if problems:
                logger.error("course content has problems; still serving the last good content")
            if self.runtime.knowledge is not None:
                try:
                    report = await asyncio.to_thread(self.runtime.knowledge.ingest)
                except KnowledgeDamaged as exc:  # the service already said what to run
                    logger.error("nightly re-ingest skipped: %s", exc)
                    return
                except IngestBusy as exc:  # another bot process re-ingests tonight
                    logger.info("nightly re-ingest left to another process: %s", exc)
                    return
                if report.changed:
                    logger.info("materials re-ingested: %s", report.summary())

        await self._tracked(run, "nightly re-ingest")

    async def follow_index(self) -> None:
        """Job: switch to a Q&A index version another process published (shared index).

        Opening a new version may take longer than the interval; the job then returns at
        once instead of queueing behind it.
        """
        knowledge = self.runtime.knowledge
        if knowledge is None or (self._following is not None and not self._following.done()):
            return
        self._following = asyncio.create_task(
            self._tracked(lambda: asyncio.to_thread(knowledge.follow), "index check"),
            name="index-check",
        )

    async def nightly_retention(self) -> None:
        """Job: remove what is older than ``TRAINBOT_RETENTION_DAYS`` (docs/privacy.md)."""
        from bot.privacy import purge_expired

        dispatcher = self.runtime.dispatcher
        days = self.settings.retention_days
        followup_minutes = self.settings.followup_minutes

        async def run() -> None:
            now = dispatcher.clock.now()
            purge = await dispatcher.db.run(
                lambda session: purge_expired(
                    session, now=now, days=days, followup_minutes=followup_minutes
                )
            )
            if purge is not None and purge.total:
                logger.info("retention (%d days): %s", days, purge.summary())

        await self._tracked(run, "nightly retention")

    async def practice_rules(self) -> None:
        """Job: fire the tracks' practice rules on weak lessons (``bot.practice``).

        Safe on every replica: a firing is unique per rule, lesson and cycle.
        """
        from zoneinfo import ZoneInfo

        from bot.practice import run_rules

        dispatcher = self.runtime.dispatcher
        if not self.runtime.library.loaded:
            return
        course = self.runtime.library.course
        zone = ZoneInfo(self.settings.timezone)

        async def run() -> None:
            from bot.reports.schedule import notify_practice_firings

            now = dispatcher.clock.now()
            await dispatcher.db.run(lambda session: run_rules(session, course, now=now, zone=zone))
            # The trainers hear of it now (with the evidence), not at the next digest; a
            # firing made by another process, or a notice a stopped process left, too.
            await notify_practice_firings(dispatcher, now=now)

        await self._tracked(run, "practice rules")

    async def _tracked(self, job: Callable[[], Awaitable[object]], name: str) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await job()
        except Exception:  # a job must never kill the scheduler; the next run tries again
            logger.exception("%s failed", name)
        finally:
            if task is not None:
                self._running.discard(task)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, *, now: datetime | None = None) -> None:
        """Register the jobs and start; a dispatch pass (and a missed weekly run) at once."""
        from bot.reports.schedule import run_is_due

        now = now or datetime.now(UTC)
        self.scheduler.add_job(
            self.dispatch_tick,
            "interval",
            seconds=self.settings.dispatch_interval,
            id=DISPATCH_JOB,
            next_run_time=now,
        )
        self.scheduler.add_job(self.nightly_reingest, "cron", hour=3, minute=15, id=REINGEST_JOB)
        if self.runtime.knowledge is not None and self.runtime.knowledge.shared:
            self.scheduler.add_job(
                self.follow_index, "interval", seconds=self.settings.index_poll, id=INDEX_FOLLOW_JOB
            )
        if self.settings.retention_days:  # 0 keeps everything: no job at all
            self.scheduler.add_job(
                self.nightly_retention, "cron", hour=3, minute=30, id=RETENTION_JOB
            )
        self.scheduler.add_job(
            self.retry_reports, "interval", minutes=REPORT_RETRY_MINUTES, id=REPORT_RETRY_JOB
        )
        self.scheduler.add_job(self.practice_rules, "cron", hour=3, minute=45, id=PRACTICE_JOB)
        day, clock = self.settings.report_schedule.split()
        hour, minute = clock.split(":")
        catch_up = run_is_due(now, self.settings.report_schedule, self.settings.timezone)
        self.scheduler.add_job(
            self.weekly_reports,
            "cron",
            day_of_week=day.lower()[:3],
            hour=int(hour),
            minute=int(minute),
            id=WEEKLY_REPORT_JOB,
            **({"next_run_time": now} if catch_up else {}),
        )
        self.scheduler.start()
        logger.info(
            "scheduler started: dispatch every %gs, weekly summaries %s, re-ingest nightly "
            "at 03:15, retention %s",
            self.settings.dispatch_interval,
            self.settings.report_schedule,
            f"{self.settings.retention_days} days nightly at 03:30"
            if self.settings.retention_days
            else "off (kept forever)",
        )

    async def stop(self, grace: timedelta = timedelta(seconds=20)) -> None:
        """Stop gracefully: no new runs, no new claims, running jobs get ``grace`` to finish.

        A job still running after ``grace`` is cancelled and this process's claims are
        released, so the next process sends them without waiting for the lease to run out.
        """
        if self.scheduler.running:
            self.scheduler.pause()  # shutdown() alone would cancel the runs under way
        self.runtime.dispatcher.stop()
        running = [task for task in self._running if not task.done()]
        if running:
            logger.info("stopping: waiting for %d running job(s)", len(running))
            _, late = await asyncio.wait(running, timeout=grace.total_seconds())
            if late:
                logger.warning(
                    "stopping: %d job(s) still running after %gs; cancelled",
                    len(late),
                    grace.total_seconds(),
                )
                for task in late:
                    task.cancel()
                await asyncio.wait(late, timeout=5)
        try:
            released = await self.runtime.dispatcher.release_claims()
        except Exception:  # the leases run out by themselves
            logger.exception("could not release this process's claims")
        else:
            if released:
                logger.info("stopping: %d claimed pushes released for the next run", released)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
