"""The report's PNG chart: quiz completion and accuracy per team, this week and last week."""

from __future__ import annotations

import io
import logging
import warnings
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the chart is only ever written to bytes

from matplotlib import font_manager
from matplotlib.figure import Figure

from bot.i18n import t
from bot.reports.metrics import WeeklySummary, week_label

logger = logging.getLogger(__name__)

WIDTH_PX = 1000
HEIGHT_PX = 420
DPI = 100
THIS_WEEK_COLOUR = "#1b6ca8"
LAST_WEEK_COLOUR = "#9ec5e8"
MAX_TEAMS = 12
_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "Droid Sans Fallback")
_CJK_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
)


@cache
def _font_family() -> tuple[str, ...]:
    """DejaVu Sans, with a CJK font behind it when one is installed (team names, labels).

    Matplotlib's font cache may predate a font package installed later, so the usual
    Debian locations are registered directly.
    """
    for path in _CJK_FILES:
        if path.is_file():
            try:
                font_manager.fontManager.addfont(str(path))
            except (OSError, RuntimeError):  # an unreadable font is just not used
                logger.debug("could not load font %s", path)
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return ("DejaVu Sans", *(name for name in _CJK_FONTS if name in installed))


def team_chart(summary: WeeklySummary, language: str) -> bytes:
    """A PNG (``WIDTH_PX`` x ``HEIGHT_PX``) with two panels, completion and accuracy.

    Each panel has a pair of bars per team (this week dark, last week light); a rate with
    no denominator is drawn as no bar. More than ``MAX_TEAMS`` teams: the largest ones.
    """
    teams = sorted(summary.teams, key=lambda row: -row.this_week.enrolled)[:MAX_TEAMS]
    teams.sort(key=lambda row: row.name.casefold())
    names = [row.name for row in teams] or ["—"]
    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    panels = (("completion", "report_completion"), ("accuracy", "report_accuracy"))
    positions = list(range(len(names)))
    family = list(_font_family())
    # Team names are text, not mathtext: "$x^2$" is drawn as typed, and a name mathtext
    # cannot parse ("$$", "$\\foo$") would otherwise fail the whole chart. Nor does a
    # matplotlibrc on the host hand them to LaTeX.
    with (
        matplotlib.rc_context(
            {"font.family": family, "text.parse_math": False, "text.usetex": False}
        ),
        warnings.catch_warnings(),
    ):
        # Without a CJK font Chinese labels show as boxes; say so once, not per glyph.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.suptitle(
            f"{t(language, 'report_chart_title')} · {week_label(summary, language)}", fontsize=12
        )
        for index, (rate, label) in enumerate(panels):
            axes = figure.add_subplot(1, 2, index + 1)
            now = [_percent(getattr(row.this_week, rate)) for row in teams] or [0.0]
            before = [_percent(getattr(row.last_week, rate)) for row in teams] or [0.0]
            axes.bar(
                [p - 0.2 for p in positions],
                before,
                width=0.4,
                color=LAST_WEEK_COLOUR,
                label=t(language, "report_last_week"),
            )
            axes.bar(
                [p + 0.2 for p in positions],
                now,
                width=0.4,
                color=THIS_WEEK_COLOUR,
                label=t(language, "report_this_week"),
            )
            axes.set_title(t(language, label), fontsize=11)
            axes.set_ylim(0, 100)
            axes.set_ylabel("%")
            axes.set_xticks(positions)
            crowded = len(names) > 4
            axes.set_xticklabels(
                names, rotation=20 if crowded else 0, ha="right" if crowded else "center"
            )
            axes.grid(axis="y", alpha=0.3)
            if index == 0:
                axes.legend(loc="upper left", fontsize=9)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _percent(value: float | None) -> float:
    return value * 100 if value is not None else 0.0
