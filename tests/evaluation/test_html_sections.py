"""The HTML report's level 1/2/3 section, "content to improve" and the business-impact
section, rendered by headless Chromium.

Like tests/reports/test_html_render.py: the page is opened and screenshotted, then the
same page without the new sections; the new tables' header rows, the list below them and
the impact section's caveat must show up as pixels, in both languages.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.evaluation.improve import for_week
from bot.reports.metrics import WeeklySummary, build_summary
from bot.reports.render import to_html
from bot.store.db import Database
from quizzes.loader import load_course
from tests.conftest import SAMPLE_CONTENT
from tests.evaluation.eval_world import TIMEZONE, WEEK, build_application, build_improve
from tests.reports import kpi_world
from tests.reports.test_html_render import TABLE_HEADER, _chromium, _count

WINDOW = (1400, 6000)
CAVEAT_BACKGROUND = "#fff6e0"  # p.caveat in render._CSS


def _summary(db: Database, language: str) -> WeeklySummary:
    course = load_course(SAMPLE_CONTENT)
    summary = build_summary(
        db,
        course,
        week=WEEK,
        timezone=TIMEZONE,
        language=language,
        include_people=False,
        now=datetime(2026, 11, 25, 2, tzinfo=UTC),
    )
    summary.improve = for_week(db, course, week=WEEK, weeks=4, timezone=TIMEZONE, language=language)
    return summary


def _shot(chromium: str, page: str, directory: Path, name: str) -> Image.Image:
    html_file = directory / f"{name}.html"
    html_file.write_text(page, encoding="utf-8")
    shot = directory / f"{name}.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            f"--screenshot={shot}",
            html_file.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return Image.open(shot).convert("RGB")


def _last_ink(image: Image.Image) -> int:
    """The lowest row with anything but white on it."""
    pixels = np.asarray(image)
    return int(np.where((pixels < 240).any(axis=(1, 2)))[0].max())


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_new_sections_render(sqlite_database: Database, tmp_path: Path, language: str) -> None:
    chromium = _chromium()
    build_application(sqlite_database)
    build_improve(sqlite_database)
    summary = _summary(sqlite_database, language)
    assert summary.improve is not None and len(summary.improve.lessons) >= 4
    page = to_html(summary, language, b"")
    for anchor in ('id="levels-teams"', 'id="levels-tracks"', 'id="improve-list"'):
        assert anchor in page
    with_sections = _shot(chromium, page, tmp_path, "with")
    without = _shot(
        chromium,
        to_html(replace(summary, levels=None, improve=None), language, b""),
        tmp_path,
        "without",
    )
    assert with_sections.size == WINDOW
    # Two more tables: their header rows add the header colour (each row ~700 × 24 px).
    assert _count(with_sections, TABLE_HEADER) - _count(without, TABLE_HEADER) > 20_000
    # And the page goes on below them: the ranked list with its evidence, line by line.
    assert _last_ink(with_sections) - _last_ink(without) > 900


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_business_impact_section_renders(
    sqlite_database: Database, tmp_path: Path, language: str
) -> None:
    """The hand-built KPIs of tests/reports/kpi_world.py: two KPI tables (complaint_rate for
    2 teams, retention_30d for 4, 3 indicator rows a team) and the association-not-proof
    caveat, drawn on the page."""
    chromium = _chromium()
    kpi_world.build(sqlite_database)
    summary = build_summary(
        sqlite_database,
        load_course(SAMPLE_CONTENT),
        week=kpi_world.REPORT_WEEK,
        timezone=kpi_world.TIMEZONE,
        language=language,
        include_people=False,
        kpi_weeks=8,
        now=datetime(2026, 11, 25, 2, tzinfo=UTC),
    )
    assert summary.impact is not None and len(summary.impact.metrics) == 2
    page = to_html(summary, language, b"")
    for anchor in ('id="business-impact"', 'id="impact-1"', 'id="impact-2"', 'class="caveat"'):
        assert anchor in page
    with_section = _shot(chromium, page, tmp_path, "with")
    without = _shot(
        chromium, to_html(replace(summary, impact=None), language, b""), tmp_path, "without"
    )
    # Two more tables: their header rows (team, indicator and 8 weeks) in the header colour.
    assert _count(with_section, TABLE_HEADER) - _count(without, TABLE_HEADER) > 20_000
    # The section's own caveat box, beside the level 1/2/3 section's (on both pages).
    assert _count(with_section, CAVEAT_BACKGROUND) - _count(without, CAVEAT_BACKGROUND) > 20_000
    # And its 18 rows of figures below the headings.
    assert _last_ink(with_section) - _last_ink(without) > 600
