"""access that follows the roster

Who may use the bot is decided now, not once: ``people.on_roster`` marks the people an
imported roster lists, ``roster_imports`` records that a roster was imported (so
``TRAINBOT_ENROLMENT=auto`` becomes ``roster``), ``access_requests`` holds strangers'
requests waiting for an admin (``TRAINBOT_ENROLMENT=approval``), and
``team_managers.source`` tells the links a roster import derives (and replaces) from the
ones an admin added by hand. Administrators come from ``TRAINBOT_ADMINS`` only: the
``admin`` role earlier versions stored is turned into ``learner``, so nobody keeps admin
rights from a stored flag.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("on_roster", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("team_managers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sa.Enum("roster", "admin", name="manager_source", native_enum=False, length=16),
                server_default="roster",
                nullable=False,
            )
        )
    op.execute("UPDATE people SET role = 'learner' WHERE role = 'admin'")

    op.create_table(
        "roster_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_imports")),
    )
    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("platform_user_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "denied",
                name="access_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_requests")),
        sa.UniqueConstraint(
            "platform",
            "platform_user_id",
            name=op.f("uq_access_requests_platform_platform_user_id"),
        ),
    )
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_requests_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_requests_status"))
    op.drop_table("access_requests")
    op.drop_table("roster_imports")
    with op.batch_alter_table("team_managers", schema=None) as batch_op:
        batch_op.drop_column("source")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("on_roster")
