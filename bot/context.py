"""What every use case may need: configuration, store, clock, course and Q&A."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.clock import Clock
from bot.library import CourseLibrary
from bot.qa import KnowledgeService
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import Role


@dataclass
class BotContext:
    """What every use case may need: configuration, store, clock and course."""

    settings: Settings
    db: Database
    clock: Clock
    library: CourseLibrary
    knowledge: KnowledgeService | None = None
    session_roles: dict[tuple[str, str], Role] = field(default_factory=dict)
    """Roles held for this process only, by ``(platform, user_id)`` (``trainbot chat
    --role manager``); never stored."""
