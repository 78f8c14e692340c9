"""Basics: /help, /stop, the person's language, and buttons nobody knows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot.events import ButtonPress, Command, ConversationKind, Event, Reply, Text
from bot.i18n import t
from bot.people import find_person, spoken_language
from bot.store.models import Person, PersonStatus

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.context import BotContext


def language_for(ctx: BotContext, event: Event) -> str:
    """The person's stored language, else one chosen from their platform locale."""
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        return spoken_language(person, event.person, ctx.settings.language)


def show_help(ctx: BotContext, event: Command) -> list[Reply]:
    """List the commands in the person's language."""
    return [Reply(t(language_for(ctx, event), "help"))]


def whoami(ctx: BotContext, event: Command) -> list[Reply]:
    """The asker's own platform id and this chat's id, nothing about anyone else.

    Answered before admission (no person is stored), so an admin can collect the ids the
    roster and ``TRAINBOT_ADMINS`` need before either exists.
    """
    language = language_for(ctx, event)
    who, where = event.person, event.conversation
    lines = [
        t(language, "whoami_user", platform=who.platform, user_id=who.user_id),
        t(language, "whoami_chat", chat_id=where.chat_id),
    ]
    if where.kind is not ConversationKind.DIRECT:
        lines.append(t(language, "whoami_group", chat_id=where.chat_id))
    return [Reply("\n".join(lines))]


def stop(ctx: BotContext, event: Command) -> list[Reply]:
    """Pause every push to this person; questions are still answered."""
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        if person is None or person.enrolled_at is None:
            language = spoken_language(person, event.person, ctx.settings.language)
            return [Reply(t(language, "not_enrolled"))]
        person.status = PersonStatus.OPTED_OUT
        person.status_reason = "said /stop"
        person.updated_at = ctx.clock.now()
        language = person.language
    return [Reply(t(language, "stopped"))]


def button(ctx: BotContext, event: ButtonPress) -> list[Reply]:
    """A press on a button this version does not know."""
    return [Reply(t(language_for(ctx, event), "stale_button"))]


def reply_kept_as(
    ctx: BotContext,
    event: Text,
    keep: Callable[[Session, Person, str, str, datetime], object | None],
    saved_key: str,
) -> list[Reply] | None:
    """A reply to one of the bot's messages, kept as that message's free text (a survey
    comment, a check-in's example) by ``keep(session, person, reply_to, text, now)``.

    Returns:
        The thanks (message ``saved_key``), or ``None`` when the text replies to no such
        message of the person's (then it is an ordinary message).
    """
    if not event.reply_to or not event.text.strip():
        return None
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        if person is None:
            return None
        if keep(session, person, event.reply_to, event.text, ctx.clock.now()) is None:
            return None
        language = person.language
    return [Reply(t(language, saved_key))]
