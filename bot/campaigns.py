"""Campaigns: a lesson or quiz pushed to a track or team, through the same claims.

The CLI has no connection to Slack or Telegram; it writes the claims, dated so that the
running bot's dispatch takes them over as ready to send (the same path as a claim left by
a crash): a claim's lease expiry is the moment it may go out. By default that is each
person's next allowed moment in their own time zone — a working day, outside the
calendar's blackouts for their track and outside quiet hours — so a campaign started at
23:55 reaches Shanghai at the end of its quiet hours, not at midnight. ``now=True`` sends
at once whatever the hour (an explicit choice of whoever runs it).

Every campaign has its own id: a name that already queued anything is refused, so a second
campaign never silently claims nothing, and each person gets a campaign's push once.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.experiments import forms_for, quiz_selection
from bot.learning import PushDays, claim_many, learner_states
from bot.people import zone_of
from bot.settings import QuietHours, Settings
from bot.store.db import Database
from bot.store.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Person,
    PersonStatus,
    Team,
)
from quizzes.content import Course
from quizzes.selection import next_quiz

logger = logging.getLogger(__name__)

CAMPAIGN_PREFIX = "campaign:"
LOOKAHEAD_DAYS = 366
"""How far a push is deferred at most; a person with no allowed day in it is skipped."""

# Why someone was deferred or skipped (the CLI prints these keys' meaning).
QUIET_HOURS = "quiet hours"
NOT_WORKING_DAY = "not a working day"
BLACKOUT = "blackout"
NOTHING_TO_SEND = "nothing to send (no quiz item due or new)"
OTHER_TRACK = "not on the lesson's track"
NO_ALLOWED_DAY = f"no allowed day in the next {LOOKAHEAD_DAYS} days"
ALREADY_CLAIMED = "already had this campaign"


class CampaignError(ValueError):
    """A campaign that cannot run as asked (unknown track, team or lesson, a reused name)."""


@dataclass(frozen=True)
class PushWindow:
    """When pushes may go out: the organisation's working days and quiet hours.

    Args:
        working_days: three-letter weekday names (``mon`` ...).
        quiet: the quiet-hours window, or ``None``.
        fallback_timezone: the zone of a person whose own is unknown.
    """

    working_days: frozenset[str]
    quiet: QuietHours | None
    fallback_timezone: str = "UTC"

    @classmethod
    def of(cls, settings: Settings) -> PushWindow:
        """The window the configuration sets (``TRAINBOT_WORKING_DAYS``, quiet hours)."""
        return cls(
            working_days=frozenset(settings.working_days),
            quiet=settings.quiet,
            fallback_timezone=settings.timezone,
        )


@dataclass(frozen=True)
class Deferral:
    """Why a push waits, and until when (the person's local time)."""

    reason: str
    until: datetime


def next_allowed(
    now: datetime, zone: ZoneInfo, track_id: str | None, course: Course, window: PushWindow
) -> Deferral | None:
    """The person's next allowed moment, when ``now`` is not one.

    Returns:
        ``None`` when a push may go out now; otherwise why it waits and the local moment
        it may go out (the first allowed minute of the first allowed day).

    Raises:
        LookupError: when no day in the next :data:`LOOKAHEAD_DAYS` is allowed.
    """
    local = now.astimezone(zone)
    quiet = window.quiet
    push_days = PushDays(window.working_days, course.calendar)

    def blocked(day: date) -> str | None:
        if not push_days.works_on(day):
            return NOT_WORKING_DAY
        blackout = push_days.blackout(day, track_id)
        return f"{BLACKOUT} {blackout.id}" if blackout is not None else None

    today = local.date()
    reason = blocked(today)
    if reason is None:
        if quiet is None or not quiet.contains(local.time()):
            return None
        reason = QUIET_HOURS
        if local.time() < quiet.end:  # the quiet window ends later today
            return Deferral(reason, datetime.combine(today, quiet.end, zone))
    reasons = [reason]  # every reason on the way, so a blackout after a weekend is named
    for offset in range(1, LOOKAHEAD_DAYS + 1):
        day = today + timedelta(days=offset)
        later = blocked(day)
        if later is None:
            first = time(0, 0)
            if quiet is not None and quiet.contains(first):
                first = quiet.end
            return Deferral(", then ".join(reasons), datetime.combine(day, first, zone))
        if later not in reasons:
            reasons.append(later)
    raise LookupError(NO_ALLOWED_DAY)


@dataclass
class CampaignReport:
    """What a campaign queued, deferred and skipped, and why."""

    campaign: str
    people: int
    queued: int = 0
    """Claims ready to send now (the running bot sends them within a minute)."""
    deferred: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Deferred claims by (reason, local time and zone they go out)."""
    skipped: Counter[str] = field(default_factory=Counter)
    """People who get nothing, by reason."""

    @property
    def deferred_count(self) -> int:
        """How many claims wait for their person's next allowed moment."""
        return sum(self.deferred.values())

    @property
    def skipped_count(self) -> int:
        """How many people get nothing."""
        return sum(self.skipped.values())


def campaign_slot(name: str) -> str:
    """The delivery slot a campaign's claims carry."""
    return f"{CAMPAIGN_PREFIX}{name}"


def campaign_used(session: Session, name: str) -> bool:
    """Whether a campaign of this name already queued anything."""
    return (
        session.scalar(select(Delivery.id).where(Delivery.slot == campaign_slot(name)).limit(1))
        is not None
    )


def fresh_name(session: Session, now: datetime) -> str:
    """A campaign id no earlier campaign has: the time plus a random part."""
    while True:
        name = f"{now.astimezone(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
        if not campaign_used(session, name):
            return name


def push_campaign(
    db: Database,
    course: Course,
    *,
    now: datetime,
    window: PushWindow,
    name: str | None = None,
    track: str | None = None,
    team: str | None = None,
    lesson: str | None = None,
    at_once: bool = False,
    admitted: ColumnElement[bool] | None = None,
) -> CampaignReport:
    """Claim a campaign for everyone active and enrolled in ``team`` and/or ``track``.

    Args:
        now: the moment (aware).
        window: working days and quiet hours the pushes respect.
        name: the campaign's id; one used before is refused; ``None``: a fresh one.
        track: only people on this track (within ``team`` when both are given).
        team: only people in this team.
        lesson: a lesson id to push (only to people on the lesson's track); ``None``
            pushes each person's next quiz item.
        at_once: send now even inside quiet hours, blackouts or on a non-working day.
        admitted: who may get it, ``bot.admission.admitted_people(settings)``;
            ``None``: everyone active.

    Raises:
        CampaignError: for an unknown track, team or lesson, a lesson of another track
            than ``track``, or a name used before.
    """
    if track is None and team is None:
        raise CampaignError("choose --track, --team or both")
    if track is not None and track not in course.tracks:
        raise CampaignError(f"unknown track {track!r} (tracks: {', '.join(course.tracks)})")
    lesson_track: str | None = None
    if lesson is not None:
        found_lesson = course.lesson(lesson, "zh") or course.lesson(lesson, "en")
        if found_lesson is None:
            raise CampaignError(f"unknown lesson {lesson!r}")
        lesson_track = found_lesson.track
        if track is not None and track != lesson_track:
            raise CampaignError(
                f"lesson {lesson!r} is on track {lesson_track!r}, not {track!r}: "
                "a lesson goes only to people on its own track"
            )
    with db.session() as session:
        if name is None:
            name = fresh_name(session, now)
        elif campaign_used(session, name):
            raise CampaignError(
                f"campaign {name!r} was already pushed: choose another --name "
                "(or leave it out for a fresh one)"
            )
        query = select(Person).where(
            Person.status == PersonStatus.ACTIVE,
            Person.enrolled_at.is_not(None),
            Person.enrollment_step.is_(None),
        )
        if admitted is not None:
            query = query.where(admitted)
        if track is not None:
            query = query.where(Person.track_id == track)
        if team is not None:
            found = session.scalars(select(Team).where(Team.name == team)).one_or_none()
            if found is None:
                raise CampaignError(f"unknown team {team!r}")
            query = query.where(Person.team_id == found.id)
        people = list(session.scalars(query.order_by(Person.id)).all())
        report = CampaignReport(campaign_slot(name), len(people))
        states = learner_states(session, people, now) if lesson is None else {}
        # A quiz is shown in the wording of the person's wording-experiment variant.
        forms = (
            forms_for(
                session,
                course,
                people,
                now=now,
                today=now.astimezone(ZoneInfo(window.fallback_timezone)).date(),
            )
            if lesson is None
            else {}
        )
        rows: list[dict[str, Any]] = []
        waits: dict[int, tuple[str, str]] = {}
        for person in people:
            if lesson is not None and person.track_id != lesson_track:
                report.skipped[OTHER_TRACK] += 1
                continue
            item = lesson
            if item is None:
                pick = next_quiz(course, states[person.id], now)
                item = pick.item_id if pick is not None and pick.kind == "quiz" else None
            if item is None:
                report.skipped[NOTHING_TO_SEND] += 1
                continue
            zone = zone_of(person.timezone, window.fallback_timezone, owner=f"person {person.id}")
            try:
                deferral = (
                    None if at_once else next_allowed(now, zone, person.track_id, course, window)
                )
            except LookupError:
                report.skipped[NO_ALLOWED_DAY] += 1
                continue
            send_at = now if deferral is None else deferral.until.astimezone(UTC)
            if deferral is not None:
                waits[person.id] = (deferral.reason, f"{deferral.until:%Y-%m-%d %H:%M} {zone.key}")
            rows.append(
                {
                    "person_id": person.id,
                    "kind": DeliveryKind.LESSON if lesson else DeliveryKind.QUIZ,
                    "slot": report.campaign,
                    "local_date": send_at.astimezone(zone).date(),
                    "item_id": item,
                    "selection": (
                        quiz_selection(course, item, forms.get(person.id))
                        if lesson is None
                        else None
                    ),
                    "language": person.language,
                    "track_id": person.track_id,
                    "team_id": person.team_id,
                    "status": DeliveryStatus.CLAIMED,
                    "send_attempts": 0,
                    "claimed_at": now,
                    # A claim nobody holds whose lease runs out when it may be sent: the
                    # first dispatch pass of any bot process from then on takes it over
                    # and sends it, exactly once (bot.leases).
                    "lease_owner": None,
                    "lease_expires_at": send_at,
                }
            )
        inserted = set(claim_many(session, rows))
        claimed_people = (
            set(session.scalars(select(Delivery.person_id).where(Delivery.id.in_(inserted))).all())
            if inserted
            else set()
        )
        for row in rows:
            person_id = row["person_id"]
            if person_id not in claimed_people:
                report.skipped[ALREADY_CLAIMED] += 1
            elif person_id in waits:
                report.deferred[waits[person_id]] += 1
            else:
                report.queued += 1
    logger.info(
        "campaign %s: %d queued, %d deferred, %d skipped",
        report.campaign,
        report.queued,
        report.deferred_count,
        report.skipped_count,
    )
    return report


def hold_until_allowed(session: Session, course: Course, window: PushWindow, now: datetime) -> int:
    """Move deferred campaign claims whose moment passed into a disallowed time forward.

    A deferred claim becomes sendable when its moment comes; a bot that was not running
    then would send it whenever it starts, in quiet hours too. Before taking claims over,
    the dispatcher calls this: an unowned, never-tried campaign claim that was deferred
    (its expiry after its claim time; ``--now`` claims have them equal) and whose person
    is now in quiet hours, a blackout or a day off gets their next allowed moment. The
    update only matches a row still unowned and unchanged, so a process that took it over
    meanwhile keeps it (exactly once holds).

    Returns:
        How many claims were moved.
    """
    rows = session.execute(
        select(Delivery.id, Delivery.lease_expires_at, Person.timezone, Person.track_id)
        .join(Person, Person.id == Delivery.person_id)
        .where(
            Delivery.status == DeliveryStatus.CLAIMED,
            Delivery.slot.like(f"{CAMPAIGN_PREFIX}%"),
            Delivery.lease_owner.is_(None),
            Delivery.send_attempts == 0,
            Delivery.lease_expires_at <= now,
            Delivery.lease_expires_at > Delivery.claimed_at,
        )
    ).all()
    moved = 0
    for delivery_id, expires, timezone, track_id in rows:
        zone = zone_of(timezone, window.fallback_timezone, owner=f"delivery {delivery_id}")
        try:
            deferral = next_allowed(now, zone, track_id, course, window)
        except LookupError:
            continue  # no allowed day ahead: leave it to be sent rather than held forever
        if deferral is None:
            continue
        result = session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.lease_owner.is_(None),
                Delivery.lease_expires_at == expires,
            )
            .values(
                lease_expires_at=deferral.until.astimezone(UTC), local_date=deferral.until.date()
            )
        )
        moved += int(result.rowcount)  # type: ignore[attr-defined]
    if moved:
        logger.info("%d campaign pushes held until their people's next allowed moment", moved)
    return moved
