"""Claims of the Monday summaries: one row per recipient and ISO week, held by a lease.

A DM to a stored person is a ``report`` delivery, unique per person, ``local_date`` and
slot (``weekly:<week>`` for a manager's summary, ``gaps:<week>`` for a trainer's digest,
``practice:<firing id>`` for a trainer's notice that a practice rule fired).
``local_date`` is the Monday of the *reported* week (``2026-W47`` -> 2026-11-16), so a run
on any day of the following week claims the same row; rows written by earlier versions
(with the run's own date) are found by their slot. A post to the review channel is a
``channel_posts`` row, unique per platform, channel and week.

A row is claimed with a lease (:mod:`bot.leases`) and marked sent only after the platform
accepted the message. A failed try releases it with the error and the count of tries;
the report job takes over claimed rows whose lease ran out (a failed try, a process that
was killed) and tries again, up to :data:`MAX_ATTEMPTS` tries in all.

Every function here is synchronous database work: callers run it with
``asyncio.to_thread``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot import events_log
from bot.learning import claim_many
from bot.leases import expired, lease_values, take_over
from bot.store.db import Database
from bot.store.models import ChannelPost, Delivery, DeliveryKind, DeliveryStatus, Person
from bot.weeks import parse_week

logger = logging.getLogger(__name__)

WEEKLY_SLOT = "weekly:"
GAPS_SLOT = "gaps:"
PRACTICE_SLOT = "practice:"
SLOTS = (WEEKLY_SLOT, GAPS_SLOT, PRACTICE_SLOT)

MAX_ATTEMPTS = 5
"""Tries of one summary or post (each DM try is itself up to three sends) before giving up."""

LEGACY_GRACE = timedelta(minutes=5)
"""A claimed row without a lease (written by a version before leases) is taken over only
after this long: its process may still be sending it."""

LEGACY_RECORDS = "report"
"""``processed_events`` platform under which earlier versions recorded channel posts."""


class ClaimState(StrEnum):
    """What claiming a summary found."""

    NEW = "new"  # claimed now, by this call
    RECOVERED = "recovered"  # taken over: an earlier try failed, or its process stopped
    DONE = "done"  # sent before (or given up on, or nothing to say): nothing to do
    BUSY = "busy"  # another run holds it with a live lease


@dataclass(frozen=True)
class Claim:
    """The outcome of a claim.

    Attributes:
        state: what was found.
        row_id: the delivery or channel-post id, when this run now holds it.
        attempts: tries made before this one.
        send_started: a send was under way when the previous holder stopped, so the
            message may have reached the recipient already.
    """

    state: ClaimState
    row_id: int | None = None
    attempts: int = 0
    send_started: bool = False

    @property
    def held(self) -> bool:
        """Whether this run now holds the row (and must build and send it)."""
        return self.row_id is not None and self.state in (ClaimState.NEW, ClaimState.RECOVERED)


def week_monday(week: str) -> date:
    """The ``local_date`` of every summary of ``week``: the Monday of that ISO week."""
    year, number = parse_week(week)
    return date.fromisocalendar(year, number, 1)


def slot_key(slot: str) -> str:
    """What a slot is about: ``2026-W47`` from ``weekly:2026-W47`` or ``gaps:2026-W47``,
    the firing's id from ``practice:12``."""
    return slot.partition(":")[2]


# -- DMs (report deliveries) -------------------------------------------------------------


def claim_report(
    session: Session,
    person: Person,
    slot: str,
    *,
    owner: str,
    now: datetime,
    local_date: date | None = None,
    item_id: str | None = None,
) -> Claim:
    """Claim the summary ``slot`` (``weekly:<week>``, ``gaps:<week>``) for ``person``.

    A notice that is not about a week (``practice:<firing id>``) gives its own
    ``local_date`` and ``item_id``.

    A row of the same person and slot on any date counts, so a run on another day of the
    week, or a row written by an earlier version, never sends the summary again.

    Args:
        session: an open transaction.
        person: the recipient (a stored person).
        slot: the summary's slot.
        owner: this run's lease owner.
        now: the moment of the claim.
    """
    rows = session.scalars(
        select(Delivery)
        .where(
            Delivery.person_id == person.id,
            Delivery.kind == DeliveryKind.REPORT,
            Delivery.slot == slot,
        )
        .order_by(Delivery.id)
    ).all()
    if any(row.status is not DeliveryStatus.CLAIMED for row in rows):
        return Claim(ClaimState.DONE)
    for row in rows:
        claim = _take_report(session, row, owner=owner, now=now)
        if claim is not None:
            return claim
    if rows:
        return Claim(ClaimState.BUSY)
    inserted = claim_many(
        session,
        [
            {
                "person_id": person.id,
                "kind": DeliveryKind.REPORT,
                "slot": slot,
                "local_date": local_date or week_monday(slot_key(slot)),
                "item_id": item_id or slot_key(slot),
                "language": person.language,
                "track_id": person.track_id,
                "team_id": person.team_id,
                "status": DeliveryStatus.CLAIMED,
                "send_attempts": 0,
                "claimed_at": now,
                **lease_values(owner, now),
            }
        ],
    )
    if not inserted:  # another process inserted it a moment ago
        return Claim(ClaimState.BUSY)
    return Claim(ClaimState.NEW, inserted[0])


def _take_report(session: Session, row: Delivery, *, owner: str, now: datetime) -> Claim | None:
    if not take_over(session, Delivery, row.id, owner=owner, now=now, legacy_grace=LEGACY_GRACE):
        return None
    return Claim(ClaimState.RECOVERED, row.id, row.send_attempts, row.send_started_at is not None)


def pending_reports(session: Session, now: datetime) -> list[tuple[int, int, str]]:
    """Claimed summaries whose lease ran out: ``(delivery id, person id, slot)``."""
    rows = session.execute(
        select(Delivery.id, Delivery.person_id, Delivery.slot)
        .where(
            Delivery.kind == DeliveryKind.REPORT,
            or_(*(Delivery.slot.startswith(prefix) for prefix in SLOTS)),
            expired(Delivery, now, legacy_grace=LEGACY_GRACE),
        )
        .order_by(Delivery.id)
    ).all()
    return [(row_id, person_id, slot) for row_id, person_id, slot in rows]


def take_pending_report(session: Session, row_id: int, *, owner: str, now: datetime) -> Claim:
    """Take over one row of :func:`pending_reports`.

    Earlier versions could claim a summary twice on different days; a leftover claim of a
    summary already sent is closed, never sent again.
    """
    row = session.get(Delivery, row_id)
    if row is None or row.status is not DeliveryStatus.CLAIMED:
        return Claim(ClaimState.DONE)
    claim = _take_report(session, row, owner=owner, now=now)
    if claim is None:
        return Claim(ClaimState.BUSY)
    sent_before = session.scalar(
        select(Delivery.id).where(
            Delivery.person_id == row.person_id,
            Delivery.kind == DeliveryKind.REPORT,
            Delivery.slot == row.slot,
            Delivery.id != row.id,
            Delivery.status != DeliveryStatus.CLAIMED,
        )
    )
    if sent_before is not None:
        close_report(
            session,
            row_id,
            DeliveryStatus.SKIPPED,
            error="handled by an earlier claim",
            tried=False,
        )
        return Claim(ClaimState.DONE)
    return claim


def report_send_started(session: Session, row_id: int, now: datetime) -> None:
    """Mark that the summary is being handed to the platform (cleared with the outcome)."""
    session.execute(update(Delivery).where(Delivery.id == row_id).values(send_started_at=now))


def close_report(
    session: Session,
    row_id: int,
    status: DeliveryStatus,
    *,
    error: str | None = None,
    message_ref: str | None = None,
    now: datetime | None = None,
    tried: bool = True,
) -> None:
    """Record a summary's final outcome (sent, failed or skipped).

    Args:
        session: an open transaction.
        row_id: the delivery.
        status: the outcome.
        error: why it was not sent.
        message_ref: the platform's reference of the message sent.
        now: when it was sent.
        tried: whether this outcome came from a try (counted in ``send_attempts``), not
            from a check before any (e.g. the week is over).
    """
    values: dict[str, object] = {
        "status": status,
        "error": error[:1000] if error else None,
        "send_started_at": None,
    }
    if tried:
        values["send_attempts"] = Delivery.send_attempts + 1
    if status is DeliveryStatus.SENT:
        values.update(sent_at=now, message_ref=message_ref)
    session.execute(update(Delivery).where(Delivery.id == row_id).values(**values))


def report_try_failed(session: Session, row_id: int, error: str, now: datetime) -> tuple[int, bool]:
    """Count a failed try of a summary: released for a later try, or failed after the last.

    Returns:
        The tries made so far, and whether this was the last one.
    """
    row = session.get(Delivery, row_id)
    if row is None:
        return MAX_ATTEMPTS, True
    row.send_attempts += 1
    row.error = error[:1000]
    row.send_started_at = None
    if row.send_attempts >= MAX_ATTEMPTS:
        row.status = DeliveryStatus.FAILED
    else:
        row.lease_owner, row.lease_expires_at = None, now
    return row.send_attempts, row.status is DeliveryStatus.FAILED


# -- the review channel (channel posts) -------------------------------------------------


def legacy_post_recorded(db: Database, platform: str, channel_id: str, week: str) -> bool:
    """Whether an earlier version recorded the channel post of ``week`` as made.

    Those versions wrote ``weekly-report:<week>:<channel>`` to ``processed_events``, under
    platform ``report`` or, before that, under the channel's platform.
    """
    event_id = f"weekly-report:{week}:{channel_id}"[:128]
    return events_log.seen(db, LEGACY_RECORDS, event_id) or events_log.seen(db, platform, event_id)


def claim_channel_post(
    session: Session, platform: str, channel_id: str, week: str, *, owner: str, now: datetime
) -> Claim:
    """Claim the post of ``week`` to one channel (or take over a try that stopped)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(ChannelPost)
        .values(
            platform=platform,
            channel_id=channel_id,
            week=week,
            status=DeliveryStatus.CLAIMED,
            attempts=0,
            created_at=now,
            **lease_values(owner, now),
        )
        .on_conflict_do_nothing(index_elements=["platform", "channel_id", "week"])
        .returning(ChannelPost.id)
    )
    row_id = session.execute(statement).scalar_one_or_none()
    if row_id is not None:
        return Claim(ClaimState.NEW, row_id)
    row = session.scalars(
        select(ChannelPost).where(
            ChannelPost.platform == platform,
            ChannelPost.channel_id == channel_id,
            ChannelPost.week == week,
        )
    ).one()
    return take_channel_post(session, row, owner=owner, now=now)


def take_channel_post(session: Session, row: ChannelPost, *, owner: str, now: datetime) -> Claim:
    """Take over a claimed post whose lease ran out."""
    if row.status is not DeliveryStatus.CLAIMED:
        return Claim(ClaimState.DONE)
    if not take_over(session, ChannelPost, row.id, owner=owner, now=now, legacy_grace=LEGACY_GRACE):
        return Claim(ClaimState.BUSY)
    return Claim(ClaimState.RECOVERED, row.id, row.attempts)


def pending_channel_posts(session: Session, now: datetime) -> list[ChannelPost]:
    """Claimed posts whose lease ran out (detached from the session)."""
    rows = session.scalars(
        select(ChannelPost)
        .where(expired(ChannelPost, now, legacy_grace=LEGACY_GRACE))
        .order_by(ChannelPost.id)
    ).all()
    session.expunge_all()
    return list(rows)


def channel_post_sent(
    session: Session,
    row_id: int,
    message_ref: str | None,
    now: datetime,
    *,
    error: str | None = None,
) -> None:
    """Record that the platform accepted the post (``error``: it did not confirm it)."""
    session.execute(
        update(ChannelPost)
        .where(ChannelPost.id == row_id)
        .values(
            status=DeliveryStatus.SENT,
            attempts=ChannelPost.attempts + 1,
            error=error,
            message_ref=message_ref,
            sent_at=now,
        )
    )


def close_channel_post(session: Session, row_id: int, status: DeliveryStatus, error: str) -> None:
    """Close a post that will not be made (e.g. its week is over)."""
    session.execute(
        update(ChannelPost).where(ChannelPost.id == row_id).values(status=status, error=error)
    )


def channel_post_try_failed(
    session: Session, row_id: int, error: str, now: datetime
) -> tuple[int, bool]:
    """Count a failed try of a post: released for a later try, or failed after the last.

    Returns:
        The tries made so far, and whether this was the last one.
    """
    row = session.get(ChannelPost, row_id)
    if row is None:
        return MAX_ATTEMPTS, True
    row.attempts += 1
    row.error = error[:1000]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = DeliveryStatus.FAILED
    else:
        row.lease_owner, row.lease_expires_at = None, now
    return row.attempts, row.status is DeliveryStatus.FAILED
