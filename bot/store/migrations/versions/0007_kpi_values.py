"""business KPIs per team and week

Level 3 of the training norm (business impact): ``trainbot kpis import`` stores one value
per team, ISO week and metric (e.g. 30-day retention, complaint rate), which the weekly
report sets beside the team's training indicators. Unique per (team, week, metric), so a
re-import replaces values.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kpi_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_kpi_values_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_values")),
        sa.UniqueConstraint(
            "team_id", "week", "metric", name=op.f("uq_kpi_values_team_id_week_metric")
        ),
    )
    with op.batch_alter_table("kpi_values", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_values_metric_week", ["metric", "week"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kpi_values", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_values_metric_week")
    op.drop_table("kpi_values")
