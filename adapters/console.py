"""The console front door: a chat in the terminal, scriptable through piped stdin.

Buttons are shown as numbered choices; typing the number presses the button. A button's
number never repeats a citation number of the same message (an answer citing [1]-[3]
numbers its 👍/👎 from [4]), so "[1]" always means one thing on screen. Commands
are typed as in chat (``/quiz``). At end of input, or when told to stop (Ctrl-C, SIGTERM),
the chat ends with exit code 0.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import os
import re
import secrets
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import TextIO

from bot.digits import ascii_int
from bot.events import (
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
from bot.ports import EventHandler

logger = logging.getLogger(__name__)

PLATFORM = "console"
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\S+)?(?:\s+(.*))?$", re.DOTALL)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CITATION = re.compile(r"\[(\d{1,4})\]")


def parse_line(
    line: str,
    *,
    person: Person,
    conversation: Conversation,
    buttons: Sequence[Button] | Mapping[int, Button],
    button_refs: Mapping[int, str] | None = None,
    last_ref: str | None = None,
) -> Event | None:
    """Turn one typed line into an event; ``None`` for a blank line.

    Args:
        line: what the person typed.
        person: who is typing.
        conversation: the console conversation.
        buttons: the buttons currently shown, by their number (a sequence is numbered
            from 1).
        button_refs: the reference of the message each numbered button is on.
        last_ref: the reference of the last message printed: a typed line replies to it,
            as a line typed in a terminal answers what was just shown.
    """
    text = line.strip()
    if not text:
        return None
    match = _COMMAND.match(text)
    if match:
        return Command(person, conversation, match.group(1).lower(), (match.group(2) or "").strip())
    number = ascii_int(text, max_digits=4)
    shown = buttons if isinstance(buttons, Mapping) else dict(enumerate(buttons, start=1))
    if number is not None and number in shown:
        ref = (button_refs or {}).get(number)
        return ButtonPress(person, conversation, shown[number].payload, message_ref=ref)
    return Text(person, conversation, text, reply_to=last_ref)


def first_button_number(reply: Reply, first_number: int = 1) -> int:
    """The number of the reply's first button: after every citation number in its text."""
    cited = [int(found) for found in _CITATION.findall(reply.text)]
    return max([first_number, *(number + 1 for number in cited)])


def render(reply: Reply, *, first_number: int = 1) -> str:
    """Render a reply as plain terminal text with numbered buttons.

    Buttons are numbered from ``first_number``, or after the highest citation number in
    the text if that is higher (see :func:`first_button_number`).
    """
    lines = [_BOLD.sub(r"\1", reply.text)]
    number = first_button_number(reply, first_number)
    for row in reply.buttons:
        lines.append(
            "  ".join(f"[{number + index}] {button.label}" for index, button in enumerate(row))
        )
        number += len(row)
    if reply.attachment is not None:
        lines.append(
            f"(attachment: {reply.attachment.filename}, {len(reply.attachment.content)} bytes)"
        )
    return "\n".join(lines)


class StdinLines:
    """Lines of a text stream, awaited without tying up a thread, so waiting can be cancelled.

    A terminal or a pipe is watched by the event loop and read when it has data; nothing
    blocks, so a stop request ends the wait at once and the process can exit. A stream the
    loop cannot watch (a regular file, an in-memory one, a platform without ``add_reader``)
    is read by a daemon thread, which never keeps the process alive.

    Args:
        stream: where lines come from (``sys.stdin``).
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._lines: asyncio.Queue[str] = asyncio.Queue()  # "" marks the end of input
        self._loop = asyncio.get_running_loop()
        self._fd: int | None = None
        self._decoder = codecs.getincrementaldecoder(getattr(stream, "encoding", None) or "utf-8")(
            errors="replace"
        )
        self._partial = ""
        self._ended = False
        self._watch()

    def _watch(self) -> None:
        try:
            fd = self.stream.fileno()
            self._loop.add_reader(fd, self._readable)
        except (AttributeError, ValueError, OSError, NotImplementedError):
            # OSError: io.UnsupportedOperation (no descriptor) or EPERM (a regular file)
            threading.Thread(target=self._read_in_thread, name="console-stdin", daemon=True).start()
            return
        self._fd = fd

    def _readable(self) -> None:
        assert self._fd is not None
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        except OSError as exc:  # e.g. the terminal went away
            logger.debug("reading the console failed: %s", exc)
            data = b""
        if data:
            self._take(self._decoder.decode(data))
        else:
            self._take(self._decoder.decode(b"", final=True))
            self._end()

    def _take(self, text: str) -> None:
        self._partial += text
        *lines, self._partial = self._partial.split("\n")
        for line in lines:
            self._lines.put_nowait(line + "\n")

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        self.close()
        if self._partial:  # a last line without a newline still counts
            self._lines.put_nowait(self._partial)
            self._partial = ""
        self._lines.put_nowait("")

    def _read_in_thread(self) -> None:
        try:
            for line in iter(self.stream.readline, ""):
                self._loop.call_soon_threadsafe(self._lines.put_nowait, line)
        except (OSError, ValueError) as exc:  # closed or unreadable: that is the end
            logger.debug("reading the console failed: %s", exc)
        with contextlib.suppress(RuntimeError):  # the loop closed while we were reading
            self._loop.call_soon_threadsafe(self._lines.put_nowait, "")

    async def readline(self) -> str:
        """The next line with its newline; ``""`` at end of input (and after it)."""
        line = await self._lines.get()
        if not line:
            self._lines.put_nowait("")  # stay at the end for later calls
        return line

    def close(self) -> None:
        """Stop watching the stream (the thread, if any, ends with the process)."""
        if self._fd is not None:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(self._fd)
            self._fd = None


class ConsoleChat:
    """A chat session on stdin/stdout as one person.

    Args:
        bot: the bot core.
        person: who the console user is.
        stdin: where lines come from.
        stdout: where replies go.
        prompt: show a ``>`` prompt (when attached to a terminal).
    """

    platform = PLATFORM

    def __init__(
        self,
        bot: EventHandler,
        person: Person,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        prompt: bool | None = None,
    ) -> None:
        self.bot = bot
        self.person = person
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.prompt = self.stdin.isatty() if prompt is None else prompt
        # Each console session is a conversation of its own (a follow-up never leans on a
        # question from an earlier session); replies still go to the person.
        self.conversation = Conversation(
            PLATFORM, person.user_id, ConversationKind.DIRECT, thread_id=secrets.token_hex(4)
        )
        self.buttons: dict[int, Button] = {}  # by the number shown next to each
        self.button_refs: dict[int, str] = {}  # the message each numbered button is on
        self.last_ref: str | None = None  # the last message printed
        self._printed = 0
        self._lock = asyncio.Lock()

    async def send(self, conversation: Conversation, reply: Reply) -> str | None:
        """Outbound port: print a pushed message (lessons, quizzes, reports).

        ``trainbot run`` pushes to every console learner through this one terminal, so
        each push first says whom it is for.
        """
        language = await self.bot.language_of(Text(self.person, self.conversation, ""))
        header = Reply(t(language, "console_push_for", who=conversation.chat_id))
        async with self._lock:
            self._show([header, reply])
        return None

    def _show(self, replies: list[Reply]) -> None:
        buttons: dict[int, Button] = {}
        refs: dict[int, str] = {}
        for index, reply in enumerate(replies):
            edits = reply.edit_ref is not None and reply.edit_ref.startswith(f"{PLATFORM}:")
            if edits and index + 1 < len(replies):
                # A terminal cannot change what it printed: an edit that only closes a
                # message (a quiz's options) is left out when replies follow that say
                # what happened; an edit alone (a tick, a rating) is printed again.
                continue
            if edits:
                ref = str(reply.edit_ref)  # an edited message keeps its reference
            else:
                self._printed += 1
                ref = f"{PLATFORM}:{self.conversation.thread_id}:{self._printed}"
            first = first_button_number(reply, max(buttons, default=0) + 1)
            self.stdout.write(render(reply, first_number=first) + "\n")
            flat = [button for row in reply.buttons for button in row]
            numbered = dict(enumerate(flat, start=first))
            buttons.update(numbered)
            refs.update(dict.fromkeys(numbered, ref))
            self.last_ref = ref
        if buttons:
            self.buttons = buttons
            self.button_refs = refs
        self.stdout.flush()

    async def run(self, stop: asyncio.Event | None = None) -> int:
        """Read lines until end of input or until ``stop`` is set; return the exit code (0).

        Waiting for input ends as soon as ``stop`` is set; a line being answered then is
        answered first.
        """
        stop = stop or asyncio.Event()
        lines = StdinLines(self.stdin)
        stopping = asyncio.ensure_future(stop.wait())
        reading: asyncio.Future[str] | None = None
        try:
            while not stop.is_set():
                if self.prompt:
                    self.stdout.write("> ")
                    self.stdout.flush()
                reading = asyncio.ensure_future(lines.readline())
                await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not reading.done():
                    if self.prompt:  # end the prompt line (the terminal echoed ^C on it)
                        self.stdout.write("\n")
                        self.stdout.flush()
                    break
                line = reading.result()
                if not line:
                    break
                await self.on_line(line)
        finally:
            for waiting in (reading, stopping):
                if waiting is not None:
                    waiting.cancel()
            lines.close()
        return 0

    async def on_line(self, line: str) -> None:
        """Handle one typed line and print the bot's replies."""
        event = parse_line(
            line,
            person=self.person,
            conversation=self.conversation,
            buttons=self.buttons,
            button_refs=self.button_refs,
            last_ref=self.last_ref,
        )
        if event is None:
            return
        try:
            replies = await self.bot.handle(event)
        except Exception:  # one failing message must not end the chat
            logger.exception("handling a console %s failed", type(event).__name__)
            language = language_from_locale(self.person.locale, "zh")
            replies = [Reply(t(language, "apology"))]
        async with self._lock:
            self._show(replies)
