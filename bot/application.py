"""Level 2 of the evaluation norm: whether trained people apply what they learned at work.

Two kinds of evidence, both stored in ``application_reports`` (one row per answer):

- the learner's own **check-in**, a push N days after they completed a lesson (the track's
  ``checkin`` rule): applied it several times / once / not yet / not relevant;
- an **observation** by their manager or a peer observer, in a checklist pushed once a
  period (monthly by default) per person observed: seen applying it / not seen / can't
  tell.

An answer is recorded once per push and lesson (a double tap, two processes racing: the
first one counts, in one ``INSERT … ON CONFLICT DO NOTHING``). A free-text reply to the
answered message is the answer's example.

The **application rate** (docs/evaluation.md) is read per lesson, track and team from
people × lessons: a *trained* pair is a person who completed a lesson before the moment;
it is *reported* when some answer about it is evidence either way (not "not relevant" or
"can't tell"), and *applying* when some answer says they applied it (any source: the
learner's "once" counts, and so does a manager's "seen" after the learner's "not yet").
The rate is applying ÷ reported, shown with how many of the trained pairs were reported,
since a pair nobody answered about is no evidence of not applying.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.membership import team_at
from bot.store.models import (
    APPLIED,
    Application,
    ApplicationReport,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    ObserverRole,
    Person,
    PersonStatus,
)

logger = logging.getLogger(__name__)

EXAMPLE_CHARS = 2000
"""The longest example kept (longer replies are cut, not refused)."""


class Recorded(StrEnum):
    """What a tap on an application answer did."""

    RECORDED = "recorded"
    ALREADY = "already"


@dataclass(frozen=True)
class RecordOutcome:
    """The outcome of a tap, and the answer stored (the first tap's, on a double tap)."""

    outcome: Recorded
    answer: Application


def record(
    session: Session,
    *,
    delivery: Delivery,
    subject: Person,
    observer: Person | None,
    source: ObserverRole,
    lesson_id: str,
    track_id: str | None,
    answer: Application,
    now: datetime,
    message_ref: str | None,
) -> RecordOutcome:
    """Store one answer about ``subject`` applying ``lesson_id``, once per push and lesson.

    Args:
        session: the open session.
        delivery: the push that asked (the check-in, or the observation checklist).
        subject: the trained person the answer is about.
        observer: who answered, ``None`` for the learner's own check-in.
        source: the answerer's role.
        lesson_id: the lesson answered about.
        track_id: the track the subject completed the lesson in.
        answer: the answer tapped.
        now: the moment.
        message_ref: the platform reference of the answered message, so a reply to it can
            be read as the example.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(ApplicationReport)
        .values(
            subject_id=subject.id,
            observer_id=observer.id if observer is not None else None,
            source=source,
            delivery_id=delivery.id,
            lesson_id=lesson_id,
            track_id=track_id,
            team_id=subject.team_id,
            answer=answer,
            applied=APPLIED[answer],
            answered_at=now,
            message_ref=message_ref,
        )
        .on_conflict_do_nothing(index_elements=["delivery_id", "lesson_id"])
    )
    inserted = session.execute(statement.returning(ApplicationReport.id)).scalar()
    if inserted is not None:
        return RecordOutcome(Recorded.RECORDED, answer)
    stored = session.scalar(
        select(ApplicationReport.answer).where(
            ApplicationReport.delivery_id == delivery.id,
            ApplicationReport.lesson_id == lesson_id,
        )
    )
    return RecordOutcome(Recorded.ALREADY, Application(stored) if stored else answer)


def add_example(
    session: Session, person: Person, *, reply_to: str, text: str, now: datetime
) -> ApplicationReport | None:
    """Store ``text`` as the example of the person's answer whose message is ``reply_to``.

    The person is the one who answered: the learner of a check-in, or the observer of an
    observation. On a checklist (several lessons, one message) the example goes to the
    answer given last.

    Returns:
        The answer given an example, or ``None`` when ``reply_to`` is no answered message
        of theirs (then the text is an ordinary message).
    """
    theirs = or_(
        ApplicationReport.observer_id == person.id,
        and_(ApplicationReport.observer_id.is_(None), ApplicationReport.subject_id == person.id),
    )
    report = session.scalars(
        select(ApplicationReport)
        .where(ApplicationReport.message_ref == reply_to, theirs)
        .order_by(ApplicationReport.answered_at.desc(), ApplicationReport.id.desc())
        .limit(1)
    ).first()
    if report is None:
        return None
    report.example = text.strip()[:EXAMPLE_CHARS]
    report.example_at = now
    return report


@dataclass(frozen=True)
class ApplicationCount:
    """People × lessons: how many were trained, reported on, and reported applying."""

    trained: int = 0
    reported: int = 0
    applying: int = 0

    @property
    def rate(self) -> float | None:
        """Applying ÷ reported, ``None`` when nobody reported."""
        return self.applying / self.reported if self.reported else None

    @property
    def response(self) -> float | None:
        """Reported ÷ trained: how much of the training the rate speaks for."""
        return self.reported / self.trained if self.trained else None

    def __add__(self, other: ApplicationCount) -> ApplicationCount:
        return ApplicationCount(
            self.trained + other.trained,
            self.reported + other.reported,
            self.applying + other.applying,
        )


ApplicationCells = dict[tuple[int | None, str | None, str], ApplicationCount]
"""(team id at the moment, track id, lesson id) -> people × lessons counted."""


def application_cells(
    session: Session,
    *,
    until: datetime,
    team_ids: Collection[int] | None = None,
    person_ids: Collection[int] = (),
    admitted: ColumnElement[bool] | None = None,
) -> ApplicationCells:
    """The application counts as they stood at ``until``, by team, track and lesson, in SQL.

    A trained pair is a lesson delivery completed before ``until`` (a lesson completed
    twice counts once; completed under two tracks, it counts under the first track id in
    alphabetical order, a rare case kept simple and stable); answers count when given
    before ``until``. A person counts under the team they were in at ``until``
    (:func:`bot.membership.team_at`), as the weekly report does.

    Args:
        session: an open session.
        until: the moment the counts stand at (the end of the report's week).
        team_ids: the teams in scope; ``None`` for the whole organisation.
        person_ids: people in scope besides those teams' members (direct reports).
        admitted: who may be counted (``bot.admission.admitted_people``); ``None``
            counts everyone not removed.
    """
    (cells,) = application_cells_at(
        session, [until], team_ids=team_ids, person_ids=person_ids, admitted=admitted
    )
    return cells


def application_cells_at(
    session: Session,
    moments: Sequence[datetime],
    *,
    team_ids: Collection[int] | None = None,
    person_ids: Collection[int] = (),
    admitted: ColumnElement[bool] | None = None,
) -> list[ApplicationCells]:
    """:func:`application_cells` at each of ``moments``, in two grouped reads.

    The weekly report needs the counts at the end of the week and of the week before.
    Each moment keeps its own rule: pairs trained, answers given, team and scope as they
    stood then.

    - **Trained** pairs are counted straight from the completed lessons, grouped by each
      moment's team, the track and the lesson, counting distinct people: no row per person
      and lesson is built (that grouping cost more than the rest of the weekly report on
      the benchmark's 190,000 completed lessons).
    - **Reported** and **applying** pairs start from the answers, which are few beside the
      completed lessons: one row per person and lesson answered about, joined to that
      person's completions of the lesson.

    A lesson completed under two tracks counts under each (a rare case, kept simple).
    """
    if not moments:
        return []
    latest = max(moments)
    completed = Delivery.completed_at
    lesson_done = and_(
        Delivery.kind == DeliveryKind.LESSON,
        Delivery.status == DeliveryStatus.COMPLETED,
        completed < latest,
        Delivery.item_id.is_not(None),
    )
    # Each person's team at each moment, looked up once per person (MATERIALIZED keeps
    # the planner from inlining it into every completed lesson).
    teams = (
        select(
            Person.id.label("person_id"),
            *(
                team_at(Person.id, moment, Person.team_id).label(f"team_{index}")
                for index, moment in enumerate(moments)
            ),
        )
        .where(admitted if admitted is not None else Person.status != PersonStatus.REMOVED)
        .cte("teams_then")
        .prefix_with("MATERIALIZED")
    )

    def in_scope(index: int) -> ColumnElement[bool]:
        if team_ids is None:
            return true()
        return or_(
            teams.c[f"team_{index}"].in_(sorted(team_ids)),
            teams.c.person_id.in_(sorted(person_ids)),
        )

    def person_if(condition: ColumnElement[bool]) -> Any:
        return func.count(func.distinct(case((condition, Delivery.person_id))))

    team_keys = [teams.c[f"team_{index}"] for index in range(len(moments))]
    trained: Any
    if session.get_bind().dialect.name == "postgresql":
        # The same count in two steps: PostgreSQL sorts every group for a COUNT(DISTINCT)
        # (1.4 s for the weekly report on the benchmark's store), but hashes each
        # person's first completion of a lesson and then a plain sum.
        firsts = (
            select(
                Delivery.person_id,
                Delivery.item_id,
                Delivery.track_id,
                func.min(completed).label("first"),
            )
            .where(lesson_done)
            .group_by(Delivery.person_id, Delivery.item_id, Delivery.track_id)
            .subquery("firsts")
        )
        trained = (
            select(
                firsts.c.item_id,
                firsts.c.track_id,
                *team_keys,
                *(
                    func.sum(case((and_(firsts.c.first < moment, in_scope(index)), 1), else_=0))
                    for index, moment in enumerate(moments)
                ),
            )
            .join(teams, teams.c.person_id == firsts.c.person_id)
            .group_by(firsts.c.item_id, firsts.c.track_id, *team_keys)
        )
    else:
        # SQLite: one grouped read (a row per person and lesson first cost 0.3 s more).
        trained = (
            select(
                Delivery.item_id,
                Delivery.track_id,
                *team_keys,
                *(
                    person_if(and_(completed < moment, in_scope(index)))
                    for index, moment in enumerate(moments)
                ),
            )
            .join(teams, teams.c.person_id == Delivery.person_id)
            .where(lesson_done)
            .group_by(Delivery.item_id, Delivery.track_id, *team_keys)
        )
    # The answers, one row per person and lesson answered about, with whether some answer
    # before each moment was evidence either way and of applying.
    answered_before = [ApplicationReport.answered_at < moment for moment in moments]
    evidence = (
        select(
            ApplicationReport.subject_id.label("person_id"),
            ApplicationReport.lesson_id.label("lesson_id"),
            *(
                func.max(
                    case((and_(before, ApplicationReport.applied.is_not(None)), 1), else_=0)
                ).label(f"reported_{index}")
                for index, before in enumerate(answered_before)
            ),
            *(
                func.max(
                    case((and_(before, ApplicationReport.applied.is_(True)), 1), else_=0)
                ).label(f"applying_{index}")
                for index, before in enumerate(answered_before)
            ),
        )
        .where(ApplicationReport.answered_at < latest)
        .group_by(ApplicationReport.subject_id, ApplicationReport.lesson_id)
        .subquery("evidence")
    )
    reported = (
        select(
            Delivery.item_id,
            Delivery.track_id,
            *team_keys,
            *(
                person_if(
                    and_(
                        completed < moment,
                        in_scope(index),
                        evidence.c[f"{name}_{index}"] == 1,
                    )
                )
                for index, moment in enumerate(moments)
                for name in ("reported", "applying")
            ),
        )
        .join(
            evidence,
            and_(
                evidence.c.person_id == Delivery.person_id,
                evidence.c.lesson_id == Delivery.item_id,
            ),
        )
        .join(teams, teams.c.person_id == Delivery.person_id)
        .where(lesson_done)
        .group_by(Delivery.item_id, Delivery.track_id, *team_keys)
    )
    count = len(moments)
    pairs: list[dict[tuple[int | None, str | None, str], list[int]]] = [{} for _ in moments]
    for row in session.execute(trained).all():
        lesson_id, track_id = row[0], row[1]
        for index in range(count):
            number = int(row[2 + count + index] or 0)
            if number:
                key = (row[2 + index], track_id, lesson_id)
                cell = pairs[index].setdefault(key, [0, 0, 0])
                cell[0] += number
    for row in session.execute(reported).all():
        lesson_id, track_id = row[0], row[1]
        for index in range(count):
            said, applying = (int(value or 0) for value in row[2 + count + 2 * index :][:2])
            if said or applying:
                key = (row[2 + index], track_id, lesson_id)
                cell = pairs[index].setdefault(key, [0, 0, 0])
                cell[1] += said
                cell[2] += applying
    return [
        {key: ApplicationCount(*cell) for key, cell in found.items() if cell[0]} for found in pairs
    ]


def totals(cells: ApplicationCells, keep: object = None) -> ApplicationCount:
    """The sum of the cells ``keep`` (a predicate on the cell key) keeps; all without one."""
    total = ApplicationCount()
    for key, count in cells.items():
        if keep is None or (callable(keep) and keep(key)):
            total += count
    return total


def by_lesson(cells: ApplicationCells) -> dict[str, ApplicationCount]:
    """The counts per lesson id."""
    found: dict[str, ApplicationCount] = {}
    for (_team, _track, lesson_id), count in cells.items():
        found[lesson_id] = found.get(lesson_id, ApplicationCount()) + count
    return found


def by_track(cells: ApplicationCells) -> dict[str | None, ApplicationCount]:
    """The counts per track id."""
    found: dict[str | None, ApplicationCount] = {}
    for (_team, track_id, _lesson), count in cells.items():
        found[track_id] = found.get(track_id, ApplicationCount()) + count
    return found


def by_team(cells: ApplicationCells) -> dict[int | None, ApplicationCount]:
    """The counts per team id (``None``: people in no team)."""
    found: dict[int | None, ApplicationCount] = {}
    for (team_id, _track, _lesson), count in cells.items():
        found[team_id] = found.get(team_id, ApplicationCount()) + count
    return found


__all__ = [
    "EXAMPLE_CHARS",
    "ApplicationCells",
    "ApplicationCount",
    "RecordOutcome",
    "Recorded",
    "add_example",
    "application_cells",
    "application_cells_at",
    "by_lesson",
    "by_team",
    "by_track",
    "record",
    "totals",
]
