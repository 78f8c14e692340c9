"""Leases: a claimed row belongs to one process until its lease runs out.

A process stamps the rows it claims (deliveries, channel posts) with its owner id and an
expiry, renews the expiry while it still works on them (:class:`LeaseKeeper`), and
releases them (expiry set to now) when it stops without finishing. Another process takes
a row over only once its lease has run out, that is when the owner is gone or stopped:
never while the owner still sends, however long its pass takes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.db import Database
from bot.store.models import ChannelPost, Delivery, DeliveryStatus, NamedLease

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=90)
"""How long a claim stays its owner's without a renewal (renewed every third of it)."""

Leased = type[Delivery] | type[ChannelPost]

INGEST = "ingest"
"""The named lease of the process re-ingesting the materials into the shared index."""


def new_owner() -> str:
    """An owner id unique to this process (host, pid and a random part, ≤ 64 characters)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def lease_values(owner: str, now: datetime, lease: timedelta = LEASE) -> dict[str, Any]:
    """The columns that make a freshly claimed row ``owner``'s."""
    return {"lease_owner": owner, "lease_expires_at": now + lease}


def expired(model: Leased, now: datetime, *, legacy_grace: timedelta = LEASE) -> Any:
    """SQL condition: a claimed row whose lease ran out.

    A row claimed before leases existed has none; it counts as expired once it was claimed
    more than ``legacy_grace`` ago (until then its process may still be sending it).
    """
    claimed_at = Delivery.claimed_at if model is Delivery else ChannelPost.created_at
    return (model.status == DeliveryStatus.CLAIMED) & or_(
        model.lease_expires_at <= now,
        model.lease_expires_at.is_(None) & (claimed_at <= now - legacy_grace),
    )


def take_over(
    session: Session,
    model: Leased,
    row_id: int,
    *,
    owner: str,
    now: datetime,
    lease: timedelta = LEASE,
    legacy_grace: timedelta = LEASE,
) -> bool:
    """Make an expired claim ``owner``'s; ``False`` when it is not expired (or gone)."""
    result = session.execute(
        update(model)
        .where(model.id == row_id, expired(model, now, legacy_grace=legacy_grace))
        .values(**lease_values(owner, now, lease))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def renew(
    session: Session, model: Leased, *, owner: str, now: datetime, lease: timedelta = LEASE
) -> int:
    """Extend every claimed row ``owner`` holds; returns how many."""
    result = session.execute(
        update(model)
        .where(model.lease_owner == owner, model.status == DeliveryStatus.CLAIMED)
        .values(lease_expires_at=now + lease)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, model: Leased, *, owner: str, now: datetime) -> int:
    """Give up every claimed row ``owner`` holds, so another process takes it at once."""
    result = session.execute(
        update(model)
        .where(model.lease_owner == owner, model.status == DeliveryStatus.CLAIMED)
        .values(lease_owner=None, lease_expires_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


class LeaseKeeper:
    """Renews an owner's leases in the background while a pass runs.

    Use as ``async with LeaseKeeper(...):``; renewals run off the event loop every third
    of the lease, so a pass of any length keeps what it claimed.

    Args:
        db: the store.
        model: the leased table.
        owner: the owner id.
        now: the clock.
        lease: the lease length.
    """

    def __init__(
        self,
        db: Database,
        model: Leased,
        *,
        owner: str,
        now: Callable[[], datetime],
        lease: timedelta = LEASE,
    ) -> None:
        self.db = db
        self.model = model
        self.owner = owner
        self.now = now
        self.lease = lease
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        period = max(self.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(period)
            try:
                await self.db.run(
                    lambda session: renew(
                        session, self.model, owner=self.owner, now=self.now(), lease=self.lease
                    )
                )
            except Exception:  # a missed renewal is retried; the lease has slack for two
                logger.exception("could not renew leases")

    async def __aenter__(self) -> LeaseKeeper:
        self._task = asyncio.create_task(self._run(), name="lease-keeper")
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


# -- named leases: one process at a time runs a job ----------------------------------------


def acquire_named(
    session: Session, name: str, *, owner: str, now: datetime, lease: timedelta = LEASE
) -> bool:
    """Make the job ``name`` ``owner``'s until ``now + lease``.

    Succeeds when nobody holds it, its lease ran out, or ``owner`` already holds it (then
    the lease is extended). Safe when several processes try at once: one of them wins.
    """
    taken = session.execute(
        update(NamedLease)
        .where(
            NamedLease.name == name,
            or_(NamedLease.expires_at <= now, NamedLease.owner == owner),
        )
        .values(
            owner=owner,
            expires_at=now + lease,
            acquired_at=case((NamedLease.owner == owner, NamedLease.acquired_at), else_=now),
        )
    )
    if taken.rowcount:  # type: ignore[attr-defined]
        return True
    try:
        with session.begin_nested():
            session.add(NamedLease(name=name, owner=owner, acquired_at=now, expires_at=now + lease))
    except IntegrityError:  # another process holds it (or inserted it just now)
        return False
    return True


def release_named(session: Session, name: str, *, owner: str, now: datetime) -> bool:
    """Give the job ``name`` up at once, if ``owner`` holds it."""
    result = session.execute(
        update(NamedLease)
        .where(NamedLease.name == name, NamedLease.owner == owner)
        .values(expires_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def named_holder(session: Session, name: str, *, now: datetime) -> NamedLease | None:
    """Who holds the job ``name`` now (``None`` when nobody does)."""
    held = session.scalar(select(NamedLease).where(NamedLease.name == name))
    if held is None or held.expires_at <= now:
        return None
    return held


class NamedLeaseKeeper:
    """Holds a named lease while a job runs, renewing it in the background.

    ``await keeper.acquire()`` takes it (``False`` when another process holds it); the
    renewals run off the event loop every third of the lease; ``await keeper.release()``
    stops them and gives the job up. If a renewal finds the lease taken over (this process
    stalled longer than the lease), :attr:`lost` is set and the renewals stop.

    Args:
        db: the store.
        name: the job's name.
        owner: this process's owner id.
        now: the clock.
        lease: the lease length.
    """

    def __init__(
        self,
        db: Database,
        name: str,
        *,
        owner: str,
        now: Callable[[], datetime],
        lease: timedelta = LEASE,
    ) -> None:
        self.db = db
        self.name = name
        self.owner = owner
        self.now = now
        self.lease = lease
        self.lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _take(self) -> bool:
        return await self.db.run(
            lambda session: acquire_named(
                session, self.name, owner=self.owner, now=self.now(), lease=self.lease
            )
        )

    async def acquire(self) -> bool:
        """Take the lease and keep renewing it; ``False`` when another process holds it."""
        if not await self._take():
            return False
        self.lost.clear()
        self._task = asyncio.create_task(self._renew(), name=f"lease-{self.name}")
        return True

    async def _renew(self) -> None:
        period = max(self.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(period)
            try:
                kept = await self._take()
            except Exception:  # a missed renewal is retried; the lease has slack for two
                logger.exception("could not renew the %s lease", self.name)
                continue
            if not kept:
                logger.error("the %s lease was taken over by another process", self.name)
                self.lost.set()
                return

    async def release(self) -> None:
        """Stop renewing and give the lease up."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.db.run(
                lambda session: release_named(session, self.name, owner=self.owner, now=self.now())
            )
        except Exception:  # it runs out on its own
            logger.exception("could not release the %s lease", self.name)
