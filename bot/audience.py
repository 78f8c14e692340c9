"""Private by default: personal answers to group events go to the person's private chat.

A manager typing ``/report`` in a team group must not post the team's summary, with the
names of the people to follow up, for everyone there to read; nor may a quiz or someone's
progress land in a group. The bot core decides what is private (:func:`is_personal` and
:func:`privately`, applied by ``TrainBot.handle``); every front door sends the result
with :func:`send_replies`, which writes the private replies to the person's private chat
and then says in the group either that it did or, when the platform refuses to open that
chat, how to open it. Questions about the course stay in the group: they are course
content, and so are the 👍/👎 presses under the answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from bot import payloads
from bot.events import (
    Audience,
    BotAddress,
    ButtonPress,
    Command,
    Conversation,
    ConversationKind,
    Event,
    Reply,
)
from bot.i18n import t
from bot.ports import Outbound, RecipientUnreachable, SendError, SendOutcomeUnknown

logger = logging.getLogger(__name__)

PRIVATE_COMMANDS = frozenset(
    {"start", "stop", "quiz", "progress", "settings", "report", "forget", "approve"}
)
"""Commands whose answers are personal. Matched by name, so a command is covered the
moment it is registered; ``help``, ``ask`` and unknown commands are answered in place."""

NO_DM_KEYS = {"telegram": "group_no_dm_telegram", "slack": "group_no_dm_slack"}
"""Where a platform's own words for opening the private chat are (``{bot}``, ``{link}``)."""

Say = Callable[[Reply], Awaitable[object]]


def is_personal(event: Event) -> bool:
    """Whether the answer to ``event``, written in a group, belongs in a private chat.

    Personal and report commands and every button except 👍/👎 under an answer are: a
    quiz posted to a group by an older version, pressed there, is answered privately.
    """
    if event.conversation.kind is ConversationKind.DIRECT:
        return False
    if isinstance(event, Command):
        return event.name in PRIVATE_COMMANDS
    if isinstance(event, ButtonPress):
        return not isinstance(payloads.decode(event.payload), payloads.AnswerFeedback)
    return False


def no_dm_note(language: str, platform: str, address: BotAddress | None) -> str:
    """What to say in a group when the bot may not write to the person privately yet."""
    key = NO_DM_KEYS.get(platform)
    if key is None or address is None:
        return t(language, "group_no_dm")
    return t(language, key, bot=address.name, link=address.link or address.name)


def privately(
    replies: Sequence[Reply], *, language: str, platform: str, address: BotAddress | None
) -> list[Reply]:
    """``replies`` addressed to the person's private chat, then the two group notes.

    Edits are dropped (the message to edit is in the group; the private chat gets the
    new text as a message of its own).

    Args:
        replies: what the use case said.
        language: the person's language, for the notes.
        platform: the front door, whose words for opening a private chat the note uses.
        address: how people find the bot there, if the front door said.
    """
    if not replies:
        return []
    private = [
        replace(reply, audience=Audience.PRIVATE, edit_ref=None, in_thread=False)
        for reply in replies
    ]
    return [
        *private,
        Reply(t(language, "group_dm_sent"), in_thread=True, audience=Audience.DM_SENT_NOTE),
        Reply(
            no_dm_note(language, platform, address),
            in_thread=True,
            audience=Audience.NO_DM_NOTE,
        ),
    ]


def private_chat(event: Event) -> Conversation:
    """The person's private chat: addressed by their user id, as pushes are."""
    return Conversation(event.conversation.platform, event.person.user_id, ConversationKind.DIRECT)


async def send_replies(
    replies: Sequence[Reply],
    *,
    event: Event,
    outbound: Outbound,
    say_here: Say | None = None,
) -> None:
    """Send what the bot answered to ``event``, each reply to its audience.

    Replies for here go where the event came from, in order, and stop at the first that
    fails. Private replies go to the person's private chat; then the group hears that they
    did, or, when the platform refuses that chat (a Telegram user who never pressed Start,
    a Slack DM that cannot be opened), how to open it — and nothing personal. A refused
    private chat is only logged, never recorded as the person being unreachable: that is
    for the dispatcher to decide when its pushes fail.

    Args:
        replies: what the bot said.
        event: what it answered.
        outbound: the front door's outbound port (reaches the private chat).
        say_here: sends a reply where the event came from (default: ``outbound.send`` to
            the event's conversation); raises :class:`~bot.ports.SendError` on failure.
    """

    async def default_say_here(reply: Reply) -> object:
        return await outbound.send(event.conversation, reply)

    say = say_here or default_say_here
    delivered = refused = failed = False
    for reply in replies:
        audience = reply.audience
        if audience is Audience.PRIVATE:
            if refused or failed:
                continue
            try:
                await outbound.send(private_chat(event), reply)
                delivered = True
            except SendOutcomeUnknown:
                delivered = True  # most likely arrived; the note is still true enough
            except RecipientUnreachable as exc:
                refused = True
                logger.info(
                    "%s: may not write privately to %s yet (%s)",
                    event.conversation.platform,
                    event.person.user_id,
                    exc,
                )
            except SendError as exc:
                failed = True
                logger.warning(
                    "%s: could not write privately to %s: %s",
                    event.conversation.platform,
                    event.person.user_id,
                    exc,
                )
            continue
        if audience is Audience.DM_SENT_NOTE and not delivered:
            continue
        if audience is Audience.NO_DM_NOTE and (delivered or not refused):
            continue
        try:
            await say(reply)
        except SendError as exc:
            logger.warning(
                "%s: could not answer %s in %s: %s",
                event.conversation.platform,
                event.person.user_id,
                event.conversation.chat_id,
                exc,
            )
            return
