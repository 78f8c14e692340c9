"""The bot core: takes neutral events, runs one use case, returns replies.

Adapters call :meth:`TrainBot.handle`; they never import a handler. The composition root
(``adapters.cli``) builds the bot with its settings, store, clock and course.

Each event is one unit of work run in a worker thread of a bounded pool: the use cases
talk to the store and search the materials synchronously, and the event loop, which
acknowledges Slack and polls Telegram, only waits for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bot import audience, metrics, payloads
from bot.admission import Verdict, admit
from bot.clock import Clock, SystemClock
from bot.context import BotContext
from bot.events import BotAddress, ButtonPress, Command, Event, Reply, Text
from bot.events_log import StoredSeenEvents
from bot.handlers import (
    application,
    approval,
    ask,
    basics,
    enrollment,
    learning,
    privacy,
    report,
    survey,
)
from bot.i18n import t
from bot.library import CourseLibrary
from bot.ports import SeenEvents
from bot.qa import KnowledgeService
from bot.settings import Settings
from bot.store.db import Database

logger = logging.getLogger(__name__)

COMMANDS = (
    "start",
    "help",
    "ask",
    "quiz",
    "progress",
    "settings",
    "stop",
    "report",
    "forget",
    "whoami",
)
OPEN_COMMANDS = frozenset({"whoami"})
"""Commands answered before admission: an admin collects ids before the roster exists."""


CommandHandler = Callable[[BotContext, Command], list[Reply]]
EVENT_WORKERS = 8
"""Events handled at once; more wait for a free worker (the loop stays free)."""


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
            "forget": privacy.forget_command,
            "whoami": basics.whoami,
            "approve": approval.approve_command,  # admins only, so not in the command menus
        }
        self._workers = ThreadPoolExecutor(EVENT_WORKERS, thread_name_prefix="trainbot-event")
        self.seen_events: SeenEvents = StoredSeenEvents(db, self.ctx.clock.now)
        self._addresses: dict[str, BotAddress] = {}

    async def handle(self, event: Event) -> list[Reply]:
        """Run the use case for ``event`` in a worker thread and return what to say.

        Personal answers to an event from a group are addressed to the person's private
        chat, followed by the notes for the group (:mod:`bot.audience`).
        """
        metrics.event(event.conversation.platform)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._workers, self._handle_for_audience, event)

    def introduce(self, platform: str, address: BotAddress) -> None:
        """Learn how people open a private chat with the bot on ``platform`` (for group notes)."""
        self._addresses[platform] = address

    def _handle_for_audience(self, event: Event) -> list[Reply]:
        replies = self.handle_now(event)
        if not replies or not audience.is_personal(event):
            return replies
        platform = event.conversation.platform
        return audience.privately(
            replies,
            language=basics.language_for(self.ctx, event),
            platform=platform,
            address=self._addresses.get(platform),
        )

    def handle_now(self, event: Event) -> list[Reply]:
        """Run the use case for ``event`` in this thread (blocking)."""
        if isinstance(event, Command) and event.name in OPEN_COMMANDS:
            return self._command(event)
        refusal = self._gate(event)
        if refusal is not None:
            return refusal
        if isinstance(event, Command):
            return self._command(event)
        if isinstance(event, Text):
            return (
                survey.comment_reply(self.ctx, event)
                or application.example_reply(self.ctx, event)
                or ask.ask(self.ctx, event, event.text)
            )
        if isinstance(event, ButtonPress):
            return self._button(event)
        raise TypeError(f"not an event: {event!r}")

    def close(self) -> None:
        """Let the worker threads go once the events under way are handled."""
        self._workers.shutdown(wait=True)

    def _gate(self, event: Event) -> list[Reply] | None:
        """Who may use the bot (bot.admission): ``None`` lets the event through, else the
        polite answer for someone not let in, who is not stored as a person."""
        with self.ctx.db.session() as session:
            admission = admit(session, self.ctx.settings, event.person, now=self.ctx.clock.now())
        if admission.admitted:
            return None
        key = {
            Verdict.REQUESTED: "access_requested",
            Verdict.PENDING: "access_pending",
        }.get(admission.verdict, "access_refused")
        return [Reply(t(admission.language, key))]

    def _command(self, event: Command) -> list[Reply]:
        handler = self._commands.get(event.name)
        if handler is not None:
            return handler(self.ctx, event)
        language = basics.language_for(self.ctx, event)
        return [Reply(t(language, "unknown_command", name=event.name))]

    def _ask_command(self, ctx: BotContext, event: Command) -> list[Reply]:
        return ask.ask(ctx, event, event.args)

    def _button(self, event: ButtonPress) -> list[Reply]:
        payload = payloads.decode(event.payload)
        match payload:
            case payloads.QuizAnswer() | payloads.QuizToggle() | payloads.QuizSubmit():
                return learning.quiz_button(self.ctx, event, payload)
            case payloads.LessonDone() | payloads.LessonQuiz():
                return learning.lesson_button(self.ctx, event, payload)
            case payloads.AnswerFeedback():
                return ask.feedback(self.ctx, event, payload)
            case payloads.AccessDecision():
                return approval.decide(self.ctx, event, payload)
            case payloads.EnrolChoice():
                return enrollment.enrol_button(self.ctx, event, payload)
            case payloads.SettingChoice():
                return enrollment.settings_button(self.ctx, event, payload)
            case payloads.SurveyRating():
                return survey.rating_button(self.ctx, event, payload)
            case payloads.CheckinAnswer():
                return application.checkin_button(self.ctx, event, payload)
            case payloads.ObservationAnswer():
                return application.observation_button(self.ctx, event, payload)
            case payloads.ForgetConfirm():
                return privacy.forget_button(self.ctx, event, payload)
        return basics.button(self.ctx, event)  # not a payload this version makes

    async def language_of(self, event: Event) -> str:
        """The language to answer in: the person's stored choice, else their locale."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._workers, basics.language_for, self.ctx, event)
