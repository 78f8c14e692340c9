"""The neutral event vocabulary shared by the bot core and every adapter.

Adapters translate a platform's updates into these events and render :class:`Reply`
objects natively; handlers never see a Slack or Telegram type. That is what lets one
transcript test run against every front door.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ConversationKind(StrEnum):
    """Where a message was written."""

    DIRECT = "direct"
    CHANNEL = "channel"
    THREAD = "thread"


@dataclass(frozen=True, slots=True)
class Person:
    """Someone talking to the bot, as their platform knows them.

    Attributes:
        platform: ``telegram``, ``slack`` or ``console``.
        user_id: the platform's stable user id.
        display_name: a name to greet them by.
        locale: the platform's locale (e.g. ``zh-CN``, ``en-US``), if known.
        timezone: an IANA zone name, when the platform tells it (Slack does).
    """

    platform: str
    user_id: str
    display_name: str = ""
    locale: str | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where to answer: a DM, a channel, or a thread inside a channel."""

    platform: str
    chat_id: str
    kind: ConversationKind = ConversationKind.DIRECT
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class Text:
    """A free-text message, or a mention of the bot (the mention already stripped).

    Attributes:
        reply_to: the platform reference of the bot's message this one replies to, in the
            form of :attr:`ButtonPress.message_ref` (a Telegram reply, a Slack thread
            under that message, the console's last message), if any.
    """

    person: Person
    conversation: Conversation
    text: str
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """A slash command such as ``/quiz``; ``name`` has no slash and is lower case."""

    person: Person
    conversation: Conversation
    name: str
    args: str = ""


@dataclass(frozen=True, slots=True)
class ButtonPress:
    """A press on a button the bot sent; ``payload`` is opaque to adapters.

    Attributes:
        message_ref: the platform's reference of the message holding the button, so
            the bot can ask the adapter to edit it.
    """

    person: Person
    conversation: Conversation
    payload: str
    message_ref: str | None = None


Event = Text | Command | ButtonPress


@dataclass(frozen=True, slots=True)
class Button:
    """A button: a label shown to the person and an opaque payload sent back."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a reply (a PNG chart, a CSV export)."""

    filename: str
    content: bytes
    mime_type: str


class Audience(StrEnum):
    """Who a reply is for, when it answers an event from a group conversation.

    The bot core decides what is private; the adapter only knows how to reach the
    person's private chat (:func:`bot.audience.send_replies` does the routing).
    """

    HERE = "here"
    """The conversation the event came from (everything outside groups)."""
    PRIVATE = "private"
    """The person's private chat with the bot, wherever the event came from."""
    DM_SENT_NOTE = "dm_sent_note"
    """Said where the event came from once the private replies went out."""
    NO_DM_NOTE = "no_dm_note"
    """Said where the event came from instead, when the platform refuses the private chat."""


@dataclass(frozen=True, slots=True)
class BotAddress:
    """How people find the bot on a platform to open a private chat with it.

    Attributes:
        name: the bot's name as people see it (``@trainbot`` on Telegram).
        link: a link that opens the private chat, when the platform has one.
    """

    name: str
    link: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """Something the bot says.

    Attributes:
        text: Markdown-ish text: ``**bold**``, ``_italic_``, ``- `` lists and plain lines.
            Adapters escape it for their platform.
        buttons: rows of buttons.
        attachment: an optional file.
        in_thread: answer inside the thread the event came from, when the platform has
            threads.
        edit_ref: replace the message with this platform reference instead of sending a
            new one (used after a quiz answer, to remove its buttons).
        audience: who sees it; everything but ``HERE`` only comes with events from group
            conversations.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None
    in_thread: bool = False
    edit_ref: str | None = None
    audience: Audience = Audience.HERE
    meta: dict[str, str] = field(default_factory=dict, compare=False)
