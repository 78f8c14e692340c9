"""Lessons and quizzes in chat: rendering them, answering, /quiz and /progress."""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import events, surveys
from bot.events import ButtonPress, Command, Reply
from bot.experiments import delivered_wording, forms_for, quiz_selection
from bot.handlers.basics import language_for
from bot.i18n import LANGUAGES, language_from_locale, t
from bot.learning import (
    PushDays,
    answer_counts,
    claim,
    learner_state,
    local_date,
    next_on_demand_slot,
    record_answer,
    streak,
)
from bot.payloads import (
    LessonPayload,
    LessonQuiz,
    QuizAnswer,
    QuizPayload,
    QuizSubmit,
    QuizToggle,
)
from bot.people import find_person, spoken_language
from bot.store.models import Delivery, DeliveryKind, DeliveryStatus, Person
from bot.views import (
    answer_feedback,
    quiz_reply,
    render_delivery,
)
from quizzes.content import Question, QuestionType
from quizzes.grading import grade, option_label, toggle
from quizzes.selection import next_quiz, track_progress, upcoming_reviews

if TYPE_CHECKING:
    from bot.context import BotContext

logger = logging.getLogger(__name__)


def _spoken(ctx: BotContext, event: ButtonPress, person: Person | None) -> str:
    """The person's stored language, else one chosen from their platform locale."""
    return spoken_language(person, event.person, ctx.settings.language)


def lesson_button(ctx: BotContext, event: ButtonPress, payload: LessonPayload) -> list[Reply]:
    """ "Got it" or "Quiz me" under a lesson (one transaction)."""
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        language = _spoken(ctx, event, person)
        delivery = session.get(Delivery, payload.delivery_id)
        if delivery is None or delivery.kind is not DeliveryKind.LESSON or person is None:
            return [Reply(t(language, "stale_button"))]
        if delivery.person_id != person.id:
            return [Reply(t(language, "answer_not_yours"))]
        survey = None
        if delivery.status in (DeliveryStatus.SENT, DeliveryStatus.CLAIMED):
            delivery.status = DeliveryStatus.COMPLETED
            delivery.completed_at = ctx.clock.now()
            survey = surveys.offer(
                session,
                ctx.library.course,
                person,
                delivery,
                now=ctx.clock.now(),
                quiet=ctx.settings.quiet,
                fallback_timezone=ctx.settings.timezone,
            )
    asked = [survey] if survey is not None else []
    if not isinstance(payload, LessonQuiz):
        return [Reply(t(language, "lesson_noted")), *asked]
    # The quiz asked for comes last: it is what the person acts on next (a typed answer
    # answers it), the survey above it waits for a tap.
    return [*asked, *deliver_quiz_now(ctx, event.person, language)]


def quiz_button(ctx: BotContext, event: ButtonPress, payload: QuizPayload) -> list[Reply]:
    """An answer, a tick or a submit on a quiz question: one transaction per press."""
    spoken = [language_from_locale(event.person.locale, ctx.settings.language)]
    try:
        with ctx.db.session() as session:
            return _quiz_press(ctx, session, event, payload, spoken)
    except IntegrityError:
        # Two presses raced past the status check; the store kept exactly one attempt.
        return [Reply(t(spoken[0], "answer_already"))]


def _quiz_press(
    ctx: BotContext,
    session: Session,
    event: ButtonPress,
    payload: QuizPayload,
    spoken: list[str],
) -> list[Reply]:
    person = find_person(session, event.person)
    language = spoken[0] = _spoken(ctx, event, person)
    # Locked for the transaction (on PostgreSQL): a double click waits for the first press.
    delivery = session.get(Delivery, payload.delivery_id, with_for_update=True)
    if delivery is None or delivery.kind is not DeliveryKind.QUIZ or delivery.item_id is None:
        return [Reply(t(language, "stale_button"))]
    if person is None or delivery.person_id != person.id:
        return [Reply(t(language, "answer_not_yours"))]
    if delivery.status is DeliveryStatus.ANSWERED:
        return [Reply(t(language, "answer_already"))]
    if delivery.status is not DeliveryStatus.SENT:
        return [Reply(t(language, "stale_button"))]
    # The person's region's variant, in the wording the push showed (variants share the
    # answer, so grading is the same; the explanation is the shown wording's).
    question = ctx.library.course.question(
        delivery.item_id,
        delivery.language or language,
        person.region,
        delivered_wording(delivery.selection),
    )
    if question is None:  # the question was removed from the course since it was sent
        return [Reply(t(language, "stale_button"))]
    multi = question.type is QuestionType.MULTI
    if isinstance(payload, QuizToggle) and multi:
        if payload.key not in question.keys:
            return [Reply(t(language, "stale_button"))]
        current = tuple((delivery.selection or {}).get("keys", []))
        selection = toggle(current, payload.key, question)
        # The ticked keys, beside the wording the quiz was shown in (if any).
        delivery.selection = {**(delivery.selection or {}), "keys": list(selection)}
        reply = quiz_reply(question, delivery.id, language, selection)
        # Edit the question in place where the platform can; the console shows it again.
        return [Reply(reply.text, buttons=reply.buttons, edit_ref=event.message_ref)]
    if isinstance(payload, QuizSubmit) and multi:
        chosen = list((delivery.selection or {}).get("keys", []))
    elif isinstance(payload, QuizAnswer) and not multi:
        chosen = [payload.key]
    else:
        return [Reply(t(language, "stale_button"))]
    try:
        correct = grade(question, chosen)
    except ValueError:
        return [Reply(t(language, "stale_button"))]
    now = ctx.clock.now()
    today = now.astimezone(ZoneInfo(ctx.settings.timezone)).date()
    forms = forms_for(session, ctx.library.course, [person], now=now, today=today)
    retention = forms[person.id].retention if person.id in forms else None
    record_answer(session, delivery, chosen=chosen, correct=correct, now=now, retention=retention)
    replies = [answer_feedback(question, correct, language)]
    if event.message_ref:
        closed = quiz_reply(question, delivery.id, language, tuple(chosen))
        replies.insert(0, Reply(closed.text, edit_ref=event.message_ref))
    return replies


def _plain(text: str) -> str:
    """Text compared loosely: full-width folded, case and spacing and end punctuation gone."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split()).strip(" .。!！?？,，;；:：、")


def _typed_key(question: Question, text: str, choice: int | None) -> str | None:
    """The option key ``text`` names: by position (``B``, ``2``), key, or option text."""
    if choice is not None:
        return question.keys[choice] if choice < len(question.keys) else None
    said = _plain(text)
    for key in question.keys:
        names = {key, *(option_label(question, key, spoken) for spoken in LANGUAGES)}
        if key in question.options:
            names.add(question.options[key])
        if said in {_plain(name) for name in names}:
            return key
    return None


def pending_quiz(session: Session, person: Person) -> Delivery | None:
    """The person's most recently sent quiz question that is still unanswered, if any."""
    return session.scalars(
        select(Delivery)
        .where(
            Delivery.person_id == person.id,
            Delivery.kind == DeliveryKind.QUIZ,
            Delivery.status == DeliveryStatus.SENT,
        )
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
        .limit(1)
    ).first()


def typed_answer(
    ctx: BotContext, event: events.Event, text: str, choice: int | None
) -> list[Reply] | None:
    """Answer the pending quiz with a typed ``A``-``D`` / ``1``-``4`` or option text.

    The typed answer goes through the same path as pressing the option's button
    (:func:`quiz_button`: one transaction, a second answer counts once). On a multi-select
    question it ticks the option, as its button does.

    Args:
        ctx: the bot context.
        event: the message.
        text: what was typed.
        choice: the option position the intent step read (``B`` → 1), if any.

    Returns:
        The replies, or ``None`` when the message answers no pending quiz.
    """
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        delivery = None if person is None else pending_quiz(session, person)
        if person is None or delivery is None or delivery.item_id is None:
            return None
        language = person.language
        question = ctx.library.course.question(
            delivery.item_id,
            delivery.language or language,
            person.region,
            delivered_wording(delivery.selection),
        )
        if question is None:
            return None
        delivery_id = delivery.id
    key = _typed_key(question, text, choice)
    if key is None:
        if choice is None:  # not an answer at all: an ordinary message
            return None
        letters = "/".join("ABCDEFGH"[: len(question.keys)])
        return [Reply(t(language, "choice_out_of_range", choices=letters))]
    payload: QuizPayload = (
        QuizToggle(delivery_id, key)
        if question.type is QuestionType.MULTI
        else QuizAnswer(delivery_id, key)
    )
    press = ButtonPress(event.person, event.conversation, payload.encode())
    return quiz_button(ctx, press, payload)


def quiz_command(ctx: BotContext, event: Command) -> list[Reply]:
    """/quiz: the next item now (a due review, a new question, or the next lesson)."""
    return deliver_quiz_now(ctx, event.person, language_for(ctx, event))


def deliver_quiz_now(ctx: BotContext, who: events.Person, language: str) -> list[Reply]:
    """Pick and deliver the next item on demand, through the same claim as pushes."""
    course = ctx.library.course
    now = ctx.clock.now()
    with ctx.db.session() as session:
        person = find_person(session, who)
        if person is None or person.enrolled_at is None or not person.track_id:
            return [Reply(t(language, "not_enrolled"))]
        state = learner_state(session, person, now)
        pick = next_quiz(course, state, now)
        if pick is None:
            return [Reply(t(person.language, "quiz_nothing_due"))]
        day = local_date(person, now, fallback_timezone=ctx.settings.timezone)
        slot = next_on_demand_slot(session, person, day)
        kind = DeliveryKind.LESSON if pick.kind == "lesson" else DeliveryKind.QUIZ
        delivery = claim(
            session, person, kind=kind, day=day, slot=slot, item_id=pick.item_id, now=now
        )
        if delivery is None:  # a concurrent /quiz took this slot; ask again
            return [Reply(t(person.language, "stale_button"))]
        if kind is DeliveryKind.QUIZ:  # a wording experiment's variant, as pushes have it
            today = now.astimezone(ZoneInfo(ctx.settings.timezone)).date()
            forms = forms_for(session, course, [person], now=now, today=today)
            delivery.selection = quiz_selection(course, pick.item_id, forms.get(person.id))
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.send_attempts = 1
        return render_delivery(
            course, delivery, person.language, lesson_intro=True, region=person.region
        )


def progress(ctx: BotContext, event: Command) -> list[Reply]:
    """/progress: streak, accuracy, reviews due and track progress."""
    language = language_for(ctx, event)
    course = ctx.library.course
    now: datetime = ctx.clock.now()
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        if person is None or person.enrolled_at is None or not person.track_id:
            return [Reply(t(language, "not_enrolled"))]
        state = learner_state(session, person, now)
        attempts, correct = answer_counts(session, person)
        done, total = track_progress(course, state)
        track = course.tracks.get(person.track_id)
        text = t(
            person.language,
            "progress",
            track=track.title.get(person.language) if track else person.track_id,
            lessons_done=done,
            lessons_total=total,
            streak=streak(
                session,
                person,
                now,
                push_days=PushDays.of(ctx.settings.working_days, course),
                fallback_timezone=ctx.settings.timezone,
            ),
            attempts=attempts,
            accuracy=f"{correct / attempts:.0%}" if attempts else "—",
            due=upcoming_reviews(state, now, within=timedelta(0)),
        )
    return [Reply(text)]
