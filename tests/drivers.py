"""Chat drivers for transcript tests: what a person types or presses, what the bot says.

Every driver speaks to the bot through a real front door (its adapter), so one transcript
runs against each of them. Later adapters add their drivers here.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from adapters.console import ConsoleChat
from bot.app import TrainBot
from bot.events import Person, Reply

FRONT_DOORS = ("console", "telegram", "slack")
"""Every adapter the shared transcript suite runs against."""


class ChatDriver(Protocol):
    """A person chatting with the bot through one adapter."""

    @property
    def platform(self) -> str:
        """The adapter's platform name."""
        ...

    @property
    def user_id(self) -> str:
        """The person's platform user id, as the bot stores it."""
        ...

    async def say(self, text: str) -> list[str]:
        """Type ``text``; return what the bot answered.

        The list holds one string: the plain text of every message the bot sent in
        response, with button labels, joined by newlines.
        """
        ...

    async def press(self, label: str) -> list[str]:
        """Press the most recent button whose label contains ``label`` (as :meth:`say`)."""
        ...

    async def pushed(self, reply: Reply) -> list[str]:
        """Have the bot push ``reply`` to this person through the adapter's outbound port."""
        ...


DriverMaker = Callable[[Person], ChatDriver]


@asynccontextmanager
async def front_door(platform: str, bot: TrainBot) -> AsyncIterator[DriverMaker]:
    """Open ``platform``'s real adapter on ``bot`` (with its fake platform server)."""
    if platform == "console":
        yield lambda person: ConsoleDriver(bot, person)
        return
    if platform == "telegram":
        from tests.fake_telegram import telegram_front_door

        async with telegram_front_door(bot) as door:
            yield door
        return
    if platform == "slack":
        from tests.fake_slack import slack_front_door

        async with slack_front_door(bot) as make:
            yield make
        return
    raise ValueError(f"no front door for {platform!r}")


@dataclass
class ConsoleDriver:
    """Drives :class:`ConsoleChat` line by line and reads what it printed."""

    bot: TrainBot
    person: Person
    out: io.StringIO = field(default_factory=io.StringIO)

    @property
    def platform(self) -> str:
        """The console's platform name."""
        return self.person.platform

    @property
    def user_id(self) -> str:
        """The console user's id."""
        return self.person.user_id

    def __post_init__(self) -> None:
        self.chat = ConsoleChat(
            self.bot, self.person, stdin=io.StringIO(), stdout=self.out, prompt=False
        )

    async def say(self, text: str) -> list[str]:
        """Type a line into the console."""
        start = self.out.tell()
        await self.chat.on_line(text + "\n")
        return [self.out.getvalue()[start:]]

    async def pushed(self, reply: Reply) -> list[str]:
        """Print a pushed message as the dispatcher would, through the outbound port."""
        start = self.out.tell()
        await self.chat.send(self.chat.conversation, reply)
        return [self.out.getvalue()[start:]]

    async def press(self, label: str) -> list[str]:
        """Type the number shown next to the button labelled ``label``."""
        for number, button in reversed(list(enumerate(self.chat.buttons, start=1))):
            if label in button.label:
                return await self.say(str(number))
        raise AssertionError(f"no button labelled {label!r} among {self.chat.buttons}")
