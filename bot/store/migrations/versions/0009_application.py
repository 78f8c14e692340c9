"""level 2 of the evaluation: application check-ins and observations

``application_reports`` holds what a learner answers, N days after a lesson, about
applying it at work, and what their manager or a peer observer answers in the monthly
checklist; unique per push and lesson, so a double tap stores one answer.
``observers`` lists the peers the roster names as a person's observers. Check-ins and
checklists are deliveries of the new kinds ``checkin`` and ``observation`` (the kind
column is a plain string: no type to alter). Personal data: exported and erased with the
person (``bot.privacy``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "application_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("observer_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.String(length=128), nullable=False),
        sa.Column("track_id", sa.String(length=64), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("example", sa.Text(), nullable=True),
        sa.Column("example_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_ref", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["people.id"],
            name=op.f("fk_application_reports_subject_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["observer_id"],
            ["people.id"],
            name=op.f("fk_application_reports_observer_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_application_reports_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_application_reports_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_reports")),
        sa.UniqueConstraint(
            "delivery_id",
            "lesson_id",
            name=op.f("uq_application_reports_delivery_id_lesson_id"),
        ),
    )
    with op.batch_alter_table("application_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_application_reports_answered_at", ["answered_at", "lesson_id"], unique=False
        )
        batch_op.create_index(
            "ix_application_reports_subject_id", ["subject_id", "lesson_id"], unique=False
        )
        batch_op.create_index("ix_application_reports_message_ref", ["message_ref"], unique=False)
    op.create_table(
        "observers",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("observer_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["people.id"],
            name=op.f("fk_observers_subject_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["observer_id"],
            ["people.id"],
            name=op.f("fk_observers_observer_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", "observer_id", name=op.f("pk_observers")),
    )
    with op.batch_alter_table("observers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observers_observer_id"), ["observer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("observers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observers_observer_id"))
    op.drop_table("observers")
    with op.batch_alter_table("application_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_application_reports_message_ref")
        batch_op.drop_index("ix_application_reports_subject_id")
        batch_op.drop_index("ix_application_reports_answered_at")
    op.drop_table("application_reports")
