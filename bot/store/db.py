"""Engine and session set-up, and applying migrations."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

T = TypeVar("T")

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for bare ``postgresql://`` URLs."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_db_engine(url: str, *, hide_parameters: bool = True) -> Engine:
    """Create an engine; SQLite gets WAL mode, foreign keys and a parent directory.

    Args:
        url: a SQLAlchemy URL (``sqlite:///var/trainbot.db``, ``postgresql://...``).
        hide_parameters: keep statement parameters (names, question texts) out of
            database errors, which are logged (off with ``TRAINBOT_LOG_CONTENT=true``).
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=hide_parameters)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=hide_parameters)


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at the packaged migrations and ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (``head`` by default)."""
    create_db_engine(url).dispose()  # creates the SQLite directory if needed
    command.upgrade(alembic_config(url), revision)


class Database:
    """The store's engine and session factory.

    Args:
        url: SQLAlchemy URL of the database.
        hide_parameters: keep statement parameters out of database errors (see
            :func:`create_db_engine`).
    """

    def __init__(self, url: str, *, hide_parameters: bool = True) -> None:
        self.url = normalise_url(url)
        self.engine = create_db_engine(self.url, hide_parameters=hide_parameters)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def upgrade(self) -> None:
        """Apply all migrations."""
        command.upgrade(alembic_config(self.url), "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction in a worker thread, off the event loop."""

        def in_thread() -> T:
            with self.session() as session:
                return work(session)

        return await asyncio.to_thread(in_thread)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
