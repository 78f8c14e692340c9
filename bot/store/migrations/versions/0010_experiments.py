"""A/B tests: which variant each person or team got

``experiment_assignments`` records each unit's variant once (unique per experiment and
person, or team), with its place in the randomisation blocks (unique per experiment,
stratum and position) so that assignments stay balanced across processes. A person's
assignments are personal data: exported, and erased with them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "experiment_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("stratum", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_experiment_assignments_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_experiment_assignments_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_assignments")),
        sa.UniqueConstraint(
            "experiment_id",
            "person_id",
            name=op.f("uq_experiment_assignments_experiment_id_person_id"),
        ),
        sa.UniqueConstraint(
            "experiment_id",
            "team_id",
            name=op.f("uq_experiment_assignments_experiment_id_team_id"),
        ),
        sa.UniqueConstraint(
            "experiment_id",
            "stratum",
            "position",
            name=op.f("uq_experiment_assignments_experiment_id_stratum_position"),
        ),
    )


def downgrade() -> None:
    op.drop_table("experiment_assignments")
