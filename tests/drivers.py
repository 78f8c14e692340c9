"""Chat drivers for transcript tests: what a person types or presses, what the bot says.

Every driver speaks to the bot through a real front door (its adapter), so one transcript
runs against each of them. Later adapters add their drivers here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Protocol

from adapters.console import ConsoleChat
from bot.app import TrainBot
from bot.events import Person


class ChatDriver(Protocol):
    """A person chatting with the bot through one adapter."""

    async def say(self, text: str) -> list[str]:
        """Type ``text``; return what the bot answered (one string per message)."""
        ...

    async def press(self, label: str) -> list[str]:
        """Press the most recent button whose label contains ``label``."""
        ...


@dataclass
class ConsoleDriver:
    """Drives :class:`ConsoleChat` line by line and reads what it printed."""

    bot: TrainBot
    person: Person
    out: io.StringIO = field(default_factory=io.StringIO)

    def __post_init__(self) -> None:
        self.chat = ConsoleChat(
            self.bot, self.person, stdin=io.StringIO(), stdout=self.out, prompt=False
        )

    async def say(self, text: str) -> list[str]:
        """Type a line into the console."""
        start = self.out.tell()
        await self.chat.on_line(text + "\n")
        return [self.out.getvalue()[start:]]

    async def press(self, label: str) -> list[str]:
        """Type the number shown next to the button labelled ``label``."""
        for number, button in reversed(list(enumerate(self.chat.buttons, start=1))):
            if label in button.label:
                return await self.say(str(number))
        raise AssertionError(f"no button labelled {label!r} among {self.chat.buttons}")
