"""Problem -> improvement: practice rules that give drill on weak lessons (tracks.yaml).

The training norm asks that a score under a threshold trigger more practice in the next
cycle. A track's ``practice`` rules (:class:`quizzes.content.PracticeRule`) are checked
once a day (:func:`run_rules`, the scheduler's job, safe on any number of processes):

- a lesson **fires** a rule when its first-try accuracy over the rule's window (the
  track's learners' first answers to its questions) is below the mark, on enough answers;
- it fires once a cycle: the firing is unique per rule, lesson and cycle start;
- its **targets** are the people whose own first tries on the lesson were below the mark;
- for ``cycle_days`` the selector gives each target the lesson's questions they have not
  answered since the firing before anything else in their daily quizzes
  (:func:`quizzes.selection.next_quiz`): the daily budget is the same, the order is not.

The evidence is kept with the firing, so the trainers' notice and the report can show
why it fired, and, afterwards, how the targets did on the lesson since (:func:`effects`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.store.models import Attempt, PracticeFiring, PracticeTarget
from quizzes.content import Course

logger = logging.getLogger(__name__)

CYCLE_EPOCH = date(2026, 1, 5)
"""Cycles are counted from this Monday, so every process computes the same cycle start."""


def cycle_start(day: date, cycle_days: int) -> date:
    """The first day of the cycle ``day`` falls in."""
    return day - timedelta(days=(day - CYCLE_EPOCH).days % cycle_days)


@dataclass(frozen=True)
class Fired:
    """A rule that fired on a lesson in this run."""

    firing_id: int
    rule_id: str
    track_id: str
    lesson_id: str
    accuracy: float
    answers: int
    mark: float
    people: int


def run_rules(session: Session, course: Course, *, now: datetime, zone: ZoneInfo) -> list[Fired]:
    """Check every practice rule of every track and fire those whose lesson is weak.

    Returns:
        The rules fired by this run (a rule already fired this cycle is not repeated).
    """
    today = now.astimezone(zone).date()
    fired: list[Fired] = []
    for track in course.tracks.values():
        for rule in track.practice:
            since = now - timedelta(days=rule.window_days)
            cycle = cycle_start(today, rule.cycle_days)
            for lesson_id in course.lesson_ids(track.id):
                questions = course.question_ids(lesson_id)
                if not questions:
                    continue
                per_person = session.execute(
                    select(
                        Attempt.person_id,
                        func.count(),
                        func.sum(case((Attempt.correct.is_(True), 1), else_=0)),
                    )
                    .where(
                        Attempt.first_try.is_(True),
                        Attempt.question_id.in_(questions),
                        Attempt.track_id == track.id,
                        Attempt.answered_at >= since,
                        Attempt.answered_at < now,
                    )
                    .group_by(Attempt.person_id)
                ).all()
                answers = sum(int(count) for _, count, _ in per_person)
                correct = sum(int(right or 0) for _, _, right in per_person)
                if answers < rule.min_answers or correct >= rule.below * answers:
                    continue
                targets = [
                    (int(person_id), int(right or 0), int(count))
                    for person_id, count, right in per_person
                    if int(right or 0) < rule.below * int(count)
                ]
                firing_id = _claim(
                    session,
                    {
                        "rule_id": rule.id,
                        "track_id": track.id,
                        "lesson_id": lesson_id,
                        "cycle_start": cycle,
                        "fired_at": now,
                        "until": now + timedelta(days=rule.cycle_days),
                        "mark": rule.below,
                        "accuracy": correct / answers,
                        "answers": answers,
                        "people": len(targets),
                    },
                )
                if firing_id is None:
                    continue  # fired already this cycle (by this process or another)
                session.add_all(
                    PracticeTarget(
                        firing_id=firing_id,
                        person_id=person_id,
                        correct_before=right,
                        answers_before=count,
                    )
                    for person_id, right, count in targets
                )
                logger.info(
                    "practice rule %s fired on %s (%s): first-try accuracy %.0f%% on %d "
                    "answers, below %.0f%%; drill for %d people",
                    rule.id,
                    lesson_id,
                    track.id,
                    100 * correct / answers,
                    answers,
                    100 * rule.below,
                    len(targets),
                )
                fired.append(
                    Fired(
                        firing_id,
                        rule.id,
                        track.id,
                        lesson_id,
                        correct / answers,
                        answers,
                        rule.below,
                        len(targets),
                    )
                )
    return fired


def _claim(session: Session, row: dict[str, object]) -> int | None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(PracticeFiring)
        .values(row)
        .on_conflict_do_nothing(index_elements=["rule_id", "track_id", "lesson_id", "cycle_start"])
        .returning(PracticeFiring.id)
    )
    inserted = session.execute(statement).scalar()
    return None if inserted is None else int(inserted)


def drill_lessons(
    session: Session, person_ids: list[int], now: datetime
) -> dict[int, dict[str, datetime]]:
    """Per person, the lessons they have drill on now, with when each rule fired."""
    found: dict[int, dict[str, datetime]] = {}
    if not person_ids:
        return found
    for person_id, lesson_id, fired_at in session.execute(
        select(PracticeTarget.person_id, PracticeFiring.lesson_id, PracticeFiring.fired_at)
        .join(PracticeFiring, PracticeFiring.id == PracticeTarget.firing_id)
        .where(
            PracticeTarget.person_id.in_(person_ids),
            PracticeFiring.until > now,
            PracticeFiring.fired_at <= now,
        )
    ).all():
        lessons = found.setdefault(person_id, {})
        if lesson_id not in lessons or fired_at > lessons[lesson_id]:
            lessons[lesson_id] = fired_at
    return found


@dataclass(frozen=True)
class Effect:
    """A firing with its evidence and how its targets did on the lesson since."""

    firing: PracticeFiring
    correct_before: int
    answers_before: int
    correct_after: int
    answers_after: int

    @property
    def before(self) -> float | None:
        """The targets' first-try accuracy on the lesson in the window before the firing."""
        return self.correct_before / self.answers_before if self.answers_before else None

    @property
    def after(self) -> float | None:
        """The targets' accuracy on every answer to the lesson's questions since the firing."""
        return self.correct_after / self.answers_after if self.answers_after else None


def effects(session: Session, course: Course, *, since: datetime, now: datetime) -> list[Effect]:
    """The firings from ``since`` on, newest first, each with its targets' before and after."""
    firings = session.scalars(
        select(PracticeFiring)
        .where(PracticeFiring.fired_at >= since, PracticeFiring.fired_at < now)
        .order_by(PracticeFiring.fired_at.desc(), PracticeFiring.id.desc())
    ).all()
    found: list[Effect] = []
    for firing in firings:
        targets = session.execute(
            select(
                PracticeTarget.person_id,
                PracticeTarget.correct_before,
                PracticeTarget.answers_before,
            ).where(PracticeTarget.firing_id == firing.id)
        ).all()
        people = [person_id for person_id, _, _ in targets]
        correct_after = answers_after = 0
        if people:
            count, right = session.execute(
                select(func.count(), func.sum(case((Attempt.correct.is_(True), 1), else_=0))).where(
                    Attempt.person_id.in_(people),
                    Attempt.question_id.in_(course.question_ids(firing.lesson_id)),
                    Attempt.answered_at >= firing.fired_at,
                    Attempt.answered_at < now,
                )
            ).one()
            answers_after, correct_after = int(count or 0), int(right or 0)
        found.append(
            Effect(
                firing,
                sum(int(right) for _, right, _ in targets),
                sum(int(count) for _, _, count in targets),
                correct_after,
                answers_after,
            )
        )
    return found


__all__ = [
    "CYCLE_EPOCH",
    "Effect",
    "Fired",
    "cycle_start",
    "drill_lessons",
    "effects",
    "run_rules",
]
