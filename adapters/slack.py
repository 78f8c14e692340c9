"""The Slack front door: slack-bolt's AsyncApp in Socket Mode or HTTP mode.

Slack wants an acknowledgement within 3 seconds, so every listener acknowledges first and
hands the work to a task the adapter tracks (``drain()`` awaits them). What reaches the bot
is a neutral event: a DM (``message.im``), a mention (``app_mention``) or a reply in a
thread the bot was mentioned in (``message.channels`` / ``message.groups``) becomes
:class:`~bot.events.Text`, the ``/train`` slash command becomes a
:class:`~bot.events.Command`, a button click (``block_actions``) a
:class:`~bot.events.ButtonPress`. Replies are rendered as Block Kit.

The translation functions (``parse_*``, ``render_*``, ``person_from_user``) are pure and
tested against saved payloads; :class:`SlackAdapter` does the I/O.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.ops import DOWN, CachedProbe, Check
from bot import metrics
from bot.app import COMMANDS
from bot.audience import no_dm_note, send_replies
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
from bot.people import is_timezone
from bot.ports import (
    EventHandler,
    RateLimited,
    RecipientUnreachable,
    SendOutcomeUnknown,
    TransientSendError,
)
from bot.settings import Settings

logger = logging.getLogger(__name__)

PLATFORM = "slack"
SLASH_COMMAND = "/train"
SUBCOMMANDS = (
    "ask",
    "quiz",
    "progress",
    "report",
    "settings",
    "stop",
    "start",
    "forget",
    "help",
    "whoami",
)
#: Bot events the adapter listens to, as the manifest names them.
BOT_EVENTS = ("message.im", "app_mention", "message.channels", "message.groups")
#: OAuth scopes the bot token needs.
BOT_SCOPES = (
    "app_mentions:read",
    "channels:history",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "im:history",
    "im:read",
    "im:write",
    "users:read",
)
EVENTS_PATH = "/slack/events"
ACTION_ID_PREFIX = "trainbot-"
#: Slack errors meaning this person cannot be written to any more.
UNREACHABLE_ERRORS = frozenset(
    {
        "account_inactive",
        "cannot_dm_bot",
        "channel_not_found",
        "is_archived",
        "messages_tab_disabled",
        "not_in_channel",
        "user_disabled",
        "user_not_found",
        "user_not_visible",
        "users_not_found",
    }
)
#: ``auth.test`` errors meaning the bot token itself is wrong.
TOKEN_ERRORS = frozenset(
    {"account_inactive", "invalid_auth", "not_authed", "token_expired", "token_revoked"}
)
MAX_SECTION_CHARS = 3000  # Block Kit's limit for a section's text
MAX_BUTTON_LABEL = 75  # Block Kit's limit for a button's text
MAX_FALLBACK_CHARS = 3000  # the notification text; the blocks carry the whole message
USER_CACHE_SECONDS = 3600.0
EVENTS_KEPT = timedelta(days=1)
PRUNE_EVERY = timedelta(hours=1)
THREADS = "slack-thread"
"""``processed_events`` platform of the threads the bot was mentioned in."""
THREADS_KEPT = timedelta(days=7)
"""How long a reply in such a thread, without a new mention, is still answered."""
_CHANNEL_TYPES = frozenset({"channel", "group"})

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_COMMAND_MENTION = re.compile(r"(?<![\w/])/(" + "|".join(SUBCOMMANDS) + r")\b")
_SLASHED = re.compile(r"^/([A-Za-z0-9_]+)(?:\s+(.*))?$", re.DOTALL)


# -- parsing (pure) ---------------------------------------------------------------------


def plain_from_slack(text: str, *, bot_user_id: str = "") -> str:
    """Slack's message markup as the plain text the person typed.

    Slack escapes ``&``, ``<`` and ``>`` and wraps mentions, channels and links in angle
    brackets; mentions of the bot itself are dropped (they only address the question).
    """

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            if bot_user_id and target[1:] == bot_user_id:
                return ""
            return "@" + (label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        return label or target

    return html.unescape(_LINK.sub(link, text)).strip()


def person_from_user(user: dict[str, Any]) -> Person:
    """A :class:`Person` from a ``users.info`` user object (name, locale, time zone).

    A time zone this machine does not know (``Mars/Olympus``, an empty one) is left out,
    as if Slack had not said: the bot then uses the organisation's and asks at enrolment.
    """
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user["id"]
    )
    return Person(
        PLATFORM,
        str(user["id"]),
        display_name=str(name),
        locale=user.get("locale") or None,
        timezone=user.get("tz") if is_timezone(user.get("tz")) else None,
    )


def parse_event(body: dict[str, Any], *, bot_user_id: str) -> Event | None:
    """Translate an Events API ``event_callback`` into an event, or ``None`` to ignore it.

    Ignored: anything from a bot (including ourselves), message subtypes (edits, joins,
    deletions), channel messages that are not thread replies, thread replies that mention
    the bot (their ``app_mention`` event carries them), and event types the bot does not
    listen to. A thread reply in a channel comes back as :class:`~bot.events.Text` in a
    ``THREAD`` conversation; whether the bot follows that thread is the adapter's call
    (:func:`is_thread_reply`).

    Args:
        body: the whole ``event_callback`` envelope.
        bot_user_id: our own user id (from ``auth.test``), to drop our own messages and
            strip mentions of us.
    """
    event = body.get("event") or {}
    user = event.get("user")
    if not user or event.get("bot_id") or event.get("subtype") or user == bot_user_id:
        return None
    channel = str(event.get("channel", ""))
    person = Person(PLATFORM, str(user))
    raw = str(event.get("text", ""))
    text = plain_from_slack(raw, bot_user_id=bot_user_id)
    if event.get("type") == "message":
        if is_thread_reply(body):
            if bot_user_id and f"<@{bot_user_id}>" in raw:
                return None  # answered through its app_mention event
            conversation = Conversation(
                PLATFORM, channel, ConversationKind.THREAD, thread_id=str(event["thread_ts"])
            )
            return Text(person, conversation, text) if text else None
        if event.get("channel_type") != "im":
            return None
        thread = event.get("thread_ts")
        conversation = Conversation(PLATFORM, channel, ConversationKind.DIRECT, thread_id=thread)
        # A reply in the thread of one of the bot's messages replies to that message (the
        # reference a button press on it carries).
        replied = (
            message_ref(channel, str(thread)) if thread and thread != event.get("ts") else None
        )
        return Text(person, conversation, text, reply_to=replied) if text else None
    if event.get("type") == "app_mention":
        thread = event.get("thread_ts") or event.get("ts")
        conversation = Conversation(PLATFORM, channel, ConversationKind.THREAD, thread_id=thread)
        if not text:  # a bare mention: say what the bot can do
            return Command(person, conversation, "help")
        command = mention_command(text)
        if command is not None:
            return Command(person, conversation, *command)
        return Text(person, conversation, text)
    return None


def mention_command(text: str) -> tuple[str, str] | None:
    """The command in a mention's text (the mention removed), as ``(name, args)``.

    Slack cannot run a slash command inside a message, so a mention says it in words:
    ``@trainbot /report 2026-W47`` (a leading ``/``, any command, with arguments) or a
    command word alone (``@trainbot report``). Anything else is a question, including one
    that begins with a command word (``@trainbot report writing tips?``).
    """
    slashed = _SLASHED.match(text.strip())
    if slashed:
        return slashed.group(1).lower(), (slashed.group(2) or "").strip()
    word = text.strip().lower()
    return (word, "") if word in COMMANDS else None


def is_thread_reply(body: dict[str, Any]) -> bool:
    """A ``message`` in a channel that replies in a thread (not the thread's first message)."""
    event = body.get("event") or {}
    thread = event.get("thread_ts")
    return (
        event.get("type") == "message"
        and event.get("channel_type") in _CHANNEL_TYPES
        and bool(thread)
        and thread != event.get("ts")
    )


def parse_slash_command(payload: dict[str, Any]) -> Command:
    """Translate a ``/train ...`` invocation; a bare ``/train`` asks for help.

    The conversation is where the command was typed; the adapter answers in the person's
    DM with the bot instead, so progress and quizzes are never posted in a channel.
    """
    words = plain_from_slack(str(payload.get("text", ""))).split(None, 1)
    name = words[0].lstrip("/").lower() if words else "help"
    args = words[1].strip() if len(words) > 1 else ""
    person = Person(
        PLATFORM, str(payload["user_id"]), display_name=str(payload.get("user_name", ""))
    )
    channel = str(payload.get("channel_id", ""))
    kind = ConversationKind.DIRECT if channel.startswith("D") else ConversationKind.CHANNEL
    return Command(person, Conversation(PLATFORM, channel, kind), name or "help", args)


def message_ref(channel: str, ts: str) -> str:
    """The reference of a Slack message: its channel and timestamp."""
    return f"{channel}:{ts}"


def split_ref(ref: str) -> tuple[str, str]:
    """The channel and timestamp of a :func:`message_ref`."""
    channel, _, ts = ref.partition(":")
    return channel, ts


def parse_block_action(payload: dict[str, Any]) -> ButtonPress | None:
    """Translate a ``block_actions`` click on one of our buttons, or ``None``."""
    actions = [
        action
        for action in payload.get("actions") or []
        if str(action.get("action_id", "")).startswith(ACTION_ID_PREFIX)
    ]
    user = payload.get("user") or {}
    if not actions or not user.get("id"):
        return None
    channel = str((payload.get("channel") or {}).get("id") or "")
    container = payload.get("container") or {}
    channel = channel or str(container.get("channel_id") or "")
    message = payload.get("message") or {}
    ts = str(message.get("ts") or container.get("message_ts") or "")
    thread = message.get("thread_ts") or container.get("thread_ts")
    kind = ConversationKind.DIRECT if channel.startswith("D") else ConversationKind.THREAD
    if kind is ConversationKind.THREAD and not thread:
        thread = ts
    person = Person(
        PLATFORM, str(user["id"]), display_name=str(user.get("name") or user.get("username") or "")
    )
    return ButtonPress(
        person,
        Conversation(PLATFORM, channel, kind, thread_id=thread),
        str(actions[0].get("value", "")),
        message_ref=message_ref(channel, ts) if channel and ts else None,
    )


# -- rendering (pure) -------------------------------------------------------------------


def mrkdwn(text: str) -> str:
    """Markdown-ish reply text as Slack mrkdwn.

    ``&``, ``<`` and ``>`` are escaped so nothing the person or the course wrote becomes a
    mention, a link or a control sequence such as ``<!channel>``; ``**bold**`` becomes ``*bold*``; ``/quiz`` becomes ``/train quiz``,
    the way commands are typed in Slack.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _BOLD.sub(r"*\1*", escaped)
    return _COMMAND_MENTION.sub(SLASH_COMMAND + r" \1", escaped)


def _sections(text: str) -> list[str]:
    """Cut mrkdwn into pieces that fit a section block, at line breaks where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > MAX_SECTION_CHARS:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:MAX_SECTION_CHARS])
            line = line[MAX_SECTION_CHARS:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > MAX_SECTION_CHARS:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return pieces


def _label(text: str) -> str:
    return text if len(text) <= MAX_BUTTON_LABEL else text[: MAX_BUTTON_LABEL - 1] + "…"


def render_blocks(reply: Reply) -> list[dict[str, Any]]:
    """The Block Kit blocks of a reply: mrkdwn sections, then one actions block per row.

    Sections are ``verbatim``: Slack shows them as :func:`mrkdwn` wrote them and makes no
    mention, channel link or link of a name or question that reads ``@here``, ``#general``
    or ``http://...``. Every button gets an ``action_id`` unique within the message and
    carries the bot's opaque payload as its ``value``.
    """
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": piece, "verbatim": True}}
        for piece in _sections(mrkdwn(reply.text))
    ]
    index = 0
    for row_number, row in enumerate(reply.buttons):
        elements = []
        for button in row:
            elements.append(
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": _label(button.label), "emoji": True},
                    "action_id": f"{ACTION_ID_PREFIX}{index}",
                    "value": button.payload,
                }
            )
            index += 1
        if elements:
            blocks.append(
                {"type": "actions", "block_id": f"row-{row_number}", "elements": elements}
            )
    return blocks


def render_message(reply: Reply) -> dict[str, Any]:
    """Arguments for ``chat.postMessage`` / ``chat.update``: fallback text and blocks.

    The fallback text (what notifications show) is parsed as little as the blocks:
    ``parse=none`` and no ``link_names``, so it mentions and links nobody either.
    """
    text = mrkdwn(reply.text) or " ".join(button.label for row in reply.buttons for button in row)
    return {
        "text": text[:MAX_FALLBACK_CHARS],
        "blocks": render_blocks(reply),
        "parse": "none",
        "link_names": False,
    }


def buttons_from_blocks(blocks: list[dict[str, Any]]) -> list[list[Button]]:
    """The rows of buttons in rendered blocks (the inverse of :func:`render_blocks`)."""
    return [
        [
            Button(element["text"]["text"], element.get("value", ""))
            for element in block.get("elements", [])
            if element.get("type") == "button"
        ]
        for block in blocks
        if block.get("type") == "actions"
    ]


def _error_code(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    return str(data.get("error", "")) if isinstance(data, dict) else ""


def send_error(exc: SlackApiError) -> RecipientUnreachable | RateLimited | TransientSendError:
    """Map a Slack Web API failure to the outbound port's errors."""
    response = exc.response
    status = getattr(response, "status_code", 0) or 0
    error = _error_code(exc)
    if status == 429 or error == "ratelimited":
        headers = getattr(response, "headers", None) or {}
        retry_after = headers.get("Retry-After") or headers.get("retry-after") or "1"
        try:
            seconds = float(retry_after)
        except ValueError:
            seconds = 1.0
        return RateLimited(seconds, f"slack: rate limited ({error or status})")
    if error in UNREACHABLE_ERRORS:
        return RecipientUnreachable(f"slack: {error}")
    return TransientSendError(f"slack: {error or f'HTTP {status}'}")


# -- the adapter ------------------------------------------------------------------------


class SlackAdapter:
    """Receives Slack events, hands them to the bot, and sends what it says.

    Socket Mode when ``settings.slack_app_token`` is set, otherwise HTTP mode: an aiohttp
    server on ``settings.slack_port`` serving :data:`EVENTS_PATH` for events,
    interactivity and the slash command, each request verified with the signing secret.

    Args:
        bot: the bot core (``bot.app.TrainBot``); Slack retries and followed threads are
            remembered through its ``seen_events`` port, shared by every bot process.
        settings: the configuration (tokens, signing secret, API URL, port).
        host: the interface the HTTP server binds to.
        port: overrides ``settings.slack_port`` (``0`` picks a free port, for tests).

    Raises:
        ConfigError: when the bot token is missing, or HTTP mode lacks a signing secret.
    """

    platform = PLATFORM

    def __init__(
        self,
        bot: EventHandler,
        settings: Settings,
        *,
        host: str = "0.0.0.0",
        port: int | None = None,
    ) -> None:
        if not settings.slack_bot_token:
            raise ConfigError("TRAINBOT_SLACK_BOT_TOKEN: not set (the bot token, xoxb-...)")
        if not settings.slack_app_token and not settings.slack_signing_secret:
            raise ConfigError(
                "TRAINBOT_SLACK_SIGNING_SECRET: required in Slack HTTP mode "
                "(or set TRAINBOT_SLACK_APP_TOKEN for Socket Mode)"
            )
        self.bot = bot
        self.settings = settings
        self.host = host
        self.port = settings.slack_port if port is None else port
        self.bot_user_id = ""
        self.address = BotAddress("trainbot")  # the bot's name in the workspace, once started
        self.url = ""  # the events URL once listening in HTTP mode
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None
        self._app: AsyncApp | None = None
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._users: dict[str, tuple[float, Person]] = {}
        self._unknown_zones: set[str] = set()  # user ids warned about, once each
        self._dm_channels: dict[str, str] = {}
        self._last_prune: float | None = None
        self._started = False
        self._reachable = CachedProbe(self._auth_test)

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def client(self) -> AsyncWebClient:
        """The Web API client (after :meth:`start`)."""
        if self._client is None:
            raise RuntimeError("the Slack adapter is not started")
        return self._client

    async def start(self) -> str:
        """Check the token, start receiving, and describe the connection in one line."""
        if self._started:
            raise RuntimeError("the Slack adapter is already started")
        self._session = aiohttp.ClientSession()
        self._client = AsyncWebClient(
            token=self.settings.slack_bot_token,
            base_url=self.settings.slack_api_url,
            session=self._session,
            timeout=max(1, round(self.settings.send_timeout)),
            retry_handlers=[
                # Only connections that never opened: a request that timed out or was cut
                # off may have been posted, and posting it again would duplicate it.
                AsyncConnectionErrorRetryHandler(
                    max_retry_count=2, error_types=[aiohttp.ClientConnectorError]
                ),
                AsyncRateLimitErrorRetryHandler(max_retry_count=1),
            ],
        )
        try:
            identity = await self._client.auth_test()
        except SlackApiError as exc:
            await self._close_session()
            code = _error_code(exc)
            if code in TOKEN_ERRORS:
                raise ConfigError(
                    f"TRAINBOT_SLACK_BOT_TOKEN: Slack rejected the token ({code})"
                ) from None
            raise ConfigError(
                f"TRAINBOT_SLACK_API_URL: auth.test failed at {self.settings.slack_api_url} "
                f"({code or exc.response.status_code})"
            ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            await self._close_session()
            raise ConfigError(
                f"TRAINBOT_SLACK_API_URL: cannot reach {self.settings.slack_api_url} ({exc})"
            ) from None
        self.bot_user_id = str(identity.get("user_id", ""))
        self.address = BotAddress(str(identity.get("user") or "trainbot"))
        self.bot.introduce(PLATFORM, self.address)
        who = f"@{identity.get('user', 'bot')} in {identity.get('team', 'the workspace')}"
        self._app = self._build_app()
        self._started = True
        try:
            if self.settings.slack_app_token:
                self._socket = AsyncSocketModeHandler(
                    self._app, app_token=self.settings.slack_app_token, web_client=self._client
                )
                await self._socket.connect_async()
                return f"slack: Socket Mode as {who} via {self.settings.slack_api_url}"
            web_app = web.Application()
            web_app.router.add_post(EVENTS_PATH, self._http_request)
            self._runner = web.AppRunner(web_app, access_log=None)
            await self._runner.setup()
            await web.TCPSite(self._runner, self.host, self.port).start()
        except BaseException:
            await self.stop()
            raise
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}{EVENTS_PATH}"
        return f"slack: HTTP mode on {self.url} as {who} via {self.settings.slack_api_url}"

    async def drain(self) -> None:
        """Wait until every event received so far is handled and its replies sent."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Stop receiving, finish what is in flight, close connections. Idempotent."""
        if not self._started:
            return
        self._started = False
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.drain()
        await self._close_session()

    async def ready(self) -> Check:
        """Whether Slack answers ``auth.test`` (asked at most every 15 s; see adapters.ops)."""
        if not self._started:
            return Check(DOWN, "not started")
        return await self._reachable.check()

    async def _auth_test(self) -> None:
        try:
            await self.client.auth_test()
        except SlackApiError as exc:
            # The SDK's message names only the URL; the error word says what is wrong.
            status = getattr(exc.response, "status_code", 0) or 0
            raise ConnectionError(f"auth.test answered {_error_code(exc) or status}") from None

    async def _close_session(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _build_app(self) -> AsyncApp:
        # Work runs in tasks of our own after ack(), so Bolt may wait for the listener:
        # it returns at once and drain() can see everything still running.
        app = AsyncApp(
            client=self._client,
            signing_secret=self.settings.slack_signing_secret,
            process_before_response=True,
            name="trainbot",
        )
        app.event("message")(self._on_event)
        app.event("app_mention")(self._on_event)
        app.command(SLASH_COMMAND)(self._on_command)
        app.action(re.compile("^" + re.escape(ACTION_ID_PREFIX)))(self._on_action)
        return app

    async def _http_request(self, request: web.Request) -> web.Response:
        assert self._app is not None
        response = await self._app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    # -- listeners: acknowledge, then work in a tracked task ----------------------------

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                logger.exception("slack: handling an event failed")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_event(self, ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        self._spawn(self._handle_event(body))

    async def _on_command(self, ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        self._spawn(self._handle_command(body))

    async def _on_action(self, ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        self._spawn(self._handle_action(body))

    async def _handle_event(self, body: dict[str, Any]) -> None:
        event = parse_event(body, bot_user_id=self.bot_user_id)
        if event is None:
            return
        thread = f"{event.conversation.chat_id}:{event.conversation.thread_id}"
        kind = (body.get("event") or {}).get("type")
        # parse_event gives a channel message a thread only when it is a thread reply.
        reply_in_thread = kind == "message" and event.conversation.kind is ConversationKind.THREAD
        if reply_in_thread and not await self.bot.seen_events.seen(THREADS, thread):
            return  # somebody else's thread: not for the bot
        event_id = str(body.get("event_id") or "")
        if event_id and not await self._first_time(event_id):
            logger.info("slack: event %s already handled; retry ignored", event_id)
            return
        if kind == "app_mention":  # replies in this thread are for the bot too
            await self.bot.seen_events.first_time(THREADS, thread)
        await self._answer(replace(event, person=await self.person(event.person)))

    async def _handle_command(self, body: dict[str, Any]) -> None:
        command = parse_slash_command(body)
        person = await self.person(command.person)
        command = replace(command, person=person)
        response_url = str(body.get("response_url") or "")
        try:
            dm = await self.dm_channel(person.user_id)
        except SlackApiError as exc:
            refusal = send_error(exc)
            if not isinstance(refusal, RecipientUnreachable) or not response_url:
                logger.warning("slack: no DM with %s for /train: %s", person.user_id, refusal)
                return
            logger.info("slack: may not write privately to %s yet (%s)", person.user_id, refusal)
            language = await self.bot.language_of(command)
            await self._tell(response_url, no_dm_note(language, PLATFORM, self.address))
            return
        conversation = Conversation(PLATFORM, dm, ConversationKind.DIRECT)
        command = replace(command, conversation=conversation)
        await self._answer(command)
        if body.get("channel_id") != dm and response_url:
            language = await self.bot.language_of(command)
            await self._tell(response_url, t(language, "slack_answered_in_dm"))

    async def _tell(self, response_url: str, text: str) -> None:
        """Typed in a channel: say something there that only the person sees."""
        notice = {"response_type": "ephemeral", "text": text}
        assert self._session is not None
        try:
            async with self._session.post(response_url, json=notice) as response:
                if response.status != 200:
                    logger.warning("slack: response_url answered %d", response.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("slack: could not post to the response_url: %s", exc)

    async def _handle_action(self, body: dict[str, Any]) -> None:
        press = parse_block_action(body)
        if press is None:
            return
        await self._answer(replace(press, person=await self.person(press.person)))

    async def _first_time(self, event_id: str) -> bool:
        seen = self.bot.seen_events
        now = time.monotonic()
        if self._last_prune is None or now - self._last_prune >= PRUNE_EVERY.total_seconds():
            self._last_prune = now
            removed = await seen.forget_older(PLATFORM, EVENTS_KEPT)
            removed += await seen.forget_older(THREADS, THREADS_KEPT)
            if removed:
                logger.debug("slack: forgot %d old processed events", removed)
        return await seen.first_time(PLATFORM, event_id)

    async def _answer(self, event: Event) -> None:
        try:
            replies = await self.bot.handle(event)
        except Exception:
            logger.exception("slack: handling a %s failed", type(event).__name__)
            language = language_from_locale(event.person.locale, self.settings.language)
            replies = [Reply(t(language, "apology"))]
        await send_replies(replies, event=event, outbound=self)

    # -- people and channels ------------------------------------------------------------

    async def person(self, who: Person) -> Person:
        """``who`` with name, locale and time zone from ``users.info`` (cached a while)."""
        cached = self._users.get(who.user_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            response = await self.client.users_info(user=who.user_id, include_locale=True)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("slack: users.info for %s failed: %s", who.user_id, exc)
            return who
        person = person_from_user(response["user"])
        given = response["user"].get("tz")
        if given and person.timezone is None and who.user_id not in self._unknown_zones:
            self._unknown_zones.add(who.user_id)
            logger.warning(
                "slack: %s has an unknown time zone in their profile; using %s",
                who.user_id,
                self.settings.timezone,
            )
        self._users[who.user_id] = (time.monotonic() + USER_CACHE_SECONDS, person)
        return person

    async def dm_channel(self, user_id: str) -> str:
        """The id of the bot's DM channel with a person (opened once, then remembered)."""
        channel = self._dm_channels.get(user_id)
        if channel is None:
            response = await self.client.conversations_open(users=user_id)
            channel = str(response["channel"]["id"])
            self._dm_channels[user_id] = channel
        return channel

    # -- the outbound port --------------------------------------------------------------

    async def send(self, conversation: Conversation, reply: Reply) -> str | None:
        """Send (or, with ``reply.edit_ref``, edit) a message; returns its reference.

        ``conversation.chat_id`` may be a channel id or a user id (pushes from the
        dispatcher), for which the DM channel is opened first.

        Raises:
            RecipientUnreachable: the user is deactivated or the channel is gone.
            RateLimited: Slack still said 429 after the client's own retry.
            TransientSendError: a 5xx answer or a connection failure.
            SendOutcomeUnknown: no answer in time (Slack may have posted it).
        """
        try:
            return await self._send(conversation, reply)
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", 0) or 0
            metrics.platform_error(PLATFORM, _error_code(exc) or status)
            raise send_error(exc) from exc
        except aiohttp.ConnectionTimeoutError as exc:
            metrics.platform_error(PLATFORM, "connect_timeout")
            raise TransientSendError(f"slack: {type(exc).__name__}: {exc}") from exc
        except TimeoutError as exc:
            # The request went out and no answer came in time: Slack may have posted it.
            metrics.platform_error(PLATFORM, "timeout")
            raise SendOutcomeUnknown(f"slack: {type(exc).__name__}: {exc}") from exc
        except aiohttp.ClientError as exc:
            metrics.platform_error(PLATFORM, "connection")
            raise TransientSendError(f"slack: {type(exc).__name__}: {exc}") from exc

    async def _send(self, conversation: Conversation, reply: Reply) -> str | None:
        channel = conversation.chat_id
        if channel[:1] in ("U", "W"):
            channel = await self.dm_channel(channel)
        thread_ts = None
        if conversation.thread_id and (
            reply.in_thread or conversation.kind is ConversationKind.THREAD
        ):
            thread_ts = conversation.thread_id
        ref: str | None = None
        if reply.edit_ref:
            edit_channel, ts = split_ref(reply.edit_ref)
            await self.client.chat_update(channel=edit_channel, ts=ts, **render_message(reply))
            ref = reply.edit_ref
        elif reply.text or reply.buttons:
            response = await self.client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                unfurl_links=False,
                unfurl_media=False,
                **render_message(reply),
            )
            ref = message_ref(str(response["channel"]), str(response["ts"]))
        if reply.attachment is not None:
            await self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                filename=reply.attachment.filename,
                title=reply.attachment.filename,
                content=reply.attachment.content,
            )
        return ref
