"""The relational store: SQLAlchemy models, engine set-up and Alembic migrations."""

from bot.store.db import Database, upgrade
from bot.store.models import (
    AccessRequest,
    AccessStatus,
    AskedQuestion,
    Attempt,
    Base,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    ManagerSource,
    Person,
    PersonStatus,
    ProcessedEvent,
    ReviewState,
    Role,
    RosterImport,
    Team,
    TeamManager,
)

__all__ = [
    "AccessRequest",
    "AccessStatus",
    "AskedQuestion",
    "Attempt",
    "Base",
    "Database",
    "Delivery",
    "DeliveryKind",
    "DeliveryStatus",
    "ManagerSource",
    "Person",
    "PersonStatus",
    "ProcessedEvent",
    "ReviewState",
    "Role",
    "RosterImport",
    "Team",
    "TeamManager",
    "upgrade",
]
