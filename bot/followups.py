"""The last questions of each conversation, so a follow-up can lean on the one before.

"那经理呢？" or "and for managers?" means nothing alone: it is read against the person's
previous question in the same conversation (their private chat, a Telegram group or
forum topic, a Slack thread, a console session). :func:`recent_turns` gives those turns to
the answerer (``knowledge.followup`` rewrites the follow-up into a standalone question),
:func:`remember_turn` stores the question as searched once it is answered.

The turns are personal data kept for a short while: only turns younger than
``TRAINBOT_FOLLOWUP_MINUTES`` are ever read, older ones are deleted at the next question
(anyone's), by the retention purge and with the person (``bot.privacy``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.events import Conversation
from bot.store.models import ConversationTurn
from knowledge.followup import Turn

logger = logging.getLogger(__name__)

KEEP_TURNS = 3
"""Turns kept per person and conversation: the rule reads the last one, a chat model all."""
ANSWER_CHARS = 600
"""How much of an answer is kept for a chat model's history (enough for its topic)."""


def conversation_key(conversation: Conversation) -> str:
    """One conversation as the store names it: platform, chat and thread.

    Two Slack threads of one channel, or a Telegram group and the private chat, are
    different conversations: a follow-up in one never leans on a question in another.
    """
    parts = [conversation.platform, conversation.chat_id]
    if conversation.thread_id:
        parts.append(conversation.thread_id)
    return ":".join(parts)[:200]


def _window_start(now: datetime, minutes: int) -> datetime:
    return now - timedelta(minutes=minutes)


def recent_turns(
    session: Session, person_id: int, conversation: Conversation, *, now: datetime, minutes: int
) -> list[Turn]:
    """The person's turns in this conversation from the last ``minutes``, oldest first."""
    if minutes <= 0:
        return []
    rows = session.scalars(
        select(ConversationTurn)
        .where(
            ConversationTurn.person_id == person_id,
            ConversationTurn.conversation == conversation_key(conversation),
            ConversationTurn.asked_at >= _window_start(now, minutes),
        )
        .order_by(ConversationTurn.asked_at.desc(), ConversationTurn.id.desc())
        .limit(KEEP_TURNS)
    ).all()
    return [Turn(row.question, row.answer or "") for row in reversed(rows)]


def remember_turn(
    session: Session,
    person_id: int,
    conversation: Conversation,
    *,
    question: str,
    answer: str,
    now: datetime,
    minutes: int,
) -> None:
    """Store a question as searched (and the answer shown); forget what has expired.

    Every question also deletes the turns that are past the window, everyone's, so the
    table only ever holds the last few minutes of questions; and keeps at most
    :data:`KEEP_TURNS` per person and conversation.
    """
    if minutes <= 0:
        return
    key = conversation_key(conversation)
    session.execute(
        delete(ConversationTurn)
        .where(ConversationTurn.asked_at < _window_start(now, minutes))
        .execution_options(synchronize_session=False)
    )
    session.add(
        ConversationTurn(
            person_id=person_id,
            conversation=key,
            question=question,
            answer=answer[:ANSWER_CHARS] or None,
            asked_at=now,
        )
    )
    session.flush()
    kept = select(ConversationTurn.id).where(
        ConversationTurn.person_id == person_id, ConversationTurn.conversation == key
    )
    newest = session.scalars(
        kept.order_by(ConversationTurn.asked_at.desc(), ConversationTurn.id.desc()).limit(
            KEEP_TURNS
        )
    ).all()
    session.execute(
        delete(ConversationTurn)
        .where(
            ConversationTurn.person_id == person_id,
            ConversationTurn.conversation == key,
            ConversationTurn.id.not_in(newest),
        )
        .execution_options(synchronize_session=False)
    )
