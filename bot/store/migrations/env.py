"""Alembic environment: runs the packaged migrations against the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from bot.store.db import create_db_engine, normalise_url
from bot.store.models import Base

config = context.config
target_metadata = Base.metadata
MIGRATION_LOCK = 0x7472_6169_6E62  # "trainb": the advisory lock key of migrations


def _url() -> str:
    """The URL set by ``trainbot db upgrade``, else the configured database."""
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from bot.settings import load_settings

    return normalise_url(load_settings().database_url)


def run_migrations_offline() -> None:
    """Emit SQL without a connection (``alembic upgrade --sql``)."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply migrations over a live connection."""
    engine = create_db_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Replicas of a fresh deployment all migrate at start: one at a time, or
                # two of them create alembic_version at once and one crashes. The lock ends
                # with the transaction; the next replica then finds the store at head.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
