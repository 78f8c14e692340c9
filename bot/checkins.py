"""Application check-ins (level 2 of docs/evaluation.md): "have you applied it at work?".

``checkin.after_days`` days (the rule of the track a lesson was completed in; 14 by
default, 0 never) after a learner completed a lesson, the dispatcher pushes one question
about it: applied several times / once / not yet / not relevant. Which lesson, on a push
day of the learner at or after the lesson time:

- the **oldest** completed lesson that is due and has had no check-in yet, one a day;
- only lessons completed **no longer ago than 2 × after_days**: a lesson completed long
  before (an install upgraded with months of history, a learner back from leave) is not
  asked about, else such a learner would get one stale question a day for months;
- **one feedback prompt a day**: no check-in on a local day the person already had a
  satisfaction survey prompt, and :func:`bot.surveys.offer` asks no survey on a day a
  check-in went out (:func:`checked_in_on`). Each side reads the other's rows before
  writing its own, in different tables, so a lesson completed in the very second another
  process claims that person's check-in can still give both; a shared unique key would
  close it, at the price of a schema change for a second's window once a day.

A tap records the answer once (:func:`bot.application.record`); a free-text reply to the
answered message is its example.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from bot import application
from bot.payloads import CheckinAnswer
from bot.store.models import (
    Application,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    ObserverRole,
    Person,
    SurveyResponse,
)
from quizzes.content import Course

logger = logging.getLogger(__name__)

NOT_PUSHED = (DeliveryStatus.SKIPPED, DeliveryStatus.FAILED)
"""Check-in rows that never reached the person (they do not use up the day's prompt)."""


def longest_wait(course: Course) -> int:
    """The largest ``checkin.after_days`` of the course's tracks (0: check-ins are off)."""
    return max((track.checkin.after_days for track in course.tracks.values()), default=0)


@dataclass(frozen=True)
class CheckinPick:
    """The lesson a person is asked about today."""

    lesson_id: str
    track_id: str | None
    completed_on: date
    """The learner's local date of the (first) completion."""

    def selection(self) -> dict[str, str]:
        """What the delivery row keeps, so the message says the days whenever it is sent."""
        return {"completed_on": self.completed_on.isoformat()}


def pick_checkins(
    session: Session,
    course: Course,
    today: Mapping[int, tuple[ZoneInfo, date]],
    now: datetime,
) -> dict[int, CheckinPick | None]:
    """The lesson each person is asked about today, or ``None`` (nothing due, or a survey
    prompt already went out today), in four queries for the whole slice.

    Args:
        session: an open session.
        course: the course (each track's ``checkin`` rule, the lessons still in it).
        today: per person id, their time zone and local date now.
        now: the moment.
    """
    longest = longest_wait(course)
    ids = sorted(today)
    if longest == 0 or not ids:
        return dict.fromkeys(ids)
    days = {day for _, day in today.values()}
    surveyed = set(
        session.execute(
            select(SurveyResponse.person_id, SurveyResponse.asked_on).where(
                SurveyResponse.person_id.in_(ids), SurveyResponse.asked_on.in_(days)
            )
        ).all()
    )
    asked = set(
        session.execute(
            select(Delivery.person_id, Delivery.item_id).where(
                Delivery.person_id.in_(ids),
                Delivery.kind == DeliveryKind.CHECKIN,
                Delivery.item_id.is_not(None),
            )
        ).all()
    )
    # A lesson counts from its first completion: one completed long ago and again
    # yesterday is an old lesson. One day of slack for the zones' offsets.
    oldest = now - timedelta(days=2 * longest + 1)
    first = (
        select(
            Delivery.person_id.label("person_id"),
            Delivery.item_id.label("item_id"),
            func.min(Delivery.completed_at).label("first_at"),
        )
        .where(
            Delivery.person_id.in_(ids),
            Delivery.kind == DeliveryKind.LESSON,
            Delivery.status == DeliveryStatus.COMPLETED,
            Delivery.item_id.is_not(None),
        )
        .group_by(Delivery.person_id, Delivery.item_id)
        .having(func.min(Delivery.completed_at) >= oldest)
        .subquery("first")
    )
    completions = session.execute(
        select(first.c.person_id, first.c.item_id, first.c.first_at, func.min(Delivery.track_id))
        .join(
            Delivery,
            and_(
                Delivery.person_id == first.c.person_id,
                Delivery.item_id == first.c.item_id,
                Delivery.completed_at == first.c.first_at,
                Delivery.kind == DeliveryKind.LESSON,
            ),
        )
        .group_by(first.c.person_id, first.c.item_id, first.c.first_at)
        .order_by(first.c.first_at, first.c.item_id)
    ).all()
    in_course = {lesson_id for lesson_id, _ in course.lessons}
    picks: dict[int, CheckinPick | None] = dict.fromkeys(ids)
    for person_id, lesson_id, first_at, track_id in completions:
        zone, day = today[person_id]
        if picks[person_id] is not None or (person_id, day) in surveyed:
            continue
        if (person_id, lesson_id) in asked or lesson_id not in in_course:
            continue
        track = course.tracks.get(track_id or "")
        wait = track.checkin.after_days if track is not None else 0
        if wait == 0:
            continue
        completed_on = first_at.astimezone(zone).date()
        if completed_on + timedelta(days=wait) <= day <= completed_on + timedelta(days=2 * wait):
            picks[person_id] = CheckinPick(lesson_id, track_id, completed_on)
    return picks


def checked_in_on(session: Session, person_id: int, day: date) -> bool:
    """Whether a check-in was pushed (or is being pushed) to the person on their ``day``."""
    return (
        session.scalar(
            select(Delivery.id)
            .where(
                Delivery.person_id == person_id,
                Delivery.kind == DeliveryKind.CHECKIN,
                Delivery.local_date == day,
                Delivery.item_id.is_not(None),
                Delivery.status.not_in(NOT_PUSHED),
            )
            .limit(1)
        )
        is not None
    )


class Tapped(StrEnum):
    """What a tap on a check-in answer did."""

    RECORDED = "recorded"
    ALREADY = "already"
    NOT_YOURS = "not_yours"
    STALE = "stale"


@dataclass(frozen=True)
class CheckinOutcome:
    """The outcome of a tap, the answer stored and the lesson asked about."""

    outcome: Tapped
    answer: Application | None = None
    lesson_id: str | None = None
    language: str | None = None
    """The language the lesson was pushed in."""


def answer(
    session: Session,
    person: Person | None,
    payload: CheckinAnswer,
    *,
    now: datetime,
    message_ref: str | None,
) -> CheckinOutcome:
    """Record a check-in answer once, and mark the check-in answered on the first tap."""
    delivery = session.get(Delivery, payload.delivery_id)
    if (
        delivery is None
        or person is None
        or delivery.kind is not DeliveryKind.CHECKIN
        or not delivery.item_id
    ):
        return CheckinOutcome(Tapped.STALE)
    if delivery.person_id != person.id:
        return CheckinOutcome(Tapped.NOT_YOURS)
    stored = application.record(
        session,
        delivery=delivery,
        subject=person,
        observer=None,
        source=ObserverRole.SELF,
        lesson_id=delivery.item_id,
        track_id=delivery.track_id,
        answer=Application(payload.answer),
        now=now,
        message_ref=message_ref,
    )
    if stored.outcome is application.Recorded.RECORDED:
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery.id)
            .values(status=DeliveryStatus.ANSWERED, completed_at=now)
            .execution_options(synchronize_session=False)
        )
        outcome = Tapped.RECORDED
    else:
        outcome = Tapped.ALREADY
    return CheckinOutcome(outcome, stored.answer, delivery.item_id, delivery.language)


__all__ = [
    "CheckinOutcome",
    "CheckinPick",
    "Tapped",
    "answer",
    "checked_in_on",
    "longest_wait",
    "pick_checkins",
]
