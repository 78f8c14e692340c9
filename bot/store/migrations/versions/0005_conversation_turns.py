"""conversation turns for follow-up questions

A follow-up ("那经理呢？", "and for managers?") is rewritten into a standalone question from
the person's previous question in the same conversation. ``conversation_turns`` keeps
those questions (as searched) and the answers shown, per person and conversation, for
``TRAINBOT_FOLLOWUP_MINUTES``; they go with the person (``forget``) and with the
retention purge.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_turns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("conversation", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_conversation_turns_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_turns")),
    )
    with op.batch_alter_table("conversation_turns", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_turns_person_conversation",
            ["person_id", "conversation", "asked_at"],
            unique=False,
        )
        batch_op.create_index("ix_conversation_turns_asked_at", ["asked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversation_turns", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_turns_asked_at")
        batch_op.drop_index("ix_conversation_turns_person_conversation")
    op.drop_table("conversation_turns")
