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
GROUP_DOORS = ("telegram", "slack")
"""The adapters with group conversations (Telegram groups, Slack channels)."""


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

    async def reply(self, to: str, text: str) -> list[str]:
        """Reply ``text`` to the bot's most recent message containing ``to`` (as :meth:`say`).

        Telegram: a reply to that message; Slack: a message in its thread; the console:
        the next typed line, which answers the last message printed (which must be it).
        """
        ...


DriverMaker = Callable[[Person], ChatDriver]


class GroupChatDriver(ChatDriver, Protocol):
    """A person in a group conversation with the bot (and in their private chat with it).

    ``say`` and ``press`` act in the private chat. The ``*_in_group`` methods return two
    strings: what the bot then showed in the group, and what it sent to the private chat.
    """

    async def say_in_group(self, text: str) -> tuple[str, str]:
        """Address the bot in the group: ``/command`` on Telegram, a mention on Slack."""
        ...

    async def press_in_group(self, label: str) -> tuple[str, str]:
        """Press a button on a message in the group."""
        ...

    async def posted_in_group(self, reply: Reply) -> None:
        """Have the bot post ``reply`` in the group (as versions before private answers did)."""
        ...

    def group_log(self) -> str:
        """Everything the fake platform recorded the bot showing in the group."""
        ...

    def refuse_private_chat(self) -> None:
        """Make the platform refuse the bot's private chat with this person."""
        ...


@asynccontextmanager
async def group_door(
    platform: str, bot: TrainBot
) -> AsyncIterator[Callable[[Person], GroupChatDriver]]:
    """Open ``platform``'s real adapter on ``bot``; yield a maker of group drivers."""
    if platform == "telegram":
        from tests.fake_telegram import TelegramGroupDriver, telegram_front_door

        async with telegram_front_door(bot) as door:
            yield lambda person: TelegramGroupDriver(door(person))
        return
    if platform == "slack":
        from tests.fake_slack import SlackGroupDriver, slack_front_door

        async with slack_front_door(bot) as make:
            yield lambda person: SlackGroupDriver(make(person))
        return
    raise ValueError(f"no group conversations on {platform!r}")


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

    async def reply(self, to: str, text: str) -> list[str]:
        """Type the next line: the console reads it as a reply to the last message printed."""
        assert to in self.out.getvalue().rstrip("\n").rsplit("\n", 1)[-1], "not the last message"
        return await self.say(text)

    async def press(self, label: str) -> list[str]:
        """Type the number shown next to the button labelled ``label``."""
        for number, button in reversed(self.chat.buttons.items()):
            if label in button.label:
                return await self.say(str(number))
        raise AssertionError(f"no button labelled {label!r} among {self.chat.buttons}")


GroupFactory = Callable[..., GroupChatDriver]
"""What the ``in_group`` fixture yields: ``in_group(user_id, locale="en-US", timezone=None)``."""
