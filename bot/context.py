"""What every use case may need: configuration, store, clock, course and Q&A."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.library import CourseLibrary
from bot.qa import KnowledgeService
from bot.settings import Settings
from bot.store.db import Database


@dataclass
class BotContext:
    """What every use case may need: configuration, store, clock and course."""

    settings: Settings
    db: Database
    clock: Clock
    library: CourseLibrary
    knowledge: KnowledgeService | None = None
