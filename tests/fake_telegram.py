"""A local fake Telegram Bot API server (port 0), a chat driver over it, and the front door.

:class:`FakeTelegram` speaks the documented wire format at ``/bot<token>/<method>`` (JSON,
form and multipart bodies) closely enough for python-telegram-bot to parse every answer
strictly. It holds long-polling ``getUpdates`` calls until an update arrives, records every
request, keeps the messages the bot sent (so button presses carry them, edits and all),
and can be told to answer the next call of a method with 429, 403, 409 or 500. Like Telegram,
it refuses to let the bot write first: a private chat whose user never wrote in it (never
pressed Start; ``started``) answers 403 "bot can't initiate conversation with a user", and
``getUpdates`` answers 409 Conflict while a webhook is set.
Groups have negative ids and the type ``group`` or ``supergroup``.

:class:`TelegramDriver` chats as one person through it: ``say`` queues a message update,
``press`` a callback query; each waits until the adapter has taken the update off the wire
(the next ``getUpdates`` offset confirms it) and :meth:`TelegramAdapter.drain`, then reads
back what the bot sent to that chat, as plain text.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from adapters.telegram import TelegramAdapter
from bot.app import TrainBot
from bot.events import Conversation, ConversationKind, Person, Reply

TOKEN = "123456789:TEST-fake-token"
BOT_ID = 123456789
BOT_USERNAME = "trainbot_test_bot"
# Fields the Bot API takes as JSON-serialised objects inside form bodies.
_JSON_FIELDS = {
    "reply_markup",
    "commands",
    "scope",
    "entities",
    "caption_entities",
    "reply_parameters",
    "allowed_updates",
    "link_preview_options",
}
_INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "message_thread_id"}
_MENTION = re.compile(r"@\w+")
_TAG = re.compile(r"<[^>]+>")
_SENDS = ("sendMessage", "sendPhoto", "sendDocument")
_EDITS = ("editMessageText", "editMessageReplyMarkup")


def telegram_user_id(user_id: str) -> int:
    """A stable Telegram-style numeric id for a neutral user id such as ``alice``."""
    return 100_000_000 + zlib.crc32(user_id.encode("utf-8")) % 900_000_000


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def entities_for(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` and ``mention`` entities Telegram would attach to ``text``."""
    found: list[dict[str, Any]] = []
    command = re.match(r"/\w+(@\w+)?", text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": utf16_length(command[0])})
    for match in _MENTION.finditer(text):
        if command and match.start() < command.end():
            continue
        found.append(
            {
                "type": "mention",
                "offset": utf16_length(text[: match.start()]),
                "length": utf16_length(match[0]),
            }
        )
    return found


def plain_text(markup: str) -> str:
    """Telegram HTML as the plain text a person reads."""
    return html.unescape(_TAG.sub("", markup))


@dataclass
class ApiCall:
    """One request the bot made.

    Attributes:
        method: the Bot API method, e.g. ``sendMessage``.
        params: its parameters, JSON fields decoded; uploaded files as
            ``{"filename", "content_type", "content"}``.
        at: ``time.monotonic()`` when it arrived.
        status: the HTTP status answered.
        result: the ``result`` answered, when the call succeeded.
    """

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    result: Any = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.status == 200


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None = None


class FakeTelegram:
    """A Bot API server on ``127.0.0.1`` and a free port; use ``async with``.

    Attributes:
        requests: every call the bot made, in order.
        webhook: the last ``setWebhook`` parameters (empty after ``deleteWebhook``).
    """

    def __init__(self, *, token: str = TOKEN, username: str = BOT_USERNAME) -> None:
        self.token = token
        self.bot_user = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Trainbot",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.requests: list[ApiCall] = []
        self.webhook: dict[str, Any] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.started: set[int] = set()
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._slow: dict[str, list[float]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1000
        self._confirmed = 0
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        """Release held long polls and stop listening."""
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        """The base URL to configure (``TRAINBOT_TELEGRAM_API_URL``)."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- the test's side -------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        language_code: str | None = None,
        username: str | None = None,
        is_bot: bool = False,
    ) -> dict[str, Any]:
        """Register a user and their private chat with the bot."""
        user: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        chat: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
        if username:
            chat["username"] = username
        self.chats[user_id] = chat
        return user

    def pressed_start(self, user_id: int) -> None:
        """The user pressed Start in their private chat earlier: the bot may write there."""
        self.started.add(user_id)

    def add_group(self, chat_id: int, title: str, *, supergroup: bool = True) -> dict[str, Any]:
        """Register a group chat the bot is a member of."""
        chat = {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}
        self.chats[chat_id] = chat
        return chat

    def fail_next(
        self, method: str, status: int, description: str, *, retry_after: int | None = None
    ) -> None:
        """Answer the next call of ``method`` with an error (queued per method)."""
        self._failures.setdefault(method, []).append(_Failure(status, description, retry_after))

    def slow_down(self, method: str, seconds: float, *, count: int) -> None:
        """Answer the next ``count`` calls of ``method`` after ``seconds``.

        The call is carried out at once (the message is delivered and counted); only the
        answer is late, as when Telegram is overloaded and the client gives up waiting.
        """
        self._slow.setdefault(method, []).extend([seconds] * count)

    def delivered(self, method: str = "sendMessage") -> list[ApiCall]:
        """The calls of ``method`` that Telegram carried out, whether or not the bot heard."""
        return [call for call in self.calls(method) if call.ok]

    def block_next(self, method: str = "sendMessage") -> None:
        """Answer the next ``method`` like Telegram does for a user who blocked the bot."""
        self.fail_next(method, 403, "Forbidden: bot was blocked by the user")

    def rate_limit_next(self, method: str = "sendMessage", retry_after: int = 1) -> None:
        """Answer the next ``method`` with 429 and ``retry_after``."""
        self.fail_next(
            method,
            429,
            f"Too Many Requests: retry after {retry_after}",
            retry_after=retry_after,
        )

    def calls(self, method: str) -> list[ApiCall]:
        """The recorded calls of one method."""
        return [call for call in self.requests if call.method == method]

    async def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for ``getUpdates``; returns its ``update_id``."""
        self._next_update_id += 1
        update = {"update_id": self._next_update_id, **update}
        self._updates.append(update)
        await self._notify()
        return int(update["update_id"])

    def message_update(self, user_id: int, chat_id: int, text: str) -> dict[str, Any]:
        """A ``message`` update as Telegram would send it."""
        message_id = self._new_message_id(chat_id)
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chats[chat_id],
            "from": self.users[user_id],
            "text": text,
        }
        entities = entities_for(text)
        if entities:
            message["entities"] = entities
        self.messages[(chat_id, message_id)] = message
        if chat_id == user_id:  # writing in the private chat means Start was pressed
            self.started.add(user_id)
        return {"message": message}

    def callback_update(
        self, user_id: int, chat_id: int, message_id: int, data: str
    ) -> dict[str, Any]:
        """A ``callback_query`` update for a press on a button of a message."""
        return {
            "callback_query": {
                "id": f"{user_id}{message_id}{self._next_update_id}",
                "from": self.users[user_id],
                "chat_instance": f"ci-{chat_id}",
                "message": self.messages[(chat_id, message_id)],
                "data": data,
            }
        }

    async def wait_confirmed(self, update_id: int, *, seconds: float = 15.0) -> None:
        """Wait until the bot's ``getUpdates`` offset shows it took ``update_id``."""

        async def confirmed() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: self._confirmed >= update_id)

        try:
            await asyncio.wait_for(confirmed(), seconds)
        except TimeoutError:
            raise AssertionError(f"the bot never fetched update {update_id}") from None

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _new_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    # -- the bot's side --------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        call = ApiCall(method, params, time.monotonic())
        self.requests.append(call)
        if request.match_info["token"] != self.token:
            return self._error(call, 401, "Unauthorized")
        failures = self._failures.get(method)
        if failures:
            failure = failures.pop(0)
            extra = {"retry_after": failure.retry_after} if failure.retry_after else None
            return self._error(call, failure.status, failure.description, extra)
        answer = getattr(self, f"_api_{method}", None)
        if answer is None:
            return self._error(call, 404, "Not Found")
        try:
            result = await answer(params)
        except _ApiError as exc:
            return self._error(call, exc.status, exc.description)
        call.result = result
        delays = self._slow.get(method)
        if delays:
            await asyncio.sleep(delays.pop(0))
        return web.json_response({"ok": True, "result": result})

    def _error(
        self,
        call: ApiCall,
        status: int,
        description: str,
        parameters: dict[str, Any] | None = None,
    ) -> web.Response:
        call.status = status
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json() if request.can_read_body else {}
            return dict(body or {})
        params: dict[str, Any] = {}
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename:
                    params[part.name] = {
                        "filename": part.filename,
                        "content_type": part.headers.get("Content-Type", ""),
                        "content": bytes(await part.read()),
                    }
                else:
                    params[part.name] = await part.text()
        else:
            form = await request.post()
            params = {key: value for key, value in form.items() if isinstance(value, str)}
        for key, value in list(params.items()):
            if not isinstance(value, str):
                continue
            if key in _JSON_FIELDS:
                params[key] = json.loads(value)
            elif key in _INT_FIELDS and re.fullmatch(r"-?\d+", value):
                params[key] = int(value)
        return params

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        chat = self.chats.get(int(chat_id)) if str(chat_id).lstrip("-").isdigit() else None
        if chat is None:
            raise _ApiError(400, "Bad Request: chat not found")
        return chat

    def _writable(self, chat_id: Any) -> dict[str, Any]:
        """The chat to write in; a private chat only once its user pressed Start."""
        chat = self._chat(chat_id)
        if chat["type"] == "private" and chat["id"] not in self.started:
            raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _store(self, chat: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        message = {
            "message_id": self._new_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            **fields,
        }
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return self.bot_user

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": str(self.webhook.get("url") or ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
        if self.webhook.get("allowed_updates"):
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_logOut(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_sendChatAction(self, params: dict[str, Any]) -> Any:
        self._writable(params["chat_id"])
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook.get("url"):
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if offset - 1 > self._confirmed:
                self._confirmed = offset - 1
                await self._notify()

        def pending() -> list[dict[str, Any]]:
            return [u for u in self._updates if u["update_id"] >= offset][:limit]

        if not pending() and timeout > 0 and not self._closing:

            async def arrived() -> None:
                async with self._changed:
                    await self._changed.wait_for(lambda: bool(pending()) or self._closing)

            with suppress(TimeoutError):
                await asyncio.wait_for(arrived(), timeout)
        return pending()

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat = self._writable(params["chat_id"])
        text = str(params.get("text") or "")
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_length(plain_text(text)) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        fields: dict[str, Any] = {"text": plain_text(text)}
        if params.get("reply_markup"):
            fields["reply_markup"] = params["reply_markup"]
        return self._store(chat, fields)

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params["chat_id"])
        message = self.messages.get((chat["id"], int(params["message_id"])))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        text = plain_text(str(params.get("text") or ""))
        markup = params.get("reply_markup") or None
        if markup is not None and not markup.get("inline_keyboard"):
            markup = None
        if message.get("text") == text and message.get("reply_markup") == markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        message["text"] = text
        message["edit_date"] = int(time.time())
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        return message

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params["chat_id"])
        message = self.messages.get((chat["id"], int(params["message_id"])))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup") or None
        if markup and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    def _upload(self, params: dict[str, Any], name: str) -> dict[str, Any]:
        upload = params.get(name)
        if not isinstance(upload, dict) or "content" not in upload:
            raise _ApiError(400, f"Bad Request: there is no {name} in the request")
        return upload

    async def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        chat = self._writable(params["chat_id"])
        upload = self._upload(params, "photo")
        unique = f"p{len(self.requests)}"
        fields: dict[str, Any] = {
            "photo": [
                {
                    "file_id": f"photo-{unique}",
                    "file_unique_id": unique,
                    "width": 640,
                    "height": 480,
                    "file_size": len(upload["content"]),
                }
            ]
        }
        return self._store(chat, self._captioned(fields, params))

    async def _api_sendDocument(self, params: dict[str, Any]) -> Any:
        chat = self._writable(params["chat_id"])
        upload = self._upload(params, "document")
        unique = f"d{len(self.requests)}"
        fields: dict[str, Any] = {
            "document": {
                "file_id": f"document-{unique}",
                "file_unique_id": unique,
                "file_name": upload["filename"],
                "mime_type": upload["content_type"] or "application/octet-stream",
                "file_size": len(upload["content"]),
            }
        }
        return self._store(chat, self._captioned(fields, params))

    @staticmethod
    def _captioned(fields: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        if params.get("caption"):
            fields["caption"] = plain_text(str(params["caption"]))
        if params.get("reply_markup"):
            fields["reply_markup"] = params["reply_markup"]
        return fields


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# -- the driver ----------------------------------------------------------------------------


def _chat_of(call: ApiCall) -> int | None:
    chat_id = call.params.get("chat_id")
    return chat_id if isinstance(chat_id, int) else None


def _keyboard_lines(markup: Any) -> list[str]:
    if not markup:
        return []
    return [
        "  ".join(f"[{button['text']}]" for button in row)
        for row in markup.get("inline_keyboard", [])
        if row
    ]


def transcript_of(calls: list[ApiCall]) -> str:
    """What the person saw of these calls, as plain text.

    New messages, their button rows (``[Label A]  [Label B]``) and attachments are
    listed; edits of earlier messages only when nothing new was sent (a multi-select
    question re-drawn in place), since an edit changes a message rather than adding one.
    """
    lines: list[str] = []
    edits: list[str] = []
    for call in calls:
        if not call.ok:
            continue
        if call.method == "sendMessage":
            lines.append(plain_text(call.params["text"]))
            lines.extend(_keyboard_lines(call.params.get("reply_markup")))
        elif call.method in ("sendPhoto", "sendDocument"):
            if call.params.get("caption"):
                lines.append(plain_text(call.params["caption"]))
            upload = call.params["photo" if call.method == "sendPhoto" else "document"]
            lines.append(f"(attachment: {upload['filename']}, {len(upload['content'])} bytes)")
            lines.extend(_keyboard_lines(call.params.get("reply_markup")))
        elif call.method == "editMessageText":
            edits.append(plain_text(call.params["text"]))
            edits.extend(_keyboard_lines(call.params.get("reply_markup")))
    return "\n".join(lines or edits)


@dataclass
class TelegramDriver:
    """A person chatting with the bot through the fake Telegram server.

    Attributes:
        server: the fake Bot API server.
        adapter: the running adapter.
        person: who is chatting (neutral user id such as ``alice``).
        chat_id: where they write; their private chat unless :meth:`in_chat` says otherwise.
    """

    server: FakeTelegram
    adapter: TelegramAdapter
    person: Person
    chat_id: int = 0
    platform: str = "telegram"
    telegram_id: int = field(init=False)

    def __post_init__(self) -> None:
        self.telegram_id = telegram_user_id(self.person.user_id)
        if self.chat_id == 0 or self.telegram_id not in self.server.users:
            # The user directory follows the newest driver (its name and locale).
            self.server.add_user(
                self.telegram_id,
                self.person.display_name or self.person.user_id,
                language_code=self.person.locale,
                username=re.sub(r"\W", "_", self.person.user_id),
            )
        if not self.chat_id:
            self.chat_id = self.telegram_id

    @property
    def user_id(self) -> str:
        """The user id the bot stores for this person."""
        return str(self.telegram_id)

    def in_chat(self, chat_id: int) -> TelegramDriver:
        """The same person writing in another chat (a group)."""
        return TelegramDriver(self.server, self.adapter, self.person, chat_id=chat_id)

    async def say(self, text: str) -> list[str]:
        """Send a message; return everything the bot sent to this chat in response."""
        update = self.server.message_update(self.telegram_id, self.chat_id, text)
        return await self._exchange(update)

    async def press(self, label: str) -> list[str]:
        """Press the most recent button seen in this chat whose label contains ``label``."""
        for call in reversed(self.server.requests):
            if not call.ok or _chat_of(call) != self.chat_id:
                continue
            if call.method not in (*_SENDS, *_EDITS):
                continue
            markup = call.params.get("reply_markup") or {}
            buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
            for button in reversed(buttons):
                if label in button["text"]:
                    message_id = (
                        call.params["message_id"]
                        if call.method in _EDITS
                        else call.result["message_id"]
                    )
                    update = self.server.callback_update(
                        self.telegram_id, self.chat_id, message_id, button["callback_data"]
                    )
                    return await self._exchange(update)
        raise AssertionError(f"no button labelled {label!r} in chat {self.chat_id}")

    async def reply(self, to: str, text: str) -> list[str]:
        """Reply to the bot's most recent message in this chat whose text contains ``to``."""
        mine = [
            message
            for (chat_id, _), message in self.server.messages.items()
            if chat_id == self.chat_id and message.get("from") == self.server.bot_user
        ]
        for message in sorted(mine, key=lambda m: int(m["message_id"]), reverse=True):
            if to in plain_text(str(message.get("text", ""))):
                update = self.server.message_update(self.telegram_id, self.chat_id, text)
                update["message"]["reply_to_message"] = dict(message)
                return await self._exchange(update)
        raise AssertionError(f"no message of the bot containing {to!r} in chat {self.chat_id}")

    async def pushed(self, reply: Reply) -> list[str]:
        """Have the bot push ``reply`` here through the adapter's outbound port."""
        mark = len(self.server.requests)
        kind = ConversationKind.DIRECT if self.chat_id > 0 else ConversationKind.CHANNEL
        await self.adapter.send(Conversation("telegram", str(self.chat_id), kind), reply)
        calls = [c for c in self.server.requests[mark:] if _chat_of(c) == self.chat_id]
        return [transcript_of(calls)]

    async def _exchange(self, update: dict[str, Any]) -> list[str]:
        mark = len(self.server.requests)
        update_id = await self.server.push_update(update)
        await self.server.wait_confirmed(update_id)
        await self.adapter.drain()
        calls = [c for c in self.server.requests[mark:] if _chat_of(c) == self.chat_id]
        return [transcript_of(calls)]


def everything_in(calls: list[ApiCall]) -> str:
    """Everything these calls showed, edits included: texts, captions, files, buttons."""
    lines: list[str] = []
    for call in calls:
        if not call.ok or call.method not in (*_SENDS, *_EDITS):
            continue
        if call.params.get("text"):
            lines.append(plain_text(call.params["text"]))
        if call.params.get("caption"):
            lines.append(plain_text(call.params["caption"]))
        for name in ("photo", "document"):
            upload = call.params.get(name)
            if isinstance(upload, dict):
                lines.append(f"(attachment: {upload['filename']}, {len(upload['content'])} bytes)")
        lines.extend(_keyboard_lines(call.params.get("reply_markup")))
    return "\n".join(lines)


GROUP_CHAT_ID = -1001234567890
"""The supergroup of :class:`TelegramGroupDriver`."""


@dataclass
class TelegramGroupDriver:
    """A person in a Telegram supergroup with the bot, and in their private chat with it.

    ``say`` and ``press`` act in the private chat (as :class:`TelegramDriver`); the
    ``*_in_group`` methods in the group, returning what reached each chat.
    """

    private: TelegramDriver
    group_id: int = GROUP_CHAT_ID
    platform: str = "telegram"

    def __post_init__(self) -> None:
        server = self.private.server
        if self.group_id not in server.chats:
            server.add_group(self.group_id, "门店运营群 / Store team")
        self.group = self.private.in_chat(self.group_id)

    @property
    def server(self) -> FakeTelegram:
        """The fake Bot API server."""
        return self.private.server

    @property
    def user_id(self) -> str:
        """The user id the bot stores for this person."""
        return self.private.user_id

    async def say(self, text: str) -> list[str]:
        """Write in the private chat (which presses Start, as Telegram requires)."""
        return await self.private.say(text)

    async def press(self, label: str) -> list[str]:
        """Press a button in the private chat."""
        return await self.private.press(label)

    async def pushed(self, reply: Reply) -> list[str]:
        """Have the bot push ``reply`` to the private chat."""
        return await self.private.pushed(reply)

    async def reply(self, to: str, text: str) -> list[str]:
        """Reply to the bot's most recent message containing ``to`` in the private chat."""
        return await self.private.reply(to, text)

    async def say_in_group(self, text: str) -> tuple[str, str]:
        """Address the bot in the group (a ``/command`` as typed, other text after
        ``@bot``): what the bot then said in the group, and privately."""
        mark = len(self.server.requests)
        await self.group.say(
            text if text.startswith("/") else f"@{self.server.bot_user['username']} {text}"
        )
        return self._since(mark)

    async def press_in_group(self, label: str) -> tuple[str, str]:
        """Press a button on a message in the group (as :meth:`say_in_group`)."""
        mark = len(self.server.requests)
        await self.group.press(label)
        return self._since(mark)

    async def posted_in_group(self, reply: Reply) -> None:
        """The bot posts ``reply`` in the group (as a version before private answers did)."""
        conversation = Conversation("telegram", str(self.group_id), ConversationKind.CHANNEL)
        await self.private.adapter.send(conversation, reply)

    def group_log(self) -> str:
        """Everything the bot has ever shown in the group."""
        return everything_in([c for c in self.server.requests if _chat_of(c) == self.group_id])

    def refuse_private_chat(self) -> None:
        """The person never pressed Start (or blocked the bot): Telegram answers 403."""
        self.server.started.discard(self.private.telegram_id)

    def _since(self, mark: int) -> tuple[str, str]:
        calls = self.server.requests[mark:]
        group = [c for c in calls if _chat_of(c) == self.group_id]
        private = [c for c in calls if _chat_of(c) == self.private.telegram_id]
        return everything_in(group), everything_in(private)


class TelegramFrontDoor:
    """What :func:`telegram_front_door` yields: a driver factory with the server at hand."""

    def __init__(self, server: FakeTelegram, adapter: TelegramAdapter, connected: str) -> None:
        self.server = server
        self.adapter = adapter
        self.connected = connected

    def __call__(self, person: Person) -> TelegramDriver:
        """A driver speaking as ``person`` in their private chat with the bot."""
        return TelegramDriver(self.server, self.adapter, person)


@asynccontextmanager
async def telegram_front_door(bot: TrainBot) -> AsyncIterator[TelegramFrontDoor]:
    """Run the real Telegram adapter for ``bot`` against a fake Bot API server.

    Points ``bot.ctx.settings`` at the fake server (token, API base URL, long polling),
    starts the adapter and yields a factory of drivers; stops both on exit.
    """
    async with FakeTelegram() as server:
        settings = bot.ctx.settings
        settings.telegram_token = server.token
        settings.telegram_api_url = server.api_url
        settings.telegram_webhook_url = ""
        adapter = TelegramAdapter(bot, settings)
        connected = await adapter.start()
        try:
            yield TelegramFrontDoor(server, adapter, connected)
        finally:
            await adapter.stop()
