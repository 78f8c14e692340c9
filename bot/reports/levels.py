"""The weekly report's level 1 / 2 / 3 section: the norm's three levels side by side.

Per team and per track (and for the whole scope), each with its change since the week
before:

- **Level 1** — training coverage and pass rate, exactly the figures of the report's team
  and track tables (:class:`bot.reports.metrics.GroupWeek`, not computed again), and the
  mean satisfaction rating with its number of ratings (:mod:`bot.reports.satisfaction`).
- **Level 2** — the application rate (:mod:`bot.application`): people × lessons reported
  applying ÷ reported, shown with "n reported of N trained", as it stood at the end of the
  week and at the end of the week before.
- **Level 3** — per team, each imported KPI's latest value in the analysed weeks and its
  change from the value before it; the difference-in-differences line per KPI is the one
  :mod:`bot.reports.impact` computes.

Nothing here reads the store: :func:`build_levels` joins what the summary already holds
with the application counts the summary's session read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.application import ApplicationCells, ApplicationCount, by_team, by_track, totals

if TYPE_CHECKING:
    from bot.reports.impact import BusinessImpact, MetricImpact
    from bot.reports.metrics import GroupWeek
    from bot.reports.satisfaction import Satisfaction, SatisfactionRow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KpiLatest:
    """A team's latest value of one KPI in the analysed weeks, and the value before it."""

    metric: str
    unit: str | None
    direction: str | None
    week: str
    value: float
    previous_week: str | None = None
    previous_value: float | None = None

    @property
    def change(self) -> float | None:
        """Latest minus the value before it, ``None`` without an earlier value."""
        return None if self.previous_value is None else self.value - self.previous_value


@dataclass(frozen=True)
class LevelRow:
    """One team's, track's or the scope's three levels, this week and the week before.

    Attributes:
        key: the team id, the track id (``""``: none) or ``total``.
        name: what the report shows.
        group: the row of the report's team or track table (level 1 coverage and pass
            rate); ``None`` when the report has none for it.
        ratings: the satisfaction row; ``None`` without a rating in either week.
        application: the application counts at the end of the week.
        application_before: the same at the end of the week before.
        kpis: the team's KPIs (teams only).
    """

    key: str
    name: str
    group: GroupWeek | None
    ratings: SatisfactionRow | None
    application: ApplicationCount
    application_before: ApplicationCount
    kpis: tuple[KpiLatest, ...] = ()

    @property
    def application_change(self) -> float | None:
        """The application rate's change since the end of the week before."""
        now, before = self.application.rate, self.application_before.rate
        return None if now is None or before is None else now - before


@dataclass(frozen=True)
class Levels:
    """The section: rows per team and per track, the total, and the KPI comparisons."""

    teams: list[LevelRow]
    tracks: list[LevelRow]
    total: LevelRow
    comparisons: list[MetricImpact] = field(default_factory=list)


def latest_kpis(impact: BusinessImpact | None) -> dict[str, list[KpiLatest]]:
    """Each team's latest KPI values by team name, from the business-impact section."""
    found: dict[str, list[KpiLatest]] = {}
    if impact is None:
        return found
    for metric in impact.metrics:
        for series in metric.teams:
            valued = [week for week in series.weeks if week.value is not None]
            if not valued:
                continue
            last = valued[-1]
            before = valued[-2] if len(valued) > 1 else None
            found.setdefault(series.team, []).append(
                KpiLatest(
                    metric=metric.metric,
                    unit=metric.unit,
                    direction=metric.direction,
                    week=last.week,
                    value=float(last.value or 0.0),
                    previous_week=before.week if before is not None else None,
                    previous_value=before.value if before is not None else None,
                )
            )
    return found


def build_levels(
    *,
    teams: list[GroupWeek],
    tracks: list[GroupWeek],
    total: GroupWeek,
    satisfaction: Satisfaction | None,
    impact: BusinessImpact | None,
    application_now: ApplicationCells,
    application_before: ApplicationCells,
    team_names: dict[int, str],
    track_names: dict[str, str],
    no_team: str,
) -> Levels:
    """The section from the summary's parts and the application counts.

    Args:
        teams: the report's team rows (keys: team ids as text, ``""`` for no team).
        tracks: the report's track rows (keys: track ids, ``""`` for none).
        total: the report's total row.
        satisfaction: the report's satisfaction figure, if any.
        impact: the report's business-impact section, if any.
        application_now: :func:`bot.application.application_cells` at the week's end.
        application_before: the same at the end of the week before.
        team_names: team names by id.
        track_names: track titles by id, in the report's language.
        no_team: the label of people in no team.
    """
    ratings_by_team = {row.key: row for row in satisfaction.teams} if satisfaction else {}
    ratings_by_track = {row.key: row for row in satisfaction.tracks} if satisfaction else {}
    kpis = latest_kpis(impact)

    now_teams = {_team_key(key): count for key, count in by_team(application_now).items()}
    before_teams = {_team_key(key): count for key, count in by_team(application_before).items()}
    team_rows = []
    groups = {row.key: row for row in teams}
    keys = list(groups) + sorted(
        key for key in {*now_teams, *before_teams, *ratings_by_team} if key not in groups
    )
    for key in keys:
        group = groups.get(key)
        name = group.name if group is not None else _team_name(key, team_names, no_team)
        team_rows.append(
            LevelRow(
                key=key,
                name=name,
                group=group,
                ratings=ratings_by_team.get(key),
                application=now_teams.get(key, ApplicationCount()),
                application_before=before_teams.get(key, ApplicationCount()),
                kpis=tuple(kpis.get(name, ())) if key else (),
            )
        )
    team_rows.sort(key=lambda row: (row.key == "", row.name.casefold()))

    now_tracks = {key or "": count for key, count in by_track(application_now).items()}
    before_tracks = {key or "": count for key, count in by_track(application_before).items()}
    track_groups = {row.key: row for row in tracks}
    track_keys = {*track_groups, *now_tracks, *before_tracks, *ratings_by_track}
    track_rows = [
        LevelRow(
            key=key,
            name=track_groups[key].name
            if key in track_groups
            else track_names.get(key, key or no_team),
            group=track_groups.get(key),
            ratings=ratings_by_track.get(key),
            application=now_tracks.get(key, ApplicationCount()),
            application_before=before_tracks.get(key, ApplicationCount()),
        )
        for key in track_keys
    ]
    track_rows.sort(key=lambda row: (row.key == "", row.key))
    return Levels(
        teams=team_rows,
        tracks=track_rows,
        total=LevelRow(
            key="total",
            name=total.name,
            group=total,
            ratings=satisfaction.total if satisfaction else None,
            application=totals(application_now),
            application_before=totals(application_before),
        ),
        comparisons=list(impact.metrics) if impact is not None else [],
    )


def _team_key(team_id: int | None) -> str:
    return "" if team_id is None else str(team_id)


def _team_name(key: str, names: dict[int, str], no_team: str) -> str:
    return names.get(int(key), key) if key else no_team


__all__ = ["KpiLatest", "LevelRow", "Levels", "build_levels", "latest_kpis"]
