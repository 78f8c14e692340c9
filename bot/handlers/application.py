"""Level 2 in chat: a tap on a check-in or checklist answer, and a reply that is its example."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot import application, checkins, observations
from bot.events import ButtonPress, Reply, Text
from bot.handlers.basics import reply_kept_as
from bot.i18n import t
from bot.payloads import CheckinAnswer, ObservationAnswer
from bot.people import find_person, spoken_language
from bot.store.models import APPLIED
from bot.views import answer_label, checklist_reply

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from bot.context import BotContext
    from bot.store.models import Person

logger = logging.getLogger(__name__)


def checkin_button(ctx: BotContext, event: ButtonPress, payload: CheckinAnswer) -> list[Reply]:
    """A tap on several times / once / not yet / not relevant: record it once."""
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        language = spoken_language(person, event.person, ctx.settings.language)
        result = checkins.answer(
            session, person, payload, now=ctx.clock.now(), message_ref=event.message_ref
        )
    course = ctx.library.course
    match result.outcome:
        case checkins.Tapped.RECORDED:
            assert result.answer is not None and result.lesson_id is not None
            lesson = course.lesson(result.lesson_id, result.language or language)
            title = lesson.title if lesson is not None else result.lesson_id
            # Applied: ask for an example; not (yet): for what stood in the way.
            applied = APPLIED[result.answer]
            key = "checkin_recorded" if applied else "checkin_recorded_not_applied"
            text = t(language, key, lesson=title, answer=answer_label(result.answer, language))
            # Edit the question in place (its buttons go): a reply to it is the example.
            return [Reply(text, edit_ref=event.message_ref)]
        case checkins.Tapped.ALREADY:
            assert result.answer is not None
            label = answer_label(result.answer, language)
            return [Reply(t(language, "checkin_recorded_already", answer=label))]
        case checkins.Tapped.NOT_YOURS:
            return [Reply(t(language, "application_not_yours"))]
    return [Reply(t(language, "stale_button"))]


def observation_button(
    ctx: BotContext, event: ButtonPress, payload: ObservationAnswer
) -> list[Reply]:
    """A tap on one row of a checklist: record it once and show the checklist as it stands."""
    course = ctx.library.course
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        language = spoken_language(person, event.person, ctx.settings.language)
        result = observations.answer(
            session,
            course,
            person,
            payload,
            language=language,
            now=ctx.clock.now(),
            message_ref=event.message_ref,
        )
    match result.outcome:
        case observations.Tapped.RECORDED:
            assert result.checklist is not None
            # Edit in place: answered rows lose their buttons, the others keep theirs.
            return [checklist_reply(result.checklist, language, edit_ref=event.message_ref)]
        case observations.Tapped.ALREADY:
            assert result.answer is not None and result.lesson_id is not None
            lesson = course.lesson(result.lesson_id, language)
            title = lesson.title if lesson is not None else result.lesson_id
            label = answer_label(result.answer, language)
            return [Reply(t(language, "observation_recorded_already", lesson=title, answer=label))]
        case observations.Tapped.NOT_YOURS:
            return [Reply(t(language, "application_not_yours"))]
    return [Reply(t(language, "stale_button"))]


def example_reply(ctx: BotContext, event: Text) -> list[Reply] | None:
    """A reply to an answered check-in or checklist is its example; ``None`` otherwise."""

    def keep(session: Session, person: Person, reply_to: str, text: str, now: datetime) -> object:
        return application.add_example(session, person, reply_to=reply_to, text=text, now=now)

    return reply_kept_as(ctx, event, keep, "application_example_saved")
