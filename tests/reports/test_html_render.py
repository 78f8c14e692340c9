"""The HTML report and its chart, checked the way a person sees them: rendered.

Headless Chromium (Debian's ``chromium``) opens the self-contained HTML file and takes a
screenshot; the test looks for the team table's header colour and the chart's bar colour
in it. Without Chromium the test skips locally and fails in CI.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from bot.reports.chart import HEIGHT_PX, THIS_WEEK_COLOUR, WIDTH_PX, team_chart
from bot.reports.metrics import WeeklySummary, build_summary
from bot.reports.render import to_html
from bot.store.db import Database
from quizzes.loader import load_course
from tests.conftest import SAMPLE_CONTENT
from tests.reports.handbuilt import ask_variant, build

TABLE_HEADER = "#1f4e79"  # the th background in render._CSS
WINDOW = (1200, 1400)


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _count(image: Image.Image, colour: str, tolerance: int = 6) -> int:
    wanted = _rgb(colour)
    return sum(
        count
        for count, pixel in image.getcolors(maxcolors=1 << 24) or []
        if all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], wanted, strict=True))
    )


@pytest.fixture
def summary(sqlite_database: Database) -> WeeklySummary:
    build(sqlite_database)
    return build_summary(
        sqlite_database,
        load_course(SAMPLE_CONTENT),
        week="2026-W47",
        timezone="Asia/Shanghai",
        now=datetime(2026, 11, 23, 1, tzinfo=UTC),
    )


def test_the_chart_is_a_png_of_the_expected_size_with_bars(summary: WeeklySummary) -> None:
    image = Image.open(io.BytesIO(team_chart(summary, "en"))).convert("RGB")
    assert image.size == (WIDTH_PX, HEIGHT_PX)
    assert _count(image, THIS_WEEK_COLOUR) > 2000  # this week's bars are drawn
    assert len(image.getcolors(maxcolors=1 << 24) or []) > 20  # not a blank canvas


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed: apt-get install chromium")
    return found


def test_the_html_report_renders_the_team_table_and_the_chart(
    summary: WeeklySummary, tmp_path: Path
) -> None:
    chromium = _chromium()
    page = to_html(summary, "en", team_chart(summary, "en"))
    # Self-contained: nothing is fetched, the chart travels inside the file.
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    embedded = re.search(r'src="data:image/png;base64,([^"]+)"', page)
    assert embedded is not None
    assert Image.open(io.BytesIO(base64.b64decode(embedded.group(1)))).size == (
        WIDTH_PX,
        HEIGHT_PX,
    )
    html_file = tmp_path / "report.html"
    html_file.write_text(page, encoding="utf-8")
    shot = tmp_path / "report.png"
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
    image = Image.open(shot).convert("RGB")
    assert image.size == WINDOW
    assert _count(image, TABLE_HEADER) > 3000  # the header rows of the tables
    assert _count(image, THIS_WEEK_COLOUR) > 2000  # the chart's bars
    width, height = image.size
    top, bottom = (
        image.crop((0, 0, width, height // 2)),
        image.crop((0, height // 2, width, height)),
    )
    assert _count(top, THIS_WEEK_COLOUR) > 2000  # the chart sits near the top, on screen
    assert len(bottom.getcolors(maxcolors=1 << 24) or []) > 2  # and the page goes on below


def test_a_gaps_other_phrasings_are_on_their_own_line(sqlite_database: Database) -> None:
    build(sqlite_database)
    ask_variant(sqlite_database)
    summary = build_summary(
        sqlite_database,
        load_course(SAMPLE_CONTENT),
        week="2026-W47",
        timezone="Asia/Shanghai",
        now=datetime(2026, 11, 23, 1, tzinfo=UTC),
    )
    page = to_html(summary, "en", team_chart(summary, "en"))
    assert (
        "<li>How do we win back churned users? — asked 3×, unanswered 2, 👎 1<br>"
        "  also asked as: how do we win back churned users pls</li>"
    ) in page
