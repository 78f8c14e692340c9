"""team membership history

Reports used to count a person's week under the team stamped on their deliveries when
they were claimed, so a team formed by a roster import showed nothing for the work its
people did before the import. ``team_memberships`` keeps a row per change of a person's
team; reports read the team a person was in at the end of each week.

The history before this migration is rebuilt from what the store kept: the team stamped
on each sent delivery (a change wherever it differs from the one before), starting when
the person was created, and the person's current team, from their last update, when it
differs from the last stamp.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000


def upgrade() -> None:
    memberships = op.create_table(
        "team_memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_team_memberships_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_memberships_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_memberships")),
    )
    connection = op.get_bind()
    batch: list[dict[str, Any]] = []
    for row in _history(connection):
        batch.append({**row, "since": _moment(row["since"])})
        if len(batch) >= _BATCH:
            connection.execute(memberships.insert(), batch)
            batch.clear()
    if batch:
        connection.execute(memberships.insert(), batch)
    with op.batch_alter_table("team_memberships", schema=None) as batch_op:
        batch_op.create_index(
            "ix_team_memberships_person_since", ["person_id", "since"], unique=False
        )


def _history(connection: sa.Connection) -> Iterator[dict[str, Any]]:
    """Membership rows per person, in order, from people and their deliveries' stamps.

    Times come as the driver returns them (text on SQLite, aware on PostgreSQL); the
    caller turns them into datetimes.
    """
    people = {
        row.id: row
        for row in connection.execute(
            sa.text("SELECT id, team_id, created_at, updated_at FROM people")
        )
    }
    stamps = connection.execute(
        sa.text(
            "SELECT person_id, team_id, sent_at FROM deliveries "
            "WHERE sent_at IS NOT NULL ORDER BY person_id, sent_at, id"
        )
    )
    current: int | None = None
    last_team: int | None = None
    last_at: Any = None
    seen: set[int] = set()

    def close(person_id: int) -> Iterator[dict[str, Any]]:
        person = people.get(person_id)
        if person is not None and person.team_id != last_team:
            since = _later(person.updated_at, last_at)
            yield {"person_id": person_id, "team_id": person.team_id, "since": since}

    for person_id, team_id, sent_at in stamps:
        if person_id not in people:
            continue
        if person_id != current:
            if current is not None:
                yield from close(current)
            current, last_team, last_at = person_id, team_id, sent_at
            seen.add(person_id)
            created = people[person_id].created_at
            yield {"person_id": person_id, "team_id": team_id, "since": created}
            continue
        if team_id != last_team:
            yield {"person_id": person_id, "team_id": team_id, "since": sent_at}
            last_team = team_id
        last_at = sent_at
    if current is not None:
        yield from close(current)
    for person_id, person in people.items():
        if person_id not in seen:
            yield {"person_id": person_id, "team_id": person.team_id, "since": person.created_at}


def _later(first: Any, second: Any) -> Any:
    """The later of two stored times (either may be text on SQLite, or missing)."""
    if first is None or second is None:
        return first if second is None else second
    return first if _moment(first) >= _moment(second) else second


def _moment(value: Any) -> datetime:
    """A stored time as a datetime: naive UTC from SQLite's text, aware from PostgreSQL."""
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment


def downgrade() -> None:
    with op.batch_alter_table("team_memberships", schema=None) as batch_op:
        batch_op.drop_index("ix_team_memberships_person_since")
    op.drop_table("team_memberships")
