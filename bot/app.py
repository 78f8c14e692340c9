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
from bot.handlers import ask, basics, enrollment, learning, report
from bot.i18n import t
from bot.library import CourseLibrary
from bot.qa import KnowledgeService
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
    knowledge: KnowledgeService | None = None


CommandHandler = Callable[[BotContext, Command], Awaitable[list[Reply]]]


class TrainBot:
    """The application, independent of any chat platform.

    Args:
        settings: the configuration.
        db: the store (migrations already applied).
        library: the course being served.
        knowledge: the Q&A service; ``None`` answers questions with an apology.
        clock: where time comes from (a fake one in tests and the simulator).
    """

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        library: CourseLibrary,
        knowledge: KnowledgeService | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.ctx = BotContext(
            settings=settings,
            db=db,
            clock=clock or SystemClock(),
            library=library,
            knowledge=knowledge,
        )
        self._commands: dict[str, CommandHandler] = {
            "start": enrollment.start,
            "help": basics.show_help,
            "stop": basics.stop,
            "ask": self._ask_command,
            "quiz": learning.quiz_command,
            "progress": learning.progress,
            "settings": enrollment.settings_command,
            "report": report.report,
        }

    async def handle(self, event: Event) -> list[Reply]:
        """Run the use case for ``event`` and return what to say."""
        if isinstance(event, Command):
            return await self._command(event)
        if isinstance(event, Text):
            return await ask.ask(self.ctx, event, event.text)
        if isinstance(event, ButtonPress):
            return await self._button(event)
        raise TypeError(f"not an event: {event!r}")

    async def _command(self, event: Command) -> list[Reply]:
        handler = self._commands.get(event.name)
        if handler is not None:
            return await handler(self.ctx, event)
        language = basics.language_for(self.ctx, event)
        return [Reply(t(language, "unknown_command", name=event.name))]

    async def _ask_command(self, ctx: BotContext, event: Command) -> list[Reply]:
        return await ask.ask(ctx, event, event.args)

    async def _button(self, event: ButtonPress) -> list[Reply]:
        prefix = event.payload.split(":", 1)[0]
        if prefix == ask.FEEDBACK_PREFIX:
            return await ask.feedback(self.ctx, event)
        if prefix in learning.PREFIXES:
            return await learning.press(self.ctx, event)
        if prefix == enrollment.ENROL:
            return await enrollment.enrol_button(self.ctx, event)
        if prefix == enrollment.SETTING:
            return await enrollment.settings_button(self.ctx, event)
        return await basics.button(self.ctx, event)

    def language_of(self, event: Event) -> str:
        """The language to answer in: the person's stored choice, else their locale."""
        return basics.language_for(self.ctx, event)
