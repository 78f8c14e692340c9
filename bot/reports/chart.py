"""The report's PNG chart: quiz completion and accuracy per team, this week and last week.

:func:`team_figure` builds the matplotlib ``Figure`` (so a test can read its texts) and
:func:`team_chart` renders it to PNG bytes.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: the chart is only ever written to bytes

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bot.i18n import t
from bot.reports.metrics import GroupWeek, WeeklySummary, week_label
from bot.reports.render import percent

logger = logging.getLogger(__name__)

WIDTH_PX = 1000
HEIGHT_PX = 420
DPI = 100
THIS_WEEK_COLOUR = "#1b6ca8"
LAST_WEEK_COLOUR = "#9ec5e8"
PASS_MARK_COLOUR = "#c0392b"
PASS_MARK_STYLES = ("--", ":")  # dashed, then dotted for a second mark
MAX_TEAMS = 12
# Above this many teams the value labels stand on end, so neighbouring ones do not collide.
UPRIGHT_LABELS_ABOVE = 6
LATIN_FONT = "DejaVu Sans"
FONT_PACKAGE = "pylopdf-fonts-zh-cn"
_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "Droid Sans Fallback")
_CJK_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)


@dataclass(frozen=True)
class ChartFonts:
    """The font families the chart asks for, in order, and the CJK font file behind them.

    Attributes:
        families: ``font.family`` for matplotlib: DejaVu Sans for Latin text, then the
            CJK font, which matplotlib falls back to glyph by glyph.
        cjk_file: the CJK font file in use; ``None`` when there is none, and Chinese
            text shows as boxes.
    """

    families: tuple[str, ...]
    cjk_file: Path | None


def _system_cjk_font() -> tuple[str, Path] | None:
    """A CJK font installed on the host (e.g. Debian's ``fonts-noto-cjk``), if any.

    Matplotlib's font cache may predate a font package installed later, so the usual
    Debian locations are registered directly.
    """
    for path in _CJK_FILES:
        if path.is_file():
            try:
                font_manager.fontManager.addfont(str(path))
            except (OSError, RuntimeError):  # an unreadable font is just not used
                logger.debug("could not load font %s", path)
    installed = {entry.name: Path(entry.fname) for entry in font_manager.fontManager.ttflist}
    for name in _CJK_FONTS:
        if name in installed:
            return name, installed[name]
    return None


def _bundled_cjk_font() -> tuple[str, Path] | None:
    """Noto Sans SC from the ``pylopdf-fonts-zh-cn`` wheel, a dependency of trainbot.

    The wheel is found at run time, so a host without system fonts still draws Chinese.
    """
    try:
        from pylopdf_fonts_zh_cn import sans_path
    except ImportError:
        return None
    path = Path(sans_path())
    if not path.is_file():
        return None
    try:
        font_manager.fontManager.addfont(str(path))
    except (OSError, RuntimeError):
        logger.debug("could not load font %s", path)
        return None
    return font_manager.FontProperties(fname=str(path)).get_name(), path


@cache
def chart_fonts() -> ChartFonts:
    """DejaVu Sans, with a CJK font behind it: a system one if installed, else the bundled one.

    Without either, Chinese labels become boxes; this is logged once as a WARNING naming
    what to install, and the chart is drawn anyway.
    """
    found = _system_cjk_font() or _bundled_cjk_font()
    if found is None:
        logger.warning(
            "no CJK font found: Chinese text in report charts will show as boxes; "
            "install the %s package (pip install '%s>=0.1.1,<0.2') or a system CJK font "
            "such as Debian's fonts-noto-cjk",
            FONT_PACKAGE,
            FONT_PACKAGE,
        )
        return ChartFonts(families=(LATIN_FONT,), cjk_file=None)
    name, path = found
    logger.debug("chart CJK font: %s (%s)", name, path)
    return ChartFonts(families=(LATIN_FONT, name), cjk_file=path)


def team_chart(summary: WeeklySummary, language: str) -> bytes:
    """The chart of :func:`team_figure` as a PNG (``WIDTH_PX`` x ``HEIGHT_PX``)."""
    figure = team_figure(summary, language)
    with matplotlib.rc_context(_rc()):
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def team_figure(summary: WeeklySummary, language: str) -> Figure:
    """Two panels, completion and accuracy, with a pair of bars per team.

    This week's bar is dark, last week's light; each carries its value ("83%"), and a rate
    with no denominator has no bar and the label "n/a" (无数据), so it is not read as 0%.
    The accuracy panel has a line (dashed, then dotted) at each distinct pass mark of the
    tracks in the summary. More than ``MAX_TEAMS`` teams: the largest ones.
    """
    teams = sorted(summary.teams, key=lambda row: -row.this_week.enrolled)[:MAX_TEAMS]
    teams.sort(key=lambda row: row.name.casefold())
    names = [row.name for row in teams] or ["—"]
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    panels = (("completion", "report_completion"), ("accuracy", "report_accuracy"))
    positions = list(range(len(names)))
    # Fonts are looked up when texts are laid out (tight_layout here, drawing in
    # team_chart), so both run under the same settings.
    with matplotlib.rc_context(_rc()):
        figure.suptitle(
            f"{t(language, 'report_chart_title')} · {week_label(summary, language)}",
            fontsize=12,
            x=0.01,
            ha="left",
        )
        for index, (rate, label) in enumerate(panels):
            axes = figure.add_subplot(1, 2, index + 1)
            _bars(axes, teams, rate, positions, language)
            axes.set_title(t(language, label), fontsize=11)
            axes.set_ylim(0, 115)  # room above a 100% bar for its label
            axes.set_yticks(range(0, 101, 20))
            axes.set_ylabel("%")
            axes.set_xticks(positions)
            crowded = len(names) > 4
            packed = len(names) > UPRIGHT_LABELS_ABOVE
            # At 45° neighbouring names run parallel a line apart; at a shallower angle long
            # Chinese names in narrow slots print over each other.
            axes.set_xticklabels(
                names,
                rotation=(45 if packed else 20) if crowded else 0,
                ha="right" if crowded else "center",
                rotation_mode="anchor" if crowded else "default",
                fontsize=9 if packed else 10,
            )
            axes.grid(axis="y", alpha=0.3)
            if rate == "accuracy":
                _pass_marks(axes, summary, language)
        handles: list[Any] = []
        labels: list[str] = []
        for axes in figure.axes:  # the bars (the same in both panels) once, then the marks
            for handle, text in zip(*axes.get_legend_handles_labels(), strict=True):
                if text not in labels:
                    handles.append(handle)
                    labels.append(text)
        figure.legend(handles, labels, loc="upper right", ncols=2, fontsize=9, frameon=False)
        figure.tight_layout(rect=(0, 0, 1, 0.93 if len(labels) > 2 else 0.97))
    return figure


def _rc() -> dict[Any, Any]:  # matplotlib types the keys as one Literal of every rc name
    # Team names are text, not mathtext: "$x^2$" is drawn as typed, and a name mathtext
    # cannot parse ("$$", "$\\foo$") would otherwise fail the whole chart. Nor does a
    # matplotlibrc on the host hand them to LaTeX.
    return {
        "font.family": list(chart_fonts().families),
        "text.parse_math": False,
        "text.usetex": False,
    }


def _bars(
    axes: Axes, teams: Sequence[GroupWeek], rate: str, positions: list[int], language: str
) -> None:
    """Last week's and this week's bars for one rate, each labelled with its value."""
    upright = len(teams) > UPRIGHT_LABELS_ABOVE
    for offset, week, colour, legend, text_colour in (
        (-0.2, "last_week", LAST_WEEK_COLOUR, "report_last_week", "#4a6a88"),
        (0.2, "this_week", THIS_WEEK_COLOUR, "report_this_week", "#1d232a"),
    ):
        values: list[float | None] = [getattr(getattr(row, week), rate) for row in teams]
        if not values:
            values = [None]
        bars = axes.bar(
            [p + offset for p in positions],
            [value * 100 if value is not None else 0.0 for value in values],
            width=0.4,
            color=colour,
            label=t(language, legend),
        )
        axes.bar_label(
            bars,
            labels=[_value_label(value, language) for value in values],
            padding=2,
            fontsize=7 if upright else 8,
            rotation=90 if upright else 0,
            color=text_colour,
        )


def _value_label(value: float | None, language: str) -> str:
    if value is None:
        return t(language, "report_chart_no_data")
    return percent(value)  # rounded as the tables round it


def _pass_marks(axes: Axes, summary: WeeklySummary, language: str) -> None:
    """A dashed line per distinct pass mark of the summary's tracks.

    Each line carries its mark ("80%") just right of the panel and an entry in the legend:
    "Pass mark 80%", or with several marks "Pass mark 80% (Frontline operations)".
    """
    titles = {row.key: row.name for row in summary.tracks}
    by_mark: dict[float, list[str]] = {}
    for track_id, mark in sorted(summary.pass_marks.items()):
        by_mark.setdefault(mark, []).append(titles.get(track_id, track_id))
    several = len(by_mark) > 1
    for rank, (mark, tracks) in enumerate(sorted(by_mark.items(), reverse=True)):
        shown = percent(mark)
        legend = t(language, "report_chart_pass_mark", mark=shown)
        if several:
            legend = t(language, "report_chart_pass_mark_of", mark=shown, tracks=", ".join(tracks))
        axes.axhline(
            mark * 100,
            color=PASS_MARK_COLOUR,
            linestyle=PASS_MARK_STYLES[rank % len(PASS_MARK_STYLES)],
            linewidth=1.2,
            zorder=3,
            label=legend,
        )
        # Marks a few points apart would print over each other: the higher one's label
        # sits above its line, the next one's below.
        vertical = "center" if not several else ("bottom" if rank % 2 == 0 else "top")
        axes.annotate(
            shown,
            xy=(1.0, mark * 100),
            xycoords=("axes fraction", "data"),
            xytext=(3, 0),
            textcoords="offset points",
            ha="left",
            va=vertical,
            fontsize=8,
            color=PASS_MARK_COLOUR,
        )
