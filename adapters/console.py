"""The console front door: a chat in the terminal, scriptable through piped stdin.

Buttons are shown as numbered choices; typing the number presses the button. Commands
are typed as in chat (``/quiz``). At end of input the chat ends with exit code 0.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from typing import TextIO

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


def parse_line(
    line: str, *, person: Person, conversation: Conversation, buttons: list[Button]
) -> Event | None:
    """Turn one typed line into an event; ``None`` for a blank line.

    Args:
        line: what the person typed.
        person: who is typing.
        conversation: the console conversation.
        buttons: the buttons currently shown, numbered from 1.
    """
    text = line.strip()
    if not text:
        return None
    match = _COMMAND.match(text)
    if match:
        return Command(person, conversation, match.group(1).lower(), (match.group(2) or "").strip())
    if text.isdigit() and 1 <= int(text) <= len(buttons):
        return ButtonPress(person, conversation, buttons[int(text) - 1].payload)
    return Text(person, conversation, text)


def render(reply: Reply, *, first_number: int = 1) -> str:
    """Render a reply as plain terminal text with numbered buttons."""
    lines = [_BOLD.sub(r"\1", reply.text)]
    number = first_number
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
        self.conversation = Conversation(PLATFORM, person.user_id, ConversationKind.DIRECT)
        self.buttons: list[Button] = []
        self._lock = asyncio.Lock()

    async def send(self, conversation: Conversation, reply: Reply) -> str | None:
        """Outbound port: print a pushed message (lessons, quizzes, reports)."""
        async with self._lock:
            self._show([reply])
        return None

    def _show(self, replies: list[Reply]) -> None:
        buttons: list[Button] = []
        for reply in replies:
            self.stdout.write(render(reply, first_number=len(buttons) + 1) + "\n")
            buttons.extend(button for row in reply.buttons for button in row)
        if buttons:
            self.buttons = buttons
        self.stdout.flush()

    async def run(self) -> int:
        """Read lines until end of input; return the exit code (0)."""
        loop = asyncio.get_running_loop()
        while True:
            if self.prompt:
                self.stdout.write("> ")
                self.stdout.flush()
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                return 0
            await self.on_line(line)

    async def on_line(self, line: str) -> None:
        """Handle one typed line and print the bot's replies."""
        event = parse_line(
            line, person=self.person, conversation=self.conversation, buttons=self.buttons
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
