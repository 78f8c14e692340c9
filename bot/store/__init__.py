"""The relational store: SQLAlchemy models, engine set-up and Alembic migrations."""

from bot.store.db import Database, upgrade
from bot.store.models import (
    AskedQuestion,
    Attempt,
    Base,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Person,
    PersonStatus,
    ProcessedEvent,
    ReviewState,
    Role,
    Team,
    TeamManager,
)

__all__ = [
    "AskedQuestion",
    "Attempt",
    "Base",
    "Database",
    "Delivery",
    "DeliveryKind",
    "DeliveryStatus",
    "Person",
    "PersonStatus",
    "ProcessedEvent",
    "ReviewState",
    "Role",
    "Team",
    "TeamManager",
    "upgrade",
]
