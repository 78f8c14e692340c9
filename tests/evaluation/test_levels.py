"""The weekly report's level 1 / 2 / 3 section, against figures worked out by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.application import application_cells, by_lesson
from bot.reports.metrics import WeeklySummary, build_summary
from bot.reports.render import chat_text, to_html, to_json, to_markdown
from bot.store.db import Database
from quizzes.content import Course
from quizzes.loader import load_course
from tests.conftest import SAMPLE_CONTENT
from tests.evaluation.eval_world import TIMEZONE, WEEK, EvalWorld, build_application, utc
from tests.reports import kpi_world

NOW = datetime(2026, 11, 25, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(SAMPLE_CONTENT)


def _summary(
    db: Database, course: Course, language: str = "en", **options: object
) -> WeeklySummary:
    return build_summary(
        db,
        course,
        week=str(options.pop("week", WEEK)),
        timezone=TIMEZONE,
        language=language,
        now=NOW,
        **options,  # type: ignore[arg-type]
    )


def _rows(summary: WeeklySummary) -> dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]]:
    assert summary.levels is not None
    found = {}
    for row in [*summary.levels.teams, *summary.levels.tracks, summary.levels.total]:
        now, before = row.application, row.application_before
        found[row.name] = (
            (now.trained, now.reported, now.applying),
            (before.trained, before.reported, before.applying),
        )
    return found


def test_application_rates_are_the_ones_worked_out_by_hand(
    database: Database, course: Course
) -> None:
    build_application(database)
    rows = _rows(_summary(database, course))
    # (trained, reported, applying) at the end of W47, then at the end of W46.
    assert rows["A"] == ((3, 3, 3), (4, 3, 2))  # Cat moved out; Ann's "seen" after "not yet"
    assert rows["B"] == ((3, 1, 0), (1, 0, 0))  # Cat moved in; Dan "not relevant"; Eve new
    assert rows["Frontline operations"] == ((6, 4, 3), (5, 3, 2))
    assert rows["organisation"] == ((6, 4, 3), (5, 3, 2))
    with database.session() as session:
        lessons = by_lesson(application_cells(session, until=utc("2026-11-22T16:00")))
    assert {lesson: (c.trained, c.reported, c.applying) for lesson, c in lessons.items()} == {
        "fl-01": (5, 3, 2),
        "fl-02": (1, 1, 1),
    }


def test_every_format_shows_the_rates_with_what_they_rest_on(
    database: Database, course: Course
) -> None:
    build_application(database)
    summary = _summary(database, course)
    markdown = to_markdown(summary, "en")
    assert "## Evaluation by level (1 / 2 / 3)" in markdown
    assert "| A | " in markdown
    assert "100% (3 reported of 3 trained) ▲33 pp" in markdown
    # B had nobody reported on at the end of W46: a rate of 0% has no change to show.
    assert "0% (1 reported of 3 trained) —" in markdown
    assert "75% (4 reported of 6 trained) ▲8 pp" in markdown
    data = json.loads(to_json(summary))["levels"]
    team_a = next(row for row in data["teams"] if row["name"] == "A")
    assert team_a["level2"] == {
        "trained": 3,
        "reported": 3,
        "applying": 3,
        "rate": 1.0,
        "last_week": {"trained": 4, "reported": 3, "applying": 2, "rate": 0.6667},
        "change": 0.3333,
    }
    team_b = next(row for row in data["teams"] if row["name"] == "B")
    assert team_b["level2"]["last_week"]["rate"] is None and team_b["level2"]["change"] is None
    # Level 1 is the team table's own figure, not computed again.
    team_row = next(row for row in json.loads(to_json(summary))["teams"] if row["name"] == "A")
    assert team_a["level1"]["coverage"] == team_row["this_week"]["coverage"]
    assert team_a["level1"]["pass_rate"] == team_row["this_week"]["pass_rate"]
    chinese = to_markdown(_summary(database, course, "zh"), "zh")
    assert "## 三层评估（第一、二、三层）" in chinese
    assert "100%（已学 3 人次，3 人次有反馈）▲33 pp" in chinese
    assert "- Application rate (level 2): 75% (4 reported of 6 trained) ▲8 pp" in chat_text(
        summary, "en"
    )
    page = to_html(summary, "en", b"png")
    assert '<table id="levels-teams">' in page and '<table id="levels-tracks">' in page


def test_a_team_without_training_shows_dashes_never_zero_percent(
    sqlite_database: Database, course: Course
) -> None:
    build_application(sqlite_database)
    summary = _summary(sqlite_database, course, week="2026-W40")
    markdown = to_markdown(summary, "en")
    section = markdown.split("## Evaluation by level")[1].split("\n## ")[0]
    assert "0%" not in section  # nothing trained yet: no rate, no 0%
    assert "| A | — | — | — | — | — |" in section


def test_level_3_shows_each_kpis_latest_value_and_the_comparison(
    sqlite_database: Database, course: Course
) -> None:
    kpi_world.build(sqlite_database)
    summary = _summary(sqlite_database, course, week=kpi_world.REPORT_WEEK, kpi_weeks=8)
    assert summary.levels is not None
    north = next(row for row in summary.levels.teams if row.name == "North")
    retention = next(kpi for kpi in north.kpis if kpi.metric == "retention_30d")
    assert (retention.week, retention.value) == ("2026-W47", 67)
    assert (retention.previous_week, retention.previous_value) == ("2026-W46", 68)
    assert retention.change == -1
    markdown = to_markdown(summary, "en")
    assert r"retention\_30d: 67% (2026-W47) -1 pp" in markdown  # escaped: a KPI file named it
    # The comparison is the business-impact section's own, worked out by hand there.
    comparison = next(
        metric for metric in summary.levels.comparisons if metric.metric == "retention_30d"
    )
    assert comparison.comparison is not None
    assert comparison.comparison.difference == pytest.approx(kpi_world.DID)
    assert r"- retention\_30d: Difference in differences: +4.25 pp." in markdown
    data = json.loads(to_json(summary))["levels"]
    assert {item["metric"]: item["difference"] for item in data["comparisons"]} == {
        "complaint_rate": None,
        "retention_30d": 4.25,
    }
    chinese = to_markdown(
        _summary(sqlite_database, course, "zh", week=kpi_world.REPORT_WEEK, kpi_weeks=8), "zh"
    )
    assert r"retention\_30d：67%（2026-W47 周）-1 pp" in chinese
    assert "双重差分：+4.25 pp" in chinese


def test_a_manager_sees_their_own_teams_only(database: Database, course: Course) -> None:
    world: EvalWorld = build_application(database)
    rows = _rows(_summary(database, course, team_ids=[world.teams["A"]]))
    assert rows["A"] == ((3, 3, 3), (4, 3, 2))
    assert "B" not in rows
