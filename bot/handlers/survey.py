"""The satisfaction survey in chat: a tap on a rating, and a reply that is its comment."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot import surveys
from bot.events import ButtonPress, Reply, Text
from bot.handlers.basics import reply_kept_as
from bot.i18n import t
from bot.payloads import SurveyRating
from bot.people import find_person, spoken_language

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from bot.context import BotContext
    from bot.store.models import Person

logger = logging.getLogger(__name__)


def rating_button(ctx: BotContext, event: ButtonPress, payload: SurveyRating) -> list[Reply]:
    """A tap on ⭐1 … ⭐5: record it once and invite a comment by reply."""
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        language = spoken_language(person, event.person, ctx.settings.language)
        result = surveys.rate(
            session, person, payload, now=ctx.clock.now(), message_ref=event.message_ref
        )
    match result.outcome:
        case surveys.Rated.RECORDED:
            assert result.rating is not None
            # Edit the prompt in place (its buttons go): a reply to it is then the comment.
            text = t(language, "survey_rated", stars=surveys.stars(result.rating))
            return [Reply(text, edit_ref=event.message_ref)]
        case surveys.Rated.ALREADY:
            stars = surveys.stars(result.rating) if result.rating else ""
            return [Reply(t(language, "survey_rated_already", stars=stars))]
        case surveys.Rated.NOT_YOURS:
            return [Reply(t(language, "survey_not_yours"))]
    return [Reply(t(language, "stale_button"))]


def comment_reply(ctx: BotContext, event: Text) -> list[Reply] | None:
    """A reply to a rated survey message is its comment; ``None`` for any other text."""

    def keep(session: Session, person: Person, reply_to: str, text: str, now: datetime) -> object:
        return surveys.comment(session, person, reply_to=reply_to, text=text, now=now)

    return reply_kept_as(ctx, event, keep, "survey_comment_saved")
