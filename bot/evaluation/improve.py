""" "Content to improve": one ranked list of lessons for trainers, with the evidence.

Five signals per lesson, read over the weeks ending with the report's week
(``TRAINBOT_IMPROVE_WEEKS``, docs/evaluation.md#content-to-improve):

- **rating** — the mean of the lesson's satisfaction ratings (end-of-track ratings are about
  the track, not the lesson, and are left out);
- **comments** — the share of the lesson's survey comments that read as negative
  (:mod:`bot.evaluation.words`), with its most recurrent complaint group;
- **accuracy** — first-try accuracy on the lesson's quiz questions;
- **application** — the level 2 application rate of the lesson as it stood at the end of
  the week (:func:`bot.application.application_cells`);
- **gaps** — the period's content gaps (questions the bot declined, or answered and got 👎)
  whose nearest passage belongs to the lesson's material (:func:`attach_gap`).

The first four are each turned into a *weakness* between 0 (best) and 1 (worst) and
**shrunk toward the course's own value** by a prior worth :data:`PRIOR` observations:
``(n · lesson + k · course) / (n + k)``. A lesson counts as weak on a signal by how far its
shrunk weakness exceeds the course's, and only from :data:`MIN_N` observations on: one
rating of 1 counts for nothing, forty ratings averaging 2.5 for a lot. Content gaps count on their own scale,
``g / (g + GAP_HALF)``. The score is the sum; lessons with a score above 0 are listed,
highest first, and every signal shows its value, its n, the course's value and what it
adds to the score.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from langchain_core.embeddings import Embeddings
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.application import ApplicationCount, application_cells
from bot.application import by_lesson as application_by_lesson
from bot.evaluation.words import ComplaintGroup, analyse_lessons
from bot.membership import team_at
from bot.store.db import Database
from bot.store.models import (
    ERASED_TEXT,
    AskedQuestion,
    Attempt,
    Person,
    PersonStatus,
    SurveyResponse,
)
from bot.weeks import iso_week_window
from knowledge.tokenize import content_words
from quizzes.content import Course

logger = logging.getLogger(__name__)

SIGNALS = ("rating", "comments", "accuracy", "application", "gaps")
"""The signals, in the order the evidence lists them."""

PRIOR = {"rating": 10, "comments": 8, "accuracy": 20, "application": 10}
"""How many observations the course's own value is worth when a lesson's is shrunk toward
it: a lesson needs this many of its own before its value counts as much as the course's.
Accuracy gets more, since one learner answers several of a lesson's questions."""

MIN_N = {"rating": 3, "comments": 3, "accuracy": 5, "application": 3}
"""Observations a signal needs before it counts at all: below it the lesson's figure is
shown, marked too few to judge, and adds nothing, however bad (one rating of 1)."""

GAP_HALF = 5
"""Content gaps near a lesson that weigh 0.5 in its score (``g / (g + GAP_HALF)``)."""

TOP = 5
"""Lessons the trainers' weekly digest shows."""

CHANCE_Z = 1.645
"""A lesson's figure counts as weaker than the course's only when it is more than this
many standard errors weaker (one-sided, 95%)."""

GAP_EXAMPLES = 3
"""Questions shown under a lesson's content-gap evidence."""

# Why a content gap stays unattached.
NO_PASSAGE = "no_passage"  # retrieval found no passage near it
NO_LESSON = "no_lesson"  # the nearest passage's material is no lesson's source
AMBIGUOUS = "ambiguous"  # several lessons draw on that material, none is closer


@dataclass(frozen=True)
class Signal:
    """One signal of one lesson, with what it adds to the lesson's score.

    Attributes:
        name: one of :data:`SIGNALS`.
        value: the lesson's own figure (mean rating 1-5, negative share, first-try
            accuracy, application rate, number of gaps); ``None`` without data.
        n: how many observations it rests on (ratings, comments, first tries, reported
            people × lessons, gap questions).
        course: the course's figure over all lessons (``None`` for gaps).
        weight: what it adds to the score: the shrunk weakness minus the course's, or
            ``g / (g + GAP_HALF)`` for gaps; 0 when not weaker than the course.
        detail: a count behind ``value`` (the negative comments).
        too_few: ``n`` is below :data:`MIN_N`, so the signal adds nothing.
    """

    name: str
    value: float | None
    n: int
    course: float | None
    weight: float
    detail: int = 0
    too_few: bool = False

    @property
    def weak(self) -> bool:
        """Whether this signal puts the lesson on the list."""
        return self.weight > 0


@dataclass(frozen=True)
class LessonToImprove:
    """One lesson on the list: its score, every signal, and the words behind it."""

    lesson_id: str
    title: str
    track: str
    score: float
    signals: tuple[Signal, ...]
    complaint: ComplaintGroup | None = None
    gap_questions: tuple[str, ...] = ()
    theme: str | None = None

    def signal(self, name: str) -> Signal:
        """The named signal."""
        return next(signal for signal in self.signals if signal.name == name)


@dataclass(frozen=True)
class UnattachedGaps:
    """Content gaps tied to no lesson, by reason (:data:`NO_PASSAGE`, ...)."""

    reason: str
    count: int
    material: str | None = None
    examples: tuple[str, ...] = ()


@dataclass
class ContentToImprove:
    """The ranked list for one period.

    Attributes:
        week: the last ISO week read.
        first_week: the first ISO week read.
        start: the period's start (aware UTC).
        end: its end.
        lessons: the lessons with a score above 0, highest first.
        unattached: content gaps no lesson was found for, by reason.
        observed: whether the period has any data at all (ratings, comments, answers,
            application reports, gaps); ``False`` means there is nothing to judge yet.
        course: the course's value of each signal (``None``: no data).
    """

    week: str
    first_week: str
    start: datetime
    end: datetime
    lessons: list[LessonToImprove]
    unattached: list[UnattachedGaps] = field(default_factory=list)
    observed: bool = False
    course: dict[str, float | None] = field(default_factory=dict)


@dataclass
class LessonData:
    """What the store says about one lesson in the period (the ranking's input)."""

    ratings: int = 0
    rating_total: int = 0
    rating_squares: int = 0  # the sum of squared ratings: their spread
    comments: int = 0
    negative: int = 0
    complaint: ComplaintGroup | None = None
    first_tries: int = 0
    first_try_correct: int = 0
    application: ApplicationCount = field(default_factory=ApplicationCount)
    gaps: list[str] = field(default_factory=list)
    gap_count: int = 0


# -- the score ---------------------------------------------------------------------------------


def _weakness(name: str, data: LessonData) -> tuple[float | None, float | None, int]:
    """(the lesson's figure, its weakness 0..1, n) of a shrinkable signal."""
    if name == "rating":
        mean = data.rating_total / data.ratings if data.ratings else None
        return mean, None if mean is None else (5 - mean) / 4, data.ratings
    if name == "comments":
        share = data.negative / data.comments if data.comments else None
        return share, share, data.comments
    if name == "accuracy":
        accuracy = data.first_try_correct / data.first_tries if data.first_tries else None
        return accuracy, None if accuracy is None else 1 - accuracy, data.first_tries
    rate = data.application.rate
    return rate, None if rate is None else 1 - rate, data.application.reported


def course_values(lessons: Mapping[str, LessonData]) -> dict[str, float | None]:
    """Each signal's figure over the whole course: every observation pooled."""
    pooled = LessonData()
    for data in lessons.values():
        pooled.ratings += data.ratings
        pooled.rating_total += data.rating_total
        pooled.rating_squares += data.rating_squares
        pooled.comments += data.comments
        pooled.negative += data.negative
        pooled.first_tries += data.first_tries
        pooled.first_try_correct += data.first_try_correct
        pooled.application = pooled.application + data.application
    return {name: _weakness(name, pooled)[0] for name in PRIOR}


def _course_weakness(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if name == "rating":
        return (5 - value) / 4
    if name == "comments":
        return value
    return 1 - value


def rating_spread(lessons: Mapping[str, LessonData]) -> float:
    """The standard deviation of all the course's ratings (stars); 1 when unknown."""
    count = sum(data.ratings for data in lessons.values())
    total = sum(data.rating_total for data in lessons.values())
    squares = sum(data.rating_squares for data in lessons.values())
    if count < 2 or squares <= 0:
        return 1.0
    variance = (squares - total * total / count) / (count - 1)
    return math.sqrt(variance) if variance > 0 else 1.0


def chance_margin(name: str, reference: float, n: int, spread: float) -> float:
    """How much weaker than the course a lesson can look by chance alone on ``n``
    observations: :data:`CHANCE_Z` standard errors of a lesson that is really like the
    course (a proportion's binomial error; a mean rating's spread over √n, in the
    weakness scale of a quarter star)."""
    if n <= 0:
        return math.inf
    if name == "rating":
        return CHANCE_Z * spread / 4 / math.sqrt(n)
    return CHANCE_Z * math.sqrt(max(reference * (1 - reference), 0.0) / n)


def rank(
    lessons: Mapping[str, LessonData],
    *,
    titles: Mapping[str, tuple[str, str]] | None = None,
    themes: Mapping[str, str] | None = None,
) -> tuple[list[LessonToImprove], dict[str, float | None]]:
    """Score and rank lessons (pure: the store is read by :func:`content_to_improve`).

    Args:
        lessons: each lesson's data by lesson id.
        titles: (title, track) by lesson id; the id itself otherwise.
        themes: an optional theme summary per lesson id (e.g. written by a chat model),
            shown with the evidence; it does not change the score.

    Returns:
        The lessons scoring above 0, highest first (then by id), and the course values.
    """
    course = course_values(lessons)
    spread = rating_spread(lessons)
    ranked = []
    for lesson_id, data in lessons.items():
        signals = []
        for name in PRIOR:
            value, weakness, n = _weakness(name, data)
            reference = _course_weakness(name, course[name])
            weight = 0.0
            too_few = 0 < n < MIN_N[name]
            # Weaker than the course only beyond what chance explains (a lesson at 84%
            # against a course at 85% is no lesson to rewrite), then by how much, shrunk
            # toward the course.
            if (
                weakness is not None
                and reference is not None
                and not too_few
                and weakness - reference > chance_margin(name, reference, n, spread)
            ):
                prior = PRIOR[name]
                shrunk = (n * weakness + prior * reference) / (n + prior)
                weight = max(0.0, shrunk - reference)
            signals.append(
                Signal(
                    name,
                    value,
                    n,
                    course[name],
                    round(weight, 4),
                    detail=data.negative,
                    too_few=too_few,
                )
            )
        gap_weight = data.gap_count / (data.gap_count + GAP_HALF) if data.gap_count else 0.0
        signals.append(
            Signal("gaps", float(data.gap_count), data.gap_count, None, round(gap_weight, 4))
        )
        score = round(sum(signal.weight for signal in signals), 4)
        if score <= 0:
            continue
        title, track = (titles or {}).get(lesson_id, (lesson_id, ""))
        ranked.append(
            LessonToImprove(
                lesson_id=lesson_id,
                title=title,
                track=track,
                score=score,
                signals=tuple(signals),
                complaint=data.complaint,
                gap_questions=tuple(data.gaps[:GAP_EXAMPLES]),
                theme=(themes or {}).get(lesson_id),
            )
        )
    ranked.sort(key=lambda lesson: (-lesson.score, lesson.lesson_id))
    return ranked, course


# -- tying a content gap to a lesson ---------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """Where a content gap was tied: a lesson, or why none."""

    lesson_id: str | None
    reason: str | None = None
    material: str | None = None


def _material(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).name


def attach_gap(question: str, sources: Any, course: Course, language: str) -> Attachment:
    """The lesson a content gap belongs to: the one taught from the nearest passage's material.

    The nearest passage is the first source the retrieval stored with the question (kept
    for declined questions too). A material that one lesson is drawn from (its ``source``)
    gives that lesson. When several lessons draw on it, the one whose title and text share
    the most words with the question is chosen, only if it shares strictly more than every
    other; otherwise the gap stays unattached rather than be filed under a guess.

    Args:
        question: the question asked.
        sources: the stored ``{"items": [{"path", ...}, ...]}``.
        course: the course (lessons and their source materials).
        language: the question's language (which version of a lesson to compare).
    """
    items = sources.get("items") if isinstance(sources, dict) else None
    if not items or not isinstance(items[0], dict) or not items[0].get("path"):
        return Attachment(None, NO_PASSAGE)
    material = _material(str(items[0]["path"]))
    candidates = sorted(
        {
            lesson_id
            for (lesson_id, _), lesson in course.lessons.items()
            if lesson.source and _material(lesson.source) == material
        }
    )
    if not candidates:
        return Attachment(None, NO_LESSON, material)
    if len(candidates) == 1:
        return Attachment(candidates[0], material=material)
    asked = content_words(question)
    overlap = []
    for lesson_id in candidates:
        lesson = course.lesson(lesson_id, language)
        words = content_words(f"{lesson.title}\n{lesson.body}") if lesson else set()
        overlap.append((len(asked & words), lesson_id))
    overlap.sort(reverse=True)
    if overlap[0][0] > 0 and overlap[0][0] > overlap[1][0]:
        return Attachment(overlap[0][1], material=material)
    return Attachment(None, AMBIGUOUS, material)


# -- reading the store -------------------------------------------------------------------------


def _ratings(
    session: Session,
    start: datetime,
    end: datetime,
    team_ids: Collection[int] | None,
    admitted: ColumnElement[bool] | None,
) -> dict[str, tuple[int, int, int]]:
    query = (
        select(
            SurveyResponse.lesson_id,
            func.count(SurveyResponse.rating),
            func.coalesce(func.sum(SurveyResponse.rating), 0),
            func.coalesce(func.sum(SurveyResponse.rating * SurveyResponse.rating), 0),
        )
        .join(Person, Person.id == SurveyResponse.person_id)
        .where(
            SurveyResponse.rating.is_not(None),
            SurveyResponse.end_of_track.is_(False),
            SurveyResponse.rated_at >= start,
            SurveyResponse.rated_at < end,
            admitted if admitted is not None else Person.status != PersonStatus.REMOVED,
        )
        .group_by(SurveyResponse.lesson_id)
    )
    if team_ids is not None:
        query = query.where(SurveyResponse.team_id.in_(sorted(team_ids)))
    return {
        lesson: (int(n or 0), int(total or 0), int(squares or 0))
        for lesson, n, total, squares in session.execute(query).all()
    }


def _comments(
    session: Session,
    start: datetime,
    end: datetime,
    team_ids: Collection[int] | None,
    admitted: ColumnElement[bool] | None,
) -> dict[str, list[str]]:
    query = (
        select(SurveyResponse.lesson_id, SurveyResponse.comment)
        .join(Person, Person.id == SurveyResponse.person_id)
        .where(
            SurveyResponse.comment.is_not(None),
            SurveyResponse.end_of_track.is_(False),
            SurveyResponse.commented_at >= start,
            SurveyResponse.commented_at < end,
            admitted if admitted is not None else Person.status != PersonStatus.REMOVED,
        )
        .order_by(SurveyResponse.commented_at, SurveyResponse.id)
    )
    if team_ids is not None:
        query = query.where(SurveyResponse.team_id.in_(sorted(team_ids)))
    found: dict[str, list[str]] = {}
    for lesson_id, text in session.execute(query).all():
        if text and text.strip():
            found.setdefault(lesson_id, []).append(text)
    return found


def _first_tries(
    session: Session,
    start: datetime,
    end: datetime,
    team_ids: Collection[int] | None,
    admitted: ColumnElement[bool] | None,
) -> dict[str, tuple[int, int]]:
    """First tries and correct ones per question id (a few hundred rows at most)."""
    query = (
        select(
            Attempt.question_id,
            func.count(),
            func.sum(case((Attempt.correct, 1), else_=0)),
        )
        .join(Person, Person.id == Attempt.person_id)
        .where(
            Attempt.first_try.is_(True),
            Attempt.answered_at >= start,
            Attempt.answered_at < end,
            admitted if admitted is not None else Person.status != PersonStatus.REMOVED,
        )
        .group_by(Attempt.question_id)
    )
    if team_ids is not None:
        query = query.where(team_at(Attempt.person_id, end, Attempt.team_id).in_(sorted(team_ids)))
    return {
        question: (int(n), int(right or 0)) for question, n, right in session.execute(query).all()
    }


def _gap_rows(
    session: Session,
    start: datetime,
    end: datetime,
    team_ids: Collection[int] | None,
) -> list[tuple[str, str, Any]]:
    """(text, language, sources) of every content gap asked in the period."""
    declined = AskedQuestion.answered.is_(False)
    rated_down = and_(AskedQuestion.answered.is_(True), AskedQuestion.feedback == -1)
    query = select(AskedQuestion.text, AskedQuestion.language, AskedQuestion.sources).where(
        AskedQuestion.asked_at >= start,
        AskedQuestion.asked_at < end,
        or_(declined, rated_down),
    )
    if team_ids is not None:
        asker_team = team_at(AskedQuestion.person_id, end, AskedQuestion.team_id)
        query = query.where(asker_team.in_(sorted(team_ids)))
    return [(text, language, sources) for text, language, sources in session.execute(query).all()]


def _titles(course: Course, language: str) -> dict[str, tuple[str, str]]:
    titles = {}
    for lesson_id, _ in course.lessons:
        lesson = course.lesson(lesson_id, language)
        if lesson is None:
            continue
        track = course.tracks.get(lesson.track)
        track_title = str(track.title.get(language) or lesson.track) if track else lesson.track
        titles[lesson_id] = (lesson.title, track_title)
    return titles


def content_to_improve(
    db: Database,
    course: Course,
    *,
    week: str,
    first_week: str,
    start: datetime,
    end: datetime,
    language: str = "en",
    team_ids: Collection[int] | None = None,
    admitted: ColumnElement[bool] | None = None,
    embeddings: Embeddings | None = None,
    themes: Mapping[str, str] | None = None,
    theme_source: Any = None,
) -> ContentToImprove:
    """The ranked list of lessons to improve for the period ``[start, end)``.

    Args:
        db: the store.
        course: the course (lesson titles, which lesson a question belongs to, materials).
        week: the period's last ISO week (its label).
        first_week: the period's first ISO week.
        start: the period's start, aware.
        end: its end, aware (the application rate is read as it stood then).
        language: the language of lesson and track titles.
        team_ids: only these teams' people; ``None`` for the whole organisation.
        admitted: who may be counted (``bot.admission.admitted_people``).
        embeddings: the deployment's embedding model: with the bundled e5, comments are
            read by meaning (:mod:`bot.evaluation.sentiment`), otherwise by the lexicon.
        themes: an optional theme summary per lesson id, shown with its evidence.
        theme_source: without ``themes``, the settings (or a chat model) a theme summary
            per lesson is written with from its comments and content-gap questions
            (:func:`bot.evaluation.themes.theme_summaries`; nothing without a model).
            Blocking: call this off the event loop.
    """
    with db.session() as session:
        ratings = _ratings(session, start, end, team_ids, admitted)
        comments = _comments(session, start, end, team_ids, admitted)
        tries = _first_tries(session, start, end, team_ids, admitted)
        applied = application_by_lesson(
            application_cells(session, until=end, team_ids=team_ids, admitted=admitted)
        )
        gaps = _gap_rows(session, start, end, team_ids)
    lessons: dict[str, LessonData] = {lesson_id: LessonData() for lesson_id, _ in course.lessons}

    def data(lesson_id: str) -> LessonData:
        return lessons.setdefault(lesson_id, LessonData())

    for lesson_id, (count, total, squares) in ratings.items():
        found = data(lesson_id)
        found.ratings, found.rating_total, found.rating_squares = count, total, squares
    for words in analyse_lessons(comments, embeddings=embeddings):
        found = data(words.lesson_id)
        found.comments, found.negative = words.texts, words.negative
        found.complaint = words.complaints[0] if words.complaints else None
    for question_id, (first, right) in tries.items():
        question = course.question(question_id, language)
        if question is None:
            continue  # a question no longer in the course belongs to no lesson now
        found = data(question.lesson)
        found.first_tries += first
        found.first_try_correct += right
    for lesson_id, applying in applied.items():
        data(lesson_id).application = applying
    unattached: dict[tuple[str, str | None], list[str]] = {}
    for text, asked_in, sources in gaps:
        where = attach_gap(text, sources, course, asked_in)
        shown = text if text != ERASED_TEXT else ""
        if where.lesson_id is not None:
            found = data(where.lesson_id)
            found.gap_count += 1
            if shown and shown not in found.gaps:
                found.gaps.append(shown)
        else:
            unattached.setdefault((where.reason or NO_PASSAGE, where.material), []).append(shown)
    titles = _titles(course, language)
    if themes is None and theme_source is not None:
        from bot.evaluation.themes import theme_summaries

        texts = {
            lesson_id: [*comments.get(lesson_id, []), *found.gaps]
            for lesson_id, found in lessons.items()
            if comments.get(lesson_id) or found.gaps
        }
        themes = theme_summaries(
            theme_source,
            texts,
            language,
            titles={key: title for key, (title, _track) in titles.items()},
        )
    ranked, values = rank(lessons, titles=titles, themes=themes)
    observed = bool(ratings or comments or tries or gaps) or any(
        count.trained for count in applied.values()
    )
    return ContentToImprove(
        week=week,
        first_week=first_week,
        start=start,
        end=end,
        lessons=ranked,
        unattached=[
            UnattachedGaps(
                reason=reason,
                count=len(texts),
                material=material,
                examples=tuple(dict.fromkeys(text for text in texts if text))[:GAP_EXAMPLES],
            )
            for (reason, material), texts in sorted(
                unattached.items(), key=lambda item: (-len(item[1]), item[0][0], item[0][1] or "")
            )
        ],
        observed=observed,
        course=values,
    )


def sentiment_model(spec: str) -> Embeddings | None:
    """The model comments are read with for ``TRAINBOT_EMBEDDINGS`` = ``spec``: the bundled
    e5 (loaded on first use) when it is the deployment's, else ``None`` (the lexicon)."""
    if spec != "local":
        return None
    from knowledge.embeddings import LocalE5Embeddings

    return LocalE5Embeddings()


def for_week(
    db: Database,
    course: Course,
    *,
    week: str,
    weeks: int,
    timezone: str,
    language: str = "en",
    team_ids: Collection[int] | None = None,
    admitted: ColumnElement[bool] | None = None,
    embeddings: Embeddings | None = None,
    themes: Mapping[str, str] | None = None,
    theme_source: Any = None,
) -> ContentToImprove:
    """:func:`content_to_improve` over the ``weeks`` ISO weeks ending with ``week``.

    One week holds too few ratings and answers per lesson to rank lessons by; the
    period is ``TRAINBOT_IMPROVE_WEEKS`` long (4 by default).
    """
    from bot.reports.impact import analysed_weeks

    covered = analysed_weeks(week, weeks, timezone)
    start, _ = iso_week_window(covered[0], timezone)
    _, end = iso_week_window(covered[-1], timezone)
    return content_to_improve(
        db,
        course,
        week=covered[-1],
        first_week=covered[0],
        start=start,
        end=end,
        language=language,
        team_ids=team_ids,
        admitted=admitted,
        embeddings=embeddings,
        themes=themes,
        theme_source=theme_source,
    )


__all__ = [
    "AMBIGUOUS",
    "GAP_HALF",
    "MIN_N",
    "NO_LESSON",
    "NO_PASSAGE",
    "PRIOR",
    "SIGNALS",
    "TOP",
    "Attachment",
    "ContentToImprove",
    "LessonData",
    "LessonToImprove",
    "Signal",
    "UnattachedGaps",
    "attach_gap",
    "content_to_improve",
    "course_values",
    "for_week",
    "rank",
    "sentiment_model",
]
