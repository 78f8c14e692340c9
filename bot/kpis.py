"""Importing business KPIs per team and ISO week from a CSV file, all or nothing.

Level 3 of the training norm (business impact): an analyst exports, say, 30-day
retention or the complaint rate per team and week, and runs
``trainbot kpis import kpis.csv``. Every row is checked and each problem reported with
its line in the file (``file:line: message``), like the roster; unlike the roster, one
problem means nothing is imported, since half a KPI series would be read as a trend. A
value already stored for the same team, week and metric is replaced. The format is
described in ``docs/reports.md``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError

from bot import csvfile
from bot.errors import TrainbotError
from bot.store.db import Database
from bot.store.models import KpiValue, Team
from bot.weeks import iso_week_window, parse_week

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("team", "week", "metric", "value")
OPTIONAL_COLUMNS = ("unit", "direction")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
DIRECTIONS = ("higher", "lower")
"""Which way a metric is better: retention ``higher``, complaint rate ``lower``."""

MAX_METRIC = 64
"""The size of ``kpi_values.metric`` (checked here, since SQLite would store more)."""
MAX_UNIT = 16
"""The size of ``kpi_values.unit``."""


class KpiError(TrainbotError):
    """The file cannot be read as a KPI file (missing, not UTF-8, bad header)."""


class _Undo(Exception):
    """Roll the import back after counting (a dry run)."""


@dataclass(frozen=True)
class KpiRow:
    """One valid row of the file, normalised (the week in its one spelling)."""

    line: int
    team: str
    week: str
    metric: str
    value: float
    unit: str | None
    direction: str | None


@dataclass
class KpiReport:
    """What an import did (or, in a dry run, would do).

    Attributes:
        added: values that were not stored before.
        replaced: stored values that the file changed (value, unit or direction).
        unchanged: stored values the file repeats as they are.
        problems: ``(line, message)`` pairs, by line; any problem means nothing was written.
        teams: how many teams the file's rows name.
        metrics: the metrics the file's rows name, sorted.
        weeks: the first and last week of the file's rows.
    """

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    teams: int = 0
    metrics: list[str] = field(default_factory=list)
    weeks: tuple[str, str] | None = None

    def summary(self) -> str:
        """One line: ``12 values (2 metrics, 3 teams, 2026-W40 to 2026-W47): 8 added, ...``."""
        if self.problems:
            lines = len({line for line, _ in self.problems})
            return f"{lines} row(s) with problems: nothing imported"
        total = self.added + self.replaced + self.unchanged
        span = f", {self.weeks[0]} to {self.weeks[1]}" if self.weeks else ""
        return (
            f"{total} value(s) ({len(self.metrics)} metric(s), {self.teams} team(s){span}): "
            f"{self.added} added, {self.replaced} replaced, {self.unchanged} unchanged"
        )


def _number(text: str) -> tuple[float | None, str | None]:
    """The value of a cell, or why it is not one."""
    if not text:
        return None, "value is empty"
    if text.endswith("%"):
        return None, (
            f"value {text!r} is not a number: write {text[:-1].strip()!r} and put % in the "
            "unit column"
        )
    try:
        number = float(text)
    except ValueError:
        hint = " (use a dot for decimals and no thousands separator)" if "," in text else ""
        return None, f"value {text!r} is not a number{hint}"
    if not math.isfinite(number):
        return None, f"value {text!r} is not a finite number"
    return number, None


def read_kpis(
    path: Path, *, teams: dict[str, str], now: datetime, timezone: str
) -> tuple[list[KpiRow], dict[int, list[str]]]:
    """Parse and check a KPI file.

    Args:
        path: the CSV file (UTF-8, with or without a byte-order mark).
        teams: the stored team names, by their case-folded form (for "did you mean").
        now: the current moment: a week that has not started yet is refused.
        timezone: the organisation's time zone, in which weeks start.

    Returns:
        The valid rows and the problems of the others, by line.

    Raises:
        KpiError: when the file cannot be read or its header is wrong.
    """
    columns, records = csvfile.open_table(
        path, known=COLUMNS, required=REQUIRED_COLUMNS, error=KpiError
    )
    rows: list[KpiRow] = []
    problems: dict[int, list[str]] = {}
    first_line: dict[tuple[str, str, str], int] = {}
    described: dict[str, tuple[str | None, str | None, int]] = {}
    for line, cells in records:
        values = {name: "" for name in columns if name is not None}
        errors: list[str] = []
        for position, cell in enumerate(cells):
            name = columns[position] if position < len(columns) else None
            if name is None:
                if cell:
                    errors.append(f"a value in column {position + 1}, which has no header")
            else:
                values[name] = cell
        for name, value in values.items():
            if "\n" in value or "\r" in value:
                errors.append(f"{name} contains a line break (an unclosed quote?)")
                values[name] = " ".join(value.split())
        team = values["team"]
        if not team:
            errors.append("team is empty")
        elif team not in teams.values():
            known = teams.get(team.casefold())
            hint = f" (did you mean {known!r}?)" if known else " (import the roster first)"
            errors.append(f"unknown team {team!r}{hint}")
        week = values["week"]
        if not week:
            errors.append("week is empty")
        else:
            try:
                iso_year, iso_week = parse_week(week)
                week = f"{iso_year}-W{iso_week:02d}"
                start, _ = iso_week_window(week, timezone)
                if start > now:
                    errors.append(f"week {week} has not started yet")
            except ValueError as exc:
                errors.append(str(exc))
        metric = values["metric"]
        if not metric:
            errors.append("metric is empty")
        elif len(metric) > MAX_METRIC:
            errors.append(f"metric is longer than {MAX_METRIC} characters")
        number, problem = _number(values["value"])
        if problem is not None:
            errors.append(problem)
        unit = values.get("unit") or None
        if unit is not None and len(unit) > MAX_UNIT:
            errors.append(f"unit is longer than {MAX_UNIT} characters")
        direction = (values.get("direction") or "").lower() or None
        if direction is not None and direction not in DIRECTIONS:
            errors.append(
                f"unknown direction {values['direction']!r} (expected {' or '.join(DIRECTIONS)})"
            )
        if team and week and metric and not errors:
            key = (team, week, metric)
            first = first_line.setdefault(key, line)
            if first != line:
                errors.append(f"{team} {week} {metric} is already on line {first}")
        if metric and not errors:
            # One metric, one reading: a unit or direction that changes within the file
            # would make the report's reading of the series depend on row order.
            seen = described.setdefault(metric, (unit, direction, line))
            if seen[:2] != (unit, direction):
                errors.append(
                    f"metric {metric!r} has unit {seen[0] or '(none)'!r} and direction "
                    f"{seen[1] or '(none)'!r} on line {seen[2]}"
                )
        if errors:
            problems[line] = errors
            continue
        assert number is not None  # no problem means a number
        rows.append(KpiRow(line, team, week, metric, number, unit, direction))
    return rows, problems


def import_kpis(
    db: Database,
    path: Path,
    *,
    now: datetime,
    timezone: str,
    dry_run: bool = False,
) -> KpiReport:
    """Import KPI values from a CSV file: every row, or none.

    Args:
        db: the store.
        path: the CSV file (columns ``team, week, metric, value`` and optionally
            ``unit, direction``; see ``docs/reports.md``).
        now: the current moment (aware): recorded as ``imported_at``; later weeks are refused.
        timezone: the organisation's time zone, in which weeks start.
        dry_run: check and count everything, then roll back instead of committing.

    Returns:
        The counts, or every problem by line (then nothing was written).

    Raises:
        KpiError: when the file is missing, not UTF-8 or its header is wrong.
    """
    with db.session() as session:
        stored = session.execute(select(Team.id, Team.name)).all()
    team_ids = {name: team_id for team_id, name in stored}
    rows, problems = read_kpis(
        path,
        teams={name.casefold(): name for name in team_ids},
        now=now,
        timezone=timezone,
    )
    report = KpiReport(
        problems=[(line, message) for line in sorted(problems) for message in problems[line]]
    )
    if problems:
        logger.info("kpi file %s refused: %d row(s) with problems", path.name, len(problems))
        return report
    report.teams = len({row.team for row in rows})
    report.metrics = sorted({row.metric for row in rows})
    if rows:
        weeks = sorted(row.week for row in rows)
        report.weeks = (weeks[0], weeks[-1])
    try:
        with db.session() as session:
            existing = {
                (value.team_id, value.week, value.metric): value
                for value in session.scalars(
                    select(KpiValue).where(KpiValue.metric.in_(report.metrics))
                ).all()
            }
            for row in rows:
                key = (team_ids[row.team], row.week, row.metric)
                old = existing.get(key)
                if old is None:
                    session.add(
                        KpiValue(
                            team_id=key[0],
                            week=row.week,
                            metric=row.metric,
                            value=row.value,
                            unit=row.unit,
                            direction=row.direction,
                            source=path.name[:255],
                            imported_at=now,
                        )
                    )
                    report.added += 1
                elif (old.value, old.unit, old.direction) == (row.value, row.unit, row.direction):
                    report.unchanged += 1
                else:
                    old.value, old.unit, old.direction = row.value, row.unit, row.direction
                    old.source, old.imported_at = path.name[:255], now
                    report.replaced += 1
            session.flush()
            if dry_run:
                raise _Undo
    except _Undo:
        pass
    except (IntegrityError, DataError) as exc:
        # Another import of the same values at the same moment, or a team deleted since
        # the check: the transaction is rolled back whole.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise KpiError(f"{path}: could not be stored, nothing imported ({reason})") from None
    logger.info("kpi file %s%s: %s", path.name, " (dry run)" if dry_run else "", report.summary())
    return report


def stored_kpis(
    db: Database, *, metric: str | None = None, team: str | None = None
) -> list[tuple[str, KpiValue]]:
    """The stored values as ``(team name, value)``, by metric, team and week."""
    with db.session() as session:
        query = select(Team.name, KpiValue).join(Team, Team.id == KpiValue.team_id)
        if metric is not None:
            query = query.where(KpiValue.metric == metric)
        if team is not None:
            query = query.where(Team.name == team)
        query = query.order_by(KpiValue.metric, Team.name, KpiValue.week)
        found = [(name, value) for name, value in session.execute(query).all()]
        session.expunge_all()
    return found


__all__ = [
    "COLUMNS",
    "DIRECTIONS",
    "KpiError",
    "KpiReport",
    "KpiRow",
    "import_kpis",
    "read_kpis",
    "stored_kpis",
]
