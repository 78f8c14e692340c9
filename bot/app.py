"""The bot core: takes neutral events, runs one use case, returns replies.

Adapters call :meth:`TrainBot.handle`; they never import a handler. The composition root
(``adapters.cli``) builds the bot with its settings, store, clock and course.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.clock import Clock, SystemClock
from bot.events import ButtonPress, Command, Event, Reply, Text
from bot.handlers import basics
from bot.i18n import t
from bot.library import CourseLibrary
from bot.settings import Settings
from bot.store.db import Database

logger = logging.getLogger(__name__)

COMMANDS = ("start", "help", "ask", "quiz", "progress", "settings", "stop", "report")


@dataclass
class BotContext:
    """What every use case may need: configuration, store, clock and course."""

    settings: Settings
    db: Database
    clock: Clock
    library: CourseLibrary


CommandHandler = Callable[[BotContext, Command], Awaitable[list[Reply]]]


class TrainBot:
    """The application, independent of any chat platform.

    Args:
        settings: the configuration.
        db: the store (migrations already applied).
        library: the course being served.
        clock: where time comes from (a fake one in tests and the simulator).
    """

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        library: CourseLibrary,
        clock: Clock | None = None,
    ) -> None:
        self.ctx = BotContext(
            settings=settings, db=db, clock=clock or SystemClock(), library=library
        )
        self._commands: dict[str, CommandHandler] = {
            "start": basics.start,
            "help": basics.show_help,
            "stop": basics.stop,
        }

    async def handle(self, event: Event) -> list[Reply]:
        """Run the use case for ``event`` and return what to say."""
        if isinstance(event, Command):
            return await self._command(event)
        if isinstance(event, Text):
            return await basics.text(self.ctx, event)
        if isinstance(event, ButtonPress):
            return await basics.button(self.ctx, event)
        raise TypeError(f"not an event: {event!r}")

    async def _command(self, event: Command) -> list[Reply]:
        handler = self._commands.get(event.name)
        if handler is not None:
            return await handler(self.ctx, event)
        language = basics.language_for(self.ctx, event)
        if event.name in COMMANDS:
            return [Reply(t(language, "not_available", name=event.name))]
        return [Reply(t(language, "unknown_command", name=event.name))]

    def language_of(self, event: Event) -> str:
        """The language to answer in: the person's stored choice, else their locale."""
        return basics.language_for(self.ctx, event)
