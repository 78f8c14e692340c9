"""Level 2 in chat: a tap on a check-in or checklist answer, and a reply that is its example."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot import application, checkins, observations
from bot.events import ButtonPress, Reply, Text
from bot.i18n import t
from bot.payloads import CheckinAnswer, ObservationAnswer
from bot.people import find_person, spoken_language
from bot.views import answer_label, checklist_reply

if TYPE_CHECKING:
    from bot.context import BotContext

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
            text = t(
                language,
                "checkin_recorded",
                lesson=title,
                answer=answer_label(result.answer, language),
            )
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
    if not event.reply_to or not event.text.strip():
        return None
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        if person is None:
            return None
        report = application.add_example(
            session, person, reply_to=event.reply_to, text=event.text, now=ctx.clock.now()
        )
        if report is None:
            return None
        language = person.language
    return [Reply(t(language, "application_example_saved"))]
