"""Learning state in the store: claiming deliveries, recording answers, review state.

Every function takes an open session; callers own the transaction. Claims are the heart of
exactly-once delivery: a delivery row is unique per person, kind, local date and slot, and
is inserted with ``ON CONFLICT DO NOTHING`` so that two dispatchers (or a retry after a
crash) can never both own the same push.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.people import zone_of
from bot.practice import drill_lessons
from bot.store.models import (
    Attempt,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Person,
    ReviewState,
)
from quizzes import srs
from quizzes.content import Blackout, Calendar, Course
from quizzes.selection import LearnerState

ON_DEMAND_PREFIX = "on-demand:"
DAILY = "daily"


FALLBACK_TIMEZONE = "UTC"
"""The zone of a stored person whose own is unknown, when the caller names no other."""


def local_date(
    person: Person, now: datetime, *, fallback_timezone: str = FALLBACK_TIMEZONE
) -> date:
    """The person's calendar date at ``now``.

    Args:
        person: the stored person.
        now: the moment.
        fallback_timezone: the zone used when the stored one is unknown (pass the
            organisation's, ``settings.timezone``); such a row is logged, never fatal.
    """
    return now.astimezone(
        zone_of(person.timezone, fallback_timezone, owner=_owner(person.id))
    ).date()


def _owner(person_id: int) -> str:
    return f"person {person_id}"


def claim(
    session: Session,
    person: Person,
    *,
    kind: DeliveryKind,
    day: date,
    slot: str,
    item_id: str | None,
    now: datetime,
    language: str | None = None,
) -> Delivery | None:
    """Insert a delivery row unless one exists for (person, kind, day, slot).

    Returns:
        The new delivery, or ``None`` when someone already claimed it.
    """
    inserted = claim_many(
        session,
        [
            {
                "person_id": person.id,
                "kind": kind,
                "slot": slot,
                "local_date": day,
                "item_id": item_id,
                "language": language or person.language,
                "track_id": person.track_id,
                "team_id": person.team_id,
                "status": DeliveryStatus.CLAIMED,
                "send_attempts": 0,
                "claimed_at": now,
            }
        ],
    )
    return session.get(Delivery, inserted[0]) if inserted else None


def next_on_demand_slot(session: Session, person: Person, day: date) -> str:
    """A fresh slot for an item asked for with /quiz (several a day are fine)."""
    count = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(
            Delivery.person_id == person.id,
            Delivery.local_date == day,
            Delivery.slot.like(f"{ON_DEMAND_PREFIX}%"),
        )
    )
    return f"{ON_DEMAND_PREFIX}{(count or 0) + 1}"


def learner_state(session: Session, person: Person, now: datetime) -> LearnerState:
    """What selection needs to know about one person (see :func:`learner_states`)."""
    return learner_states(session, [person], now)[person.id]


def learner_states(
    session: Session,
    people: list[Person],
    now: datetime,
    *,
    fallback_timezone: str = FALLBACK_TIMEZONE,
) -> dict[int, LearnerState]:
    """:func:`learner_state` for many people with four queries in all (the dispatcher's case).

    ``fallback_timezone`` is the zone of people whose stored one is unknown (see
    :func:`local_date`).
    """
    ids = [person.id for person in people]
    days = {
        person.id: local_date(person, now, fallback_timezone=fallback_timezone) for person in people
    }
    lessons: dict[int, set[str]] = {person_id: set() for person_id in ids}
    due: dict[int, dict[str, datetime]] = {person_id: {} for person_id in ids}
    attempted: dict[int, set[str]] = {person_id: set() for person_id in ids}
    today: dict[int, set[str]] = {person_id: set() for person_id in ids}
    for person_id, item in session.execute(
        select(Delivery.person_id, Delivery.item_id).where(
            Delivery.person_id.in_(ids),
            Delivery.kind == DeliveryKind.LESSON,
            Delivery.item_id.is_not(None),
            Delivery.status.in_(
                [DeliveryStatus.SENT, DeliveryStatus.COMPLETED, DeliveryStatus.CLAIMED]
            ),
        )
    ).all():
        if item:
            lessons[person_id].add(item)
    for person_id, question_id, moment in session.execute(
        select(ReviewState.person_id, ReviewState.question_id, ReviewState.due).where(
            ReviewState.person_id.in_(ids)
        )
    ).all():
        due[person_id][question_id] = moment
    last_answered: dict[int, dict[str, datetime]] = {person_id: {} for person_id in ids}
    for person_id, question_id, latest in session.execute(
        select(Attempt.person_id, Attempt.question_id, func.max(Attempt.answered_at))
        .where(Attempt.person_id.in_(ids))
        .group_by(Attempt.person_id, Attempt.question_id)
    ).all():
        attempted[person_id].add(question_id)
        last_answered[person_id][question_id] = latest
    drill = drill_lessons(session, ids, now)
    for person_id, item, day in session.execute(
        select(Delivery.person_id, Delivery.item_id, Delivery.local_date).where(
            Delivery.person_id.in_(ids),
            Delivery.kind == DeliveryKind.QUIZ,
            Delivery.local_date.in_(set(days.values())),
            Delivery.item_id.is_not(None),
        )
    ).all():
        if item and day == days[person_id]:
            today[person_id].add(item)
    return {
        person.id: LearnerState(
            track_id=person.track_id or "",
            delivered_lessons=tuple(sorted(lessons[person.id])),
            due=due[person.id],
            attempted=frozenset(attempted[person.id]),
            today=frozenset(today[person.id]),
            drill=drill.get(person.id, {}),
            last_answered=last_answered[person.id],
        )
        for person in people
    }


def claim_many(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert many delivery claims at once; returns the ids actually inserted.

    Rows that someone else claimed first are skipped by ``ON CONFLICT DO NOTHING``.
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Delivery)
        .on_conflict_do_nothing(index_elements=["person_id", "kind", "local_date", "slot"])
        .returning(Delivery.id)
    )
    # Many rows as parameter sets (SQLAlchemy batches them into few statements from one
    # compiled template): compiling one VALUES clause with thousands of parameters cost
    # more than the insert, and its garbage held the event loop during dispatch passes.
    if len(rows) == 1:
        return list(session.execute(statement.values(rows)).scalars().all())
    return list(session.scalars(statement, rows).all())


@dataclass(frozen=True)
class Recorded:
    """The outcome of recording an answer."""

    attempt: Attempt
    correct: bool
    first_try: bool


def record_answer(
    session: Session,
    delivery: Delivery,
    *,
    chosen: list[str],
    correct: bool,
    now: datetime,
    retention: float | None = None,
) -> Recorded:
    """Store the attempt, update the spaced-repetition card, close the delivery.

    The caller has checked that the delivery is open; the unique attempt per delivery in
    the store is the last line of defence against a double click racing itself.
    ``retention`` is FSRS's target retention from a spacing experiment (``None``: the
    default).
    """
    assert delivery.item_id is not None
    earlier = session.scalar(
        select(func.count())
        .select_from(Attempt)
        .where(Attempt.person_id == delivery.person_id, Attempt.question_id == delivery.item_id)
    )
    latency = None
    if delivery.sent_at is not None:
        latency = max(0, int((now - delivery.sent_at).total_seconds() * 1000))
    attempt = Attempt(
        person_id=delivery.person_id,
        question_id=delivery.item_id,
        delivery_id=delivery.id,
        chosen={"keys": chosen},
        correct=correct,
        first_try=not earlier,
        answered_at=now,
        latency_ms=latency,
        track_id=delivery.track_id,
        team_id=delivery.team_id,
    )
    session.add(attempt)
    state = session.get(ReviewState, (delivery.person_id, delivery.item_id))
    card = state.card if state is not None else srs.new_card(now)
    review = srs.review(card, correct=correct, latency_ms=latency, now=now, retention=retention)
    if state is None:
        state = ReviewState(
            person_id=delivery.person_id,
            question_id=delivery.item_id,
            card=review.card,
            due=review.due,
            last_review=now,
            reviews=1,
            lapses=int(review.lapsed),
        )
        session.add(state)
    else:
        state.card = review.card
        state.due = review.due
        state.last_review = now
        state.reviews += 1
        state.lapses += int(review.lapsed)
    delivery.status = DeliveryStatus.ANSWERED
    delivery.completed_at = now
    session.flush()
    return Recorded(attempt, correct, attempt.first_try)


@dataclass(frozen=True)
class Progress:
    """A person's own numbers for /progress."""

    streak_days: int
    attempts: int
    correct: int
    due_now: int
    lessons_delivered: int
    lessons_total: int

    @property
    def accuracy(self) -> float:
        """Share of correct answers (0 when nothing answered yet)."""
        return self.correct / self.attempts if self.attempts else 0.0


@dataclass(frozen=True)
class PushDays:
    """The local days on which a person's track is pushed quizzes: the working days that
    are quiz days of the track (``cadence.quiz_days`` in tracks.yaml), minus blackouts.

    Streaks are counted over these days only, so a Monday-Friday learner keeps their
    streak over the weekend and over a blackout, and a manager whose track quizzes
    Tuesday to Thursday keeps theirs over Monday and Friday (nothing was sent to answer).

    Args:
        working_days: ``settings.working_days`` (``mon`` … ``sun``).
        calendar: the course's blackout windows.
        quiz_days: each track's quiz days; a track not in it is quizzed every working day.
    """

    working_days: frozenset[str]
    calendar: Calendar | None = None
    quiz_days: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, working_days: Iterable[str], course: Course) -> PushDays:
        """The push days of ``course``'s tracks under these working days."""
        return cls(
            frozenset(working_days),
            course.calendar,
            {
                track_id: frozenset(str(day) for day in track.cadence.quiz_days)
                for track_id, track in course.tracks.items()
            },
        )

    def includes(self, day: date, track_id: str | None) -> bool:
        """Whether ``day`` is a quiz push day for ``track_id``."""
        if not self.works_on(day):
            return False
        quizzed = self.quiz_days.get(track_id or "")
        if quizzed is not None and _weekday(day) not in quizzed:
            return False
        return self.blackout(day, track_id) is None

    def works_on(self, day: date) -> bool:
        """Whether ``day`` is one of the working days."""
        return _weekday(day) in self.working_days

    def blackout(self, day: date, track_id: str | None) -> Blackout | None:
        """The blackout of ``track_id`` covering ``day``, if any."""
        return None if self.calendar is None else self.calendar.blackout_on(day, track_id)


def _weekday(day: date) -> str:
    return ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]


EVERY_DAY = PushDays(frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun"}))
"""Every calendar day is a push day (no working days, no blackouts)."""


def streak(
    session: Session,
    person: Person,
    now: datetime,
    *,
    push_days: PushDays = EVERY_DAY,
    fallback_timezone: str = FALLBACK_TIMEZONE,
) -> int:
    """Consecutive push days with at least one answer, ending today or the push day before.

    Days are the person's own; ``fallback_timezone`` is used when their stored zone is
    unknown (see :func:`local_date`). Days that are not ``push_days`` (weekends, blackouts)
    neither count nor break the streak; today counts once answered, and until then the
    streak ends on the push day before.
    """
    return streaks(
        session, [person], now, push_days=push_days, fallback_timezone=fallback_timezone
    )[person.id]


STREAK_WINDOW = timedelta(days=400)
"""How far back a streak is counted (a longer one shows as this many push days at most)."""
_PASSES = (timedelta(days=8), timedelta(days=35), STREAK_WINDOW)


def streaks(
    session: Session,
    people: Sequence[Person],
    now: datetime,
    *,
    push_days: PushDays = EVERY_DAY,
    fallback_timezone: str = FALLBACK_TIMEZONE,
) -> dict[int, int]:
    """:func:`streak` for many people at once (see :func:`streaks_of`)."""
    return streaks_of(
        session,
        [person.id for person in people],
        now,
        push_days=push_days,
        fallback_timezone=fallback_timezone,
    )


def streaks_of(
    session: Session,
    person_ids: Sequence[int],
    now: datetime,
    *,
    push_days: PushDays = EVERY_DAY,
    fallback_timezone: str = FALLBACK_TIMEZONE,
) -> dict[int, int]:
    """:func:`streak` for the people with these ids, one query per 500 people and pass.

    Most streaks are short, so the last 8 days are read first; only people whose streak
    ran up to the start of that read are read again over 35 days, and then over the whole
    :data:`STREAK_WINDOW` (docs/benchmarks.md has what the passes save). Each person's
    local days come from their time zone, read with their answers; a zone that is unknown
    (a row stored before zones were checked) counts in ``fallback_timezone``, logged once.
    """
    counted: dict[int, int] = {}
    pending = list(person_ids)
    read = _Read()
    newest = now
    for window in _PASSES:
        # Each pass reads only the days before what the passes before it read.
        read.add(session, pending, now - window, newest, fallback_timezone)
        newest = now - window
        result = read.streaks(pending, now, window, push_days)
        counted.update({person_id: count for person_id, (count, _) in result.items()})
        # A streak that reached the window's first day may have been cut off by it.
        pending = [person_id for person_id in pending if result[person_id][1]]
        if not pending:
            break
    return counted


_BUCKET_SECONDS = 900
"""Answers are read as distinct quarter hours: every zone in use is offset from UTC by a
multiple of 15 minutes, so a quarter hour never straddles a local midnight and each falls
on one local day, whatever the zone."""


def _periods(session: Session, offset: int, length: int) -> Any:
    """``attempts.answered_at`` shifted by ``offset`` seconds, as a whole number of
    ``length``-second periods since the epoch (a quarter hour, or a local day)."""
    if session.get_bind().dialect.name == "postgresql":
        epoch: Any = func.extract("epoch", Attempt.answered_at)
        return func.floor((epoch + offset) / length).cast(BigInteger)
    # SQLite stores naive UTC text, which strftime reads as UTC. ``//`` keeps it an
    # integer division (``/`` is true division in SQLAlchemy 2, a float per row).
    return (func.strftime("%s", Attempt.answered_at).cast(Integer) + offset) // length


_DAY_SECONDS = 86400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _steady_offset(zone: ZoneInfo, oldest: datetime, newest: datetime) -> int | None:
    """``zone``'s UTC offset in seconds if it is the same all through the window, else
    ``None`` (daylight saving time). Checked at every day: no zone changes its clocks and
    back within one."""
    offsets = set()
    moment = oldest
    while moment <= newest + timedelta(days=1):
        utc_offset = moment.astimezone(zone).utcoffset()
        offsets.add(int(utc_offset.total_seconds()) if utc_offset is not None else 0)
        moment += timedelta(days=1)
    return offsets.pop() if len(offsets) == 1 else None


class _Read:
    """The local days with an answer read so far, per person, and their zone and track."""

    def __init__(self) -> None:
        self.days: dict[int, set[int]] = {}  # local days as date ordinals
        self.zones: dict[int, ZoneInfo] = {}
        self.tracks: dict[int, str | None] = {}
        self.pushed: dict[tuple[date, str | None], bool] = {}  # a handful of days and tracks
        self.stopped: dict[int, tuple[int, date]] = {}  # count so far, next day to look at

    def add(
        self,
        session: Session,
        ids: Sequence[int],
        oldest: datetime,
        newest: datetime,
        fallback_timezone: str,
    ) -> None:
        """Read the answers of ``ids`` in ``[oldest, newest]`` (``newest`` excluded after
        the first read: the read before included it).

        The store returns each person's distinct local days with an answer (or, in a
        zone that changes its clocks in the window, distinct quarter hours), not the
        answers, and no timestamp is parsed.
        """
        first_read = not self.days
        offsets: dict[ZoneInfo, int | None] = {}
        connection = session.connection()  # Core rows: the ORM costs ~1 s a million rows
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            unknown = [person_id for person_id in chunk if person_id not in self.zones]
            for person_id, timezone, track_id in (
                session.execute(
                    select(Person.id, Person.timezone, Person.track_id).where(
                        Person.id.in_(unknown)
                    )
                )
                if unknown
                else ()
            ):
                self.zones[person_id] = zone_of(
                    timezone, fallback_timezone, owner=_owner(person_id)
                )
                self.tracks[person_id] = track_id
            # People whose zone keeps one offset all through the window get their local
            # days from the store; the others their quarter hours, turned into days here.
            groups: dict[int | None, list[int]] = {}
            for person_id in chunk:
                self.days.setdefault(person_id, set())
                zone = self.zones[person_id]
                if zone not in offsets:
                    offsets[zone] = _steady_offset(zone, oldest, newest)
                groups.setdefault(offsets[zone], []).append(person_id)
            upper = Attempt.answered_at <= newest if first_read else Attempt.answered_at < newest
            for offset, members in groups.items():
                length = _BUCKET_SECONDS if offset is None else _DAY_SECONDS
                period = _periods(session, offset or 0, length).label("period")
                rows = connection.execute(
                    select(Attempt.person_id, period)
                    .where(
                        Attempt.person_id.in_(members),
                        Attempt.answered_at >= oldest,
                        upper,
                    )
                    .group_by(Attempt.person_id, period)
                ).all()
                if offset is not None:
                    for person_id, day in rows:
                        self.days[person_id].add(int(day) + _EPOCH_ORDINAL)
                    continue
                for person_id, quarter in rows:  # the zone changes its clocks in the window
                    moment = datetime.fromtimestamp(
                        int(quarter) * _BUCKET_SECONDS, self.zones[person_id]
                    )
                    self.days[person_id].add(moment.date().toordinal())

    def streaks(
        self, ids: Sequence[int], now: datetime, window: timedelta, push_days: PushDays
    ) -> dict[int, tuple[int, bool]]:
        """Per person: (streak, whether it reached the first day of the window).

        A count cut off by an earlier, shorter window goes on from the day it stopped at.
        """
        result: dict[int, tuple[int, bool]] = {}
        for person_id in ids:
            answered = self.days[person_id]
            if not answered:  # no answer in the window: no streak, whatever the zone
                result[person_id] = (0, False)
                continue
            zone = self.zones[person_id]
            track_id = self.tracks.get(person_id)
            if person_id in self.stopped:
                count, day = self.stopped.pop(person_id)
            else:
                count, day = 0, now.astimezone(zone).date()
                if day.toordinal() not in answered:
                    day -= timedelta(days=1)  # today's answer may still come
            # The window's first local day is only partly read: reaching it means the
            # streak may go on before it.
            first = (now - window).astimezone(zone).date()
            cut = False
            while True:
                if day <= first:
                    cut = True
                    self.stopped[person_id] = (count, day)
                    break
                if self._pushed(push_days, day, track_id):
                    if day.toordinal() not in answered:
                        break
                    count += 1
                day -= timedelta(days=1)
            result[person_id] = (count, cut)
        return result

    def _pushed(self, push_days: PushDays, day: date, track_id: str | None) -> bool:
        key = (day, track_id)
        included = self.pushed.get(key)
        if included is None:
            included = self.pushed[key] = push_days.includes(day, track_id)
        return included


def answer_counts(session: Session, person: Person) -> tuple[int, int]:
    """(attempts, correct) of a person, counted in the store."""
    row = session.execute(
        select(func.count(Attempt.id), func.sum(case((Attempt.correct, 1), else_=0))).where(
            Attempt.person_id == person.id
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)
