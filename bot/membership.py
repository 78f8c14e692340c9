"""Which team a person was in at a moment, as a SQL expression over the membership history.

Reports count a person's week under the team they were in at the week's end
(docs/reports.md): a team formed mid-week by a roster import shows its people's whole
week, a person who moved is counted once, and earlier weeks stay with the team they were
in then. ``team_memberships`` rows are written on every change of ``people.team_id``
(``bot.store.models.record_team_changes``); a person with no row before the moment (people
written outside the ORM) counts under a fallback, their current team.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, exists, select
from sqlalchemy.sql.elements import ColumnElement

from bot.store.models import TeamMembership


def team_at(person_id: Any, moment: datetime, fallback: Any) -> ColumnElement[Any]:
    """The team id of the person ``person_id`` (a column) just before ``moment``.

    Two correlated lookups on ``ix_team_memberships_person_since``: whether a row exists
    before ``moment``, and the latest one's team (which may be NULL: no team). Without a
    row, ``fallback`` (the person's current team, or the team stamped on a row).
    """
    before = (TeamMembership.person_id == person_id, TeamMembership.since < moment)
    latest = (
        select(TeamMembership.team_id)
        .where(*before)
        .order_by(TeamMembership.since.desc(), TeamMembership.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return case((exists().where(*before), latest), else_=fallback)


__all__ = ["team_at"]
