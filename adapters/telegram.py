"""The Telegram front door, built on python-telegram-bot 22.

Long polling by default; a webhook with a secret token when ``TRAINBOT_TELEGRAM_WEBHOOK_URL``
is set. Telegram hands a token's updates to one long poller only, so a poller holds a named
lease in the store and a second process is refused; several processes (replicas behind a
load balancer) run in webhook mode instead, and every update is handled once across them
(its ``update_id`` is recorded in the store first). Updates become neutral events through
the pure ``parse_*`` functions and replies become Bot API calls through the pure
``render_*`` functions; :class:`TelegramAdapter` only runs python-telegram-bot's lifecycle,
hands events to the bot, sends what comes back and maps Telegram's errors onto the
outbound port's (``bot.ports``).

Replies use HTML parse mode: ``**bold**`` and ``_italic_`` become tags and everything else
is escaped, so a question containing ``<b>`` or ``&`` comes back literally; text messages
go without link previews. Texts over
Telegram's 4,096-character limit are split on line boundaries. Button payloads longer than
``callback_data``'s 64 bytes are kept server-side behind a short token.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import logging
import re
import time
import warnings
from base64 import urlsafe_b64encode
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseUpdateProcessor,
    ContextTypes,
    TypeHandler,
)
from telegram.warnings import PTBDeprecationWarning

from adapters.ops import DOWN, PLATFORM_TIMEOUT, CachedProbe, Check
from bot import logsafety, metrics
from bot.app import COMMANDS
from bot.audience import send_replies
from bot.digits import ascii_int
from bot.errors import ConfigError
from bot.events import (
    BotAddress,
    Button,
    ButtonPress,
    Command,
    Conversation,
    ConversationKind,
    Event,
    Person,
    Reply,
    Text,
)
from bot.i18n import language_from_locale, t
from bot.ports import (
    EventHandler,
    RateLimited,
    RecipientUnreachable,
    SendError,
    SendOutcomeUnknown,
    TransientSendError,
)
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.leases import NamedLeaseKeeper
    from bot.store.db import Database

logger = logging.getLogger(__name__)

PLATFORM = "telegram"
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
ALLOWED_UPDATES = ("message", "callback_query")
# Payloads too long for callback_data are replaced by this prefix and a digest; real
# payloads start with a lower-case handler prefix, so the two never collide.
LONG_PAYLOAD_PREFIX = "~"
_GROUP_TYPES = ("group", "supergroup")
_COMMAND = re.compile(r"^/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?(?:\s+(.*))?$", re.DOTALL)
_INLINE = re.compile(
    r"\*\*(?P<bold>[^\n]+?)\*\*"
    r"|(?<![\w*])_(?P<italic>[^\s_](?:[^\n]*?[^\s_])?)_(?!\w)"
)
_TAG = re.compile(r"<[^>]+>")
_STATUS_IN_MESSAGE = re.compile(r"\((5\d\d)\)")
POLLER_LEASE = timedelta(seconds=30)
"""How long the long-polling lease lasts without renewal (at most; never longer than
``TRAINBOT_CLAIM_LEASE``), so a killed poller blocks a new one for at most this long."""
UPDATES_KEPT = timedelta(days=1)
"""How long the ids of handled updates are remembered: Telegram retries within minutes and
keeps an undelivered update for a day."""
PRUNE_EVERY = timedelta(hours=1)
CONFLICT_LOG_EVERY = 60.0
"""Seconds between two log lines about Telegram's 409 Conflict while it lasts."""
_WEBHOOK_SECRET_LABEL = b"trainbot telegram webhook secret"


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is on Telegram, needed to tell mentions of it in groups."""

    id: int
    username: str


# -- callback data -------------------------------------------------------------------------


class CallbackPayloads:
    """Maps button payloads onto Telegram's 64-byte ``callback_data``.

    Payloads that fit are sent as they are. Longer ones are kept here, in memory, behind
    ``~`` and a digest of the payload; a press on a token this process no longer knows
    (after a restart) reaches the bot as an unknown payload, which it answers as a stale
    button.

    Args:
        capacity: how many long payloads to remember (oldest forgotten first).
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._long: OrderedDict[str, str] = OrderedDict()

    def encode(self, payload: str) -> str:
        """The ``callback_data`` to send for ``payload``."""
        if len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT and not payload.startswith(
            LONG_PAYLOAD_PREFIX
        ):
            return payload
        digest = hashlib.sha256(payload.encode("utf-8")).digest()[:18]
        token = LONG_PAYLOAD_PREFIX + urlsafe_b64encode(digest).decode("ascii")
        self._long[token] = payload
        self._long.move_to_end(token)
        while len(self._long) > self.capacity:
            self._long.popitem(last=False)
        return token

    def decode(self, data: str) -> str:
        """The payload behind ``callback_data`` (unknown tokens come back unchanged)."""
        if data.startswith(LONG_PAYLOAD_PREFIX):
            return self._long.get(data, data)
        return data


def _callback_data_as_is(payload: str) -> str:
    if len(payload.encode("utf-8")) > CALLBACK_DATA_LIMIT:
        raise ValueError(f"button payload longer than {CALLBACK_DATA_LIMIT} bytes: {payload!r}")
    return payload


# -- parsing -------------------------------------------------------------------------------


def parse_person(user: Mapping[str, Any]) -> Person:
    """A Telegram ``User`` as a neutral person (Telegram never tells the time zone)."""
    name = " ".join(part for part in (user.get("first_name"), user.get("last_name")) if part)
    return Person(
        platform=PLATFORM,
        user_id=str(user["id"]),
        display_name=name or str(user.get("username") or user["id"]),
        locale=user.get("language_code") or None,
        timezone=None,
    )


def parse_conversation(chat: Mapping[str, Any], message: Mapping[str, Any]) -> Conversation:
    """Where a message was written: a private chat, a group, or a forum topic."""
    chat_id = str(chat["id"])
    if chat.get("type") == "private":
        return Conversation(PLATFORM, chat_id, ConversationKind.DIRECT)
    thread = message.get("message_thread_id") if message.get("is_topic_message") else None
    if thread is not None:
        return Conversation(PLATFORM, chat_id, ConversationKind.THREAD, str(thread))
    return Conversation(PLATFORM, chat_id, ConversationKind.CHANNEL)


def _strip_mention(text: str, username: str) -> tuple[str, bool]:
    pattern = re.compile(rf"(?<![\w@])@{re.escape(username)}(?!\w)[,:，：]?", re.IGNORECASE)
    stripped, count = pattern.subn(" ", text)
    return " ".join(stripped.split()), count > 0


def parse_message(message: Mapping[str, Any], *, me: BotIdentity) -> Event | None:
    """A ``Message`` as an event, or ``None`` when the bot should stay silent.

    In private chats every text counts. In groups only commands (``/help`` or
    ``/help@thisbot``, not ``/help@otherbot``), mentions (``@thisbot question``, the
    mention stripped) and replies to the bot's own messages do. Messages from bots and
    messages without text are ignored.
    """
    sender = message.get("from")
    chat = message.get("chat")
    text = message.get("text")
    if not sender or sender.get("is_bot") or not chat or not isinstance(text, str):
        return None
    if chat.get("type") not in ("private", *_GROUP_TYPES):
        return None
    person = parse_person(sender)
    conversation = parse_conversation(chat, message)
    in_group = chat.get("type") in _GROUP_TYPES
    command = _COMMAND.match(text.strip())
    if command:
        name, target, args = command.group(1).lower(), command.group(2), command.group(3)
        if target is not None and target.lower() != me.username.lower():
            return None
        if in_group and target is None and name not in COMMANDS:
            return None  # probably another bot's command
        return Command(person, conversation, name, (args or "").strip())
    if not in_group:
        if not text.strip():
            return None
        return Text(person, conversation, text.strip(), reply_to=_replied_ref(message, me))
    stripped, mentioned = _strip_mention(text, me.username)
    replied = (message.get("reply_to_message") or {}).get("from") or {}
    if not mentioned and replied.get("id") != me.id:
        return None
    if not stripped:
        return None
    command = _COMMAND.match(stripped)
    if command and command.group(2) is None:
        name, args = command.group(1).lower(), command.group(3)
        return Command(person, conversation, name, (args or "").strip())
    return Text(person, conversation, stripped)


def _replied_ref(message: Mapping[str, Any], me: BotIdentity) -> str | None:
    """The ``chat_id:message_id`` of the bot's message this one replies to, if any (the
    same reference a button press on that message carries)."""
    replied = message.get("reply_to_message") or {}
    if (replied.get("from") or {}).get("id") != me.id or "message_id" not in replied:
        return None
    return f"{message['chat']['id']}:{replied['message_id']}"


def parse_callback_query(
    query: Mapping[str, Any], *, payloads: CallbackPayloads | None = None
) -> ButtonPress | None:
    """A ``CallbackQuery`` as a button press; the message ref is ``chat_id:message_id``."""
    sender = query.get("from")
    data = query.get("data")
    if not sender or not isinstance(data, str):
        return None
    person = parse_person(sender)
    payload = payloads.decode(data) if payloads is not None else data
    message = query.get("message")
    if message and message.get("chat"):
        conversation = parse_conversation(message["chat"], message)
        ref = f"{message['chat']['id']}:{message['message_id']}"
        return ButtonPress(person, conversation, payload, message_ref=ref)
    # A button on an inline message: no chat to answer in but the person's own.
    conversation = Conversation(PLATFORM, person.user_id, ConversationKind.DIRECT)
    return ButtonPress(person, conversation, payload)


def parse_update(
    update: Mapping[str, Any], *, me: BotIdentity, payloads: CallbackPayloads | None = None
) -> Event | None:
    """An ``Update`` as an event: a new message or a button press; anything else is ``None``."""
    if update.get("message"):
        return parse_message(update["message"], me=me)
    if update.get("callback_query"):
        return parse_callback_query(update["callback_query"], payloads=payloads)
    return None


def parse_message_ref(ref: str) -> tuple[str, int] | None:
    """Split a ``chat_id:message_id`` reference; ``None`` when it is not one of ours."""
    chat_id, _, message_id = ref.rpartition(":")
    number = ascii_int(message_id)
    if not chat_id or number is None:
        return None
    return chat_id, number


# -- rendering -----------------------------------------------------------------------------


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def render_html(text: str) -> str:
    """Markdown-ish text as Telegram HTML: ``**bold**``, ``_italic_``, the rest escaped."""
    parts: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        parts.append(html.escape(text[position : match.start()], quote=False))
        if match.group("bold") is not None:
            parts.append(f"<b>{html.escape(match.group('bold'), quote=False)}</b>")
        else:
            parts.append(f"<i>{html.escape(match.group('italic'), quote=False)}</i>")
        position = match.end()
    parts.append(html.escape(text[position:], quote=False))
    return "".join(parts)


def _split_long_line(line: str, limit: int) -> list[str]:
    """Cut one source line into pieces whose rendering fits, preferring spaces."""
    pieces: list[str] = []
    rest = line
    while rest:
        if telegram_length(render_html(rest)) <= limit:
            pieces.append(rest)
            break
        # Escaping at most quintuples a character (& -> &amp;), so this prefix fits.
        end = max(1, limit // 5)
        while end < len(rest) and telegram_length(render_html(rest[: end + 1])) <= limit:
            end += max(1, (limit - telegram_length(render_html(rest[:end]))) // 5)
        end = min(end, len(rest))
        while end > 1 and telegram_length(render_html(rest[:end])) > limit:
            end -= 1
        space = rest.rfind(" ", 0, end)
        if space > end // 2:
            end = space + 1
        pieces.append(rest[:end])
        rest = rest[end:]
    return pieces


def render_text(text: str, *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Render ``text`` as HTML chunks of at most ``limit``, split between lines.

    A single line longer than the limit is cut, preferably at a space; markup never
    spans lines, so every chunk is valid HTML on its own.
    """
    rendered: list[str] = []
    for line in text.split("\n"):
        html_line = render_html(line)
        if telegram_length(html_line) <= limit:
            rendered.append(html_line)
        else:
            rendered.extend(render_html(piece) for piece in _split_long_line(line, limit))
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in rendered:
        added = telegram_length(line) + (1 if current else 0)
        if current and size + added > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
            added = telegram_length(line)
        current.append(line)
        size += added
    if current:
        chunks.append("\n".join(current))
    return [chunk for chunk in chunks if chunk.strip()]


def render_keyboard(
    buttons: Sequence[Sequence[Button]],
    *,
    callback_data: Callable[[str], str] = _callback_data_as_is,
) -> dict[str, Any] | None:
    """Rows of buttons as an ``InlineKeyboardMarkup`` (``None`` for no buttons)."""
    rows = [
        [{"text": button.label, "callback_data": callback_data(button.payload)} for button in row]
        for row in buttons
        if row
    ]
    return {"inline_keyboard": rows} if rows else None


@dataclass(frozen=True, slots=True)
class TelegramCall:
    """One Bot API call that a reply becomes.

    Attributes:
        method: ``sendMessage``, ``editMessageText``, ``sendPhoto`` or ``sendDocument``.
        params: the call's JSON parameters (without the file).
        file: the attachment to upload, for ``sendPhoto`` and ``sendDocument``.
    """

    method: str
    params: dict[str, Any]
    file: Any = None


def render_reply(
    reply: Reply,
    *,
    chat_id: str,
    thread_id: str | None = None,
    reply_to: int | None = None,
    callback_data: Callable[[str], str] = _callback_data_as_is,
) -> list[TelegramCall]:
    """The Bot API calls that show ``reply`` in a chat.

    Long text becomes several messages, the buttons on the last one. ``reply.edit_ref``
    edits that message instead; Telegram drops the old buttons of an edit that carries
    none (how an answered quiz loses its keyboard). An
    attachment is a photo for ``image/png`` and a document otherwise, with the text as
    its caption when it fits.

    Args:
        reply: what the bot says.
        chat_id: the chat to write in.
        thread_id: the forum topic, if any.
        reply_to: the message to answer (groups), on the first call only.
        callback_data: maps a button payload onto ``callback_data``.
    """
    keyboard = render_keyboard(reply.buttons, callback_data=callback_data)
    attachment = reply.attachment
    caption: str | None = None
    chunks = render_text(reply.text)
    if attachment is not None and len(chunks) <= 1:
        single = chunks[0] if chunks else ""
        if telegram_length(single) <= CAPTION_LIMIT:
            caption, chunks = single, []
    common: dict[str, Any] = {"chat_id": chat_id}
    if thread_id is not None:
        common["message_thread_id"] = int(thread_id)
    calls: list[TelegramCall] = []
    edit = parse_message_ref(reply.edit_ref) if reply.edit_ref else None
    for index, chunk in enumerate(chunks):
        # No preview card: an address someone typed (a name, a question in a report) is
        # shown as text, never fetched and displayed under the bot's name.
        params: dict[str, Any] = {
            "text": chunk,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        if index == 0 and edit is not None and attachment is None:
            calls.append(
                TelegramCall(
                    "editMessageText", {"chat_id": edit[0], "message_id": edit[1], **params}
                )
            )
            continue
        calls.append(TelegramCall("sendMessage", {**common, **params}))
    if attachment is not None:
        is_photo = attachment.mime_type == "image/png"
        params = {**common}
        if caption:
            params.update(caption=caption, parse_mode="HTML")
        calls.append(TelegramCall("sendPhoto" if is_photo else "sendDocument", params, attachment))
    if not calls:
        return []
    if keyboard is not None:
        calls[-1].params["reply_markup"] = keyboard
    if reply_to is not None and calls[0].method != "editMessageText":
        calls[0].params["reply_parameters"] = {
            "message_id": reply_to,
            "allow_sending_without_reply": True,
        }
    return calls


def _link_preview(params: Mapping[str, Any]) -> LinkPreviewOptions | None:
    options = params.get("link_preview_options")
    return LinkPreviewOptions(**options) if options else None


def command_menu(language: str) -> list[tuple[str, str]]:
    """The ``/`` menu for ``setMyCommands`` in one language."""
    return [(name, t(language, f"telegram_command_{name}")) for name in COMMANDS]


def bot_address(username: str) -> BotAddress:
    """How people open a private chat with the bot: its ``@username`` and ``t.me`` link."""
    return BotAddress(f"@{username}", f"https://t.me/{username}")


def file_url_for(api_url: str) -> str:
    """The file download base URL that goes with a Bot API base URL."""
    base = api_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("bot")] + "file/bot"
    return base + "/file/bot"


def retry_after_seconds(error: RetryAfter) -> float:
    """``retry_after`` in seconds, whichever type python-telegram-bot hands out."""
    with warnings.catch_warnings():
        # PTB 22 warns that the attribute becomes a timedelta; both are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def error_code(error: TelegramError) -> str:
    """A bounded code for a failed Bot API call (the ``code`` label of platform errors).

    python-telegram-bot turns HTTP statuses into exception classes and keeps a 5xx
    status only in the message ("Bad Gateway (502)") when the answer had no description,
    so the status is read back from there when it can be, else ``5xx``.
    """
    if isinstance(error, Forbidden):
        return "403"
    if isinstance(error, RetryAfter):
        return "429"
    if isinstance(error, BadRequest):
        return "400"
    if isinstance(error, InvalidToken):
        return "401"
    if isinstance(error, Conflict):
        return "409"
    if isinstance(error, TimedOut):
        return "timeout"
    if isinstance(error, NetworkError):
        status = _STATUS_IN_MESSAGE.search(str(error))
        if status is not None:
            return status.group(1)
        # No status: a connection that failed, or an answer whose description replaced it.
        return "network" if isinstance(error.__cause__, httpx.HTTPError) else "5xx"
    return "other"


def as_send_error(error: TelegramError) -> SendError:
    """Map a Telegram error onto the outbound port's errors."""
    text = str(error)
    if isinstance(error, Forbidden):
        return RecipientUnreachable(text)
    if isinstance(error, RetryAfter):
        return RateLimited(retry_after_seconds(error), text)
    if isinstance(error, BadRequest):
        if "chat not found" in text.lower() or "user is deactivated" in text.lower():
            return RecipientUnreachable(text)
        return SendError(text)
    if isinstance(error, TimedOut) and not isinstance(
        error.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout
    ):
        # The request went out and no answer came in time: Telegram may have delivered it.
        return SendOutcomeUnknown(text or "timed out")
    if isinstance(error, NetworkError):  # 5xx answers, failed or timed-out connections
        return TransientSendError(text)
    return SendError(text)


# -- several processes ---------------------------------------------------------------------


def token_key(token: str) -> str:
    """A short name for a bot token that does not reveal it: 16 hex of its SHA-256.

    It names the token in the store (the poller lease, handled update ids), so two bots
    sharing one store never mix, and the token itself is never written there.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


def poller_lease_name(token: str) -> str:
    """The named lease of the one process long-polling ``token``."""
    return f"telegram-poller:{token_key(token)}"


def poller_lease_length(settings: Settings) -> timedelta:
    """The poller lease: 30 s, or ``TRAINBOT_CLAIM_LEASE`` when that is shorter (tests)."""
    return min(POLLER_LEASE, timedelta(seconds=settings.claim_lease))


def update_key(token: str, update_id: int) -> str:
    """How a handled update is recorded in ``processed_events`` (scoped to the bot)."""
    return f"{token_key(token)}:{update_id}"


def webhook_secret(settings: Settings) -> str:
    """The secret Telegram sends with every webhook request.

    ``TRAINBOT_TELEGRAM_WEBHOOK_SECRET`` when set. Otherwise one derived from the token
    (an HMAC of a fixed label, 64 hex digits, within Telegram's ``A-Za-z0-9_-`` and 256
    characters): every replica of the same bot computes the same secret, so a replica
    starting (each calls ``setWebhook``) never locks the others out, which a random
    secret per process would. Deriving it gives nothing away: whoever holds the token can
    call ``setWebhook`` anyway, and the secret does not reveal the token.
    """
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    token = settings.telegram_token.encode("utf-8")
    return hmac.new(token, _WEBHOOK_SECRET_LABEL, hashlib.sha256).hexdigest()


def owner_label(owner: str | None) -> str:
    """``host:pid`` of a lease owner id (without its random part)."""
    if not owner:
        return "unknown"
    host_pid, _, _ = owner.rpartition(":")
    return host_pid or owner


def second_poller(owner: str | None) -> str:
    """The one line refusing a second long poller of the same token.

    Args:
        owner: the lease holder's owner id (its ``host:pid`` is shown).
    """
    return (
        f"another trainbot process ({owner_label(owner)}) is already long-polling this "
        "Telegram bot; Telegram allows one poller per token: run a single process, "
        "or run replicas behind a load balancer with TRAINBOT_TELEGRAM_WEBHOOK_URL "
        "(docs/architecture.md, Telegram with several processes)"
    )


def polling_conflict(error: TelegramError) -> str:
    """One line for Telegram's 409 Conflict while long polling, saying what to check."""
    reason = str(error)
    if "webhook" in reason.lower():
        cause = (
            "a webhook is set for this bot (another deployment in webhook mode?); "
            "run every process with the same TRAINBOT_TELEGRAM_WEBHOOK_URL, or stop the "
            "other deployment"
        )
    else:
        cause = (
            "another program is long-polling this bot with the same token (a deployment on "
            "another store, or a second copy of the token); stop it, or give each "
            "deployment its own bot"
        )
    return f"telegram: Telegram refused getUpdates with 409 ({reason}): {cause}"


# -- the adapter ---------------------------------------------------------------------------


class ChatOrderedUpdates(BaseUpdateProcessor):
    """Handles updates concurrently across chats but one at a time within a chat.

    A person's quick double click or two messages in a row are then handled in order,
    while a slow answer for one person never holds up everyone else.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run ``coroutine`` once earlier updates of the same chat are done."""
        key = None
        if isinstance(update, Update):
            if update.effective_chat is not None:
                key = update.effective_chat.id
            elif update.effective_user is not None:
                key = update.effective_user.id
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def unreachable(settings: Settings, error: Exception) -> str:
    """One line for a Bot API that cannot be reached: what failed and what to check.

    Neither the token (PTB's URLs carry it) nor the proxy's credentials are in it.
    """
    reason = str(error) or type(error).__name__
    for secret in (settings.telegram_token, logsafety.url_password(settings.https_proxy)):
        for form in logsafety.variants(secret) if secret else ():
            reason = reason.replace(form, "***")
    parts = urlsplit(settings.telegram_api_url)
    where = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    if settings.https_proxy:
        advice = "check that TRAINBOT_HTTPS_PROXY is running and can reach it"
    else:
        advice = (
            "check the network and firewall, or set TRAINBOT_HTTPS_PROXY to a proxy "
            "that can reach it (the Bot API is often blocked in mainland China)"
        )
    return f"TRAINBOT_TELEGRAM_API_URL: cannot reach the Telegram Bot API at {where} ({reason}); {advice}"


class TelegramAdapter:
    """The Telegram front door and outbound port.

    Every update is recorded by ``update_id`` (under the token's :func:`token_key`) through
    the bot's seen-events port before it is handled, so an update Telegram delivers twice
    (a webhook call that timed out, retried by the balancer to another replica; updates
    fetched again after a poller was killed) is answered once, whichever process gets it.

    Args:
        bot: the bot core (anything with ``async handle(event) -> list[Reply]``).
        settings: token, API base URL and webhook configuration.
        webhook_listen: the address the webhook server binds (webhook mode; default
            ``settings.telegram_webhook_listen``).
        max_concurrent_updates: updates handled at once (one at a time per chat).
        store: the store shared by every process; in long-polling mode the adapter holds
            the token's poller lease there (:meth:`start`). Without one nothing but
            Telegram's own 409 Conflict keeps a second poller away.
    """

    platform = PLATFORM

    def __init__(
        self,
        bot: EventHandler,
        settings: Settings,
        *,
        webhook_listen: str | None = None,
        max_concurrent_updates: int = 32,
        store: Database | None = None,
    ) -> None:
        self.bot = bot
        self.settings = settings
        self.webhook_listen = webhook_listen or settings.telegram_webhook_listen
        self.max_concurrent_updates = max_concurrent_updates
        self.store = store
        self.payloads = CallbackPayloads()
        self.me: BotIdentity | None = None
        self._app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._reachable = CachedProbe(self._get_me)
        self._poller: NamedLeaseKeeper | None = None
        self._standby: asyncio.Task[None] | None = None
        self._last_prune: float | None = None
        self._last_conflict: float | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> str:
        """Connect, register the command menu and begin receiving updates.

        In long-polling mode with a store, the token's poller lease is taken first
        (:func:`poller_lease_name`; never the token itself) and renewed every third of
        :func:`poller_lease_length` until :meth:`stop` releases it. A poller killed
        without releasing it blocks a new one until the lease runs out, no longer.

        Returns:
            One line saying how it connected (never the token).

        Raises:
            ConfigError: when no token is configured, Telegram refuses it, the Bot API
                cannot be reached, or another live process already long-polls this token.
        """
        settings = self.settings
        if not settings.telegram_token:
            raise ConfigError("TRAINBOT_TELEGRAM_TOKEN is empty: get a token from @BotFather")
        if self._app is not None:
            raise RuntimeError("the Telegram adapter is already running")
        if not settings.telegram_webhook_url and self.store is not None:
            await self._take_poller_lease(self.store)
        try:
            return await self._connect()
        except BaseException:
            await self._release_poller_lease()
            raise

    async def _take_poller_lease(self, store: Database) -> None:
        from bot.leases import NamedLeaseKeeper, named_holder, new_owner

        name = poller_lease_name(self.settings.telegram_token)
        keeper = NamedLeaseKeeper(
            store,
            name,
            owner=new_owner(),
            now=lambda: datetime.now(UTC),
            lease=poller_lease_length(self.settings),
        )

        def holder(session: Session) -> tuple[str, timedelta] | None:
            now = datetime.now(UTC)
            held = named_holder(session, name, now=now)
            return (held.owner, held.expires_at - now) if held is not None else None

        waited_for: str | None = None
        for _ in range(4):  # the holder may let go between the attempt and the look
            if await keeper.acquire():
                self._poller = keeper
                return
            found = await store.run(holder)
            if found is None:
                continue
            owner, left = found
            if owner == waited_for:  # it renewed while this one waited: it is alive
                raise ConfigError(second_poller(owner))
            # A process killed a moment ago (a restart after a crash) still holds the lease
            # until it runs out: wait that long once, rather than refuse a legitimate restart.
            logger.info(
                "telegram: %s holds the long-polling lease for %.0f s more; waiting in case "
                "it was stopped or killed",
                owner_label(owner),
                left.total_seconds(),
            )
            await asyncio.sleep(left.total_seconds() + 0.5)
            waited_for = owner
        raise ConfigError(second_poller(waited_for))

    async def _release_poller_lease(self) -> None:
        keeper, self._poller = self._poller, None
        if keeper is not None:
            await keeper.release()

    async def _connect(self) -> str:
        settings = self.settings
        api_url = settings.telegram_api_url
        # Bot API URLs contain the token, and python-telegram-bot logs them from build() on.
        logsafety.redact(settings.telegram_token)
        builder = (
            Application.builder()
            .token(settings.telegram_token)
            .base_url(api_url)
            .base_file_url(file_url_for(api_url))
            .rate_limiter(AIORateLimiter(overall_max_rate=settings.telegram_rate, max_retries=2))
            .read_timeout(settings.send_timeout)
            .write_timeout(settings.send_timeout)
            .concurrent_updates(ChatOrderedUpdates(self.max_concurrent_updates))
            .job_queue(None)
        )
        if settings.https_proxy:
            # Sending and long polling use separate HTTP clients; both need the proxy.
            builder = builder.proxy(settings.https_proxy).get_updates_proxy(settings.https_proxy)
        app = builder.build()
        app.add_handler(TypeHandler(Update, self._on_update))
        app.add_error_handler(self._on_error)
        try:
            await app.initialize()
        except InvalidToken:
            # PTB's message repeats the token, so neither it nor the chain goes further.
            raise ConfigError(f"Telegram refused TRAINBOT_TELEGRAM_TOKEN at {api_url}") from None
        except NetworkError as exc:
            await app.shutdown()
            raise ConfigError(unreachable(settings, exc)) from None
        self._app = app
        try:
            self.me = BotIdentity(app.bot.id, app.bot.username)
            self.bot.introduce(PLATFORM, bot_address(self.me.username))
            await self._register_commands()
            await app.start()
            updater = app.updater
            assert updater is not None  # the builder always makes one
            if settings.telegram_webhook_url:
                # Every replica sets the same URL and secret; none deletes the webhook when
                # it stops (python-telegram-bot's Updater.stop() only closes the server).
                secret = webhook_secret(settings)
                logsafety.redact(secret)  # setWebhook's parameters are logged at DEBUG
                path = urlsplit(settings.telegram_webhook_url).path.lstrip("/")
                await updater.start_webhook(
                    listen=self.webhook_listen,
                    port=settings.telegram_webhook_port,
                    url_path=path,
                    webhook_url=settings.telegram_webhook_url,
                    secret_token=secret,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
                how = (
                    f"webhook {settings.telegram_webhook_url} "
                    f"(listening on {self.webhook_listen}:{settings.telegram_webhook_port})"
                )
            else:
                await self._start_polling()
                if self._poller is not None:
                    self._standby = asyncio.create_task(
                        self._step_aside_when_taken_over(self._poller), name="telegram-poller"
                    )
                how = "long polling"
        except BaseException:
            await self.stop()
            raise
        proxied = " through TRAINBOT_HTTPS_PROXY" if settings.https_proxy else ""
        line = f"telegram: {how} as @{self.me.username} via {api_url}{proxied}"
        logger.info("%s", line)
        return line

    async def _register_commands(self) -> None:
        app = self._require_app()
        menus: list[tuple[str | None, str]] = [
            (None, self.settings.language),
            ("zh", "zh"),
            ("en", "en"),
        ]
        for language_code, language in menus:
            commands = [BotCommand(name, text) for name, text in command_menu(language)]
            try:
                await app.bot.set_my_commands(commands, language_code=language_code)
            except TelegramError as exc:
                logger.warning("could not register the command menu (%s): %s", language, exc)

    async def drain(self) -> None:
        """Wait until every update received so far is handled and its replies sent."""
        if self._app is not None:
            await self._app.update_queue.join()

    async def stop(self) -> None:
        """Stop receiving, finish in-flight updates, close the sessions. Idempotent."""
        standby, self._standby = self._standby, None
        if standby is not None:
            standby.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await standby
        app = self._app
        if app is None:
            await self._release_poller_lease()
            return
        try:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()  # polling or the webhook server; never deleteWebhook
            if app.running:
                await self.drain()
                await app.stop()
        finally:
            self._app = None
            try:
                await app.shutdown()
            finally:
                await self._release_poller_lease()

    async def _start_polling(self) -> None:
        app = self._require_app()
        updater = app.updater
        assert updater is not None  # the builder always makes one
        try:
            hook = await app.bot.get_webhook_info()
        except TelegramError as exc:
            logger.debug("could not read the webhook info: %s", exc)
        else:
            if hook.url:
                # Polling needs the webhook gone (python-telegram-bot deletes it): say so, in
                # case replicas in webhook mode still rely on it.
                logger.warning(
                    "telegram: a webhook was set for this bot (%s); long polling removes it, "
                    "so any process in webhook mode stops receiving updates",
                    hook.url,
                )
        await updater.start_polling(
            allowed_updates=list(ALLOWED_UPDATES), error_callback=self._polling_failed
        )

    async def _step_aside_when_taken_over(self, keeper: NamedLeaseKeeper) -> None:
        """Stop polling when another process took the lease over; poll again once it is gone.

        The lease is only taken over after it ran out, that is after this process missed
        its renewals for a whole lease (stalled, suspended, or cut off from the store). The
        other process started legitimately meanwhile and polls now; fighting it would
        only earn both of them Telegram's 409 Conflict, so this one stops fetching updates
        (its pushes carry on: deliveries are claimed in the store) and tries to take the
        lease back every third of a lease, which succeeds only once the other process
        released it or died.
        """
        period = max(keeper.lease.total_seconds() / 3, 0.05)
        while True:
            await keeper.lost.wait()
            logger.error(
                "telegram: another process took over long polling for this bot while this "
                "one was stalled; this process stops polling and resumes only if that one "
                "goes away"
            )
            updater = self._require_app().updater
            if updater is not None and updater.running:
                await updater.stop()
            while True:
                try:
                    if await keeper.acquire():
                        await self._start_polling()
                        break
                except Exception:  # the store or Telegram unreachable for now: try again
                    logger.exception("telegram: could not take long polling back yet")
                    await keeper.release()
                await asyncio.sleep(period)
            logger.warning("telegram: long polling again (the other process is gone)")

    def _polling_failed(self, error: TelegramError) -> None:
        """Log a failed ``getUpdates`` (python-telegram-bot retries it with a back-off)."""
        if isinstance(error, Conflict):
            now = time.monotonic()
            if self._last_conflict is None or now - self._last_conflict >= CONFLICT_LOG_EVERY:
                self._last_conflict = now
                logger.error("%s", polling_conflict(error))
            return
        logger.error("telegram: fetching updates failed (retrying): %s", error)

    async def ready(self) -> Check:
        """Whether the Bot API answers ``getMe`` (asked at most every 15 s; see adapters.ops)."""
        if self._app is None:
            return Check(DOWN, "not started")
        return await self._reachable.check()

    async def _get_me(self) -> None:
        app = self._require_app()
        await app.bot.get_me(read_timeout=PLATFORM_TIMEOUT, connect_timeout=PLATFORM_TIMEOUT)
        if self.settings.telegram_webhook_url:
            await self._keep_webhook(app)

    async def _keep_webhook(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Register the webhook again if it is gone or points elsewhere.

        A long-polling process started on the same token deletes it (python-telegram-bot
        does so before polling), and every replica would then wait for updates that never
        come while looking healthy. The readiness probe asks at most every 15 s, so the
        replicas take the bot back that soon; the poller then gets Telegram's 409 and says
        so in its log.
        """
        settings = self.settings
        info = await app.bot.get_webhook_info(
            read_timeout=PLATFORM_TIMEOUT, connect_timeout=PLATFORM_TIMEOUT
        )
        if info.url == settings.telegram_webhook_url:
            return
        logger.warning(
            "telegram: the webhook is %s, not %s (a long-polling process on this token "
            "removes it): registering it again",
            info.url or "not set",
            settings.telegram_webhook_url,
        )
        await app.bot.set_webhook(
            url=settings.telegram_webhook_url,
            secret_token=webhook_secret(settings),
            allowed_updates=list(ALLOWED_UPDATES),
            read_timeout=PLATFORM_TIMEOUT,
            connect_timeout=PLATFORM_TIMEOUT,
        )

    def _require_app(self) -> Application[Any, Any, Any, Any, Any, Any]:
        if self._app is None:
            raise RuntimeError("the Telegram adapter is not started")
        return self._app

    # -- outbound port ---------------------------------------------------------------------

    async def send(self, conversation: Conversation, reply: Reply) -> str | None:
        """Send (or edit) one reply; return ``chat_id:message_id`` of the last message.

        Raises:
            RecipientUnreachable: the person blocked the bot or the chat is gone.
            RateLimited: Telegram still said 429 after the rate limiter's own retries.
            TransientSendError: a 5xx answer or a failed connection.
            SendOutcomeUnknown: no answer in time (Telegram may have delivered it).
            SendError: any other refusal.
        """
        try:
            return await self._send(conversation, reply, reply_to=None)
        except TelegramError as exc:
            metrics.platform_error(PLATFORM, error_code(exc))
            raise as_send_error(exc) from exc

    async def _send(
        self, conversation: Conversation, reply: Reply, *, reply_to: int | None
    ) -> str | None:
        app = self._require_app()
        calls = render_reply(
            reply,
            chat_id=conversation.chat_id,
            thread_id=conversation.thread_id,
            reply_to=reply_to,
            callback_data=self.payloads.encode,
        )
        ref: str | None = None
        for call in calls:
            result = await self._call(app, call)
            if isinstance(result, Message):
                ref = f"{result.chat_id}:{result.message_id}"
            elif call.method == "editMessageText":
                ref = reply.edit_ref
        return ref

    async def _call(
        self, app: Application[Any, Any, Any, Any, Any, Any], call: TelegramCall
    ) -> Message | bool:
        params = dict(call.params)
        bot = app.bot
        markup = params.pop("reply_markup", None)
        keyboard = (
            InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
                    for row in markup["inline_keyboard"]
                ]
            )
            if markup is not None
            else None
        )
        parameters = params.pop("reply_parameters", None)
        reply_parameters = ReplyParameters(**parameters) if parameters else None
        if call.method == "editMessageText":
            try:
                return await bot.edit_message_text(
                    params["text"],
                    chat_id=params["chat_id"],
                    message_id=params["message_id"],
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard,
                    link_preview_options=_link_preview(params),
                )
            except BadRequest as exc:
                if "message is not modified" in str(exc).lower():
                    return True  # a double click asked for the same edit again
                raise
        chat_id = params["chat_id"]
        thread = params.get("message_thread_id")
        if call.method == "sendMessage":
            return await bot.send_message(
                chat_id,
                params["text"],
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                reply_parameters=reply_parameters,
                message_thread_id=thread,
                link_preview_options=_link_preview(params),
            )
        attachment = call.file
        caption = params.get("caption")
        mode = ParseMode.HTML if caption else None
        send_file = bot.send_photo if call.method == "sendPhoto" else bot.send_document
        return await send_file(
            chat_id,
            attachment.content,
            caption=caption,
            parse_mode=mode,
            reply_markup=keyboard,
            reply_parameters=reply_parameters,
            message_thread_id=thread,
            filename=attachment.filename,
        )

    # -- receiving -------------------------------------------------------------------------

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Translate one update, let the bot handle it, send the replies (each update once)."""
        if self.me is None:
            return
        if not await self._first_time(update.update_id):
            logger.info("telegram: update %s already handled; repeat ignored", update.update_id)
            return
        raw = update.to_dict()
        query = update.callback_query
        if query is not None:
            try:
                await query.answer()
            except TelegramError as exc:
                # An old query cannot be answered any more; the press still counts.
                logger.debug("could not answer callback query: %s", exc)
        event = parse_update(raw, me=self.me, payloads=self.payloads)
        if event is None:
            return
        message = update.effective_message
        in_group = event.conversation.kind is not ConversationKind.DIRECT
        reply_to = message.message_id if in_group and message and query is None else None
        if isinstance(event, Text) or (isinstance(event, Command) and event.name == "ask"):
            await self._typing(event.conversation)
        try:
            replies = await self.bot.handle(event)
        except Exception:
            logger.exception("handling a Telegram %s failed", type(event).__name__)
            language = language_from_locale(event.person.locale, self.settings.language)
            replies = [Reply(t(language, "apology"))]

        async def say_here(reply: Reply) -> str | None:
            try:
                return await self._send(event.conversation, reply, reply_to=reply_to)
            except TelegramError as exc:
                metrics.platform_error(PLATFORM, error_code(exc))
                raise as_send_error(exc) from exc

        await send_replies(replies, event=event, outbound=self, say_here=say_here)

    async def _first_time(self, update_id: int) -> bool:
        seen = self.bot.seen_events
        now = time.monotonic()
        if self._last_prune is None or now - self._last_prune >= PRUNE_EVERY.total_seconds():
            self._last_prune = now
            removed = await seen.forget_older(PLATFORM, UPDATES_KEPT)
            if removed:
                logger.debug("telegram: forgot %d old update ids", removed)
        return await seen.first_time(PLATFORM, update_key(self.settings.telegram_token, update_id))

    async def _typing(self, conversation: Conversation) -> None:
        app = self._require_app()
        try:
            await app.bot.send_chat_action(
                conversation.chat_id,
                ChatAction.TYPING,
                message_thread_id=int(conversation.thread_id) if conversation.thread_id else None,
            )
        except TelegramError as exc:
            logger.debug("could not show typing: %s", exc)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log what python-telegram-bot caught (polling and network trouble)."""
        logger.error("telegram error: %s", context.error, exc_info=context.error)
