"""Next-item selection: reviews first, then new questions, then the next lesson."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quizzes.content import Calendar, Course, Lesson, LocalizedText, Question, Track
from quizzes.loader import load_course
from quizzes.selection import (
    LearnerState,
    Pick,
    next_lesson,
    next_quiz,
    track_progress,
    upcoming_reviews,
)
from tests.conftest import SAMPLE_CONTENT

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
DAY = timedelta(days=1)

# Lesson ids sort the other way round from their order, and question ids from their bank
# order, so that any accidental alphabetical sort shows.
FRONTLINE: dict[str, list[str]] = {
    "fl-c": ["fl-c-q2", "fl-c-q1"],
    "fl-b": ["fl-b-q1"],
    "fl-a": ["fl-a-q9", "fl-a-q3"],
}
MANAGERS: dict[str, list[str]] = {"mg-a": ["mg-a-q1"]}
DRAFT = "fl-c-draft"


def _track(track_id: str) -> Track:
    return Track(
        id=track_id,
        title=LocalizedText(zh=track_id, en=track_id),
        audience="staff",
        level=1,
        pass_threshold=0.8,
    )


def _question(question_id: str, track: str, lesson: str, language: str, **extra: Any) -> Question:
    return Question.model_validate(
        {
            "id": question_id,
            "language": language,
            "track": track,
            "lesson": lesson,
            "type": "true_false",
            "prompt": f"{question_id}?",
            "answer": True,
            "explanation": "Because.",
            "source": "basics.md",
            **extra,
        }
    )


def _course() -> Course:
    lessons: dict[tuple[str, str], Lesson] = {}
    questions: dict[tuple[str, str], Question] = {}
    for track, plan in (("frontline", FRONTLINE), ("managers", MANAGERS)):
        for order, (lesson_id, question_ids) in enumerate(plan.items(), start=1):
            for language in ("zh", "en"):
                lessons[(lesson_id, language)] = Lesson(
                    id=lesson_id,
                    track=track,
                    order=order,
                    language=language,
                    title=lesson_id,
                    body="Body.",
                    path=f"lessons/{lesson_id}.{language}.md",
                )
                for question_id in question_ids:
                    questions[(question_id, language)] = _question(
                        question_id, track, lesson_id, language
                    )
    drafts = {(DRAFT, "zh"): _question(DRAFT, "frontline", "fl-c", "zh", draft=True)}
    return Course(
        tracks={"frontline": _track("frontline"), "managers": _track("managers")},
        lessons=lessons,
        questions=questions,
        calendar=Calendar(),
        drafts=drafts,
    )


COURSE = _course()


def _state(
    *,
    track_id: str = "frontline",
    delivered: tuple[str, ...] = (),
    due: dict[str, datetime] | None = None,
    attempted: set[str] | None = None,
    today: set[str] | None = None,
) -> LearnerState:
    due = due or {}
    return LearnerState(
        track_id=track_id,
        delivered_lessons=delivered,
        due=due,
        # Whatever has review state was answered once; tests add more on top.
        attempted=frozenset(due) | frozenset(attempted or ()),
        today=frozenset(today or ()),
    )


def _quiz(item_id: str, reason: Literal["review", "new"]) -> Pick:
    return Pick(kind="quiz", item_id=item_id, reason=reason)


def test_brand_new_learner_gets_the_first_lesson() -> None:
    state = _state()
    assert next_quiz(COURSE, state, NOW) == Pick("lesson", "fl-c", "next_lesson")
    assert next_lesson(COURSE, state) == "fl-c"
    assert track_progress(COURSE, state) == (0, 3)


def test_new_questions_follow_bank_order_within_a_lesson() -> None:
    state = _state(delivered=("fl-c",))
    assert next_quiz(COURSE, state, NOW) == _quiz("fl-c-q2", "new")
    state = _state(delivered=("fl-c",), attempted={"fl-c-q2"})
    assert next_quiz(COURSE, state, NOW) == _quiz("fl-c-q1", "new")


def test_new_questions_follow_track_lesson_order_across_lessons() -> None:
    done = set(FRONTLINE["fl-c"])
    state = _state(delivered=("fl-a", "fl-b", "fl-c"), attempted=done)
    assert next_quiz(COURSE, state, NOW) == _quiz("fl-b-q1", "new")
    state = _state(delivered=("fl-a", "fl-c"), attempted=done)
    assert next_quiz(COURSE, state, NOW) == _quiz("fl-a-q9", "new")


def test_a_due_review_comes_before_new_questions() -> None:
    state = _state(delivered=("fl-c", "fl-b"), due={"fl-b-q1": NOW})
    assert next_quiz(COURSE, state, NOW) == _quiz("fl-b-q1", "review")


def test_most_overdue_review_first_then_by_id() -> None:
    due = {
        "fl-c-q2": NOW - DAY,
        "fl-b-q1": NOW - 3 * DAY,
        "fl-a-q3": NOW - 3 * DAY,
        "fl-a-q9": NOW - 2 * DAY,
    }
    state = _state(delivered=("fl-a", "fl-b", "fl-c"), due=due)
    assert next_quiz(COURSE, state, NOW) == _quiz("fl-a-q3", "review")
    state = _state(delivered=("fl-a", "fl-b", "fl-c"), due=due, today={"fl-a-q3"})
    assert next_quiz(COURSE, state, NOW) == _quiz("fl-b-q1", "review")


def test_a_review_not_yet_due_waits_and_is_not_offered_as_new() -> None:
    state = _state(delivered=("fl-c",), due={"fl-c-q2": NOW + timedelta(minutes=1)})
    assert next_quiz(COURSE, state, NOW) == _quiz("fl-c-q1", "new")
    state = _state(
        delivered=("fl-c",), due={"fl-c-q2": NOW + timedelta(minutes=1)}, attempted={"fl-c-q1"}
    )
    assert next_quiz(COURSE, state, NOW) == Pick("lesson", "fl-b", "next_lesson")
    assert next_quiz(COURSE, state, NOW + timedelta(minutes=1)) == _quiz("fl-c-q2", "review")


def test_review_state_without_an_attempt_is_still_not_new() -> None:
    state = LearnerState(
        track_id="frontline",
        delivered_lessons=("fl-c",),
        due={"fl-c-q2": NOW + DAY},
        attempted=frozenset(),
        today=frozenset(),
    )
    assert next_quiz(COURSE, state, NOW) == _quiz("fl-c-q1", "new")


def test_nothing_is_delivered_twice_in_one_day() -> None:
    state = _state(delivered=("fl-c",), due={"fl-c-q2": NOW - DAY}, today={"fl-c-q2", "fl-c-q1"})
    assert next_quiz(COURSE, state, NOW) == Pick("lesson", "fl-b", "next_lesson")


def test_other_tracks_are_never_picked() -> None:
    state = _state(
        delivered=("fl-c", "mg-a"),
        due={"mg-a-q1": NOW - 5 * DAY},
        attempted=set(FRONTLINE["fl-c"]),
    )
    assert next_quiz(COURSE, state, NOW) == Pick("lesson", "fl-b", "next_lesson")
    assert track_progress(COURSE, state) == (1, 3)
    assert upcoming_reviews(state, NOW, DAY) == 1
    assert upcoming_reviews(state, NOW, DAY, course=COURSE) == 0


def test_draft_questions_are_never_picked() -> None:
    state = _state(delivered=("fl-c",), due={DRAFT: NOW - DAY}, attempted=set(FRONTLINE["fl-c"]))
    assert next_quiz(COURSE, state, NOW) == Pick("lesson", "fl-b", "next_lesson")


def test_vanished_ids_are_ignored() -> None:
    state = _state(
        delivered=("fl-gone", "fl-c"),
        due={"fl-gone-q1": NOW - 9 * DAY, "fl-c-q2": NOW - DAY},
        attempted={"old-q"},
    )
    assert next_quiz(COURSE, state, NOW) == _quiz("fl-c-q2", "review")
    assert track_progress(COURSE, state) == (1, 3)
    assert upcoming_reviews(state, NOW, timedelta(0), course=COURSE) == 1


def test_a_track_the_course_no_longer_has_yields_nothing() -> None:
    state = _state(track_id="gone", delivered=("fl-c",), due={"fl-c-q2": NOW - DAY})
    assert next_quiz(COURSE, state, NOW) is None
    assert next_lesson(COURSE, state) is None
    assert track_progress(COURSE, state) == (0, 0)


def test_finished_track_with_nothing_due_yields_nothing() -> None:
    every = {question for questions in FRONTLINE.values() for question in questions}
    due = {question: NOW + 2 * DAY for question in every}
    state = _state(delivered=tuple(FRONTLINE), due=due)
    assert next_lesson(COURSE, state) is None
    assert next_quiz(COURSE, state, NOW) is None
    assert track_progress(COURSE, state) == (3, 3)
    assert next_quiz(COURSE, state, NOW + 2 * DAY) == _quiz("fl-a-q3", "review")


def test_upcoming_reviews_counts_overdue_and_the_window() -> None:
    due = {
        "fl-c-q2": NOW - DAY,
        "fl-c-q1": NOW + timedelta(hours=20),
        "fl-b-q1": NOW + DAY,
        "fl-a-q9": NOW + 3 * DAY,
    }
    state = _state(due=due)
    assert upcoming_reviews(state, NOW, timedelta(0)) == 1
    assert upcoming_reviews(state, NOW, DAY) == 3
    assert upcoming_reviews(state, NOW, timedelta(days=7)) == 4


def test_due_times_in_any_zone_compare_as_instants() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    due = {
        "fl-c-q2": (NOW - timedelta(hours=1)).astimezone(shanghai),
        "fl-c-q1": (NOW - timedelta(hours=2)).replace(tzinfo=UTC),
    }
    state = _state(delivered=("fl-c",), due=due)
    assert next_quiz(COURSE, state, NOW.astimezone(shanghai)) == _quiz("fl-c-q1", "review")


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_quiz(COURSE, _state(due={"fl-c-q2": NOW}), NOW.replace(tzinfo=None))


def test_sample_course_walkthrough() -> None:
    course = load_course(SAMPLE_CONTENT)
    first = course.lesson_ids("frontline")[0]
    state = _state()
    assert next_quiz(course, state, NOW) == Pick("lesson", first, "next_lesson")
    state = _state(delivered=(first,))
    pick = next_quiz(course, state, NOW)
    assert pick == _quiz(course.question_ids(first)[0], "new")


# --- properties over random learner states -------------------------------------------

QUESTION_IDS = sorted({question_id for question_id, _ in COURSE.questions})
LESSON_IDS = sorted({lesson_id for lesson_id, _ in COURSE.lessons})
ANY_QUESTION = st.sampled_from([*QUESTION_IDS, DRAFT, "vanished-q"])
OFFSETS = st.integers(min_value=-10 * 24 * 60, max_value=10 * 24 * 60).map(
    lambda minutes: NOW + timedelta(minutes=minutes)
)


@st.composite
def learner_states(draw: st.DrawFn) -> LearnerState:
    return LearnerState(
        track_id=draw(st.sampled_from(["frontline", "managers", "gone"])),
        delivered_lessons=tuple(
            draw(st.lists(st.sampled_from([*LESSON_IDS, "vanished-l"]), unique=True))
        ),
        due=draw(st.dictionaries(ANY_QUESTION, OFFSETS)),
        attempted=draw(st.frozensets(ANY_QUESTION)),
        today=draw(st.frozensets(ANY_QUESTION)),
    )


def _eligible_review(state: LearnerState, question_id: str, now: datetime) -> bool:
    question = COURSE.question(question_id, "en")
    return (
        question is not None
        and question.track == state.track_id
        and question_id not in state.today
        and state.due[question_id] <= now
    )


@given(state=learner_states())
def test_picks_respect_every_rule(state: LearnerState) -> None:
    pick = next_quiz(COURSE, state, NOW)
    if pick is None:
        assert next_lesson(COURSE, state) is None
        return
    if pick.kind == "lesson":
        assert pick.reason == "next_lesson"
        assert pick.item_id == next_lesson(COURSE, state)
        assert pick.item_id not in state.delivered_lessons
        return
    assert pick.item_id not in state.today
    question = COURSE.question(pick.item_id, "en")
    assert question is not None  # published, existing
    assert question.track == state.track_id
    assert not question.draft
    due_now = [qid for qid in state.due if _eligible_review(state, qid, NOW)]
    if pick.reason == "review":
        assert state.due[pick.item_id] <= NOW
        assert min((state.due[qid], qid) for qid in due_now) == (
            state.due[pick.item_id],
            pick.item_id,
        )
    else:
        assert pick.reason == "new"
        assert not due_now
        assert pick.item_id not in state.attempted
        assert pick.item_id not in state.due
        assert question.lesson in state.delivered_lessons


@given(state=learner_states(), seed=st.randoms(use_true_random=False))
def test_picks_do_not_depend_on_mapping_order(state: LearnerState, seed: random.Random) -> None:
    items = list(state.due.items())
    seed.shuffle(items)
    shuffled = LearnerState(
        track_id=state.track_id,
        delivered_lessons=tuple(seed.sample(state.delivered_lessons, len(state.delivered_lessons))),
        due=dict(items),
        attempted=state.attempted,
        today=state.today,
    )
    assert next_quiz(COURSE, shuffled, NOW) == next_quiz(COURSE, state, NOW)
