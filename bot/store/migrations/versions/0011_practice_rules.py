"""practice rules: weak lessons fire drill for the people below the mark

``practice_firings`` records each rule that fired on a lesson for a cycle, with its
evidence (unique per rule, track, lesson and cycle start, so it fires once a cycle
whatever the number of processes); ``practice_targets`` lists the people it gives drill
to, with their own first tries before it (personal data: exported, erased with them).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "practice_firings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("track_id", sa.String(length=64), nullable=False),
        sa.Column("lesson_id", sa.String(length=128), nullable=False),
        sa.Column("cycle_start", sa.Date(), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mark", sa.Float(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_firings")),
        sa.UniqueConstraint(
            "rule_id",
            "track_id",
            "lesson_id",
            "cycle_start",
            name=op.f("uq_practice_firings_rule_id_track_id_lesson_id_cycle_start"),
        ),
    )
    op.create_table(
        "practice_targets",
        sa.Column("firing_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("correct_before", sa.Integer(), nullable=False),
        sa.Column("answers_before", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["firing_id"],
            ["practice_firings.id"],
            name=op.f("fk_practice_targets_firing_id_practice_firings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_practice_targets_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("firing_id", "person_id", name=op.f("pk_practice_targets")),
    )
    with op.batch_alter_table("practice_targets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_practice_targets_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("practice_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_practice_targets_person_id"))
    op.drop_table("practice_targets")
    op.drop_table("practice_firings")
