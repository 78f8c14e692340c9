"""The chart as a reader sees it: Chinese labels drawn, values on the bars, the pass mark.

The texts are read from the matplotlib ``Figure`` (:func:`team_figure`), not from pixels;
one test renders the PNG on this host, where there may be no system CJK font at all.
"""

from __future__ import annotations

import io
import logging
import sys
import warnings
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image

from bot.reports import chart
from bot.reports.chart import MAX_TEAMS, chart_fonts, team_chart, team_figure
from bot.reports.metrics import GroupWeek, WeeklySummary, build_summary
from bot.reports.render import percent
from bot.store.db import Database
from quizzes.loader import load_course
from tests.conftest import SAMPLE_CONTENT
from tests.reports.handbuilt import build

CHINESE_TEAMS = ("华东一组", "北京客服中心", "成都社区团长")


@pytest.fixture(autouse=True)
def fresh_fonts() -> Iterator[None]:
    """Each test finds the fonts afresh (the choice is cached for the process)."""
    chart_fonts.cache_clear()
    yield
    chart_fonts.cache_clear()


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


def _chinese(summary: WeeklySummary) -> WeeklySummary:
    teams = [
        replace(row, name=name) for row, name in zip(summary.teams, CHINESE_TEAMS, strict=False)
    ]
    return replace(summary, teams=teams)


def _system_cjk_font() -> bool:
    listed = {entry.name for entry in font_manager.fontManager.ttflist}
    return any(path.is_file() for path in chart._CJK_FILES) or any(
        name in listed for name in chart._CJK_FONTS
    )


def _glyph_complaints(
    found: list[warnings.WarningMessage], caplog: pytest.LogCaptureFixture
) -> list[str]:
    said = [str(item.message) for item in found] + [
        record.getMessage() for record in caplog.records if record.name.startswith("matplotlib")
    ]
    return [text for text in said if "missing from font" in text]


def _render(summary: WeeklySummary, caplog: pytest.LogCaptureFixture) -> tuple[bytes, list[str]]:
    caplog.set_level(logging.WARNING)
    with warnings.catch_warnings(record=True) as found:
        warnings.simplefilter("always")
        png = team_chart(summary, "zh")
    return png, _glyph_complaints(found, caplog)


def test_chinese_labels_draw_with_the_bundled_font_and_no_missing_glyphs(
    summary: WeeklySummary, caplog: pytest.LogCaptureFixture
) -> None:
    png, complaints = _render(_chinese(summary), caplog)
    assert complaints == []
    assert Image.open(io.BytesIO(png)).size == (chart.WIDTH_PX, chart.HEIGHT_PX)
    if not _system_cjk_font():  # a host with no CJK font of its own, like a bare container
        from pylopdf_fonts_zh_cn import sans_path

        assert chart_fonts().cjk_file == Path(sans_path())
    assert chart_fonts().families[0] == chart.LATIN_FONT


def test_without_any_cjk_font_the_chart_is_drawn_and_says_once_what_to_install(
    summary: WeeklySummary, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    if _system_cjk_font():
        pytest.skip("this host has a system CJK font")
    monkeypatch.setitem(sys.modules, "pylopdf_fonts_zh_cn", None)  # the package not installed
    first, complaints = _render(_chinese(summary), caplog)
    second, _ = _render(_chinese(summary), caplog)
    Image.open(io.BytesIO(first)).verify()
    Image.open(io.BytesIO(second)).verify()
    advice = [
        record
        for record in caplog.records
        if record.name == "bot.reports.chart" and "pylopdf-fonts-zh-cn" in record.getMessage()
    ]
    assert len(advice) == 1 and advice[0].levelno == logging.WARNING
    assert "fonts-noto-cjk" in advice[0].getMessage()
    assert chart_fonts().cjk_file is None
    assert complaints  # the boxes are not hidden: matplotlib's own warning gets through


def _panels(figure: Figure) -> tuple[Axes, Axes]:
    completion, accuracy = figure.axes
    return completion, accuracy


def _texts(axes: Axes) -> list[str]:
    return [text.get_text() for text in axes.texts]


def _legend(figure: Figure) -> list[str]:
    return [text.get_text() for legend in figure.legends for text in legend.get_texts()]


def _expected_labels(teams: list[GroupWeek], rate: str, missing: str) -> list[str]:
    labels = []
    for week in ("last_week", "this_week"):
        for row in sorted(teams, key=lambda row: row.name.casefold()):
            value = getattr(getattr(row, week), rate)
            labels.append(missing if value is None else percent(value))
    return labels


def test_every_bar_carries_its_value_and_a_missing_rate_says_so(
    summary: WeeklySummary,
) -> None:
    completion, accuracy = _panels(team_figure(summary, "en"))
    assert _texts(completion) == _expected_labels(summary.teams, "completion", "n/a")
    assert _texts(accuracy)[: 2 * len(summary.teams)] == _expected_labels(
        summary.teams, "accuracy", "n/a"
    )
    # The hand-built week: team A answered 4 of 5 quizzes this week, B 2 of 3; "Empty" has
    # nobody, so no bar and no "0%".
    this_week = _texts(completion)[len(summary.teams) :]
    assert this_week == ["80%", "100%", "67%", "n/a", "n/a"]
    assert "0%" not in _texts(completion)
    zh_completion, _ = _panels(team_figure(summary, "zh"))
    assert "无数据" in _texts(zh_completion) and "n/a" not in _texts(zh_completion)


def test_twelve_teams_each_get_two_labelled_bars(summary: WeeklySummary) -> None:
    row = summary.teams[0]
    many = [replace(row, key=str(n), name=f"Team {n:02d}") for n in range(MAX_TEAMS + 3)]
    completion, _ = _panels(team_figure(replace(summary, teams=many), "en"))
    assert len(_texts(completion)) == 2 * MAX_TEAMS
    assert len(completion.get_xticklabels()) == MAX_TEAMS


def test_the_accuracy_panel_draws_each_pass_mark_with_its_tracks(summary: WeeklySummary) -> None:
    assert summary.pass_marks == {"frontline": 0.8, "managers": 0.75}
    figure = team_figure(summary, "en")
    completion, accuracy = _panels(figure)
    assert sorted(line.get_ydata()[0] for line in accuracy.get_lines()) == [75, 80]
    assert {line.get_linestyle() for line in accuracy.get_lines()} == {"--", ":"}
    assert completion.get_lines() == []  # the pass mark is about accuracy only
    assert {"80%", "75%"} <= set(_texts(accuracy)[2 * len(summary.teams) :])
    assert _legend(figure) == [
        "Last week",
        "This week",
        "Pass mark 80% (Frontline operations)",
        "Pass mark 75% (Managers' planning)",
    ]


def test_one_pass_mark_is_one_line_named_plainly(summary: WeeklySummary) -> None:
    only_frontline = replace(summary, pass_marks={"frontline": 0.8})
    figure = team_figure(only_frontline, "zh")
    _, accuracy = _panels(figure)
    assert [line.get_ydata()[0] for line in accuracy.get_lines()] == [80]
    assert _legend(figure) == ["上周", "本周", "合格线 80%"]
    none = team_figure(replace(summary, pass_marks={}), "en")
    assert _panels(none)[1].get_lines() == []
    assert _legend(none) == ["Last week", "This week"]


def test_team_names_stay_plain_text(summary: WeeklySummary) -> None:
    dollars = replace(summary, teams=[replace(summary.teams[0], name="$x^2$ 华东")])
    figure = team_figure(dollars, "zh")
    ticks = [text.get_text() for text in _panels(figure)[0].get_xticklabels()]
    assert ticks == ["$x^2$ 华东"]


def test_a_scope_without_teams_still_draws_an_empty_chart(summary: WeeklySummary) -> None:
    empty = replace(summary, teams=[], pass_marks={})
    completion, _ = _panels(team_figure(empty, "en"))
    assert _texts(completion) == ["n/a", "n/a"]
    Image.open(io.BytesIO(team_chart(empty, "en"))).verify()
