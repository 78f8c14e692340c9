"""Platform events already handled, so a platform's retry is never answered twice.

Slack re-sends an event when it did not see our acknowledgement in time, and with several
bot processes behind a load balancer the retry may reach a different process. The row in
``processed_events`` is inserted with ``ON CONFLICT DO NOTHING``: whichever process inserts
it first handles the event, everyone else drops it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.store.db import Database
from bot.store.models import ProcessedEvent


def first_time(db: Database, platform: str, event_id: str, now: datetime) -> bool:
    """Record ``event_id`` as handled; ``True`` only for the first caller.

    Args:
        db: the store.
        platform: ``slack`` or ``telegram`` (or another kind of record, e.g.
            ``slack-thread``).
        event_id: the platform's id of the event (Slack's ``event_id``).
        now: when the event was received (aware UTC).
    """
    insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
    statement = (
        insert(ProcessedEvent)
        .values(platform=platform, event_id=event_id, received_at=now)
        .on_conflict_do_nothing(index_elements=["platform", "event_id"])
        .returning(ProcessedEvent.event_id)
    )
    with db.session() as session:
        return session.execute(statement).scalar_one_or_none() is not None


def seen(db: Database, platform: str, event_id: str) -> bool:
    """Whether ``event_id`` has been recorded (and not pruned yet)."""
    with db.session() as session:
        found = session.scalars(
            select(ProcessedEvent.event_id).where(
                ProcessedEvent.platform == platform, ProcessedEvent.event_id == event_id
            )
        ).first()
        return found is not None


def prune(db: Database, platform: str, older_than: datetime) -> int:
    """Forget ``platform``'s events received before ``older_than``; returns how many went.

    Platforms retry within minutes, so a day's history is plenty for retries. Only the
    given platform's rows go: the same table also remembers which Slack threads the bot
    answers in (``slack-thread``), and, from versions before the ``channel_posts`` table,
    which weekly summary was posted to the review channel (``report``, still read by
    :func:`bot.reports.claims.legacy_post_recorded` and never pruned).
    """
    with db.session() as session:
        result = session.execute(
            delete(ProcessedEvent).where(
                ProcessedEvent.platform == platform, ProcessedEvent.received_at < older_than
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class StoredSeenEvents:
    """The :class:`bot.ports.SeenEvents` port over the store (work runs off the loop).

    Args:
        db: the store.
        now: the clock.
    """

    def __init__(self, db: Database, now: Callable[[], datetime]) -> None:
        self.db = db
        self.now = now

    async def first_time(self, kind: str, key: str) -> bool:
        """Record ``key`` under ``kind``; ``True`` only for the first caller."""
        return await asyncio.to_thread(first_time, self.db, kind, key, self.now())

    async def seen(self, kind: str, key: str) -> bool:
        """Whether ``key`` was recorded under ``kind``."""
        return await asyncio.to_thread(seen, self.db, kind, key)

    async def forget_older(self, kind: str, age: timedelta) -> int:
        """Forget ``kind``'s keys recorded longer than ``age`` ago."""
        return await asyncio.to_thread(prune, self.db, kind, self.now() - age)
