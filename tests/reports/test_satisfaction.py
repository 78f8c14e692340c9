"""The weekly report's satisfaction figure on hand-built ratings, worked out by hand.

Runs on SQLite and PostgreSQL (the ``database`` fixture). The fortnight of
tests/reports/handbuilt.py (W47: 2026-11-15T16:00Z .. 2026-11-22T16:00Z, W46 before),
with these ratings added:

| person | team | track     | rated at (UTC)     | rating | week                     |
|--------|------|-----------|--------------------|--------|--------------------------|
| Ann    | A    | frontline | 2026-11-10T02:00   | 3      | W46                      |
| Ann    | A    | frontline | 2026-11-16T02:00   | 5      | W47                      |
| Bob    | A    | frontline | 2026-11-17T02:00   | 4      | W47                      |
| Bob    | A    | frontline | asked 11-18, never rated | — | none                  |
| Cid    | A1   | managers  | 2026-11-19T02:00   | 2      | W47                      |
| Dee    | B    | frontline | 2026-11-11T02:00   | 4      | W46                      |
| Dee    | B    | frontline | 2026-11-22T16:00   | 5      | W48 (the first instant)  |
| Eve    | B    | frontline | 2026-11-15T16:00   | 1      | W47 (its first instant)  |

W47: 5 + 4 + 2 + 1 = 12 over 4 ratings, mean 3.0; W46: 3 + 4 over 2, mean 3.5; change −0.5.
Team A 4.5 (2) against 3.0 (1): +1.5; A1 2.0 (1), no rating before; B 1.0 (1) against
4.0 (1): −3.0. Frontline (5 + 4 + 1) / 3 = 3.33 against 3.5; managers 2.0.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.reports.access import teams_below
from bot.reports.metrics import WeeklySummary, build_summary
from bot.reports.render import chat_text, to_html, to_json, to_markdown
from bot.store.db import Database
from bot.store.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Person,
    PersonStatus,
    SurveyResponse,
)
from quizzes.content import Course
from quizzes.loader import load_course
from tests.conftest import SAMPLE_CONTENT
from tests.reports.handbuilt import SHANGHAI, WEEK, World, build, utc
from tests.reports.test_html_render import _chromium

ZONE = "Asia/Shanghai"
RATINGS = (
    ("Ann", "A", "2026-11-10T02:00", 3),
    ("Ann", "A", "2026-11-16T02:00", 5),
    ("Bob", "A", "2026-11-17T02:00", 4),
    ("Bob", "A", "2026-11-18T02:00", None),
    ("Cid", "A1", "2026-11-19T02:00", 2),
    ("Dee", "B", "2026-11-11T02:00", 4),
    ("Dee", "B", "2026-11-22T16:00", 5),
    ("Eve", "B", "2026-11-15T16:00", 1),
)


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(SAMPLE_CONTENT)


def rate(database: Database, world: World) -> None:
    with database.session() as session:
        for number, (who, team, when, rating) in enumerate(RATINGS, start=1):
            person = session.get(Person, world.people[who])
            assert person is not None
            moment = utc(when)
            asked = moment - timedelta(minutes=2)
            delivery = Delivery(
                person_id=person.id,
                kind=DeliveryKind.LESSON,
                slot=f"survey-{number}",
                local_date=asked.astimezone(SHANGHAI).date(),
                item_id=f"fl-0{number % 6 + 1}",
                track_id=person.track_id,
                team_id=world.teams[team],
                status=DeliveryStatus.COMPLETED,
                send_attempts=1,
                claimed_at=asked,
                sent_at=asked,
                completed_at=asked,
            )
            session.add(delivery)
            session.flush()
            session.add(
                SurveyResponse(
                    person_id=person.id,
                    delivery_id=delivery.id,
                    lesson_id=delivery.item_id,
                    track_id=person.track_id,
                    team_id=world.teams[team],
                    asked_on=asked.astimezone(SHANGHAI).date(),
                    asked_at=asked,
                    rating=rating,
                    rated_at=moment if rating is not None else None,
                )
            )


@pytest.fixture
def world(database: Database) -> World:
    built = build(database)
    rate(database, built)
    return built


def summary(
    database: Database,
    course: Course,
    *,
    week: str = WEEK,
    team_ids: frozenset[int] | None = None,
) -> WeeklySummary:
    return build_summary(
        database,
        course,
        week=week,
        timezone=ZONE,
        team_ids=team_ids,
        now=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
    )


def test_the_organisation_by_team_and_track(
    database: Database, course: Course, world: World
) -> None:
    found = summary(database, course).satisfaction
    assert found is not None
    total = found.total
    assert (total.this_week.count, total.this_week.total, total.this_week.mean) == (4, 12, 3.0)
    assert (total.last_week.count, total.last_week.mean) == (2, 3.5)
    assert total.change == pytest.approx(-0.5)
    teams = {row.name: row for row in found.teams}
    assert list(teams) == ["A", "A1", "B"]
    assert (teams["A"].this_week.mean, teams["A"].this_week.count) == (4.5, 2)
    assert (teams["A"].last_week.mean, teams["A"].change) == (3.0, 1.5)
    assert (teams["A1"].this_week.mean, teams["A1"].last_week.count, teams["A1"].change) == (
        2.0,
        0,
        None,
    )
    assert (teams["B"].this_week.mean, teams["B"].last_week.mean, teams["B"].change) == (
        1.0,
        4.0,
        -3.0,
    )
    tracks = {row.key: row for row in found.tracks}
    assert tracks["frontline"].name == "Frontline operations"
    assert tracks["frontline"].this_week.mean == pytest.approx(10 / 3)
    assert tracks["frontline"].change == pytest.approx(10 / 3 - 3.5)
    assert (tracks["managers"].this_week.mean, tracks["managers"].this_week.count) == (2.0, 1)


def test_a_managers_scope_and_a_removed_person(
    database: Database, course: Course, world: World
) -> None:
    with database.session() as session:
        scope = teams_below(session, [world.teams["A"]])
    found = summary(database, course, team_ids=frozenset(scope)).satisfaction
    assert found is not None
    assert (found.total.this_week.count, found.total.this_week.total) == (3, 11)  # Ann, Bob, Cid
    assert [row.name for row in found.teams] == ["A", "A1"]
    with database.session() as session:
        bob = session.get(Person, world.people["Bob"])
        assert bob is not None
        bob.status = PersonStatus.REMOVED
    found = summary(database, course).satisfaction
    assert found is not None and found.total.this_week.count == 3


def test_a_week_without_ratings_has_no_figure(
    database: Database, course: Course, world: World
) -> None:
    report = summary(database, course, week="2026-W40")
    assert report.satisfaction is None
    assert json.loads(to_json(report))["satisfaction"] is None
    # The section is gone; the level 1/2/3 table keeps its satisfaction column, empty.
    assert "## Satisfaction" not in to_markdown(report, "en")
    assert "Satisfaction" not in chat_text(report, "en")


def test_every_output_shows_it(database: Database, course: Course, world: World) -> None:
    report = summary(database, course)
    data = json.loads(to_json(report))["satisfaction"]
    assert data["totals"] == {
        "key": "total",
        "name": "organisation",
        "this_week": {"ratings": 4, "mean": 3.0},
        "last_week": {"ratings": 2, "mean": 3.5},
        "change": -0.5,
    }
    assert [(row["name"], row["change"]) for row in data["teams"]] == [
        ("A", 1.5),
        ("A1", None),
        ("B", -3.0),
    ]
    markdown = to_markdown(report, "en")
    assert "## Satisfaction (level 1)" in markdown
    # (Markdown escapes a dot after a digit, so "4.5" cannot start a numbered list.)
    # "Team: " before the name: a team named "Team A" reads "Team: Team A", not "Team Team A".
    assert "| Team: A | 4\\.5 | 2 | 3\\.0 (1) | ▲1.5 |" in markdown
    assert "| Team: A1 | 2\\.0 | 1 | — (0) | — |" in markdown
    assert "| Track: Frontline operations | 3\\.3 | 3 | 3\\.5 (2) | ▼0.2 |" in markdown
    assert "| All | 3\\.0 | 4 | 3\\.5 (2) | ▼0.5 |" in markdown
    assert "- Satisfaction: 3.0 / 5 (4 ratings) ▼0.5" in chat_text(report, "en")
    assert "满意度：3.0 / 5（4 个评分）▼0.5" in chat_text(report, "zh")
    page = to_html(report, "en", b"")
    assert '<h2 id="satisfaction">Satisfaction (level 1)</h2>' in page
    assert '<tr class="total"><td>All</td><td>3.0</td><td>4</td>' in page


def test_the_html_section_renders_in_chromium(
    sqlite_database: Database, course: Course, tmp_path: Path
) -> None:
    """Headless Chromium reads the page and lays the table out: the DOM it builds has the
    section's heading and one row per team, per track and the total."""
    chromium = _chromium()
    world = build(sqlite_database)
    rate(sqlite_database, world)
    page = to_html(summary(sqlite_database, course), "zh", b"")
    html_file = tmp_path / "report.html"
    html_file.write_text(page, encoding="utf-8")
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", html_file.as_uri()],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert '<h2 id="satisfaction">满意度（一级）</h2>' in dom
    table = dom[dom.index('<table id="satisfaction-table">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr") == 1 + 3 + 2 + 1  # header, teams A A1 B, two tracks, total
    assert "<td>合计</td><td>3.0</td><td>4</td><td>3.5 (2)</td><td>▼0.5</td>" in table
