"""/approve: admins let strangers in (``TRAINBOT_ENROLMENT=approval``) or turn them away.

``/approve`` lists the requests still waiting, each with Approve and Deny buttons. An
approved person may then /start; a denied one gets the polite refusal from then on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import update

from bot.admission import pending_requests
from bot.events import Button, ButtonPress, Command, Event, Reply
from bot.handlers.basics import language_for
from bot.i18n import t
from bot.payloads import AccessDecision
from bot.store.models import AccessRequest, AccessStatus

if TYPE_CHECKING:
    from bot.context import BotContext

logger = logging.getLogger(__name__)

LISTED = 20
"""Requests shown by one /approve (the oldest first; decide them and ask again)."""


def _is_admin(ctx: BotContext, event: Event) -> bool:
    return ctx.settings.is_admin(event.person.platform, event.person.user_id)


def _who(request: AccessRequest) -> str:
    return f"{request.platform}:{request.platform_user_id}"


def _request_text(ctx: BotContext, request: AccessRequest, language: str) -> str:
    moment = request.requested_at.astimezone(ctx.settings.zone)
    return t(
        language,
        "approve_request",
        name=request.display_name,
        who=_who(request),
        moment=f"{moment:%Y-%m-%d %H:%M}",
    )


def approve_command(ctx: BotContext, event: Command) -> list[Reply]:
    """List the waiting requests with Approve and Deny buttons (admins only)."""
    language = language_for(ctx, event)
    if not _is_admin(ctx, event):
        return [Reply(t(language, "approve_admins_only"))]
    with ctx.db.session() as session:
        waiting = pending_requests(session, limit=LISTED)
        replies = [
            Reply(
                _request_text(ctx, request, language),
                buttons=(
                    (
                        Button(
                            t(language, "approve_yes"), AccessDecision(request.id, True).encode()
                        ),
                        Button(
                            t(language, "approve_no"), AccessDecision(request.id, False).encode()
                        ),
                    ),
                ),
            )
            for request in waiting
        ]
    return replies or [Reply(t(language, "approve_none"))]


def decide(ctx: BotContext, event: ButtonPress, payload: AccessDecision) -> list[Reply]:
    """Record an admin's Approve or Deny; a request already decided stays as it was."""
    language = language_for(ctx, event)
    if not _is_admin(ctx, event):
        return [Reply(t(language, "approve_admins_only"))]
    with ctx.db.session() as session:
        request = session.get(AccessRequest, payload.request_id)
        if request is None:
            return [Reply(t(language, "stale_button"))]
        names = {"name": request.display_name, "who": _who(request)}
        # The request's message loses its buttons, whatever the press decides.
        closed = (
            [Reply(_request_text(ctx, request, language), edit_ref=event.message_ref)]
            if event.message_ref
            else []
        )
        decided_by = f"{event.person.platform}:{event.person.user_id}"
        status = AccessStatus.APPROVED if payload.approve else AccessStatus.DENIED
        # Only a pending request changes, so two admins pressing at once decide it once.
        result = session.execute(
            update(AccessRequest)
            .where(AccessRequest.id == request.id, AccessRequest.status == AccessStatus.PENDING)
            .values(status=status, decided_at=ctx.clock.now(), decided_by=decided_by)
            .execution_options(synchronize_session=False)
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            session.refresh(request)
            already = (
                "approve_already_approved"
                if request.status is AccessStatus.APPROVED
                else "approve_already_denied"
            )
            return [*closed, Reply(t(language, already, **names))]
    logger.info("access request %d %s by %s", payload.request_id, status.value, decided_by)
    done = t(language, "approve_done" if payload.approve else "deny_done", **names)
    return [*closed, Reply(done)]
