"""The learning content: tracks, lessons, questions and the training calendar.

These are plain validated values; :mod:`quizzes.loader` builds them from a content
directory and reports every problem with its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DEFAULT_LESSON_DAYS: tuple[Weekday, ...] = ("mon", "wed")
DEFAULT_QUIZ_DAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
WEEKDAY_INDEX: dict[str, int] = {
    day: index for index, day in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
}


def field_error(field_name: str, message: str) -> PydanticCustomError:
    """A validation error that says which field it is about, so it can be located."""
    return PydanticCustomError("content", message, {"field": field_name})


ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
LESSON_MAX_CHARS = 1200
T = TypeVar("T")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class LocalizedText(_Strict):
    """A text in both languages."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        """The text in ``language``, falling back to Chinese."""
        return self.en if language == "en" else self.zh


class Cadence(_Strict):
    """On which weekdays a track pushes lessons and quizzes."""

    lesson_days: list[Weekday] = Field(default_factory=lambda: list(DEFAULT_LESSON_DAYS))
    quiz_days: list[Weekday] = Field(default_factory=lambda: list(DEFAULT_QUIZ_DAYS))
    quizzes_per_day: int = Field(default=1, ge=1, le=5)


class SurveyRule(_Strict):
    """When learners of a track are asked for a one-tap rating (1-5) of a lesson.

    ``every: 0`` asks after no lesson, ``1`` after every lesson, ``N`` after every Nth
    lesson the learner completes; ``end_of_track`` asks after the track's last lesson
    whatever ``every`` says. Both off: no surveys on the track.
    """

    every: int = Field(default=1, ge=0, le=100)
    end_of_track: bool = True

    def asks_after(self, completed: int, *, last: bool) -> bool:
        """Whether the ``completed``-th lesson completed (1-based) is followed by a survey."""
        if last and self.end_of_track:
            return True
        return self.every > 0 and completed > 0 and completed % self.every == 0


class CheckinRule(_Strict):
    """When learners of a track are asked whether they applied a lesson at work (level 2).

    ``after_days`` days after a learner completes a lesson, the bot asks whether they have
    applied it (several times, once, not yet, not relevant); ``0`` asks never.
    """

    after_days: int = Field(default=14, ge=0, le=365)


class PracticeRule(_Strict):
    """A "problem -> improvement" rule: a weak lesson gets drill for those below the mark.

    Once a cycle, each lesson of the track whose first-try accuracy over the last
    ``window_days`` (a quarter by default) is below ``below``, on at least
    ``min_answers`` first tries, **fires**: for the next ``cycle_days`` the people whose own
    first tries on it were below the mark get its questions again, before anything else
    within their daily quizzes (``bot.practice``).
    """

    id: str = Field(pattern=ID_PATTERN)
    below: float = Field(gt=0, le=1)
    window_days: int = Field(default=91, ge=7, le=366)
    min_answers: int = Field(default=20, ge=1)
    cycle_days: int = Field(default=28, ge=1, le=183)


class Track(_Strict):
    """A learning path for one role and level."""

    id: str = Field(pattern=ID_PATTERN)
    title: LocalizedText
    description: LocalizedText | None = None
    audience: str = Field(min_length=1)
    level: int = Field(ge=1, le=10)
    pass_threshold: float = Field(gt=0, le=1)
    cadence: Cadence = Field(default_factory=Cadence)
    switchable: bool = False
    """Whether learners may move themselves to this track (``/settings track ID``)."""
    survey: SurveyRule = Field(default_factory=SurveyRule)
    """When its learners are asked to rate a lesson (:class:`SurveyRule`)."""
    checkin: CheckinRule = Field(default_factory=CheckinRule)
    """When its learners are asked whether they applied a lesson (:class:`CheckinRule`)."""
    practice: list[PracticeRule] = Field(default_factory=list)
    """Rules that add drill on weak lessons (:class:`PracticeRule`)."""


class Blackout(_Strict):
    """Dates on which nothing is pushed (business peaks, holidays), ends included."""

    id: str = Field(pattern=ID_PATTERN)
    title: LocalizedText
    start: date
    end: date
    tracks: list[str] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Blackout:
        if self.end < self.start:
            raise field_error("end", f"end {self.end} is before start {self.start}")
        return self

    def covers(self, day: date, track_id: str | None) -> bool:
        """Whether this window blocks pushes on ``day`` for ``track_id``."""
        if not self.start <= day <= self.end:
            return False
        return self.tracks is None or track_id is None or track_id in self.tracks


class Calendar(_Strict):
    """The organisation's training calendar."""

    blackouts: list[Blackout] = Field(default_factory=list)

    def blackout_on(self, day: date, track_id: str | None = None) -> Blackout | None:
        """The blackout window covering ``day`` for ``track_id``, if any."""
        for blackout in self.blackouts:
            if blackout.covers(day, track_id):
                return blackout
        return None


class Lesson(_Strict):
    """A micro-lesson in one language."""

    id: str = Field(pattern=ID_PATTERN)
    track: str
    order: int = Field(ge=0)
    language: Language
    title: str = Field(min_length=1)
    source: str | None = None
    reviewed: date | None = None
    """When a trainer last checked the lesson is still true (``trainbot content reviewed``)."""
    region: str | None = Field(default=None, pattern=ID_PATTERN)
    """Set on a regional variant: people of that region read it instead of the core one."""
    body: str
    path: str
    line: int = 1

    @field_validator("body")
    @classmethod
    def _short(cls, value: str) -> str:
        if not value:
            raise ValueError("lesson body is empty")
        if len(value) > LESSON_MAX_CHARS:
            raise ValueError(
                f"lesson too long: {len(value)} characters (at most {LESSON_MAX_CHARS})"
            )
        return value


class QuestionType(StrEnum):
    """How a question is answered."""

    SINGLE = "single"
    MULTI = "multi"
    TRUE_FALSE = "true_false"


TRUE_FALSE_KEYS = ("true", "false")


class Question(_Strict):
    """A quiz question in one language.

    ``answer`` is normalised to a tuple of option keys; a true/false question uses the keys
    ``true`` and ``false``.
    """

    id: str = Field(pattern=ID_PATTERN)
    language: Language
    track: str
    lesson: str
    type: QuestionType
    prompt: str = Field(min_length=1)
    options: dict[str, str] = Field(default_factory=dict)
    answer: tuple[str, ...]
    explanation: str = Field(min_length=1)
    source: str = Field(min_length=1)
    draft: bool = False
    reviewed: date | None = None
    """When a trainer last checked the question is still true (``trainbot content reviewed``)."""
    region: str | None = Field(default=None, pattern=ID_PATTERN)
    """Set on a regional variant: people of that region answer it instead of the core one."""
    wording: str | None = Field(default=None, pattern=ID_PATTERN)
    """Set on a wording variant (e.g. ``scenario``): the same question asked another way,
    for the people of an experiment's variant with that wording (``form: wording``)."""
    path: str = ""
    line: int = 1

    @field_validator("options", mode="before")
    @classmethod
    def _option_texts(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(key): str(text) for key, text in value.items()}
        return value

    @field_validator("answer", mode="before")
    @classmethod
    def _answer_keys(cls, value: object) -> object:
        if isinstance(value, bool):
            return ("true" if value else "false",)
        if isinstance(value, str | int):
            return (str(value),)
        if isinstance(value, list):
            return tuple(str(item) for item in value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if self.type is QuestionType.TRUE_FALSE:
            if self.options:
                raise field_error("options", "a true_false question takes no options")
            if len(self.answer) != 1 or self.answer[0] not in TRUE_FALSE_KEYS:
                raise field_error("answer", "the answer of a true_false question is true or false")
            return self
        if not self.options:
            raise field_error("options", f"a {self.type.value} question needs options (found none)")
        if len(self.options) < 2:
            raise field_error("options", "a question needs at least 2 options")
        if not self.answer:
            raise field_error("answer", "answer is empty")
        missing = [key for key in self.answer if key not in self.options]
        if missing:
            raise field_error(
                "answer",
                f"answer {', '.join(missing)} is not among the options ({', '.join(self.options)})",
            )
        if self.type is QuestionType.SINGLE and len(self.answer) != 1:
            raise field_error("answer", "a single-choice question has exactly one answer")
        if len(set(self.answer)) != len(self.answer):
            raise field_error("answer", "answer lists a key twice")
        return self

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys a person can choose from, in order."""
        if self.type is QuestionType.TRUE_FALSE:
            return TRUE_FALSE_KEYS
        return tuple(self.options)

    @property
    def material(self) -> str:
        """The material file that ``source`` refers to (without the ``#section``)."""
        return self.source.split("#", 1)[0]


class ExperimentForm(StrEnum):
    """The delivery form an experiment varies; each variant sets the field named alike."""

    PUSH_TIME = "push_time"  # the daily quiz's local time, HH:MM
    SPACING = "spacing"  # the spaced-repetition target retention, 0.70-0.97
    WORDING = "wording"  # how questions are worded: plain (the core) or a wording variant


PLAIN = "plain"
"""The wording of the core questions (an experiment's ``wording: plain`` variant)."""


class ExperimentOutcome(StrEnum):
    """What an experiment measures per unit (docs/evaluation.md)."""

    FIRST_TRY_ACCURACY = "first_try_accuracy"  # a mean: first tries correct, per person
    COMPLETION = "completion"  # a proportion: completed every related lesson sent
    APPLICATION = "application"  # a proportion: reported applying a related lesson


class ExperimentVariant(_Strict):
    """One arm of an experiment."""

    id: str = Field(pattern=ID_PATTERN)
    title: LocalizedText | None = None
    push_time: str | None = Field(default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    retention: float | None = Field(default=None, ge=0.7, le=0.97)
    wording: str | None = Field(default=None, pattern=ID_PATTERN)


class ExperimentPopulation(_Strict):
    """Who takes part: people of these tracks and teams (each ``None``: any)."""

    tracks: list[str] | None = None
    teams: list[str] | None = None


class Experiment(_Strict):
    """An A/B test of a delivery form (``content/experiments.yaml``).

    Units (people, or whole teams when one person's variant could spill over to their
    teammates) are assigned to a variant at random, once, balanced, and recorded
    (``bot.experiments``). The first variant is the control the others are compared with.
    """

    id: str = Field(pattern=ID_PATTERN)
    title: LocalizedText
    hypothesis: LocalizedText | None = None
    population: ExperimentPopulation = Field(default_factory=ExperimentPopulation)
    unit: Literal["person", "team"] = "person"
    form: ExperimentForm
    variants: list[ExperimentVariant] = Field(min_length=2, max_length=4)
    outcome: ExperimentOutcome
    lessons: list[str] | None = None
    """The lessons the outcome is read on (their questions, their completion); ``None``:
    every lesson of the population's tracks."""
    after_days: int = Field(default=0, ge=0, le=180)
    """First tries count from this many days after the person's assignment (the form has
    had time to act); for ``first_try_accuracy``."""
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    power: float = Field(default=0.8, ge=0.5, lt=1)
    start: date
    end: date
    line: int = 1

    @field_validator("variants")
    @classmethod
    def _variants_of_the_form(
        cls, variants: list[ExperimentVariant], info: ValidationInfo
    ) -> list[ExperimentVariant]:
        ids = [variant.id for variant in variants]
        if len(set(ids)) != len(ids):
            raise ValueError(f"ids must differ, got {', '.join(ids)}")
        form = info.data.get("form")
        if form is None:
            return variants  # the form's own error is reported
        field_name = {
            ExperimentForm.PUSH_TIME: "push_time",
            ExperimentForm.SPACING: "retention",
            ExperimentForm.WORDING: "wording",
        }[form]
        for variant in variants:
            values = variant.model_dump(exclude={"id", "title"}, exclude_none=True)
            if set(values) != {field_name}:
                raise ValueError(
                    f"variant {variant.id}: the variants of an experiment on {form.value} set "
                    f"{field_name} and nothing else"
                )
        if len({str(variant.model_dump()[field_name]) for variant in variants}) != len(variants):
            raise ValueError(f"two variants set the same {field_name}: nothing would differ")
        return variants

    @model_validator(mode="after")
    def _dates_in_order(self) -> Experiment:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def active_on(self, day: date) -> bool:
        """Whether the experiment runs on ``day`` (start and end included)."""
        return self.start <= day <= self.end


@dataclass
class Course:
    """A whole, validated content directory."""

    tracks: dict[str, Track]
    lessons: dict[tuple[str, str], Lesson]
    questions: dict[tuple[str, str], Question]
    calendar: Calendar
    drafts: dict[tuple[str, str], Question] = field(default_factory=dict)
    materials: list[str] = field(default_factory=list)
    experiments: dict[str, Experiment] = field(default_factory=dict)
    regional_lessons: dict[tuple[str, str, str], Lesson] = field(default_factory=dict)
    """Regional variants by (lesson id, language, region); the core ones are ``lessons``."""
    regional_questions: dict[tuple[str, str, str], Question] = field(default_factory=dict)
    """Regional variants by (question id, language, region)."""
    worded_questions: dict[tuple[str, str, str], Question] = field(default_factory=dict)
    """Wording variants by (question id, language, wording)."""

    def lesson_ids(self, track_id: str) -> list[str]:
        """The lessons of a track in order (each id once, whatever its languages)."""
        orders: dict[str, int] = {}
        for (lesson_id, _), lesson in self.lessons.items():
            if lesson.track == track_id:
                orders[lesson_id] = lesson.order
        return sorted(orders, key=lambda lesson_id: (orders[lesson_id], lesson_id))

    def lesson(self, lesson_id: str, language: str, region: str | None = None) -> Lesson | None:
        """A lesson in ``language``, else in the other language; the ``region``'s variant
        when it has one in that language, else the core lesson ("one core, local cases")."""
        return _regional(self.lessons, self.regional_lessons, lesson_id, language, region)

    def question(
        self,
        question_id: str,
        language: str,
        region: str | None = None,
        wording: str | None = None,
    ) -> Question | None:
        """A published question in ``language``, else in the other language; the
        ``region``'s variant when it has one in that language, else the core question.

        With a ``wording`` (an experiment's, other than ``plain``), that wording's variant
        when the question has one in the language found; it takes the place of a regional
        variant (a wording variant is written once for every region)."""
        found = _regional(self.questions, self.regional_questions, question_id, language, region)
        if found is None or wording is None or wording == PLAIN:
            return found
        return self.worded_questions.get((question_id, found.language, wording), found)

    def every_lesson(self) -> list[Lesson]:
        """Every lesson file: the core lessons and their regional variants."""
        return [*self.lessons.values(), *self.regional_lessons.values()]

    def every_question(self) -> list[Question]:
        """Every published question entry: the core ones, their regional and wording
        variants."""
        return [
            *self.questions.values(),
            *self.regional_questions.values(),
            *self.worded_questions.values(),
        ]

    def has_wording(self, question_id: str, wording: str) -> bool:
        """Whether the question has a ``wording`` variant (in any language)."""
        return any(key[0] == question_id and key[2] == wording for key in self.worded_questions)

    def regions(self) -> list[str]:
        """The regions some lesson or question has a variant for."""
        return sorted(
            {key[2] for key in self.regional_lessons} | {key[2] for key in self.regional_questions}
        )

    def question_ids(self, lesson_id: str) -> list[str]:
        """The published questions of a lesson, in file order, each id once."""
        seen: dict[str, None] = {}
        for (question_id, _), question in self.questions.items():
            if question.lesson == lesson_id:
                seen.setdefault(question_id)
        return list(seen)

    def counts(self) -> dict[str, int]:
        """How much content there is, for ``trainbot validate``."""
        return {
            "tracks": len(self.tracks),
            "lessons": len({lesson_id for lesson_id, _ in self.lessons}),
            "lesson_files": len(self.lessons),
            "questions": len({question_id for question_id, _ in self.questions}),
            "question_entries": len(self.questions),
            "drafts": len(self.drafts),
            "blackouts": len(self.calendar.blackouts),
            "materials": len(self.materials),
            "experiments": len(self.experiments),
            "regional_variants": len(self.regional_lessons) + len(self.regional_questions),
            "wording_variants": len(self.worded_questions),
        }


def _regional(
    core: dict[tuple[str, str], T],
    regional: dict[tuple[str, str, str], T],
    item_id: str,
    language: str,
    region: str | None,
) -> T | None:
    """The language first, then the region: a reader in region R reading English gets R's
    English variant, else the core English one, and only then another language."""
    if region is None:
        return _localised(core, item_id, language)
    for wanted in (language, *(other for other in LANGUAGES if other != language)):
        found = regional.get((item_id, wanted, region)) or core.get((item_id, wanted))
        if found is not None:
            return found
    return None


def _localised(items: dict[tuple[str, str], T], item_id: str, language: str) -> T | None:
    found = items.get((item_id, language))
    if found is not None:
        return found
    for other in LANGUAGES:
        found = items.get((item_id, other))
        if found is not None:
            return found
    return None
