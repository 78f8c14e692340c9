"""The renderings of one hand-built week: chat, Markdown, CSV, JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from bot.reports.metrics import FollowUp, WeeklySummary, build_summary
from bot.reports.render import (
    CHAT_FOLLOW_UP,
    arrow,
    as_dict,
    chat_text,
    percent,
    to_csv,
    to_html,
    to_markdown,
    zoned_moment,
)
from bot.store.db import Database
from quizzes.content import Course
from quizzes.loader import load_course
from tests.conftest import SAMPLE_CONTENT
from tests.reports.handbuilt import build


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(SAMPLE_CONTENT)


@pytest.fixture
def week(sqlite_database: Database, course: Course) -> WeeklySummary:
    build(sqlite_database)
    return build_summary(
        sqlite_database,
        course,
        week="2026-W47",
        timezone="Asia/Shanghai",
        min_first_tries=2,
        now=datetime(2026, 11, 23, 1, tzinfo=UTC),
    )


def test_rates_and_changes_read_plainly() -> None:
    assert (percent(None), percent(0.0), percent(2 / 3)) == ("—", "0%", "67%")
    assert (arrow(None), arrow(0.05), arrow(-0.1), arrow(0.001)) == (
        "—",
        "▲5 pp",
        "▼10 pp",
        "±0 pp",
    )


def test_the_chat_message_has_the_key_numbers_with_changes(week: WeeklySummary) -> None:
    text = chat_text(week, "en")
    assert "Active rate: 50% (3/6) ▼10 pp" in text  # 3/6 vs 3/5 last week
    assert "Quiz completion: 83% (10/12) ▼17 pp" in text
    assert "Accuracy: 78% (7/9) ▲11 pp" in text
    assert "Pass rate: 67% (2/3) ±0 pp" in text
    assert "Lesson completion: 50% (1/2) —" in text
    assert "helpful 👍 50% (▲50 pp)" in text
    assert "1. q3 — 50% of 2 first tries" in text
    chinese = chat_text(week, "zh")
    assert "活跃率: 50% (3/6) ▼10 pp" in chinese


def test_the_chat_follow_up_list_is_capped(week: WeeklySummary) -> None:
    many = [FollowUp(index, f"Person {index}", "A", "inactive", None, None) for index in range(25)]
    week.follow_up = many
    text = chat_text(week, "en")
    assert text.count("no answer for 7+ days") == CHAT_FOLLOW_UP
    assert "…and 15 more" in text
    assert len(text.splitlines()) <= 30  # one phone screen


def test_nobody_at_zero_percent_is_hidden_in_chat(week: WeeklySummary) -> None:
    low = [FollowUp(index, f"Low {index}", "A", "low_accuracy", 0.5, None) for index in range(4)]
    zero = [
        FollowUp(10 + index, f"Zero {index}", "A", "low_accuracy", 0.0, None) for index in range(12)
    ]
    silent = [
        FollowUp(30 + index, f"Quiet {index}", "A", "inactive", None, None) for index in range(6)
    ]
    week.follow_up = zero + low + silent  # the order build_summary gives: worst first
    text = chat_text(week, "en")
    assert "**People to follow up** (22)" in text
    assert all(f"- Zero {index} (A): accuracy 0%" in text for index in range(12))
    assert "Low 0" not in text and "Quiet 0" not in text
    assert "…and 10 more" in text


def test_csv_has_one_row_per_person(week: WeeklySummary) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(week))))
    # The people to follow up first, worst first; then the rest by team and name.
    assert [row["name"] for row in rows] == ["Ann", "Gus", "Bob", "Cid", "Dee", "Eve"]
    assert [row["follow_up"] for row in rows[:3]] == ["low_accuracy", "inactive", "inactive"]
    ann = rows[0]
    assert (ann["attempts"], ann["correct"], ann["accuracy"], ann["passed"]) == (
        "3",
        "2",
        "0.6667",
        "false",
    )
    assert ann["follow_up"] == "low_accuracy" and ann["streak"] == "0"  # answered on Sunday
    assert rows[5]["accuracy"] == "" and rows[5]["passed"] == ""  # Eve: no answer, no rate


def test_json_totals_and_undefined_rates(week: WeeklySummary) -> None:
    data = json.loads(json.dumps(as_dict(week)))
    assert data["totals"]["this_week"]["quizzes_delivered"] == 12
    assert data["totals"]["change"]["lesson_completion"] is None
    empty = next(team for team in data["teams"] if team["name"] == "Empty")
    assert empty["this_week"]["coverage"] is None
    assert [item["question_id"] for item in data["hardest_questions"]] == ["q3", "q2", "q1"]


def test_markdown_has_every_section(week: WeeklySummary) -> None:
    text = to_markdown(week, "en")
    for heading in ("## Key numbers", "## Teams", "## Tracks", "## Hardest questions"):
        assert heading in text
    assert "| Active rate | 50% | 60% | ▼10 pp |" in text
    assert "| Whole organisation | 6 | 3 |" in text


def test_an_unfinished_week_is_marked_in_progress_in_every_output(
    sqlite_database: Database, course: Course
) -> None:
    build(sqlite_database)
    friday = datetime(2026, 11, 20, 9, tzinfo=UTC)  # 17:00 in Shanghai, inside W47
    made = build_summary(
        sqlite_database, course, week="2026-W47", timezone="Asia/Shanghai", now=friday
    )
    assert made.in_progress
    chat = chat_text(made, "en")
    assert chat.startswith("**Weekly training summary — 2026-W47 (in progress)**")
    assert (
        "⏳ This week is not over: the figures count up to "
        "2026-11-20 17:00 (Asia/Shanghai, UTC+08:00)." in chat
    )
    assert "2026-W47（进行中）" in chat_text(made, "zh")
    markdown = to_markdown(made, "en")
    assert markdown.startswith("# Weekly training summary — 2026-W47 (in progress)")
    assert "the figures count up to 2026-11-20 17:00" in markdown
    html = to_html(made, "en", b"png")
    assert "<title>Weekly training summary — 2026-W47 (in progress)</title>" in html
    assert "the figures count up to 2026-11-20 17:00" in html
    assert as_dict(made)["in_progress"] is True
    rows = list(csv.DictReader(io.StringIO(to_csv(made))))
    assert rows and {row["in_progress"] for row in rows} == {"true"}


def test_a_finished_week_carries_no_mark(week: WeeklySummary) -> None:
    assert not week.in_progress
    assert "in progress" not in chat_text(week, "en") + to_markdown(week, "en")
    assert as_dict(week)["in_progress"] is False
    assert {row["in_progress"] for row in csv.DictReader(io.StringIO(to_csv(week)))} == {"false"}


@pytest.mark.parametrize(
    ("language", "generated"),
    [
        ("en", "Generated 2026-11-23 09:00 (Asia/Shanghai, UTC+08:00)"),
        ("zh", "生成于 2026-11-23 09:00 (Asia/Shanghai, UTC+08:00)"),
    ],
)
def test_generated_at_names_the_time_zone(
    week: WeeklySummary, language: str, generated: str
) -> None:
    assert f'<p class="scope" id="generated">{generated}</p>' in to_html(week, language, b"png")
    assert to_markdown(week, language).endswith(f"\n\n{generated}\n")


def test_generated_at_is_on_the_clock_of_the_report_zone(
    sqlite_database: Database, course: Course
) -> None:
    build(sqlite_database)
    made = build_summary(
        sqlite_database,
        course,
        week="2026-W47",
        timezone="America/Vancouver",
        now=datetime(2026, 11, 23, 1, tzinfo=UTC),
    )
    assert "Generated 2026-11-22 17:00 (America/Vancouver, UTC-08:00)" in to_markdown(made, "en")
    assert zoned_moment(datetime(2026, 7, 1, 12, tzinfo=UTC), "Asia/Kolkata") == (
        "2026-07-01 17:30 (Asia/Kolkata, UTC+05:30)"
    )
