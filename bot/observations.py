"""Observation checklists (level 2 of docs/evaluation.md): the light form of 360 feedback.

Once a period (``TRAINBOT_OBSERVATION_MONTHS`` calendar months, 1 by default; 0 never),
each observer gets, at the lesson time of a push day in their own zone, one checklist per
person they observe: "have you seen them apply these lessons at work?", one row per
lesson with three buttons (seen / not seen / can't tell).

- **Who observes whom.** A person's manager (``people.manager_id``) and the peers the
  roster names in its ``observers`` column (:class:`bot.store.models.Observer`); nobody
  else, so a checklist never tells anyone about a person they may not already know of.
  A peer sees the person's name and the lesson titles, nothing more. When the roster
  changes, taps on an older checklist are refused.
- **Which lessons.** Up to :data:`MAX_LESSONS` lessons the person completed at least
  :data:`SETTLE` before (time to apply them), the most recently completed first, that the
  observer has not answered about in this period. None: no checklist.
- **Exactly once.** A checklist is a delivery of the observer (kind ``observation``)
  unique per observer, period and person observed: ``local_date`` is the period's first
  day in the observer's zone and ``slot`` names the person, so two processes claim it
  once. The lessons are stored in the delivery, so a button's row number means the same
  lesson however often the checklist is sent or edited.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot import application
from bot.payloads import ObservationAnswer
from bot.store.models import (
    Application,
    ApplicationReport,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Observer,
    ObserverRole,
    Person,
    PersonStatus,
)
from bot.views import Checklist
from quizzes.content import Course

logger = logging.getLogger(__name__)

MAX_LESSONS = 5
"""The most lessons one checklist asks about (one screen on a phone)."""
SETTLE = timedelta(days=7)
"""How long before a checklist a lesson must have been completed to be asked about."""
SLOT_PREFIX = "observe:"


def period_start(day: date, months: int) -> date:
    """The first day of the period of ``months`` calendar months that ``day`` falls in.

    Periods are counted from January of year 0, so with 3 they are the quarters and with
    12 the calendar years.
    """
    index = day.year * 12 + day.month - 1
    start = index - index % months
    return date(start // 12, start % 12 + 1, 1)


def slot_for(subject_id: int) -> str:
    """The delivery slot of a checklist about ``subject_id`` (unique per period)."""
    return f"{SLOT_PREFIX}{subject_id}"


@dataclass(frozen=True)
class Observed:
    """A person an observer is asked about, and in which role."""

    subject_id: int
    role: ObserverRole


def observed_by(session: Session, observer_ids: Iterable[int]) -> dict[int, list[Observed]]:
    """Whom each observer observes: their direct reports, then the roster's peers.

    Someone who is both a person's manager and named as their observer is asked once,
    as the manager. Removed people are never asked about.
    """
    ids = sorted(set(observer_ids))
    found: dict[int, dict[int, ObserverRole]] = {observer_id: {} for observer_id in ids}
    if not ids:
        return {}
    for manager_id, subject_id in session.execute(
        select(Person.manager_id, Person.id).where(
            Person.manager_id.in_(ids), Person.status != PersonStatus.REMOVED
        )
    ).all():
        if manager_id is not None and manager_id != subject_id:
            found[manager_id][subject_id] = ObserverRole.MANAGER
    for observer_id, subject_id in session.execute(
        select(Observer.observer_id, Observer.subject_id)
        .join(Person, Person.id == Observer.subject_id)
        .where(Observer.observer_id.in_(ids), Person.status != PersonStatus.REMOVED)
    ).all():
        if observer_id != subject_id:
            found[observer_id].setdefault(subject_id, ObserverRole.PEER)
    return {
        observer_id: [Observed(subject_id, role) for subject_id, role in sorted(subjects.items())]
        for observer_id, subjects in found.items()
        if subjects
    }


def observer_ids(session: Session) -> list[int]:
    """Everyone who observes someone (a manager of someone, or a roster-named peer)."""
    managers = select(Person.manager_id).where(
        Person.manager_id.is_not(None), Person.status != PersonStatus.REMOVED
    )
    peers = select(Observer.observer_id)
    return sorted(
        {int(value) for value in session.scalars(managers.union(peers)).all() if value is not None}
    )


def observer_role(session: Session, observer: Person, subject: Person) -> ObserverRole | None:
    """The observer's role for ``subject`` as the roster says now; ``None``: none any more."""
    if subject.status is PersonStatus.REMOVED:
        return None
    if subject.manager_id == observer.id:
        return ObserverRole.MANAGER
    named = session.get(Observer, (subject.id, observer.id))
    return ObserverRole.PEER if named is not None else None


@dataclass(frozen=True)
class ChecklistClaim:
    """What a claimed checklist asks about: the person and their lessons, in order."""

    observer_id: int
    subject_id: int
    lessons: list[str]
    tracks: list[str | None]

    def selection(self) -> dict[str, object]:
        """What the delivery keeps: the rows' lessons, fixed when claimed, so the index
        in a button's payload names the same lesson on every send and edit."""
        return {"subject": self.subject_id, "lessons": self.lessons, "tracks": self.tracks}


def lessons_to_ask(
    session: Session,
    course: Course,
    pairs: list[tuple[int, int, datetime]],
    now: datetime,
) -> list[ChecklistClaim]:
    """The checklists due for these (observer, subject, period start) pairs; a pair with
    no lesson to ask about gets none.

    Args:
        session: an open session.
        course: the course (lessons no longer in it are left out).
        pairs: observer id, subject id, and the moment the observer's period began.
        now: the moment.
    """
    subjects = sorted({subject_id for _, subject_id, _ in pairs})
    if not subjects:
        return []
    completions: dict[int, list[tuple[str, str | None, datetime]]] = {}
    last = func.max(Delivery.completed_at)
    for subject_id, lesson_id, track_id, completed_at in session.execute(
        select(Delivery.person_id, Delivery.item_id, func.min(Delivery.track_id), last)
        .where(
            Delivery.person_id.in_(subjects),
            Delivery.kind == DeliveryKind.LESSON,
            Delivery.status == DeliveryStatus.COMPLETED,
            Delivery.item_id.is_not(None),
            Delivery.completed_at <= now - SETTLE,
        )
        .group_by(Delivery.person_id, Delivery.item_id)
        .order_by(Delivery.person_id, last.desc(), Delivery.item_id)
    ).all():
        if lesson_id and completed_at is not None:
            completions.setdefault(subject_id, []).append((lesson_id, track_id, completed_at))
    observers = sorted({observer_id for observer_id, _, _ in pairs})
    earliest = min(start for _, _, start in pairs)
    answered: dict[tuple[int, int], list[tuple[str, datetime]]] = {}
    for observer_id, subject_id, lesson_id, answered_at in session.execute(
        select(
            ApplicationReport.observer_id,
            ApplicationReport.subject_id,
            ApplicationReport.lesson_id,
            ApplicationReport.answered_at,
        ).where(
            ApplicationReport.observer_id.in_(observers),
            ApplicationReport.subject_id.in_(subjects),
            ApplicationReport.answered_at >= earliest,
        )
    ).all():
        if observer_id is not None:
            answered.setdefault((observer_id, subject_id), []).append((lesson_id, answered_at))
    in_course = {lesson_id for lesson_id, _ in course.lessons}
    claims: list[ChecklistClaim] = []
    for observer_id, subject_id, start in pairs:
        done = {lesson for lesson, at in answered.get((observer_id, subject_id), []) if at >= start}
        rows = [
            (lesson_id, track_id)
            for lesson_id, track_id, _ in completions.get(subject_id, [])
            if lesson_id in in_course and lesson_id not in done
        ][:MAX_LESSONS]
        if rows:
            claims.append(
                ChecklistClaim(
                    observer_id,
                    subject_id,
                    [lesson_id for lesson_id, _ in rows],
                    [track_id for _, track_id in rows],
                )
            )
    return claims


def period_began(day: date, months: int, zone: ZoneInfo) -> tuple[date, datetime]:
    """The period's first day and the moment it began in ``zone``."""
    first = period_start(day, months)
    return first, datetime.combine(first, time(0), tzinfo=zone)


def stored_lessons(delivery: Delivery) -> tuple[int, list[str], list[str | None]] | None:
    """The subject and the rows a checklist delivery stored; ``None`` when malformed."""
    selection = delivery.selection or {}
    subject = selection.get("subject")
    lessons = selection.get("lessons")
    tracks = selection.get("tracks") or []
    if not isinstance(subject, int) or not isinstance(lessons, list):
        return None
    padded = [*tracks, *([None] * (len(lessons) - len(tracks)))]
    return subject, [str(lesson) for lesson in lessons], padded[: len(lessons)]


def checklist(session: Session, course: Course, delivery: Delivery, language: str) -> Checklist:
    """The checklist as it stands: whom it is about, each row's title and answer so far.

    Raises:
        LookupError: the delivery stores no checklist, or the person is gone.
    """
    stored = stored_lessons(delivery)
    if stored is None:
        raise LookupError(f"delivery {delivery.id} stores no checklist")
    subject_id, lessons, _ = stored
    subject = session.get(Person, subject_id)
    if subject is None:
        raise LookupError(f"delivery {delivery.id}: the person observed is gone")
    answers = {
        lesson_id: Application(answer)
        for lesson_id, answer in session.execute(
            select(ApplicationReport.lesson_id, ApplicationReport.answer).where(
                ApplicationReport.delivery_id == delivery.id
            )
        ).all()
    }
    rows = []
    for lesson_id in lessons:
        lesson = course.lesson(lesson_id, language)
        rows.append((lesson.title if lesson is not None else lesson_id, answers.get(lesson_id)))
    name = subject.display_name or subject.platform_user_id
    return Checklist(delivery.id, name, rows)


class Tapped(StrEnum):
    """What a tap on a checklist row did."""

    RECORDED = "recorded"
    ALREADY = "already"
    NOT_YOURS = "not_yours"
    STALE = "stale"


@dataclass(frozen=True)
class ObservationOutcome:
    """The outcome of a tap; on a recorded one, the checklist as it now stands."""

    outcome: Tapped
    answer: Application | None = None
    lesson_id: str | None = None
    checklist: Checklist | None = None


def answer(
    session: Session,
    course: Course,
    person: Person | None,
    payload: ObservationAnswer,
    *,
    language: str,
    now: datetime,
    message_ref: str | None,
) -> ObservationOutcome:
    """Record one row's answer once, if the roster still lets the tapper observe."""
    delivery = session.get(Delivery, payload.delivery_id)
    if delivery is None or person is None or delivery.kind is not DeliveryKind.OBSERVATION:
        return ObservationOutcome(Tapped.STALE)
    if delivery.person_id != person.id:
        return ObservationOutcome(Tapped.NOT_YOURS)
    stored = stored_lessons(delivery)
    if stored is None or not 0 <= payload.index < len(stored[1]):
        return ObservationOutcome(Tapped.STALE)
    subject_id, lessons, tracks = stored
    subject = session.get(Person, subject_id)
    role = observer_role(session, person, subject) if subject is not None else None
    if subject is None or role is None:
        return ObservationOutcome(Tapped.STALE)  # the roster no longer names them
    lesson_id = lessons[payload.index]
    result = application.record(
        session,
        delivery=delivery,
        subject=subject,
        observer=person,
        source=role,
        lesson_id=lesson_id,
        track_id=tracks[payload.index],
        answer=Application(payload.answer),
        now=now,
        message_ref=message_ref,
    )
    if result.outcome is application.Recorded.ALREADY:
        return ObservationOutcome(Tapped.ALREADY, result.answer, lesson_id)
    answered = session.scalar(
        select(func.count())
        .select_from(ApplicationReport)
        .where(ApplicationReport.delivery_id == delivery.id)
    )
    values: dict[str, object] = {"status": DeliveryStatus.ANSWERED}
    if answered == len(lessons):
        values["completed_at"] = now
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return ObservationOutcome(
        Tapped.RECORDED, result.answer, lesson_id, checklist(session, course, delivery, language)
    )


def existing_checklists(
    session: Session, wanted: Iterable[tuple[int, date, str]]
) -> set[tuple[int, date, str]]:
    """Which of these (observer, period start, slot) checklists were claimed already."""
    wanted = list(wanted)
    if not wanted:
        return set()
    observers = sorted({observer for observer, _, _ in wanted})
    days = sorted({day for _, day, _ in wanted})
    return {
        (person_id, day, slot)
        for person_id, day, slot in session.execute(
            select(Delivery.person_id, Delivery.local_date, Delivery.slot).where(
                Delivery.kind == DeliveryKind.OBSERVATION,
                Delivery.person_id.in_(observers),
                Delivery.local_date.in_(days),
            )
        ).all()
    }


__all__ = [
    "MAX_LESSONS",
    "SETTLE",
    "ChecklistClaim",
    "ObservationOutcome",
    "Observed",
    "Tapped",
    "answer",
    "checklist",
    "existing_checklists",
    "lessons_to_ask",
    "observed_by",
    "observer_ids",
    "observer_role",
    "period_began",
    "period_start",
    "slot_for",
    "stored_lessons",
]
