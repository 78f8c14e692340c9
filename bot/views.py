"""How lessons, quizzes and answers look in chat: shared by the handlers and the pushes."""

from __future__ import annotations

from bot.events import Button, Reply
from bot.i18n import t
from bot.payloads import LessonDone, LessonQuiz, QuizAnswer, QuizSubmit, QuizToggle
from bot.store.models import Delivery, DeliveryKind
from knowledge.types import Answer
from quizzes.content import Course, Lesson, Question, QuestionType
from quizzes.grading import option_label

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
    source = t(language, "answer_source", source=question.source.replace("#", " › "))
    return Reply(f"{verdict}\n{question.explanation}\n{source}")


def render_delivery(
    course: Course, delivery: Delivery, language: str, *, lesson_intro: bool = False
) -> list[Reply]:
    """What a delivery looks like in chat (used by /quiz and by the dispatcher)."""
    assert delivery.item_id is not None
    if delivery.kind is DeliveryKind.LESSON:
        lesson = course.lesson(delivery.item_id, delivery.language or language)
        if lesson is None:
            return []
        replies = [lesson_reply(lesson, delivery.id, language)]
        if lesson_intro:
            replies.insert(0, Reply(t(language, "quiz_lesson_first")))
        return replies
    question = course.question(delivery.item_id, delivery.language or language)
    if question is None:
        return []
    return [quiz_reply(question, delivery.id, language)]


def render_answer(answer: Answer, language: str) -> str:
    """The reply text: the answer, then the cited sources by title and section."""
    lines = [t(language, "answer_intro"), answer.text, "", t(language, "sources_heading")]
    for number, hit in enumerate(answer.sources, start=1):
        where = " › ".join(part for part in (hit.chunk.title, hit.chunk.section) if part)
        lines.append(f"[{number}] {where} ({hit.chunk.path})")
    return "\n".join(lines)
