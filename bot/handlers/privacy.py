"""/forget: a person erases what the bot stores about them, after confirming with a button."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.events import Button, ButtonPress, Command, Reply
from bot.handlers.basics import language_for
from bot.i18n import t
from bot.payloads import ForgetConfirm
from bot.people import find_person
from bot.privacy import Erasure, erase_person, erasure_preview

if TYPE_CHECKING:
    from bot.context import BotContext

logger = logging.getLogger(__name__)


def _what_goes(erasure: Erasure, language: str) -> str:
    text = t(
        language,
        "forget_confirm",
        deliveries=erasure.deliveries,
        attempts=erasure.attempts,
        reviews=erasure.review_states,
        questions=erasure.questions,
    )
    if erasure.survey_responses:
        text += "\n" + t(language, "forget_confirm_surveys", surveys=erasure.survey_responses)
    if erasure.application_reports:
        text += "\n" + t(
            language, "forget_confirm_application", answers=erasure.application_reports
        )
    if erasure.managed_teams:
        text += "\n" + t(language, "forget_confirm_manager", teams=erasure.managed_teams)
    return text + "\n" + t(language, "forget_confirm_final")


def forget_command(ctx: BotContext, event: Command) -> list[Reply]:
    """Show what /forget would erase, with "Yes, erase" and "Cancel" buttons."""
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        if person is None:
            return [Reply(t(language_for(ctx, event), "forget_nothing"))]
        language = person.language
        erasure = erasure_preview(session, person.id)
        person_id = person.id
    buttons = (
        (
            Button(t(language, "forget_yes"), ForgetConfirm(person_id, erase=True).encode()),
            Button(t(language, "forget_cancel"), ForgetConfirm(person_id, erase=False).encode()),
        ),
    )
    return [Reply(_what_goes(erasure, language), buttons=buttons)]


def forget_button(ctx: BotContext, event: ButtonPress, payload: ForgetConfirm) -> list[Reply]:
    """A press on /forget's buttons: erase (once), or leave everything as it is."""
    # The reply speaks the person's language, read before their row is gone.
    language = language_for(ctx, event)
    with ctx.db.session() as session:
        person = find_person(session, event.person)
        if person is None:  # a second press of "Yes, erase", or an old message
            key = "forget_already" if payload.erase else "forget_cancelled"
            return [Reply(t(language, key), edit_ref=event.message_ref)]
        if person.id != payload.person_id:
            # Erased before and known again since: the old button is not for this record.
            return [Reply(t(language, "stale_button"))]
        if not payload.erase:
            return [Reply(t(language, "forget_cancelled"), edit_ref=event.message_ref)]
        erased = erase_person(session, person.id)
    # None: another press erased them between our read and our delete (a double click).
    key = "forget_done" if erased is not None else "forget_already"
    return [Reply(t(language, key), edit_ref=event.message_ref)]
