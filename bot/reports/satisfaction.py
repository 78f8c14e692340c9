"""Satisfaction (level 1 of the evaluation norm): the week's lesson ratings.

The satisfaction survey (:mod:`bot.surveys`) asks learners to rate a lesson, or a track
they finished, from 1 to 5. The weekly report shows, for the week and the week before:

- the **mean rating** and the **number of ratings** given in the week (by when the person
  tapped, in the organisation's week), overall, per team and per track;
- the **change** of the mean since last week (in rating points, ``None`` when either week
  has no rating).

A rating counts under the team the person was in when they were asked (stored with the
survey, as deliveries store theirs) and under the survey's track. The scope is the
report's: its teams, plus the manager's direct reports wherever they are, and only people
the enrolment rule admits.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.store.models import Person, PersonStatus, SurveyResponse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ratings:
    """Ratings given in one week: how many, and their sum."""

    count: int = 0
    total: int = 0

    @property
    def mean(self) -> float | None:
        """The mean rating (1-5), ``None`` without ratings."""
        return self.total / self.count if self.count else None

    def __add__(self, other: Ratings) -> Ratings:
        return Ratings(self.count + other.count, self.total + other.total)


@dataclass(frozen=True)
class SatisfactionRow:
    """One team's or track's (or the whole scope's) ratings this week and last week."""

    key: str
    name: str
    this_week: Ratings
    last_week: Ratings

    @property
    def change(self) -> float | None:
        """This week's mean minus last week's, ``None`` when either has no rating."""
        now, before = self.this_week.mean, self.last_week.mean
        return None if now is None or before is None else now - before


@dataclass(frozen=True)
class Satisfaction:
    """The report's satisfaction figure: overall, per team and per track."""

    total: SatisfactionRow
    teams: list[SatisfactionRow]
    tracks: list[SatisfactionRow]


RatingCells = dict[tuple[int | None, str | None, bool], Ratings]
"""(team id, track id, this week?) -> ratings."""


def rating_cells(
    session: Session,
    *,
    previous: datetime,
    start: datetime,
    end: datetime,
    team_ids: Collection[int] | None,
    person_ids: Collection[int] = (),
    admitted: ColumnElement[bool] | None = None,
) -> RatingCells:
    """Ratings given from ``previous`` to ``end``, summed by team, track and week, in SQL.

    Args:
        session: an open session.
        previous: the start of last week.
        start: the start of this week (the end of last week).
        end: the end of this week.
        team_ids: the teams in scope; ``None`` for the whole organisation.
        person_ids: people in scope besides those teams' members (direct reports).
        admitted: who may be counted (``bot.admission.admitted_people``); ``None``
            counts everyone not removed.
    """
    this_week = (SurveyResponse.rated_at >= start).label("this_week")
    query = (
        select(
            SurveyResponse.team_id,
            SurveyResponse.track_id,
            this_week,
            func.count(SurveyResponse.rating),
            func.coalesce(func.sum(SurveyResponse.rating), 0),
        )
        .join(Person, Person.id == SurveyResponse.person_id)
        .where(
            SurveyResponse.rating.is_not(None),
            SurveyResponse.rated_at >= previous,
            SurveyResponse.rated_at < end,
            admitted if admitted is not None else Person.status != PersonStatus.REMOVED,
        )
        .group_by(SurveyResponse.team_id, SurveyResponse.track_id, this_week)
    )
    if team_ids is not None:
        query = query.where(
            or_(
                SurveyResponse.team_id.in_(sorted(team_ids)),
                SurveyResponse.person_id.in_(sorted(person_ids)),
            )
        )
    # The comparison comes back as 0/1 on SQLite and as a boolean on PostgreSQL: bool().
    return {
        (team_id, track_id, bool(current)): Ratings(int(count or 0), int(total or 0))
        for team_id, track_id, current, count, total in session.execute(query).all()
    }


def _row(key: str, name: str, cells: RatingCells, keep: object) -> SatisfactionRow:
    this_week, last_week = Ratings(), Ratings()
    for cell, ratings in cells.items():
        if not callable(keep) or not keep(cell):
            continue
        if cell[2]:
            this_week += ratings
        else:
            last_week += ratings
    return SatisfactionRow(key, name, this_week, last_week)


def satisfaction(
    cells: RatingCells,
    *,
    scope: str,
    team_names: dict[int, str],
    track_names: dict[str, str],
    no_team: str,
) -> Satisfaction | None:
    """The figure from :func:`rating_cells`; ``None`` when neither week has a rating.

    Teams and tracks are listed when they have a rating in either week, teams by name
    (people in no team last), tracks by id.
    """
    if not cells:
        return None
    teams = {cell[0] for cell in cells}
    tracks = {cell[1] for cell in cells}
    team_rows = [
        _row(
            "" if team_id is None else str(team_id),
            no_team if team_id is None else team_names.get(team_id, str(team_id)),
            cells,
            lambda cell, team_id=team_id: cell[0] == team_id,
        )
        for team_id in teams
    ]
    team_rows.sort(key=lambda row: (row.key == "", row.name.casefold()))
    track_rows = [
        _row(
            track_id or "",
            track_names.get(track_id or "", track_id or no_team),
            cells,
            lambda cell, track_id=track_id: cell[1] == track_id,
        )
        for track_id in tracks
    ]
    track_rows.sort(key=lambda row: row.key)
    return Satisfaction(
        total=_row("total", scope, cells, lambda cell: True),
        teams=team_rows,
        tracks=track_rows,
    )
