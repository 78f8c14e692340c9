"""A local fake of the Slack Web API, signed event delivery, and a Slack chat driver.

:class:`FakeSlack` is an aiohttp server on 127.0.0.1 (port 0) answering the Web API
methods the adapter uses, recording each call, and able to fail the next call of a method
the way Slack does (429 with ``Retry-After``, ``{"ok": false, "error": ...}``, 500). It also
serves a Socket Mode websocket (``apps.connections.open``). :func:`signed_headers` signs a
request body as Slack does. :class:`SlackDriver` speaks as one person through the real
adapter, and :func:`slack_front_door` wires it all for transcript tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web

from adapters.slack import (
    MAX_BUTTON_LABEL,
    MAX_SECTION_CHARS,
    PLATFORM,
    SLASH_COMMAND,
    SUBCOMMANDS,
    SlackAdapter,
)
from bot.app import TrainBot
from bot.events import Conversation, ConversationKind, Person, Reply

BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
SIGNING_SECRET = "fake-signing-secret"
TEAM_ID = "T0TRAIN"
APP_ID = "A0TRAIN"
BOT_USER_ID = "U0BOT"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's request signature: ``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: bytes,
    *,
    content_type: str,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
) -> dict[str, str]:
    """The headers Slack sends with an HTTP request to the app."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign(secret, stamp, body),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers


def slack_user_id(user_id: str) -> str:
    """A Slack-style user id for a neutral one: ``alice`` -> ``UALICE``."""
    return "U" + re.sub(r"[^A-Z0-9]", "", user_id.upper())


def dm_channel_of(slack_user: str) -> str:
    """The fake's DM channel between the bot and a user: ``UALICE`` -> ``DALICE``."""
    return "D" + slack_user[1:]


@dataclass
class Failure:
    """How the next call of a method fails."""

    status: int = 200
    error: str | None = None
    retry_after: int | None = None


@dataclass
class Message:
    """Something the bot put in a channel: a post, an edit of a post, or a file."""

    kind: str  # "post" | "update" | "file"
    channel: str
    ts: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    filename: str | None = None
    content: bytes = b""


class FakeSlack:
    """The fake Slack: Web API, file uploads and a Socket Mode websocket."""

    def __init__(
        self,
        *,
        signing_secret: str = SIGNING_SECRET,
        bot_token: str = BOT_TOKEN,
        app_token: str = APP_TOKEN,
    ) -> None:
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.app_token = app_token
        self.users: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, list[dict[str, Any]]] = {}
        self.messages: list[Message] = []
        self.failures: dict[str, list[Failure]] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self.command_responses: list[dict[str, Any]] = []
        self.dm_refusals: dict[str, str] = {}
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.socket_connected = asyncio.Event()

    @property
    def api_url(self) -> str:
        """The Web API base URL to give the adapter."""
        return f"{self.base_url}/api/"

    async def start(self) -> None:
        """Listen on 127.0.0.1, a free port."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/link", self._socket)
        app.router.add_post("/commands/{trigger}", self._command_response)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Close sockets and stop listening."""
        for socket in self.sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- set-up ---------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        tz: str | None = None,
        locale: str | None = None,
    ) -> None:
        """Put someone in the workspace directory (``users.info``)."""
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name.lower(),
            "real_name": name,
            "deleted": False,
            "is_bot": False,
            "profile": {"display_name": name, "real_name": name},
        }
        if tz:
            user["tz"] = tz
        if locale:
            user["locale"] = locale
        self.users[user_id] = user

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the next call of ``method`` fail (429 + Retry-After, a Slack error, or 5xx)."""
        self.failures.setdefault(method, []).append(Failure(status, error, retry_after))

    def refuse_dm(self, user_id: str, error: str = "user_not_visible") -> None:
        """From now on ``conversations.open`` with ``user_id`` fails with ``error``, as for
        a person the bot may not write to (a restricted guest, a DM the workspace forbids)."""
        self.dm_refusals[user_id] = error

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call of ``method`` so far."""
        return self.calls.get(method, [])

    # -- the Web API ----------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            raw = await request.read()
            if request.content_type == "application/json":
                params.update(json.loads(raw or b"{}"))
            elif raw:
                params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.setdefault(method, []).append(params)
        pending = self.failures.get(method)
        if pending:
            failure = pending.pop(0)
            if failure.status == 429:
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(failure.retry_after or 1)},
                )
            if failure.status >= 500:
                return web.Response(status=failure.status, text="upstream connect error")
            return web.json_response({"ok": False, "error": failure.error or "fatal_error"})
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != expected:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        result: dict[str, Any] = handler(params)
        return web.json_response(result)

    def _next_ts(self) -> str:
        return f"1763340000.{next(self._ts):06d}"

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://trainbot-test.slack.com/",
            "team": "Trainbot Test",
            "user": "trainbot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": "B0BOT",
        }

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("users", ""))
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        if user in self.dm_refusals:
            return {"ok": False, "error": self.dm_refusals[user]}
        return {"ok": True, "channel": {"id": dm_channel_of(user)}}

    @staticmethod
    def _blocks(params: dict[str, Any]) -> list[dict[str, Any]] | None:
        blocks = params.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        action_ids: list[str] = []
        for block in blocks:
            section = block.get("type") == "section"
            if section and not 0 < len(block["text"]["text"]) <= MAX_SECTION_CHARS:
                return None
            for element in block.get("elements", []):
                if len(element["text"]["text"]) > MAX_BUTTON_LABEL:
                    return None
                action_ids.append(element["action_id"])
        if len(action_ids) != len(set(action_ids)) or len(blocks) > 50:
            return None
        return list(blocks)

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel.startswith("U"):
            channel = dm_channel_of(channel)
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        blocks = self._blocks(params)
        if blocks is None:
            return {"ok": False, "error": "invalid_blocks"}
        message = Message(
            "post",
            channel,
            self._next_ts(),
            text=str(params.get("text", "")),
            blocks=blocks,
            thread_ts=params.get("thread_ts") or None,
        )
        self.messages.append(message)
        return {"ok": True, "channel": channel, "ts": message.ts, "message": {"ts": message.ts}}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        if not any(m.kind == "post" and (m.channel, m.ts) == (channel, ts) for m in self.messages):
            return {"ok": False, "error": "message_not_found"}
        blocks = self._blocks(params)
        if blocks is None:
            return {"ok": False, "error": "invalid_blocks"}
        self.messages.append(
            Message("update", channel, ts, text=str(params.get("text", "")), blocks=blocks)
        )
        return {"ok": True, "channel": channel, "ts": ts}

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):05d}"
        self.uploads[file_id] = {
            "filename": params.get("filename"),
            "length": int(params.get("length", 0)),
            "content": None,
        }
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404, text="no such upload")
        content = await request.read()
        self.uploads[file_id]["content"] = content
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files") or []
        if isinstance(files, str):
            files = json.loads(files)
        channel = str(params.get("channel_id", ""))
        done = []
        for item in files:
            upload = self.uploads.get(item["id"])
            if upload is None or upload["content"] is None:
                return {"ok": False, "error": "file_not_found"}
            self.messages.append(
                Message(
                    "file",
                    channel,
                    self._next_ts(),
                    thread_ts=params.get("thread_ts") or None,
                    filename=upload["filename"],
                    content=upload["content"],
                )
            )
            done.append({"id": item["id"], "title": item.get("title", upload["filename"])})
        return {"ok": True, "files": done}

    def response_url(self) -> str:
        """A fresh ``response_url`` for a slash command, served by this fake."""
        return f"{self.base_url}/commands/{next(self._ids)}"

    async def _command_response(self, request: web.Request) -> web.Response:
        self.command_responses.append(await request.json())
        return web.Response(text="ok")

    # -- Socket Mode ------------------------------------------------------------------------

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.base_url.replace("http://", "ws://") + "/link"}

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}}
        )
        self.socket_connected.set()
        async for frame in socket:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(frame.data)
            waiter = self.socket_acks.pop(str(data.get("envelope_id")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(data)
        return socket

    async def push_envelope(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a Socket Mode envelope to the connected app; returns its acknowledgement."""
        await asyncio.wait_for(self.socket_connected.wait(), 10)
        envelope_id = f"env-{next(self._ids)}"
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.socket_acks[envelope_id] = waiter
        await self.sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return await asyncio.wait_for(waiter, 10)


# -- what Slack sends to the app ------------------------------------------------------------

_event_ids = itertools.count(1)


def event_envelope(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """An Events API ``event_callback`` around ``event``."""
    return {
        "token": "deprecated-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def slash_command_form(
    user: str, name: str, text: str, channel: str, *, response_url: str
) -> dict[str, str]:
    """The form fields of a slash-command request; ``response_url`` takes delayed answers."""
    return {
        "token": "deprecated-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "trainbot-test",
        "channel_id": channel,
        "channel_name": "directmessage" if channel.startswith("D") else "general",
        "user_id": user,
        "user_name": name,
        "command": SLASH_COMMAND,
        "text": text,
        "api_app_id": APP_ID,
        "response_url": response_url,
        "trigger_id": f"trigger-{next(_event_ids)}",
    }


def block_actions_payload(
    user: str, name: str, message: Message, action: dict[str, Any]
) -> dict[str, Any]:
    """The ``payload`` of a button click on ``message``."""
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "trainbot-test"},
        "user": {"id": user, "username": name.lower(), "name": name.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"trigger-{next(_event_ids)}",
        "channel": {"id": message.channel, "name": "directmessage"},
        "message": {
            "type": "message",
            "user": BOT_USER_ID,
            "ts": message.ts,
            "text": message.text,
            "blocks": message.blocks,
            **({"thread_ts": message.thread_ts} if message.thread_ts else {}),
        },
        "response_url": "http://127.0.0.1:9/actions/response",
        "actions": [
            {
                "type": "button",
                "action_id": action["action_id"],
                "block_id": "row",
                "text": action["text"],
                "value": action.get("value", ""),
                "action_ts": str(time.time()),
            }
        ],
    }


async def deliver(
    url: str,
    body: bytes,
    *,
    content_type: str,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    retry_num: int | None = None,
) -> tuple[int, str]:
    """POST a signed request to the app as Slack would; returns status and body."""
    headers = signed_headers(
        body, content_type=content_type, secret=secret, timestamp=timestamp, retry_num=retry_num
    )
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


def json_body(data: dict[str, Any]) -> bytes:
    """A JSON request body."""
    return json.dumps(data).encode()


def form_body(fields: dict[str, str]) -> bytes:
    """A form-encoded request body."""
    return urlencode(fields).encode()


# -- reading what the bot said ----------------------------------------------------------------

_SLACK_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_SLACK_COMMAND = re.compile(re.escape(SLASH_COMMAND) + r" (" + "|".join(SUBCOMMANDS) + r")\b")


def plain_text(message: Message) -> str:
    """What a person reads in a message, as plain text: markup removed, buttons as
    ``[Label]`` one row per line.

    Commands come back in the neutral spelling the transcripts type (``/train quiz`` ->
    ``/quiz``), the inverse of what :class:`SlackDriver.say` does with them.
    """
    if message.kind == "file":
        return f"(attachment: {message.filename}, {len(message.content)} bytes)"
    lines: list[str] = []
    for block in message.blocks:
        if block.get("type") == "section":
            text = _SLACK_BOLD.sub(r"\1", block["text"]["text"])
            text = _SLACK_COMMAND.sub(r"/\1", text)
            lines.append(html.unescape(text))
        elif block.get("type") == "actions":
            lines.append("  ".join(f"[{element['text']['text']}]" for element in block["elements"]))
    if not message.blocks:
        lines.append(html.unescape(message.text))
    return "\n".join(lines)


@dataclass
class SeenButton:
    """A button the driver has seen, and the message it was on."""

    label: str
    action: dict[str, Any]
    message: Message


class SlackDriver:
    """A person chatting with the bot through the real Slack adapter and the fake Slack.

    ``say("/quiz args")`` runs the slash command ``/train quiz args`` in the person's DM
    with the bot; other text is a DM. ``press(label)`` clicks the most recent button whose
    label contains ``label`` among every button seen, even on since-edited messages (a
    double click). Each call waits for the HTTP acknowledgement, then ``adapter.drain()``.
    """

    platform = "slack"

    def __init__(self, fake: FakeSlack, adapter: SlackAdapter, person: Person) -> None:
        self.fake = fake
        self.adapter = adapter
        self.person = person
        self.user_id = slack_user_id(person.user_id)
        self.name = person.display_name or person.user_id
        self.channel = dm_channel_of(self.user_id)
        self.buttons: list[SeenButton] = []
        fake.add_user(self.user_id, self.name, tz=person.timezone, locale=person.locale)

    async def _exchange(self, body: bytes, content_type: str) -> list[str]:
        start = len(self.fake.messages)
        status, text = await deliver(self.adapter.url, body, content_type=content_type)
        assert status == 200, f"Slack request rejected: {status} {text}"
        await self.adapter.drain()
        return [self._read(self.fake.messages[start:])]

    def _read(self, messages: list[Message]) -> str:
        for message in messages:
            for block in message.blocks:
                for element in block.get("elements", []) if block.get("type") == "actions" else []:
                    self.buttons.append(SeenButton(element["text"]["text"], element, message))
        # New messages first, then edits of earlier ones: the edit only re-draws a message
        # the person has already seen.
        ordered = [m for m in messages if m.kind != "update"] + [
            m for m in messages if m.kind == "update"
        ]
        return "\n".join(plain_text(message) for message in ordered)

    async def say(self, text: str) -> list[str]:
        """Type ``text`` in the DM, or run ``/train <command>`` for ``/command``."""
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            fields = slash_command_form(
                self.user_id,
                self.name,
                f"{name} {html.escape(args, quote=False)}".strip(),
                self.channel,
                response_url=self.fake.response_url(),
            )
            return await self._exchange(form_body(fields), "application/x-www-form-urlencoded")
        event = {
            "type": "message",
            "channel": self.channel,
            "channel_type": "im",
            "user": self.user_id,
            "text": html.escape(text, quote=False),
            "ts": f"{time.time():.6f}",
            "event_ts": f"{time.time():.6f}",
        }
        return await self._exchange(json_body(event_envelope(event)), "application/json")

    async def mention(self, text: str, *, channel: str, ts: str) -> list[str]:
        """Mention the bot in a channel: ``@trainbot <text>`` posted at ``ts``."""
        event = {
            "type": "app_mention",
            "channel": channel,
            "user": self.user_id,
            "text": f"<@{BOT_USER_ID}> {html.escape(text, quote=False)}",
            "ts": ts,
            "event_ts": ts,
        }
        return await self._exchange(json_body(event_envelope(event)), "application/json")

    async def reply_in_thread(
        self, text: str, *, channel: str, thread_ts: str, channel_type: str = "channel"
    ) -> list[str]:
        """Reply in a channel thread without mentioning the bot (a ``message.channels`` event)."""
        ts = f"{time.time():.6f}"
        event = {
            "type": "message",
            "channel": channel,
            "channel_type": channel_type,
            "user": self.user_id,
            "text": html.escape(text, quote=False),
            "ts": ts,
            "thread_ts": thread_ts,
            "event_ts": ts,
        }
        return await self._exchange(json_body(event_envelope(event)), "application/json")

    async def reply(self, to: str, text: str) -> list[str]:
        """Reply in the thread of the bot's most recent DM message (or edit) containing ``to``."""
        for message in reversed(self.fake.messages):
            if message.channel == self.channel and to in plain_text(message):
                ts = f"{time.time():.6f}"
                event = {
                    "type": "message",
                    "channel": self.channel,
                    "channel_type": "im",
                    "user": self.user_id,
                    "text": html.escape(text, quote=False),
                    "ts": ts,
                    "thread_ts": message.ts,
                    "event_ts": ts,
                }
                return await self._exchange(json_body(event_envelope(event)), "application/json")
        raise AssertionError(f"no message of the bot containing {to!r} in {self.channel}")

    async def pushed(self, reply: Reply) -> list[str]:
        """Have the bot push ``reply`` to this person as the dispatcher does: through
        :meth:`SlackAdapter.send` to the person's user id."""
        start = len(self.fake.messages)
        await self.adapter.send(Conversation(PLATFORM, self.user_id), reply)
        return [self._read(self.fake.messages[start:])]

    async def press(self, label: str) -> list[str]:
        """Click the most recent button whose label contains ``label``."""
        for seen in reversed(self.buttons):
            if label in seen.label:
                payload = block_actions_payload(self.user_id, self.name, seen.message, seen.action)
                body = form_body({"payload": json.dumps(payload)})
                return await self._exchange(body, "application/x-www-form-urlencoded")
        raise AssertionError(
            f"no button labelled {label!r} among {[seen.label for seen in self.buttons]}"
        )


GROUP_CHANNEL = "C0TEAM"
"""The public channel of :class:`SlackGroupDriver`."""


class SlackGroupDriver:
    """A person in a Slack channel with the bot, and in their DM with it.

    ``say`` and ``press`` act in the DM (as :class:`SlackDriver`); ``say_in_group``
    mentions the bot in the channel (``@trainbot <text>``, a new thread each time) and
    ``press_in_group`` clicks a button on a message in the channel; both return what
    reached the channel and the DM.
    """

    platform = "slack"

    def __init__(self, private: SlackDriver, channel: str = GROUP_CHANNEL) -> None:
        self.private = private
        self.channel = channel
        self.fake = private.fake
        self.user_id = private.user_id

    async def say(self, text: str) -> list[str]:
        """Write in the DM, or run ``/train <command>`` there."""
        return await self.private.say(text)

    async def press(self, label: str) -> list[str]:
        """Click a button (the most recent with ``label``, wherever it is)."""
        return await self.private.press(label)

    async def pushed(self, reply: Reply) -> list[str]:
        """Have the bot push ``reply`` to the DM."""
        return await self.private.pushed(reply)

    async def reply(self, to: str, text: str) -> list[str]:
        """Reply to the bot's most recent message containing ``to`` in the DM."""
        return await self.private.reply(to, text)

    async def say_in_group(self, text: str) -> tuple[str, str]:
        """Mention the bot with ``text`` in the channel: what it said (there, in the DM)."""
        start = len(self.fake.messages)
        await self.private.mention(text, channel=self.channel, ts=f"{time.time():.6f}")
        return self._since(start)

    async def press_in_group(self, label: str) -> tuple[str, str]:
        """Click the most recent button labelled ``label`` on a message in the channel."""
        for seen in reversed(self.private.buttons):
            if seen.message.channel == self.channel and label in seen.label:
                start = len(self.fake.messages)
                payload = block_actions_payload(
                    self.user_id, self.private.name, seen.message, seen.action
                )
                body = form_body({"payload": json.dumps(payload)})
                await self.private._exchange(body, "application/x-www-form-urlencoded")
                return self._since(start)
        raise AssertionError(f"no button labelled {label!r} in {self.channel}")

    async def posted_in_group(self, reply: Reply) -> None:
        """The bot posts ``reply`` in the channel (as a version before private answers did)."""
        start = len(self.fake.messages)
        await self.private.adapter.send(
            Conversation(PLATFORM, self.channel, ConversationKind.CHANNEL), reply
        )
        self.private._read(self.fake.messages[start:])

    def group_log(self) -> str:
        """Everything the bot has ever shown in the channel (threads and files included)."""
        return "\n".join(plain_text(m) for m in self.fake.messages if m.channel == self.channel)

    def refuse_private_chat(self) -> None:
        """Slack refuses to open a DM between the bot and this person."""
        self.fake.refuse_dm(self.user_id)

    def _since(self, start: int) -> tuple[str, str]:
        new = self.fake.messages[start:]
        group = [m for m in new if m.channel == self.channel]
        private = [m for m in new if m.channel == self.private.channel]
        return "\n".join(map(plain_text, group)), "\n".join(map(plain_text, private))


@asynccontextmanager
async def slack_front_door(bot: TrainBot) -> AsyncIterator[Callable[[Person], SlackDriver]]:
    """Start the fake Slack and the real adapter (HTTP mode) for ``bot``; yield a factory
    of drivers, one per person. Stops both on exit."""
    fake = FakeSlack()
    await fake.start()
    settings = bot.ctx.settings
    settings.slack_bot_token = BOT_TOKEN
    settings.slack_app_token = ""
    settings.slack_signing_secret = fake.signing_secret
    settings.slack_api_url = fake.api_url
    adapter = SlackAdapter(bot, settings, host="127.0.0.1", port=0)
    try:
        await adapter.start()

        def make(person: Person) -> SlackDriver:
            return SlackDriver(fake, adapter, person)

        yield make
    finally:
        await adapter.stop()
        await fake.stop()
