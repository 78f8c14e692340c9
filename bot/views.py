"""How lessons, quizzes and answers look in chat: shared by the handlers and the pushes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.events import Button, Reply
from bot.experiments import delivered_wording
from bot.i18n import t
from bot.payloads import (
    CHECKIN_ANSWERS,
    OBSERVATION_ANSWERS,
    CheckinAnswer,
    LessonDone,
    LessonQuiz,
    ObservationAnswer,
    QuizAnswer,
    QuizSubmit,
    QuizToggle,
)
from bot.store.models import Application, Delivery, DeliveryKind
from knowledge.tokenize import clear_language, detect_language
from knowledge.types import Answer
from quizzes.content import Course, Lesson, Question, QuestionType
from quizzes.grading import option_label

_CITATION = re.compile(r"\[(\d{1,2})\]")
SECTION_SEPARATOR = " › "
"""Between a document's title and its section path, and between the section's headings."""

_SHORT_LABEL = 28


def lesson_reply(lesson: Lesson, delivery_id: int, language: str) -> Reply:
    """A micro-lesson with its "Got it" / "Quiz me" buttons."""
    text = f"{t(language, 'lesson_header', title=lesson.title)}\n\n{lesson.body}"
    buttons = (
        (
            Button(t(language, "lesson_done"), LessonDone(delivery_id).encode()),
            Button(t(language, "lesson_quiz"), LessonQuiz(delivery_id).encode()),
        ),
    )
    return Reply(text, buttons=buttons)


def quiz_reply(
    question: Question, delivery_id: int, language: str, selection: tuple[str, ...] = ()
) -> Reply:
    """A quiz question: the options in the text, one button per option.

    Multi-select questions get toggle buttons (☐/☑) and a Submit button.
    """
    lines = [t(language, "quiz_header"), question.prompt]
    if question.type is QuestionType.MULTI:
        lines.append(t(language, "quiz_multi_hint"))
    labels = {key: option_label(question, key, language) for key in question.keys}
    if question.type is not QuestionType.TRUE_FALSE:
        lines.extend(labels[key] for key in question.keys)
    short = all(len(label) <= _SHORT_LABEL for label in labels.values())
    buttons: list[tuple[Button, ...]] = []
    for key in question.keys:
        label = labels[key] if short or question.type is QuestionType.TRUE_FALSE else key
        if question.type is QuestionType.MULTI:
            mark = "☑" if key in selection else "☐"
            buttons.append((Button(f"{mark} {label}", QuizToggle(delivery_id, key).encode()),))
        else:
            buttons.append((Button(label, QuizAnswer(delivery_id, key).encode()),))
    if question.type is QuestionType.MULTI:
        buttons.append((Button(t(language, "quiz_submit"), QuizSubmit(delivery_id).encode()),))
    return Reply("\n".join(lines), buttons=tuple(buttons))


def answer_feedback(question: Question, correct: bool, language: str) -> Reply:
    answer = "; ".join(option_label(question, key, language) for key in question.answer)
    verdict = (
        t(language, "answer_correct") if correct else t(language, "answer_wrong", answer=answer)
    )
    source = t(language, "answer_source", source=question.source.replace("#", SECTION_SEPARATOR))
    return Reply(f"{verdict}\n{question.explanation}\n{source}")


def answer_label(answer: Application, language: str) -> str:
    """A check-in's or an observation's answer as its button says it."""
    prefix = "observation" if answer.value in OBSERVATION_ANSWERS else "checkin"
    return t(language, f"{prefix}_{answer.value}")


def checkin_reply(title: str, days: int, delivery_id: int, language: str) -> Reply:
    """ "N days ago you completed …: have you applied it?" with its four answers."""
    buttons = tuple(
        (
            Button(
                answer_label(Application(answer), language),
                CheckinAnswer(delivery_id, answer).encode(),
            ),
        )
        for answer in CHECKIN_ANSWERS
    )
    return Reply(t(language, "checkin_ask", days=days, lesson=title), buttons=buttons)


@dataclass(frozen=True)
class Checklist:
    """An observation checklist as it stands: whom it is about, each lesson's answer so far."""

    delivery_id: int
    subject_name: str
    lessons: Sequence[tuple[str, Application | None]]
    """(title, the observer's answer or ``None``) in the checklist's order."""


def checklist_reply(checklist: Checklist, language: str, *, edit_ref: str | None = None) -> Reply:
    """The checklist: one row per lesson; rows not answered yet carry their three buttons.

    Buttons are numbered by row ("1 ✅ seen") rather than titled: a title would not fit a
    button, and the payload names the row by its place (Telegram allows 64 bytes).
    """
    lines = [t(language, "observation_ask", name=checklist.subject_name)]
    buttons: list[tuple[Button, ...]] = []
    for index, (title, answer) in enumerate(checklist.lessons):
        number = index + 1
        if answer is None:
            lines.append(f"{number}. {title}")
            buttons.append(
                tuple(
                    Button(
                        f"{number} {answer_label(Application(choice), language)}",
                        ObservationAnswer(checklist.delivery_id, index, choice).encode(),
                    )
                    for choice in OBSERVATION_ANSWERS
                )
            )
        else:
            lines.append(f"{number}. {title} — {answer_label(answer, language)}")
    if not buttons:
        lines.append(t(language, "observation_done"))
    return Reply("\n".join(lines), buttons=tuple(buttons), edit_ref=edit_ref)


def render_delivery(
    course: Course,
    delivery: Delivery,
    language: str,
    *,
    lesson_intro: bool = False,
    region: str | None = None,
) -> list[Reply]:
    """What a delivery looks like in chat (used by /quiz and by the dispatcher).

    ``region`` is the person's: their region's variant of a lesson or question when the
    course has one ("one core, local cases"), else the core one. A quiz claimed for a
    wording experiment's variant is shown in the wording it recorded.

    An observation checklist reads the store (whom it is about, the answers so far): the
    dispatcher renders it with :func:`bot.observations.checklist` and
    :func:`checklist_reply` instead.
    """
    assert delivery.item_id is not None
    if delivery.kind is DeliveryKind.OBSERVATION:
        raise ValueError("an observation checklist is rendered from the store")
    if delivery.kind is DeliveryKind.CHECKIN:
        lesson = course.lesson(delivery.item_id, delivery.language or language, region)
        days = checkin_days(delivery)
        if lesson is None or days is None:
            return []
        return [checkin_reply(lesson.title, days, delivery.id, language)]
    if delivery.kind is DeliveryKind.LESSON:
        lesson = course.lesson(delivery.item_id, delivery.language or language, region)
        if lesson is None:
            return []
        replies = [lesson_reply(lesson, delivery.id, language)]
        if lesson_intro:
            replies.insert(0, Reply(t(language, "quiz_lesson_first")))
        return replies
    question = course.question(
        delivery.item_id,
        delivery.language or language,
        region,
        delivered_wording(delivery.selection),  # a wording experiment's variant, if any
    )
    if question is None:
        return []
    return [quiz_reply(question, delivery.id, language)]


def checkin_days(delivery: Delivery) -> int | None:
    """How many days before the check-in's day its lesson was completed (as claimed)."""
    completed = (delivery.selection or {}).get("completed_on")
    if not isinstance(completed, str):
        return None
    try:
        return (delivery.local_date - date.fromisoformat(completed)).days
    except ValueError:
        return None


def source_label(title: str, section: str) -> str:
    """Where a passage is: its title and section path, with one separator throughout."""
    parts = [title, *(heading.strip() for heading in section.split(" > "))] if section else [title]
    return SECTION_SEPARATOR.join(part for part in parts if part)


def answer_language(question: str, spoken: str) -> str:
    """The language of every fixed text around an answer to ``question``.

    The question's language when it is clear (:func:`knowledge.tokenize.clear_language`):
    someone who asks in English reads the header, the source labels, the buttons and the
    not-covered reply in English, whatever language their profile holds. A question that
    does not say (``NPS?``, ``LTV``) gets ``spoken``, the person's own language
    (:func:`bot.people.spoken_language`).
    """
    return clear_language(question) or spoken


def _only_other_language(text: str, language: str) -> bool:
    """Whether no line of the answer is in ``language`` (lines without words don't count)."""
    lines = [_CITATION.sub("", line) for line in text.splitlines()]
    worded = [line for line in lines if any(char.isalpha() for char in line)]
    return bool(worded) and all(detect_language(line) != language for line in worded)


def render_answer(answer: Answer, language: str) -> str:
    """The reply text: the answer, then the sources it cites by title and section.

    Only sources the text cites are listed, each once (two passages of one section are one
    source), numbered in the order the text first cites them; the text's ``[n]`` marks are
    renumbered to match. A source the text never cites is not listed. When no line of the
    answer is in ``language`` (the materials hold the evidence only in the other language
    and no chat model wrote the answer in the asker's), the header says so.
    """
    labels = [
        (source_label(hit.chunk.title, hit.chunk.section), hit.chunk.path) for hit in answer.sources
    ]
    numbers: dict[tuple[str, str], int] = {}
    renumbered: dict[int, int] = {}
    for match in _CITATION.finditer(answer.text):
        cited = int(match.group(1))
        if not 1 <= cited <= len(labels) or cited in renumbered:
            continue
        renumbered[cited] = numbers.setdefault(labels[cited - 1], len(numbers) + 1)

    def mark(match: re.Match[str]) -> str:
        cited = int(match.group(1))
        return f"[{renumbered[cited]}]" if cited in renumbered else match.group(0)

    text = _CITATION.sub(mark, answer.text)
    # One source cited twice in a row ("… [1] [1]") reads as once.
    text = re.sub(r"(\[\d+\])(?:\s*\1)+", r"\1", text)
    intro = "answer_only_other_language" if _only_other_language(text, language) else "answer_intro"
    lines = [t(language, intro), text, "", t(language, "sources_heading")]
    for (where, path), number in numbers.items():
        lines.append(f"[{number}] {where} ({path})")
    return "\n".join(lines)
