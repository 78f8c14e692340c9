"""Asking the course materials: answer with citations, or say so and log a content gap.

Before anything is searched, the intent step (bot.intent) reads what was said: small talk
gets a friendly reply and a hint, and a typed quiz choice answers the pending quiz. Neither
is searched nor logged as a question, so neither becomes a content gap, and neither is a
turn a follow-up can lean on.

A question is read with the person's last questions in the same conversation
(bot.followups): a follow-up ("那经理呢？") is searched, stored and remembered as the
standalone question it stands for.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from bot import metrics
from bot.events import Button, ButtonPress, ConversationKind, Event, Reply, Text
from bot.followups import recent_turns, remember_turn
from bot.handlers.basics import language_for
from bot.handlers.learning import typed_answer
from bot.i18n import t
from bot.intent import Intent, IntentKind, classify
from bot.payloads import AnswerFeedback
from bot.people import ensure_known, find_person
from bot.qa import KnowledgeDamaged, KnowledgeUnavailable
from bot.store.models import AskedQuestion
from bot.views import answer_language, render_answer
from knowledge.followup import Turn
from knowledge.search import query_text
from knowledge.types import Answer

if TYPE_CHECKING:
    from bot.context import BotContext

logger = logging.getLogger(__name__)


def _sources_payload(answer: Answer) -> dict[str, object]:
    return {
        "items": [
            {
                "title": hit.chunk.title,
                "path": hit.chunk.path,
                "section": hit.chunk.section,
                "score": round(hit.score, 6),
            }
            for hit in answer.sources
        ]
    }


def small_talk_reply(intent: Intent, language: str) -> Reply:
    """The friendly answer to small talk: a word for its kind, then how to ask."""
    if intent.kind is IntentKind.CHOICE:
        return Reply(t(language, "choice_no_quiz"), in_thread=True)
    said = t(language, f"smalltalk_{intent.kind.value}")
    return Reply(f"{said}\n{t(language, 'smalltalk_hint')}", in_thread=True)


def _counted(outcome: str, started: float, replies: list[Reply]) -> list[Reply]:
    """``replies``, once the question is counted by outcome with the time it took."""
    metrics.question(outcome, time.perf_counter() - started)
    return replies


def ask(ctx: BotContext, event: Event, question: str) -> list[Reply]:
    """Answer ``question`` for the person behind ``event`` and log it.

    A typed answer to a pending quiz is graded; small talk and a choice with no quiz
    waiting get a short reply; only a question is searched and stored (and counted in
    the metrics, :mod:`bot.metrics`).
    """
    started = time.perf_counter()
    language = language_for(ctx, event)
    question = question.strip()
    if not question:
        return [Reply(t(language, "ask_usage"))]
    intent = classify(question, language)
    # Only a message in the private chat, where quizzes are sent, answers one: "/ask B" is
    # a question about B, and a "B" in a group is not meant for the person's quiz. An
    # option's text is short, so a long message is not looked up against the quiz.
    direct = event.conversation.kind is ConversationKind.DIRECT
    if isinstance(event, Text) and direct and len(question) <= 200:
        graded = typed_answer(ctx, event, question, intent.choice)
        if graded is not None:
            return graded
    if intent.kind is IntentKind.CHOICE and not direct:
        intent = Intent(IntentKind.NOISE)
    if intent.kind is not IntentKind.QUESTION:
        logger.debug("small talk (%s): not searched", intent.kind)
        return [small_talk_reply(intent, language)]
    language = answer_language(question, language)  # an English question reads English
    if ctx.knowledge is None:
        return _counted(metrics.UNAVAILABLE, started, [Reply(t(language, "knowledge_unavailable"))])
    minutes = ctx.settings.followup_minutes
    history: list[Turn] = []
    if minutes > 0:
        with ctx.db.session() as session:
            known = find_person(session, event.person)
            if known is not None:
                history = recent_turns(
                    session, known.id, event.conversation, now=ctx.clock.now(), minutes=minutes
                )
    try:
        answer = ctx.knowledge.ask(question, history, reply_language=language)
    except KnowledgeDamaged:  # the service logs the cause once, not per question
        return _counted(metrics.UNAVAILABLE, started, [Reply(t(language, "knowledge_rebuilding"))])
    except KnowledgeUnavailable as exc:
        logger.error("cannot answer: %s", exc)
        return _counted(metrics.UNAVAILABLE, started, [Reply(t(language, "knowledge_unavailable"))])
    with ctx.db.session() as session:
        person = ensure_known(
            session,
            event.person,
            now=ctx.clock.now(),
            default_language=ctx.settings.language,
            default_timezone=ctx.settings.timezone,
        )
        asked = AskedQuestion(
            person_id=person.id,
            team_id=person.team_id,
            # What was searched: a follow-up rewritten into a standalone question, a long
            # message cut (query_text); the content-gap list reads it without the chat.
            text=answer.question,
            language=answer.language,
            answered=answer.answered,
            confidence=answer.confidence,
            answer=answer.text or None,
            sources=_sources_payload(answer),
            asked_at=ctx.clock.now(),
        )
        session.add(asked)
        session.flush()
        asked_id = asked.id
        remember_turn(
            session,
            person.id,
            event.conversation,
            question=answer.question,
            answer=answer.text,
            now=ctx.clock.now(),
            minutes=minutes,
        )
    # A rewritten follow-up says how it was read, so a wrong guess is seen, not hidden.
    read_as = ""
    if history and answer.question != query_text(question):
        read_as = t(language, "followup_read_as", question=answer.question) + "\n"
    if not answer.answered:
        return _counted(
            metrics.DECLINED, started, [Reply(read_as + t(language, "not_covered"), in_thread=True)]
        )
    buttons = (
        (
            Button(t(language, "feedback_up"), AnswerFeedback(asked_id, helpful=True).encode()),
            Button(t(language, "feedback_down"), AnswerFeedback(asked_id, helpful=False).encode()),
        ),
    )
    reply = Reply(read_as + render_answer(answer, language), buttons=buttons, in_thread=True)
    return _counted(metrics.ANSWERED, started, [reply])


def feedback(ctx: BotContext, event: ButtonPress, payload: AnswerFeedback) -> list[Reply]:
    """Record 👍/👎 on an answer; only the person who asked can rate it."""
    language = language_for(ctx, event)
    with ctx.db.session() as session:
        asked = session.get(AskedQuestion, payload.asked_id)
        person = find_person(session, event.person)
        if asked is None or person is None or asked.person_id != person.id:
            return [Reply(t(language, "stale_button"))]
        asked.feedback = 1 if payload.helpful else -1
        asked.feedback_at = ctx.clock.now()
        language = answer_language(asked.text, language)  # as the answer's buttons were
    return [Reply(t(language, "feedback_thanks"))]
