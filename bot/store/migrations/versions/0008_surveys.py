"""satisfaction surveys after lessons

``survey_responses`` holds the one-tap rating (1-5) asked after a lesson or at the end of a
track, and the optional comment replied to it. Unique per person and local day (never more
than one survey prompt a day) and per lesson delivery; the rating is set once. Personal
data: exported, erased with the person and purged by retention (``bot.privacy``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.String(length=128), nullable=False),
        sa.Column("track_id", sa.String(length=64), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("end_of_track", sa.Boolean(), nullable=False),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("commented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_ref", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_survey_responses_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_survey_responses_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_survey_responses_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_survey_responses_delivery_id")),
        sa.UniqueConstraint(
            "person_id", "asked_on", name=op.f("uq_survey_responses_person_id_asked_on")
        ),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_responses_rated_at", ["rated_at", "team_id", "track_id"], unique=False
        )
        batch_op.create_index("ix_survey_responses_message_ref", ["message_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_responses_message_ref")
        batch_op.drop_index("ix_survey_responses_rated_at")
    op.drop_table("survey_responses")
