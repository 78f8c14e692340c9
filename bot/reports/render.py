"""The weekly summary as a chat message, Markdown, CSV, JSON and a printable HTML page."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.application import ApplicationCount
from bot.i18n import t
from bot.reports.impact import MIN_TEAMS as IMPACT_MIN_TEAMS
from bot.reports.impact import MIN_WEEKS as IMPACT_MIN_WEEKS
from bot.reports.impact import BusinessImpact, Comparison, MetricImpact, Shortfall, TeamSeries
from bot.reports.levels import KpiLatest, LevelRow, Levels
from bot.reports.metrics import (
    RATES,
    Counts,
    FollowUp,
    GroupWeek,
    PersonWeek,
    QuestionStats,
    WeeklySummary,
    change,
    week_label,
)
from bot.reports.satisfaction import Ratings, Satisfaction, SatisfactionRow

CHAT_FOLLOW_UP = 10
CHAT_GAPS = 3
CHAT_METRICS = 3
"""KPIs a chat message compares (every one is in the Markdown, HTML and JSON)."""
PROMPT_CHARS = 60
FORMATS = ("md", "csv", "html", "json")


def percent(value: float | None) -> str:
    """``83%``, or ``—`` for a rate without a denominator."""
    return "—" if value is None else f"{value:.0%}"


def arrow(delta: float | None) -> str:
    """▲/▼ with the change in percentage points, ``±0 pp``, or ``—``."""
    if delta is None:
        return "—"
    points = round(delta * 100)
    if points > 0:
        return f"▲{points} pp"
    if points < 0:
        return f"▼{-points} pp"
    return "±0 pp"


def _short(text: str, limit: int = PROMPT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _scope(summary: WeeklySummary, language: str) -> str:
    return t(language, "report_organisation") if summary.scope == "organisation" else summary.scope


def _dates(summary: WeeklySummary) -> tuple[str, str]:
    zone = ZoneInfo(summary.timezone)
    start = summary.start.astimezone(zone)
    last_day = summary.end.astimezone(zone) - timedelta(days=1)
    return f"{start:%Y-%m-%d}", f"{last_day:%Y-%m-%d}"


def zoned_moment(moment: datetime, timezone: str) -> str:
    """A moment as the report's reader should read it, the zone spelled out.

    Example: ``2026-12-05 14:03 (Asia/Shanghai, UTC+08:00)``. A report read in another
    city, or forwarded, still says which clock its times are on.
    """
    local = moment.astimezone(ZoneInfo(timezone))
    offset = local.strftime("%z") or "+0000"
    return f"{local:%Y-%m-%d %H:%M} ({timezone}, UTC{offset[:3]}:{offset[3:5]})"


def _generated_line(summary: WeeklySummary, language: str) -> str | None:
    if summary.generated_at is None:
        return None
    return t(
        language, "report_generated", moment=zoned_moment(summary.generated_at, summary.timezone)
    )


def _in_progress_note(summary: WeeklySummary, language: str) -> str | None:
    """The line saying up to when an unfinished week is counted (``None`` once it ended)."""
    if not summary.in_progress or summary.generated_at is None:
        return None
    return t(
        language,
        "report_in_progress_note",
        moment=zoned_moment(summary.generated_at, summary.timezone),
    )


def _reason(item: FollowUp, language: str, timezone: str) -> str:
    if item.reason == "inactive":
        reason = t(language, "report_reason_inactive")
        if item.last_answer is None:
            return reason + t(language, "report_never_answered")
        day = item.last_answer.astimezone(ZoneInfo(timezone)).date().isoformat()
        return reason + t(language, "report_last_answered", day=day)
    return t(
        language,
        "report_reason_low_accuracy",
        accuracy=percent(item.accuracy),
        mark=percent(item.pass_mark),
    )


def _questions_line(summary: WeeklySummary, language: str) -> str:
    stats = summary.questions
    return t(
        language,
        "report_questions",
        asked=stats.asked,
        unanswered=stats.unanswered,
        helpfulness=percent(stats.helpfulness),
        change=f"({arrow(change(stats.helpfulness, summary.questions_last_week.helpfulness))})",
    )


# -- business impact (level 3) ---------------------------------------------------------


def kpi_number(value: float | None, unit: str | None = None, *, signed: bool = False) -> str:
    """A KPI value or change as the report shows it: at most two decimals, its unit after.

    ``72.5%``, ``+2.5 pp`` (a change of a percentage), ``3 days``; ``—`` for no value. The unit is what the KPI file
    said, so it is text to escape like any other.
    """
    if value is None:
        return "—"
    text = f"{value:+.2f}" if signed else f"{value:.2f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    if text in ("+0", "-0"):
        text = "±0"
    if not unit:
        return text
    if unit == "%" and signed:
        return f"{text} pp"  # a change between two percentages is in percentage points
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def _metric_heading(metric: MetricImpact, language: str) -> str:
    parts = [part for part in (metric.unit,) if part]
    if metric.direction in ("higher", "lower"):
        parts.append(t(language, f"impact_{metric.direction}"))
    return f"{metric.metric} ({'; '.join(parts)})" if parts else metric.metric


def _comparison_text(metric: MetricImpact, language: str) -> str:
    """The difference in differences in words, or why there is none."""
    found = metric.comparison
    if found is None:
        shortfall = metric.shortfall or Shortfall("trained", 0)
        return t(
            language,
            f"impact_too_few_{shortfall.reason}",
            found=shortfall.found,
            weeks=IMPACT_MIN_WEEKS,
            teams=IMPACT_MIN_TEAMS,
        )
    return t(
        language,
        "impact_did",
        difference=kpi_number(found.difference, metric.unit, signed=True),
        trained=kpi_number(found.trained_change, metric.unit, signed=True),
        teams=found.trained_teams,
        before=found.trained_weeks_before,
        after=found.trained_weeks_after,
        control=kpi_number(found.control_change, metric.unit, signed=True),
        control_teams=found.control_teams,
        control_weeks=found.control_team_weeks,
    )


def _week_labels(weeks: list[str]) -> list[str]:
    """Column headers: ``W44`` when every week is in one ISO year, else ``2026-W44``."""
    if len({week[:4] for week in weeks}) == 1:
        return [week[5:] for week in weeks]
    return list(weeks)


def _team_label(series: TeamSeries, language: str) -> str:
    if series.trained_week is None:
        return t(language, "impact_not_yet", team=series.team)
    return t(language, "impact_trained_in", team=series.team, week=series.trained_week)


def _impact_rows(metric: MetricImpact, language: str) -> list[list[str]]:
    """Per team three rows over the weeks: the KPI, training coverage and pass rate."""
    rows = []
    for series in metric.teams:
        rows.append(
            [
                _team_label(series, language),
                t(language, "impact_kpi"),
                *(kpi_number(week.value, metric.unit) for week in series.weeks),
            ]
        )
        rows.append(
            ["", t(language, "report_coverage"), *(percent(w.coverage) for w in series.weeks)]
        )
        rows.append(
            ["", t(language, "report_pass_rate"), *(percent(w.pass_rate) for w in series.weeks)]
        )
    return rows


def _impact_header(impact: BusinessImpact, language: str) -> list[str]:
    return [
        t(language, "report_team"),
        t(language, "impact_indicator"),
        *_week_labels(impact.weeks),
    ]


def _impact_intro(impact: BusinessImpact, language: str) -> str:
    first, last = impact.weeks[0], impact.weeks[-1]
    if not impact.metrics:
        return t(language, "impact_none", first=first, last=last)
    return t(
        language,
        "impact_definition",
        first=first,
        last=last,
        mark=percent(impact.trained_coverage),
    )


def _comparison_json(found: Comparison | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "difference": _round(found.difference),
        "trained_change": _round(found.trained_change),
        "control_change": _round(found.control_change),
        "trained_teams": found.trained_teams,
        "control_teams": found.control_teams,
        "trained_weeks_before": found.trained_weeks_before,
        "trained_weeks_after": found.trained_weeks_after,
        "control_team_weeks": found.control_team_weeks,
    }


def _impact_json(impact: BusinessImpact | None, language: str) -> dict[str, Any] | None:
    if impact is None:
        return None
    return {
        "weeks": impact.weeks,
        "trained_coverage": impact.trained_coverage,
        "min_teams": IMPACT_MIN_TEAMS,
        "min_weeks": IMPACT_MIN_WEEKS,
        "caveat": t(language, "impact_caveat"),
        "metrics": [
            {
                "metric": metric.metric,
                "unit": metric.unit,
                "direction": metric.direction,
                "comparison": _comparison_json(metric.comparison),
                "too_little_data": None
                if metric.shortfall is None
                else {
                    "group": metric.shortfall.reason,
                    "found": metric.shortfall.found,
                    "message": _comparison_text(metric, language),
                },
                "teams": [
                    {
                        "team": series.team,
                        "trained_week": series.trained_week,
                        "weeks": [
                            {
                                "week": week.week,
                                "phase": series.phase(week.week),
                                "value": week.value,
                                "coverage": _round(week.coverage),
                                "pass_rate": _round(week.pass_rate),
                                "due": week.counts.due,
                                "covered": week.counts.covered,
                                "assessed": week.counts.assessed,
                                "passing": week.counts.passing,
                            }
                            for week in series.weeks
                        ],
                    }
                    for series in metric.teams
                ],
            }
            for metric in impact.metrics
        ],
    }


def _impact_markdown(impact: BusinessImpact | None, language: str) -> list[str]:
    if impact is None:
        return []
    lines = [
        "",
        f"## {t(language, 'impact_title')}",
        "",
        markdown_text(_impact_intro(impact, language)),
    ]
    for metric in impact.metrics:
        lines += ["", f"### {markdown_text(_metric_heading(metric, language))}", ""]
        lines += _table(_impact_header(impact, language), _impact_rows(metric, language))
        lines += ["", markdown_text(_comparison_text(metric, language))]
    if impact.metrics:
        lines += ["", f"> {markdown_text(t(language, 'impact_caveat'))}"]
    return lines


def _impact_html(impact: BusinessImpact | None, language: str) -> list[str]:
    if impact is None:
        return []
    parts = [
        f'<h2 id="business-impact">{html.escape(t(language, "impact_title"))}</h2>',
        f"<p>{html.escape(_impact_intro(impact, language))}</p>",
    ]
    for index, metric in enumerate(impact.metrics):
        parts += [
            f"<h3>{html.escape(_metric_heading(metric, language))}</h3>",
            _html_table(
                _impact_header(impact, language),
                _impact_rows(metric, language),
                table_id=f"impact-{index + 1}",
                group_every=3,
            ),
            f'<p class="comparison">{html.escape(_comparison_text(metric, language))}</p>',
        ]
    if impact.metrics:
        parts.append(f'<p class="caveat">{html.escape(t(language, "impact_caveat"))}</p>')
    return parts


def _impact_chat(impact: BusinessImpact | None, language: str) -> list[str]:
    """A few lines for chat: each KPI's comparison (or that there is none) and the caveat."""
    if impact is None or not impact.metrics:
        return []
    lines = [f"\n**{t(language, 'impact_title')}**"]
    for metric in impact.metrics[:CHAT_METRICS]:
        found = metric.comparison
        if found is None:
            lines.append("- " + t(language, "impact_chat_too_little", metric=metric.metric))
        else:
            lines.append(
                "- "
                + t(
                    language,
                    "impact_chat_did",
                    metric=metric.metric,
                    difference=kpi_number(found.difference, metric.unit, signed=True),
                    teams=found.trained_teams,
                    control_teams=found.control_teams,
                )
            )
    if len(impact.metrics) > CHAT_METRICS:
        lines.append(t(language, "report_more", count=len(impact.metrics) - CHAT_METRICS))
    lines.append(t(language, "impact_caveat"))
    return lines


# -- satisfaction (level 1) -------------------------------------------------------------


def rating_mean(value: float | None) -> str:
    """A mean rating to one decimal (``4.3``), or ``—`` without ratings."""
    return "—" if value is None else f"{value:.1f}"


def rating_change(delta: float | None) -> str:
    """▲/▼ with the change of the mean rating in rating points, ``±0.0``, or ``—``."""
    if delta is None:
        return "—"
    points = round(delta, 1)
    if points > 0:
        return f"▲{points:.1f}"
    if points < 0:
        return f"▼{-points:.1f}"
    return "±0.0"


def _ratings_json(ratings: Ratings) -> dict[str, Any]:
    return {"ratings": ratings.count, "mean": _round(ratings.mean)}


def _satisfaction_row_json(row: SatisfactionRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "name": row.name,
        "this_week": _ratings_json(row.this_week),
        "last_week": _ratings_json(row.last_week),
        "change": _round(row.change),
    }


def _satisfaction_json(found: Satisfaction | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "totals": _satisfaction_row_json(found.total),
        "teams": [_satisfaction_row_json(row) for row in found.teams],
        "tracks": [_satisfaction_row_json(row) for row in found.tracks],
    }


def _satisfaction_header(language: str) -> list[str]:
    return [
        "",
        t(language, "satisfaction_mean"),
        t(language, "satisfaction_count"),
        t(language, "satisfaction_last_week"),
        t(language, "satisfaction_change"),
    ]


def _satisfaction_rows(found: Satisfaction, language: str) -> list[list[str]]:
    """Teams, then tracks, then the whole scope (the total row last)."""

    def cells(row: SatisfactionRow, label: str) -> list[str]:
        return [
            label,
            rating_mean(row.this_week.mean),
            str(row.this_week.count),
            f"{rating_mean(row.last_week.mean)} ({row.last_week.count})",
            rating_change(row.change),
        ]

    rows = [cells(row, t(language, "satisfaction_team", name=row.name)) for row in found.teams]
    rows += [cells(row, t(language, "satisfaction_track", name=row.name)) for row in found.tracks]
    rows.append(cells(found.total, t(language, "satisfaction_total")))
    return rows


def _satisfaction_markdown(found: Satisfaction | None, language: str) -> list[str]:
    if found is None:
        return []
    lines = ["", f"## {t(language, 'satisfaction_title')}", ""]
    lines += [markdown_text(t(language, "satisfaction_definition")), ""]
    return lines + _table(_satisfaction_header(language), _satisfaction_rows(found, language))


def _satisfaction_html(found: Satisfaction | None, language: str) -> list[str]:
    if found is None:
        return []
    return [
        f'<h2 id="satisfaction">{html.escape(t(language, "satisfaction_title"))}</h2>',
        f"<p>{html.escape(t(language, 'satisfaction_definition'))}</p>",
        _html_table(
            _satisfaction_header(language),
            _satisfaction_rows(found, language),
            table_id="satisfaction-table",
            total_last=True,
        ),
    ]


def _satisfaction_chat(found: Satisfaction | None, language: str) -> list[str]:
    """One line among the key rates: the mean rating, how many, the change."""
    if found is None:
        return []
    now = found.total.this_week
    text = t(
        language,
        "satisfaction_chat",
        mean=rating_mean(now.mean),
        count=now.count,
        change=rating_change(found.total.change),
    )
    return [f"- {text}"]


# -- levels 1 / 2 / 3 -------------------------------------------------------------------


def _level_ratings(row: LevelRow, language: str) -> str:
    ratings = row.ratings
    if ratings is None:
        return "—"
    return t(
        language,
        "levels_ratings",
        mean=rating_mean(ratings.this_week.mean),
        count=ratings.this_week.count,
        change=rating_change(ratings.change),
    )


def _level_application(row: LevelRow, language: str) -> str:
    now = row.application
    if not now.trained and not row.application_before.trained:
        return "—"
    return t(
        language,
        "levels_applied",
        rate=percent(now.rate),
        reported=now.reported,
        trained=now.trained,
        change=arrow(row.application_change),
    )


def _level_kpi(kpi: KpiLatest, language: str) -> str:
    return t(
        language,
        "levels_kpi",
        metric=kpi.metric,
        value=kpi_number(kpi.value, kpi.unit),
        week=kpi.week,
        change=kpi_number(kpi.change, kpi.unit, signed=True),
    )


def _level_header(language: str, first: str, *, kpis: bool) -> list[str]:
    header = [
        t(language, first),
        t(language, "levels_coverage"),
        t(language, "levels_pass_rate"),
        t(language, "levels_satisfaction"),
        t(language, "levels_application"),
    ]
    return [*header, t(language, "levels_kpis")] if kpis else header


def _level_cells(row: LevelRow, language: str, *, kpis: bool) -> list[str]:
    group = row.group
    name = row.name
    if row.key == "total" and name == "organisation":
        name = t(language, "report_organisation")
    coverage = pass_rate = "—"  # no denominator: a dash, never 0%
    if group is not None:
        now, changes = group.this_week, group.changes()
        if now.coverage is not None:
            coverage = (
                f"{percent(now.coverage)} ({now.covered}/{now.due}) {arrow(changes['coverage'])}"
            )
        if now.pass_rate is not None:
            pass_rate = f"{percent(now.pass_rate)} ({now.passing}/{now.assessed}) {arrow(changes['pass_rate'])}"
    cells = [
        name,
        coverage,
        pass_rate,
        _level_ratings(row, language),
        _level_application(row, language),
    ]
    if kpis:
        cells.append("; ".join(_level_kpi(kpi, language) for kpi in row.kpis) or "—")
    return cells


def _level_team_rows(levels: Levels, language: str) -> list[list[str]]:
    rows = [_level_cells(row, language, kpis=True) for row in levels.teams]
    return [*rows, _level_cells(levels.total, language, kpis=True)]


def _level_track_rows(levels: Levels, language: str) -> list[list[str]]:
    return [_level_cells(row, language, kpis=False) for row in levels.tracks]


def _level_comparisons(levels: Levels, language: str) -> list[str]:
    return [
        f"{metric.metric}: {_comparison_text(metric, language)}" for metric in levels.comparisons
    ]


def _levels_chat(levels: Levels | None, language: str) -> list[str]:
    """One line among the key rates: the scope's application rate, once anyone is trained."""
    if levels is None or not levels.total.application.trained:
        return []
    total = levels.total
    text = t(
        language,
        "levels_chat",
        rate=percent(total.application.rate),
        reported=total.application.reported,
        trained=total.application.trained,
        change=arrow(total.application_change),
    )
    return [f"- {text}"]


def _levels_markdown(levels: Levels | None, language: str) -> list[str]:
    if levels is None:
        return []
    lines = ["", f"## {t(language, 'levels_title')}", ""]
    lines += [markdown_text(t(language, "levels_definition")), ""]
    lines += [f"### {t(language, 'levels_teams')}", ""]
    lines += _table(
        _level_header(language, "report_team", kpis=True), _level_team_rows(levels, language)
    )
    lines += ["", f"### {t(language, 'levels_tracks')}", ""]
    lines += _table(
        _level_header(language, "report_track", kpis=False), _level_track_rows(levels, language)
    )
    lines += ["", f"### {t(language, 'levels_comparisons')}", ""]
    comparisons = _level_comparisons(levels, language)
    lines += [f"- {markdown_text(line)}" for line in comparisons]
    if not comparisons:
        lines.append(markdown_text(t(language, "levels_no_kpis")))
    else:
        lines += ["", f"> {markdown_text(t(language, 'impact_caveat'))}"]
    return lines


def _levels_html(levels: Levels | None, language: str) -> list[str]:
    if levels is None:
        return []
    comparisons = _level_comparisons(levels, language)
    parts = [
        f'<h2 id="levels">{html.escape(t(language, "levels_title"))}</h2>',
        f"<p>{html.escape(t(language, 'levels_definition'))}</p>",
        f"<h3>{html.escape(t(language, 'levels_teams'))}</h3>",
        _html_table(
            _level_header(language, "report_team", kpis=True),
            _level_team_rows(levels, language),
            table_id="levels-teams",
            total_last=True,
        ),
        f"<h3>{html.escape(t(language, 'levels_tracks'))}</h3>",
        _html_table(
            _level_header(language, "report_track", kpis=False),
            _level_track_rows(levels, language),
            table_id="levels-tracks",
        ),
        f"<h3>{html.escape(t(language, 'levels_comparisons'))}</h3>",
    ]
    if comparisons:
        parts.append(
            '<ul class="comparisons">'
            + "".join(f"<li>{html.escape(line)}</li>" for line in comparisons)
            + "</ul>"
        )
        parts.append(f'<p class="caveat">{html.escape(t(language, "impact_caveat"))}</p>')
    else:
        parts.append(f"<p>{html.escape(t(language, 'levels_no_kpis'))}</p>")
    return parts


def _application_json(count: ApplicationCount) -> dict[str, Any]:
    return {
        "trained": count.trained,
        "reported": count.reported,
        "applying": count.applying,
        "rate": _round(count.rate),
    }


def _level_row_json(row: LevelRow) -> dict[str, Any]:
    group = row.group
    changes = group.changes() if group is not None else {}
    ratings = row.ratings
    return {
        "key": row.key,
        "name": row.name,
        "level1": {
            "coverage": _round(group.this_week.coverage) if group else None,
            "coverage_change": _round(changes.get("coverage")),
            "covered": group.this_week.covered if group else 0,
            "due": group.this_week.due if group else 0,
            "pass_rate": _round(group.this_week.pass_rate) if group else None,
            "pass_rate_change": _round(changes.get("pass_rate")),
            "passing": group.this_week.passing if group else 0,
            "assessed": group.this_week.assessed if group else 0,
            "satisfaction": None
            if ratings is None
            else {
                "mean": _round(ratings.this_week.mean),
                "ratings": ratings.this_week.count,
                "last_week_mean": _round(ratings.last_week.mean),
                "last_week_ratings": ratings.last_week.count,
                "change": _round(ratings.change),
            },
        },
        "level2": {
            **_application_json(row.application),
            "last_week": _application_json(row.application_before),
            "change": _round(row.application_change),
        },
        "level3": [
            {
                "metric": kpi.metric,
                "unit": kpi.unit,
                "direction": kpi.direction,
                "week": kpi.week,
                "value": kpi.value,
                "previous_week": kpi.previous_week,
                "previous_value": kpi.previous_value,
                "change": _round(kpi.change),
            }
            for kpi in row.kpis
        ],
    }


def _levels_json(levels: Levels | None, language: str) -> dict[str, Any] | None:
    if levels is None:
        return None
    return {
        "totals": _level_row_json(levels.total),
        "teams": [_level_row_json(row) for row in levels.teams],
        "tracks": [_level_row_json(row) for row in levels.tracks],
        "comparisons": [
            {
                "metric": metric.metric,
                "difference": _round(metric.comparison.difference)
                if metric.comparison is not None
                else None,
                "text": _comparison_text(metric, language),
            }
            for metric in levels.comparisons
        ],
    }


# -- chat ------------------------------------------------------------------------------


def chat_follow_up(follow_up: list[FollowUp]) -> list[FollowUp]:
    """The people a chat message names: the first :data:`CHAT_FOLLOW_UP` of the list
    (worst first), and everyone at 0% beyond them, who are never left under "…and N more"."""
    return [
        item for index, item in enumerate(follow_up) if index < CHAT_FOLLOW_UP or item.accuracy == 0
    ]


def chat_text(summary: WeeklySummary, language: str, *, names: bool = True) -> str:
    """One screen of Markdown-ish text: key rates with changes, hardest, follow-up, gaps.

    Args:
        summary: the week's summary.
        language: the reader's language.
        names: list the people to follow up by name; ``False`` for a channel, where only
            their number is shown (each manager gets the names of their own people).
    """
    total = summary.total
    now, changes = total.this_week, total.changes()
    start, end = _dates(summary)
    lines = [
        f"**{t(language, 'report_title', week=week_label(summary, language))}**",
        _scope(summary, language) + f" · {start} – {end}",
        *filter(None, [_in_progress_note(summary, language)]),
        f"- {t(language, 'report_coverage')}: {percent(now.coverage)} ({now.covered}/{now.due}) {arrow(changes['coverage'])}",
        f"- {t(language, 'report_active_rate')}: {percent(now.active_rate)} ({now.active}/{now.enrolled}) {arrow(changes['active_rate'])}",
        f"- {t(language, 'report_completion')}: {percent(now.completion)} ({now.quizzes_answered}/{now.quizzes_delivered}) {arrow(changes['completion'])}",
        f"- {t(language, 'report_lesson_completion')}: {percent(now.lesson_completion)} ({now.lessons_completed}/{now.lessons_delivered}) {arrow(changes['lesson_completion'])}",
        f"- {t(language, 'report_accuracy')}: {percent(now.accuracy)} ({now.correct}/{now.attempts}) {arrow(changes['accuracy'])}",
        f"- {t(language, 'report_pass_rate')}: {percent(now.pass_rate)} ({now.passing}/{now.assessed}) {arrow(changes['pass_rate'])}",
        f"- {_questions_line(summary, language)}",
        *_satisfaction_chat(summary.satisfaction, language),
        *_levels_chat(summary.levels, language),
    ]
    if summary.hardest:
        lines.append(f"\n**{t(language, 'report_hardest')}**")
        for number, question in enumerate(summary.hardest, start=1):
            hard = t(
                language,
                "report_hard_item",
                prompt=_short(question.prompt),
                accuracy=percent(question.accuracy),
                tries=question.first_tries,
            )
            lines.append(f"{number}. {hard}")
    lines.append(f"\n**{t(language, 'report_follow_up')}** ({len(summary.follow_up)})")
    if not summary.follow_up:
        lines.append(t(language, "report_none"))
    elif not names:
        lines.append(t(language, "report_follow_up_unnamed"))
    shown = chat_follow_up(summary.follow_up) if names else []
    for item in shown:
        lines.append(f"- {item.name} ({item.team}): {_reason(item, language, summary.timezone)}")
    if names and len(summary.follow_up) > len(shown):
        lines.append(t(language, "report_more", count=len(summary.follow_up) - len(shown)))
    if summary.gaps:
        lines.append(f"\n**{t(language, 'report_gaps')}**")
        for gap in summary.gaps[:CHAT_GAPS]:
            lines.append(f"- {_gap_line(gap, language)}")
    lines += _impact_chat(summary.impact, language)
    return "\n".join(lines)


GAP_VARIANTS_SHOWN = 2
"""Other phrasings shown under a gap in chat (all of them are in the JSON and the CLI)."""


def _as_typed(text: str) -> str:
    return text


def _gap_line(gap: Any, language: str, *, escape: Callable[[str], str] = _as_typed) -> str:
    """A content gap on one line (its other phrasings on a second), questions through
    ``escape`` since people typed them."""
    line = t(
        language,
        "report_gap_item",
        question=escape(_short(gap.question)),
        count=gap.count,
        unanswered=gap.unanswered,
        thumbs_down=gap.thumbs_down,
    )
    if not gap.variants:
        return line
    # A grouped phrasing is shown, so a merge that was wrong hides no question.
    shown = [escape(_short(variant)) for variant in gap.variants[:GAP_VARIANTS_SHOWN]]
    if len(gap.variants) > GAP_VARIANTS_SHOWN:
        shown.append("…")
    variants = t(language, "report_gap_variants", variants=" / ".join(shown))
    return f"{line}\n  {variants}"


def gap_digest(summary: WeeklySummary, language: str) -> str | None:
    """The trainers' Monday digest, or ``None`` when there is nothing to say.

    First the top lessons of the "content to improve" list with the signals that put
    them there (when the summary carries the list), then the week's content gaps.
    """
    lines: list[str] = []
    if summary.improve is not None:
        from bot.reports.to_improve import improve_chat  # it builds on this module

        lines += improve_chat(summary.improve, language)
    if summary.gaps:
        if lines:
            lines.append("")
        lines.append(t(language, "report_gap_digest", week=summary.week))
        lines.extend(f"- {_gap_line(gap, language)}" for gap in summary.gaps)
    return "\n".join(lines) if lines else None


# -- JSON ------------------------------------------------------------------------------


def _counts_json(counts: Counts) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(counts, name) for name in counts.__dataclass_fields__}
    data.update({name: _round(value) for name, value in counts.rates().items()})
    return data


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _group_json(group: GroupWeek) -> dict[str, Any]:
    return {
        "key": group.key,
        "name": group.name,
        "this_week": _counts_json(group.this_week),
        "last_week": _counts_json(group.last_week),
        "change": {name: _round(value) for name, value in group.changes().items()},
    }


def _stats_json(stats: QuestionStats) -> dict[str, Any]:
    return {
        "asked": stats.asked,
        "unanswered": stats.unanswered,
        "rated": stats.rated,
        "helpful": stats.helpful,
        "helpfulness": _round(stats.helpfulness),
    }


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _person_json(person: PersonWeek) -> dict[str, Any]:
    return {
        "person_id": person.person_id,
        "name": person.name,
        "team": person.team,
        "track": person.track,
        "status": person.status,
        "enrolled_at": _moment(person.enrolled_at),
        "lessons_delivered": person.lessons_delivered,
        "lessons_completed": person.lessons_completed,
        "quizzes_delivered": person.quizzes_delivered,
        "quizzes_answered": person.quizzes_answered,
        "completion": _round(person.completion),
        "attempts": person.attempts,
        "correct": person.correct,
        "accuracy": _round(person.accuracy),
        "pass_threshold": person.pass_threshold,
        "passed": person.passed,
        "streak": person.streak,
        "last_answer": _moment(person.last_answer),
    }


def as_dict(summary: WeeklySummary, language: str = "en") -> dict[str, Any]:
    """The JSON shape of the report (documented in docs/reports.md); ``language`` is that
    of its one sentence, the business-impact caveat."""
    return {
        "week": summary.week,
        "in_progress": summary.in_progress,
        "previous_week": summary.previous_week,
        "timezone": summary.timezone,
        "start": summary.start.isoformat(),
        "end": summary.end.isoformat(),
        "scope": summary.scope,
        "generated_at": _moment(summary.generated_at),
        "totals": _group_json(summary.total),
        "teams": [_group_json(row) for row in summary.teams],
        "tracks": [_group_json(row) for row in summary.tracks],
        "hardest_questions": [
            {
                "question_id": item.question_id,
                "prompt": item.prompt,
                "first_tries": item.first_tries,
                "first_try_correct": item.first_try_correct,
                "first_try_accuracy": _round(item.accuracy),
            }
            for item in summary.hardest
        ],
        "follow_up": [
            {
                "person_id": item.person_id,
                "name": item.name,
                "team": item.team,
                "reason": item.reason,
                "accuracy": _round(item.accuracy),
                "pass_mark": _round(item.pass_mark),
                "last_answer": _moment(item.last_answer),
            }
            for item in summary.follow_up
        ],
        "questions": {
            "this_week": _stats_json(summary.questions),
            "last_week": _stats_json(summary.questions_last_week),
            "change": {
                "helpfulness": _round(
                    change(summary.questions.helpfulness, summary.questions_last_week.helpfulness)
                )
            },
        },
        "content_gaps": None
        if summary.gaps is None
        else [
            {
                "question": gap.question,
                "variants": list(gap.variants),
                "count": gap.count,
                "unanswered": gap.unanswered,
                "thumbs_down": gap.thumbs_down,
            }
            for gap in summary.gaps
        ],
        "people": None
        if summary.people is None
        else [_person_json(person) for person in summary.people],
        "business_impact": _impact_json(summary.impact, language),
        "satisfaction": _satisfaction_json(summary.satisfaction),
        "levels": _levels_json(summary.levels, language),
        "content_to_improve": _improve_json(summary, language),
    }


def _improve_json(summary: WeeklySummary, language: str) -> dict[str, Any] | None:
    if summary.improve is None:
        return None
    from bot.reports.to_improve import improve_json  # it builds on this module

    return improve_json(summary.improve, language)


def to_json(summary: WeeklySummary, *, indent: int | None = None, language: str = "en") -> str:
    """The report as JSON: compact by default, since an organisation's follow-up list can
    run to thousands of entries (``indent`` pretty-prints, more slowly)."""
    return json.dumps(as_dict(summary, language), ensure_ascii=False, indent=indent)


# -- CSV -------------------------------------------------------------------------------

CSV_COLUMNS = (
    "week",
    "person_id",
    "name",
    "team",
    "track",
    "status",
    "enrolled_at",
    "lessons_delivered",
    "lessons_completed",
    "quizzes_delivered",
    "quizzes_answered",
    "completion",
    "attempts",
    "correct",
    "accuracy",
    "pass_threshold",
    "passed",
    "streak",
    "last_answer",
    "follow_up",
    "in_progress",
)


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
"""First characters that make a spreadsheet read a cell as a formula (OWASP's list, and
the full-width forms some spreadsheets convert on import)."""


def spreadsheet_cell(value: object) -> object:
    """``value`` as a CSV cell that a spreadsheet shows and never runs.

    Text whose first character, or first one after white space (which some spreadsheets
    trim on import), could start a formula gets a leading ``'``, as OWASP recommends
    against CSV injection: ``=HYPERLINK(...)`` becomes ``'=HYPERLINK(...)``. Numbers are
    written by us and stay numbers, a negative one included; ``None`` is an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, str) and (
        value.startswith(FORMULA_TRIGGERS) or value.lstrip().startswith(FORMULA_TRIGGERS)
    ):
        return "'" + value
    return value


def to_csv(summary: WeeklySummary) -> str:
    """One row per person (the summary must have been built with its people).

    The people to follow up come first, in the follow-up order (worst first), then
    everyone else by team and name. Every text cell goes through
    :func:`spreadsheet_cell`: names and team names are whatever people and rosters typed.
    """
    reasons = {item.person_id: item.reason for item in summary.follow_up}
    rank = {item.person_id: index for index, item in enumerate(summary.follow_up)}
    people = sorted(
        summary.people or [], key=lambda person: rank.get(person.person_id, len(rank))
    )  # a stable sort: the rest keep the summary's team-and-name order
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for person in people:
        row = _person_json(person)
        row["week"] = summary.week
        row["follow_up"] = reasons.get(person.person_id, "")
        row["in_progress"] = str(summary.in_progress).lower()
        row["passed"] = "" if person.passed is None else str(person.passed).lower()
        writer.writerow({key: spreadsheet_cell(row[key]) for key in CSV_COLUMNS})
    return buffer.getvalue()


# -- Markdown --------------------------------------------------------------------------


# Characters that make Markdown inline syntax: emphasis, code, links and images
# (``[``/``]``; ``!`` and ``(`` do nothing without them), strikethrough, table cells, math
# (``$``, which GitHub renders), and the backslash itself so no escape of ours is undone.
_MARKDOWN_INLINE = re.compile(r"([\\`*_~$\[\]|])")
# At the start of a list item: a heading, a list or a setext underline (``>`` is an entity
# by then, so it starts no quote).
_MARKDOWN_LEADING = re.compile(r"^([#+\-=])|^([0-9]+)([.)])")
# Bare URLs that GitHub-flavoured renderers link by themselves (``http://x``, ``www.x``).
_MARKDOWN_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(:)(?=//)|(?<![a-z0-9])(www)(\.)")


def markdown_text(text: str) -> str:
    """``text`` (a name, a team, a question someone typed) as literal Markdown.

    Rendered by any CommonMark or GitHub renderer it reads as typed: raw HTML
    (``<script>``) comes out as text, ``[x](http://...)``, ``![x](...)``,
    ``<http://...>`` and bare ``http://`` or ``www.`` addresses are not links,
    ``*``/``_``/backticks/``~`` format nothing, ``|`` does not split a table cell, and a
    leading ``#``, ``>``, ``-`` or ``1.`` starts no block. Line breaks and tabs become
    spaces, so the text stays within its list item or table row.
    """
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    text = _MARKDOWN_AUTOLINK.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text)
    return _MARKDOWN_LEADING.sub(
        lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text, count=1
    )


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table; every cell is escaped (:func:`markdown_text`)."""
    lines = ["| " + " | ".join(markdown_text(cell) for cell in header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines.extend("| " + " | ".join(markdown_text(cell) for cell in row) + " |" for row in rows)
    return lines


def _group_header(language: str, first: str) -> list[str]:
    return [
        t(language, first),
        t(language, "report_enrolled"),
        t(language, "report_active"),
        t(language, "report_active_rate"),
        t(language, "report_coverage"),
        t(language, "report_quizzes"),
        t(language, "report_completion"),
        t(language, "report_accuracy"),
        t(language, "report_pass_rate"),
        t(language, "report_lessons"),
    ]


def _group_cells(group: GroupWeek, language: str) -> list[str]:
    now, changes = group.this_week, group.changes()
    name = group.name
    if group.key == "total" and name == "organisation":
        name = t(language, "report_organisation")
    return [
        name,
        str(now.enrolled),
        str(now.active),
        f"{percent(now.active_rate)} {arrow(changes['active_rate'])}",
        f"{now.covered}/{now.due} {percent(now.coverage)} {arrow(changes['coverage'])}",
        f"{now.quizzes_answered}/{now.quizzes_delivered}",
        f"{percent(now.completion)} {arrow(changes['completion'])}",
        f"{percent(now.accuracy)} {arrow(changes['accuracy'])}",
        f"{percent(now.pass_rate)} {arrow(changes['pass_rate'])}",
        f"{now.lessons_completed}/{now.lessons_delivered}",
    ]


def _teams_with_total(summary: WeeklySummary) -> list[GroupWeek]:
    """The team rows, and the total row when there is more than one team."""
    return [*summary.teams, summary.total] if len(summary.teams) > 1 else list(summary.teams)


def _key_rows(summary: WeeklySummary, language: str) -> list[list[str]]:
    total = summary.total
    before = total.last_week.rates()
    changes = total.changes()
    rows = [
        [t(language, f"report_{name}"), percent(value), percent(before[name]), arrow(changes[name])]
        for name, value in total.this_week.rates().items()
    ]
    helpful = summary.questions.helpfulness
    helpful_before = summary.questions_last_week.helpfulness
    rows.append(
        [
            t(language, "report_helpfulness"),
            percent(helpful),
            percent(helpful_before),
            arrow(change(helpful, helpful_before)),
        ]
    )
    return rows


def _key_header(language: str) -> list[str]:
    return [
        t(language, "report_metric"),
        t(language, "report_this_week"),
        t(language, "report_last_week"),
        t(language, "report_change"),
    ]


def _person_header(language: str) -> list[str]:
    return [
        t(language, "report_person"),
        t(language, "report_team"),
        t(language, "report_quizzes"),
        t(language, "report_accuracy"),
        t(language, "report_lessons"),
        t(language, "report_streak"),
        t(language, "report_last_answer"),
    ]


def _person_cells(person: PersonWeek, zone: ZoneInfo) -> list[str]:
    last = person.last_answer.astimezone(zone).strftime("%Y-%m-%d") if person.last_answer else "—"
    return [
        person.name,
        person.team,
        f"{person.quizzes_answered}/{person.quizzes_delivered}",
        percent(person.accuracy),
        f"{person.lessons_completed}/{person.lessons_delivered}",
        "—" if person.streak is None else str(person.streak),
        last,
    ]


def to_markdown(summary: WeeklySummary, language: str) -> str:
    """The report as a Markdown document.

    Everything people or rosters wrote (names, teams, questions) goes through
    :func:`markdown_text`, so a renderer shows it as typed and makes no HTML, link or
    structure of it.
    """
    start, end = _dates(summary)
    zone = ZoneInfo(summary.timezone)
    note = _in_progress_note(summary, language)
    lines = [
        f"# {t(language, 'report_title', week=week_label(summary, language))}",
        "",
        t(
            language,
            "report_scope",
            scope=markdown_text(_scope(summary, language)),
            start=start,
            end=end,
            timezone=summary.timezone,
        ),
        "",
        *([note, ""] if note else []),
        f"## {t(language, 'report_key_numbers')}",
        "",
        *_table(_key_header(language), _key_rows(summary, language)),
        "",
        _questions_line(summary, language),
        "",
        f"## {t(language, 'report_teams')}",
        "",
        *_table(
            _group_header(language, "report_team"),
            [_group_cells(row, language) for row in _teams_with_total(summary)],
        ),
        "",
        f"## {t(language, 'report_tracks')}",
        "",
        *_table(
            _group_header(language, "report_track"),
            [_group_cells(row, language) for row in summary.tracks],
        ),
        "",
        f"## {t(language, 'report_hardest')}",
        "",
    ]
    lines.extend(
        f"{number}. "
        + t(
            language,
            "report_hard_item",
            prompt=markdown_text(item.prompt),
            accuracy=percent(item.accuracy),
            tries=item.first_tries,
        )
        for number, item in enumerate(summary.hardest, start=1)
    )
    if not summary.hardest:
        lines.append(t(language, "report_none"))
    lines += ["", f"## {t(language, 'report_follow_up')} ({len(summary.follow_up)})", ""]
    lines.extend(
        f"- {markdown_text(item.name)} ({markdown_text(item.team)}): {_reason(item, language, summary.timezone)}"
        for item in summary.follow_up
    )
    if not summary.follow_up:
        lines.append(t(language, "report_none"))
    lines += ["", f"## {t(language, 'report_gaps')}", ""]
    if summary.gaps is None:
        lines.append(t(language, "report_gaps_unavailable"))
    elif not summary.gaps:
        lines.append(t(language, "report_none"))
    lines.extend(
        f"- {_gap_line(gap, language, escape=markdown_text)}" for gap in summary.gaps or []
    )
    lines += _levels_markdown(summary.levels, language)
    lines += _satisfaction_markdown(summary.satisfaction, language)
    lines += _impact_markdown(summary.impact, language)
    if summary.improve is not None:
        from bot.reports.to_improve import improve_markdown  # it builds on this module

        lines += ["", *improve_markdown(summary.improve, language, heading="##")]
    lines += _upkeep_markdown(summary, language)
    if summary.people is not None:
        lines += ["", f"## {t(language, 'report_people')}", ""]
        lines += _table(
            _person_header(language), [_person_cells(person, zone) for person in summary.people]
        )
    generated = _generated_line(summary, language)
    if generated is not None:
        lines += ["", markdown_text(generated)]
    return "\n".join(lines) + "\n"


# -- HTML ------------------------------------------------------------------------------

_CSS = """
body { font-family: "DejaVu Sans", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 24px; color: #1d232a; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 22px; border-bottom: 1px solid #ccd; }
.scope { color: #556; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th { background: #1f4e79; color: #fff; text-align: left; padding: 4px 8px; }
td { border-bottom: 1px solid #dde; padding: 4px 8px; }
tr.total td { font-weight: bold; border-top: 2px solid #1f4e79; }
h3 { font-size: 15px; margin: 16px 0 4px; }
p.comparison { font-weight: bold; }
tr.group td { border-top: 2px solid #8aa; }
p.caveat { color: #7a4b00; background: #fff6e0; border-left: 4px solid #e0a000; padding: 6px 10px; }
img.chart { display: block; width: 1000px; max-width: 100%; height: auto; margin: 8px 0; }
@media print {
  body { margin: 0; }
  h2, table, img.chart { page-break-inside: avoid; }
}
"""


def _html_table(
    header: list[str],
    rows: list[list[str]],
    *,
    table_id: str,
    total_last: bool = False,
    group_every: int = 0,
) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = []
    for index, row in enumerate(rows):
        css = ' class="total"' if total_last and index == len(rows) - 1 else ""
        if group_every and index and index % group_every == 0:
            css = ' class="group"'  # a line between teams, whose rows come in threes
        cells = "".join(f"<td>{html.escape(cell)}</td>" for cell in row)
        body.append(f"<tr{css}>{cells}</tr>")
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _html_list(items: list[str], language: str, *, ordered: bool = False) -> str:
    if not items:
        return f"<p>{html.escape(t(language, 'report_none'))}</p>"
    tag = "ol" if ordered else "ul"
    # An item's own line breaks (a gap's other phrasings) stay line breaks.
    rows = "".join(f"<li>{html.escape(item).replace(chr(10), '<br>')}</li>" for item in items)
    return f"<{tag}>{rows}</{tag}>"


def _upkeep_lines(summary: WeeklySummary, language: str) -> list[str]:
    if summary.upkeep is None or summary.upkeep.empty:
        return []
    from bot.reports.upkeep import upkeep_lines

    return upkeep_lines(summary.upkeep, language)


def _upkeep_markdown(summary: WeeklySummary, language: str) -> list[str]:
    lines = _upkeep_lines(summary, language)
    if not lines:
        return []
    return ["", f"## {t(language, 'upkeep_title')}", "", *lines]


def _upkeep_html(summary: WeeklySummary, language: str) -> list[str]:
    lines = _upkeep_lines(summary, language)
    if not lines:
        return []
    parts = [f"<h2>{html.escape(t(language, 'upkeep_title'))}</h2>"]
    items: list[str] = []
    for line in lines:
        if line.startswith("- "):
            items.append(line[2:])
            continue
        if items:
            parts.append(_html_list(items, language))
            items = []
        if line:
            parts.append(f"<p>{html.escape(line.replace('**', ''))}</p>")
    if items:
        parts.append(_html_list(items, language))
    return parts


def _improve_html(summary: WeeklySummary, language: str) -> list[str]:
    if summary.improve is None:
        return []
    from bot.reports.to_improve import improve_html  # it builds on this module

    return improve_html(summary.improve, language)


def to_html(summary: WeeklySummary, language: str, chart_png: bytes) -> str:
    """A self-contained, printable HTML page with the chart embedded as a data URI."""
    start, end = _dates(summary)
    zone = ZoneInfo(summary.timezone)
    title = t(language, "report_title", week=week_label(summary, language))
    note = _in_progress_note(summary, language)
    chart = base64.b64encode(chart_png).decode("ascii")
    hardest = [
        t(
            language,
            "report_hard_item",
            prompt=item.prompt,
            accuracy=percent(item.accuracy),
            tries=item.first_tries,
        )
        for item in summary.hardest
    ]
    follow = [
        f"{item.name} ({item.team}): {_reason(item, language, summary.timezone)}"
        for item in summary.follow_up
    ]
    if summary.gaps is None:
        gaps_html = f"<p>{html.escape(t(language, 'report_gaps_unavailable'))}</p>"
    else:
        gaps_html = _html_list([_gap_line(gap, language) for gap in summary.gaps], language)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        '<p class="scope">'
        + html.escape(
            t(
                language,
                "report_scope",
                scope=_scope(summary, language),
                start=start,
                end=end,
                timezone=summary.timezone,
            )
        )
        + "</p>",
        *([f'<p class="in-progress">{html.escape(note)}</p>'] if note else []),
        f"<h2>{html.escape(t(language, 'report_key_numbers'))}</h2>",
        _html_table(_key_header(language), _key_rows(summary, language), table_id="key-numbers"),
        f"<p>{html.escape(_questions_line(summary, language))}</p>",
        f'<img class="chart" id="chart" width="1000" alt="{html.escape(t(language, "report_chart_alt"))}" '
        f'src="data:image/png;base64,{chart}">',
        f"<h2>{html.escape(t(language, 'report_teams'))}</h2>",
        _html_table(
            _group_header(language, "report_team"),
            [_group_cells(row, language) for row in _teams_with_total(summary)],
            table_id="teams",
            total_last=len(summary.teams) > 1,
        ),
        f"<h2>{html.escape(t(language, 'report_tracks'))}</h2>",
        _html_table(
            _group_header(language, "report_track"),
            [_group_cells(row, language) for row in summary.tracks],
            table_id="tracks",
        ),
        f"<h2>{html.escape(t(language, 'report_hardest'))}</h2>",
        _html_list(hardest, language, ordered=True),
        f"<h2>{html.escape(t(language, 'report_follow_up'))} ({len(summary.follow_up)})</h2>",
        _html_list(follow, language),
        f"<h2>{html.escape(t(language, 'report_gaps'))}</h2>",
        gaps_html,
        *_levels_html(summary.levels, language),
        *_satisfaction_html(summary.satisfaction, language),
        *_impact_html(summary.impact, language),
        *_improve_html(summary, language),
        *_upkeep_html(summary, language),
    ]
    if summary.people is not None:
        parts += [
            f"<h2>{html.escape(t(language, 'report_people'))}</h2>",
            _html_table(
                _person_header(language),
                [_person_cells(person, zone) for person in summary.people],
                table_id="people",
            ),
        ]
    generated = _generated_line(summary, language)
    if generated is not None:
        parts.append(f'<p class="scope" id="generated">{html.escape(generated)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


__all__ = [
    "FORMATS",
    "RATES",
    "arrow",
    "as_dict",
    "chat_text",
    "gap_digest",
    "kpi_number",
    "markdown_text",
    "percent",
    "spreadsheet_cell",
    "to_csv",
    "to_html",
    "to_json",
    "to_markdown",
]
