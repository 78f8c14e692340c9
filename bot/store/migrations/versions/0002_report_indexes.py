"""indexes for the weekly summary

The weekly report reads one week of deliveries (by ``sent_at``) and of attempts (by
``answered_at``). Both indexes cover every column the report's aggregates read, so a week
is one range scan of an index and never a visit to the table rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_sent_at",
        "deliveries",
        ["sent_at", "kind", "status", "person_id", "team_id"],
        unique=False,
    )
    op.create_index(
        "ix_attempts_answered_week",
        "attempts",
        ["answered_at", "person_id", "correct", "first_try", "question_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_attempts_answered_week", table_name="attempts")
    op.drop_index("ix_deliveries_sent_at", table_name="deliveries")
