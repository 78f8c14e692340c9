"""Choosing what a person gets next: due reviews, then new questions, then the next lesson.

Everything here is a pure function of the course, a snapshot of the learner and the
current moment, so the dispatcher, ``/quiz`` and the simulator agree on the same pick.
Ids the course no longer has (content changed since the learner saw them) are skipped
rather than treated as errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from quizzes.content import Course
from quizzes.srs import as_utc


@dataclass(frozen=True)
class LearnerState:
    """What selection needs to know about one person on one track.

    Attributes:
        track_id: the track the person follows.
        delivered_lessons: lesson ids already delivered, in any order.
        due: question id -> next review due (aware), for questions with review state.
        attempted: question ids ever answered.
        today: question ids already delivered on the person's local date.
        drill: lesson id -> when a practice rule gave this person drill on it
            (``bot.practice``), while the rule's cycle lasts.
        last_answered: question id -> the person's latest answer to it (for drill: a
            question answered since the rule fired is done).
    """

    track_id: str
    delivered_lessons: tuple[str, ...]
    due: Mapping[str, datetime]
    attempted: frozenset[str]
    today: frozenset[str]
    drill: Mapping[str, datetime] = field(default_factory=dict)
    last_answered: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Pick:
    """The next item to deliver and why it was chosen."""

    kind: Literal["quiz", "lesson"]
    item_id: str
    reason: Literal["drill", "review", "new", "next_lesson"]


def _in_track(course: Course, question_id: str, track_id: str) -> bool:
    # Any language version will do: the loader checks that all versions share one track.
    question = course.question(question_id, "zh")
    return question is not None and question.track == track_id


def _due_reviews(course: Course, state: LearnerState, now: datetime) -> list[str]:
    """Due questions of the track, most overdue first, ties by id."""
    moment = as_utc(now)
    due = [
        (as_utc(when), question_id)
        for question_id, when in state.due.items()
        if question_id not in state.today and _in_track(course, question_id, state.track_id)
    ]
    return [question_id for when, question_id in sorted(due) if when <= moment]


def _new_questions(course: Course, state: LearnerState) -> Iterator[str]:
    """Unseen questions of delivered lessons, in track lesson order, then bank order."""
    delivered = set(state.delivered_lessons)
    for lesson_id in course.lesson_ids(state.track_id):
        if lesson_id not in delivered:
            continue
        for question_id in course.question_ids(lesson_id):
            # A question with review state is the review rule's business even when the
            # attempt itself is missing, so it is never shown again as new.
            seen = question_id in state.attempted or question_id in state.due
            if seen or question_id in state.today:
                continue
            if _in_track(course, question_id, state.track_id):
                yield question_id


def _drill(course: Course, state: LearnerState) -> Iterator[str]:
    """Questions of the lessons a practice rule gave drill on (oldest firing first), that
    the person has not answered since it fired nor been sent today."""
    for lesson_id, fired_at in sorted(state.drill.items(), key=lambda item: (item[1], item[0])):
        for question_id in course.question_ids(lesson_id):
            answered = state.last_answered.get(question_id)
            if answered is not None and as_utc(answered) >= as_utc(fired_at):
                continue
            if question_id not in state.today and _in_track(course, question_id, state.track_id):
                yield question_id


def next_quiz(course: Course, state: LearnerState, now: datetime) -> Pick | None:
    """The next item for a quiz slot.

    In order: a drill question of a lesson a practice rule fired on for this person;
    then the most overdue review (due at or before ``now``); else the first new
    question of a delivered lesson; else the next undelivered lesson, as a lesson pick, so
    there is something to quiz on later. Questions delivered today, questions of other
    tracks and draft questions are never picked; a review not yet due waits.

    Args:
        course: the published course.
        state: the learner.
        now: the current moment, timezone-aware.

    Returns:
        The pick, or ``None`` when nothing is due, nothing is new and the track is finished.

    Raises:
        ValueError: if ``now`` or a due time is naive.
    """
    drill = next(_drill(course, state), None)
    if drill is not None:
        return Pick(kind="quiz", item_id=drill, reason="drill")
    reviews = _due_reviews(course, state, now)
    if reviews:
        return Pick(kind="quiz", item_id=reviews[0], reason="review")
    new = next(_new_questions(course, state), None)
    if new is not None:
        return Pick(kind="quiz", item_id=new, reason="new")
    lesson_id = next_lesson(course, state)
    if lesson_id is not None:
        return Pick(kind="lesson", item_id=lesson_id, reason="next_lesson")
    return None


def next_lesson(course: Course, state: LearnerState) -> str | None:
    """The first lesson of the track not yet delivered, or ``None`` when it is finished."""
    delivered = set(state.delivered_lessons)
    for lesson_id in course.lesson_ids(state.track_id):
        if lesson_id not in delivered:
            return lesson_id
    return None


def upcoming_reviews(
    state: LearnerState,
    now: datetime,
    within: timedelta,
    *,
    course: Course | None = None,
) -> int:
    """How many reviews fall due by ``now + within``, overdue ones included.

    Args:
        state: the learner.
        now: the current moment, timezone-aware.
        within: the window ahead, e.g. ``timedelta(days=7)`` for "this week".
        course: when given, questions the course no longer has, or that belong to
            another track, are not counted (as :func:`next_quiz` would never pick them).

    Raises:
        ValueError: if ``now`` or a due time is naive.
    """
    horizon = as_utc(now) + within
    return sum(
        1
        for question_id, when in state.due.items()
        if as_utc(when) <= horizon
        and (course is None or _in_track(course, question_id, state.track_id))
    )


def track_progress(course: Course, state: LearnerState) -> tuple[int, int]:
    """``(lessons delivered, lessons in the track)``; delivered ids the track lacks don't count."""
    lesson_ids = course.lesson_ids(state.track_id)
    delivered = set(state.delivered_lessons)
    return sum(1 for lesson_id in lesson_ids if lesson_id in delivered), len(lesson_ids)
