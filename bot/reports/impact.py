"""Level 3 of the training norm: business KPIs beside training, compared honestly.

For each KPI imported with ``trainbot kpis import`` (docs/reports.md, "Business impact"):

- **The trend.** Each team's weekly KPI value beside its training indicators of the same
  week: training coverage and pass rate, counted as the weekly report counts them for the
  team and the teams below it (a KPI of a department measures all of it).
- **The training week.** A team is *trained* from the first analysed week in which its
  training coverage reached ``TRAINBOT_KPI_TRAINED_COVERAGE`` (0.8 by default): most of
  the people sent lessons that week read every one of them. Weeks before it are *before*,
  weeks after it *after*; the training week itself is on neither side, since the
  training and the KPI move within it. A team that never reached the mark in the
  analysed weeks is *not yet trained*.
- **Difference in differences.** For each trained team with at least
  :data:`MIN_WEEKS` weeks of values on each side: its change (mean after − mean before),
  minus the mean change of the not-yet-trained teams over the same calendar weeks (each
  with at least :data:`MIN_WEEKS` values on each side). The figure is the mean over the
  trained teams. With fewer than :data:`MIN_TEAMS` teams in either group there is no
  figure, only the reason.

This is association, not proof: teams are not trained at random, and whatever else
changed in their weeks (a new product, a season, another manager) moves the KPI too. Every
output says so.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from statistics import fmean
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.reports.access import teams_below
from bot.reports.metrics import Counts, group_counts_query, literal_thresholds
from bot.store.db import Database
from bot.store.models import KpiValue, Team
from bot.weeks import iso_week_window, week_of
from quizzes.content import Course

logger = logging.getLogger(__name__)

KPI_WEEKS = 12
"""Weeks analysed, ending with the report's week (``TRAINBOT_KPI_WEEKS``)."""
TRAINED_COVERAGE = 0.8
"""The weekly training coverage that marks a team as trained (``TRAINBOT_KPI_TRAINED_COVERAGE``)."""
MIN_TEAMS = 2
"""Teams each group needs before a difference in differences is given."""
MIN_WEEKS = 2
"""Weeks with a value a team needs on each side of the training week."""


@dataclass(frozen=True)
class ImpactWeek:
    """One team's week: the KPI value (if imported) and the training indicators."""

    week: str
    value: float | None
    counts: Counts

    @property
    def coverage(self) -> float | None:
        """Training coverage of the team (and the teams below it) in the week."""
        return self.counts.coverage

    @property
    def pass_rate(self) -> float | None:
        """Pass rate of the team (and the teams below it) in the week."""
        return self.counts.pass_rate


@dataclass(frozen=True)
class TeamSeries:
    """One team's weeks for one KPI, and when it was trained."""

    team: str
    trained_week: str | None  # None: not yet trained in the analysed weeks
    weeks: list[ImpactWeek]

    def phase(self, week: str) -> str:
        """``before``, ``training``, ``after`` or ``not_yet_trained``."""
        if self.trained_week is None:
            return "not_yet_trained"
        if week < self.trained_week:
            return "before"
        return "training" if week == self.trained_week else "after"


@dataclass(frozen=True)
class Comparison:
    """The difference in differences for one KPI, with what stands behind it.

    Attributes:
        trained_teams: trained teams compared (each with enough weeks on both sides).
        control_teams: not-yet-trained teams used in at least one comparison.
        trained_change: mean over trained teams of (mean after − mean before).
        control_change: mean over trained teams of the not-yet-trained teams' mean
            change over that team's before and after weeks.
        trained_weeks_before: team-weeks with a value before training, added up.
        trained_weeks_after: team-weeks with a value after training, added up.
        control_team_weeks: distinct team-weeks of the not-yet-trained teams used.
    """

    trained_teams: int
    control_teams: int
    trained_change: float
    control_change: float
    trained_weeks_before: int
    trained_weeks_after: int
    control_team_weeks: int

    @property
    def difference(self) -> float:
        """Trained change minus control change."""
        return self.trained_change - self.control_change


@dataclass(frozen=True)
class Shortfall:
    """Why there is no comparison: which group is too small, and how many it has."""

    reason: str  # "trained" or "control"
    found: int


@dataclass(frozen=True)
class MetricImpact:
    """One KPI: its teams' series and the comparison (or why there is none)."""

    metric: str
    unit: str | None
    direction: str | None
    teams: list[TeamSeries]
    comparison: Comparison | None
    shortfall: Shortfall | None


@dataclass(frozen=True)
class BusinessImpact:
    """The level 3 section of one report (only the viewer's teams).

    Attributes:
        weeks: the weeks shown, oldest first: from the first with a KPI value to the
            report's week (all the analysed weeks when there is no value).
        trained_coverage: the weekly coverage that marks a team as trained.
        metrics: one entry per KPI, by name.
    """

    weeks: list[str]
    trained_coverage: float
    metrics: list[MetricImpact] = field(default_factory=list)


def analysed_weeks(week: str, count: int, timezone: str) -> list[str]:
    """The ``count`` ISO weeks ending with ``week``, oldest first."""
    start, _ = iso_week_window(week, timezone)
    weeks = []
    for back in range(count - 1, -1, -1):
        # Noon of each Monday: never on a daylight-saving edge.
        weeks.append(week_of(start + timedelta(days=7 * -back, hours=12), timezone))
    return weeks


def trained_week(series: Iterable[tuple[str, Counts]], threshold: float) -> str | None:
    """The first week whose training coverage reached ``threshold``, if any."""
    for week, counts in series:
        coverage = counts.coverage
        if coverage is not None and coverage >= threshold:
            return week
    return None


def _mean_over(values: dict[str, float], weeks: Collection[str]) -> tuple[float, int] | None:
    found = [values[week] for week in weeks if week in values]
    return (fmean(found), len(found)) if len(found) >= MIN_WEEKS else None


def compare(
    values: dict[str, dict[str, float]], trained: dict[str, str | None], weeks: list[str]
) -> tuple[Comparison | None, Shortfall | None]:
    """The difference in differences of one KPI.

    Args:
        values: KPI values by team, then week.
        trained: each team's training week (``None``: not yet trained).
        weeks: the analysed weeks, oldest first.

    Returns:
        The comparison, or ``None`` and the shortfall that prevents it.
    """
    controls = sorted(team for team, week in trained.items() if week is None)
    own_changes: list[tuple[float, float]] = []  # (trained change, control change)
    with_own_weeks = 0
    best_controls = 0  # the most not-yet-trained teams any trained team could be compared with
    before_weeks = after_weeks = 0
    control_used: set[str] = set()
    control_weeks: set[tuple[str, str]] = set()
    for team, when in sorted(trained.items()):
        if when is None:
            continue
        before = [week for week in weeks if week < when]
        after = [week for week in weeks if week > when]
        own_before = _mean_over(values.get(team, {}), before)
        own_after = _mean_over(values.get(team, {}), after)
        if own_before is None or own_after is None:
            continue
        with_own_weeks += 1
        changes = []
        used = []
        for control in controls:
            series = values.get(control, {})
            control_before = _mean_over(series, before)
            control_after = _mean_over(series, after)
            if control_before is not None and control_after is not None:
                changes.append(control_after[0] - control_before[0])
                used.append(control)
        best_controls = max(best_controls, len(changes))
        if len(changes) < MIN_TEAMS:
            continue
        own_changes.append((own_after[0] - own_before[0], fmean(changes)))
        before_weeks += own_before[1]
        after_weeks += own_after[1]
        for control in used:
            control_used.add(control)
            control_weeks.update(
                (control, week) for week in (*before, *after) if week in values[control]
            )
    if len(own_changes) < MIN_TEAMS:
        if with_own_weeks < MIN_TEAMS:
            return None, Shortfall("trained", with_own_weeks)
        return None, Shortfall("control", best_controls)
    return (
        Comparison(
            trained_teams=len(own_changes),
            control_teams=len(control_used),
            trained_change=fmean(change for change, _ in own_changes),
            control_change=fmean(change for _, change in own_changes),
            trained_weeks_before=before_weeks,
            trained_weeks_after=after_weeks,
            control_team_weeks=len(control_weeks),
        ),
        None,
    )


def _team_counts(
    session: Session,
    weeks: list[str],
    team_ids: Collection[int],
    timezone: str,
    thresholds: dict[str, int],
    admitted: ColumnElement[bool] | None,
) -> dict[str, dict[int | None, Counts]]:
    """Each week's counts per team (the team's direct members), as the report counts them."""
    by_week: dict[str, dict[int | None, Counts]] = {}
    for week in weeks:
        start, end = iso_week_window(week, timezone)
        query = group_counts_query(start, end, team_ids, thresholds, (), admitted)
        cells: dict[int | None, Counts] = {}
        for row in session.execute(query).mappings():
            counts = Counts(**{name: int(row[name] or 0) for name in Counts.__dataclass_fields__})
            cells[row["team_id"]] = cells.get(row["team_id"], Counts()) + counts
        by_week[week] = cells
    return by_week


def business_impact(
    db: Database,
    course: Course,
    *,
    week: str,
    timezone: str,
    team_ids: Collection[int] | None,
    admitted: ColumnElement[bool] | None = None,
    weeks: int = KPI_WEEKS,
    trained_coverage: float = TRAINED_COVERAGE,
) -> BusinessImpact:
    """The level 3 section for the teams in scope (no metrics when none has a KPI).

    Args:
        db: the store.
        course: the course (pass thresholds by track).
        week: the report's ISO week, the last one analysed.
        timezone: the organisation's time zone.
        team_ids: the teams the viewer may see (already with the teams below them);
            ``None`` for the whole organisation. Only their KPIs are read: a manager
            never sees another team's.
        admitted: who may be counted (``bot.admission.admitted_people``).
        weeks: how many weeks to analyse, ending with ``week``.
        trained_coverage: the weekly training coverage that marks a team as trained.
    """
    analysed = analysed_weeks(week, weeks, timezone)
    with db.session() as session:
        query = (
            select(KpiValue, Team.name)
            .join(Team, Team.id == KpiValue.team_id)
            .where(KpiValue.week >= analysed[0], KpiValue.week <= analysed[-1])
        )
        if team_ids is not None:
            query = query.where(KpiValue.team_id.in_(sorted(team_ids)))
        stored = session.execute(query.order_by(KpiValue.metric, Team.name)).all()
        if not stored:
            return BusinessImpact(weeks=analysed, trained_coverage=trained_coverage)
        names = {team_id: name for team_id, name in session.execute(select(Team.id, Team.name))}
        kpi_teams = sorted({value.team_id for value, _ in stored})
        below = {team_id: teams_below(session, [team_id]) for team_id in kpi_teams}
        counted = set().union(*below.values())
        if team_ids is not None:
            counted &= set(team_ids)
        if db.dialect == "postgresql":
            # As in build_summary: the membership lookups push the plan past jit_above_cost.
            session.execute(text("SET LOCAL jit = off"))
        per_week = _team_counts(
            session, analysed, counted, timezone, literal_thresholds(course), admitted
        )
    series_counts: dict[int, list[tuple[str, Counts]]] = {}
    for team_id in kpi_teams:
        series_counts[team_id] = [
            (
                label,
                _sum(per_week[label].get(member, Counts()) for member in below[team_id]),
            )
            for label in analysed
        ]
    trained = {
        team_id: trained_week(series, trained_coverage) for team_id, series in series_counts.items()
    }
    # Shown from the first week with a value: a team may have been trained before the
    # KPIs begin (found above, over every analysed week), but empty columns say nothing.
    first = min(value.week for value, _ in stored)
    shown = [label for label in analysed if label >= first]
    by_metric: dict[str, list[Any]] = {}
    for value, _name in stored:
        by_metric.setdefault(value.metric, []).append(value)
    metrics = []
    for metric, rows in by_metric.items():
        latest = max(rows, key=lambda row: (row.imported_at, row.id))
        values: dict[str, dict[str, float]] = {}
        for row in rows:
            values.setdefault(names[row.team_id], {})[row.week] = row.value
        teams = sorted({row.team_id for row in rows}, key=lambda team_id: names[team_id].casefold())
        series = [
            TeamSeries(
                team=names[team_id],
                trained_week=trained[team_id],
                weeks=[
                    ImpactWeek(label, values[names[team_id]].get(label), counts)
                    for label, counts in series_counts[team_id]
                    if label >= first
                ],
            )
            for team_id in teams
        ]
        comparison, shortfall = compare(
            values, {names[team_id]: trained[team_id] for team_id in teams}, shown
        )
        metrics.append(
            MetricImpact(
                metric=metric,
                unit=latest.unit,
                direction=latest.direction,
                teams=series,
                comparison=comparison,
                shortfall=shortfall,
            )
        )
    return BusinessImpact(weeks=shown, trained_coverage=trained_coverage, metrics=metrics)


def _sum(counts: Iterable[Counts]) -> Counts:
    total = Counts()
    for item in counts:
        total = total + item
    return total


__all__ = [
    "KPI_WEEKS",
    "MIN_TEAMS",
    "MIN_WEEKS",
    "TRAINED_COVERAGE",
    "BusinessImpact",
    "Comparison",
    "ImpactWeek",
    "MetricImpact",
    "Shortfall",
    "TeamSeries",
    "analysed_weeks",
    "business_impact",
    "compare",
    "trained_week",
]
