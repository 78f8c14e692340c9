"""``trainbot report``: the weekly summary as a file (Markdown, CSV, HTML or JSON)."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from bot.errors import TrainbotError
from bot.reports.access import team_by_name, teams_below
from bot.reports.metrics import WORKING_DAYS, WeeklySummary, build_summary
from bot.reports.render import FORMATS, to_csv, to_html, to_json, to_markdown
from bot.store.db import Database
from bot.store.models import Person
from bot.weeks import chosen_week
from quizzes.content import Course

logger = logging.getLogger(__name__)


def summary_for(
    db: Database,
    course: Course,
    *,
    week: str | None,
    team: str | None,
    timezone: str,
    now: datetime,
    language: str,
    include_people: bool,
    admitted: ColumnElement[bool] | None = None,
    working_days: Collection[str] = WORKING_DAYS,
    kpi_weeks: int = 12,
    trained_coverage: float = 0.8,
    region: str | None = None,
) -> WeeklySummary:
    """The summary of ``week`` (default: the last complete one) for ``team`` or everyone
    ``admitted`` (``bot.admission.admitted_people``) lets count, cut to one ``region``.

    Raises:
        TrainbotError: for a malformed week, an unknown team or a region nobody is in.
    """
    try:
        week = chosen_week(week or None, now, timezone)
    except ValueError as exc:
        raise TrainbotError(str(exc)) from None
    team_ids = None
    if team is not None:
        with db.session() as session:
            found = team_by_name(session, team)
            if found is None:
                raise TrainbotError(f"no team named {team!r}")
            team_ids = teams_below(session, [found.id])
    if region is not None:
        with db.session() as session:
            regions = sorted(
                str(name)
                for name in session.scalars(
                    select(Person.region).where(Person.region.is_not(None)).distinct()
                )
            )
        if region not in regions:
            known = ", ".join(regions) if regions else "none: set the roster's region column"
            raise TrainbotError(f"nobody is in region {region!r} (regions: {known})")
    return build_summary(
        db,
        course,
        week=week,
        timezone=timezone,
        team_ids=team_ids,
        admitted=admitted,
        include_people=include_people,
        language=language,
        now=now,
        working_days=working_days,
        kpi_weeks=kpi_weeks,
        trained_coverage=trained_coverage,
        region=region,
    )


def render_file(summary: WeeklySummary, fmt: str, language: str) -> str:
    """The report in ``fmt`` (one of :data:`~bot.reports.render.FORMATS`)."""
    if fmt == "md":
        return to_markdown(summary, language)
    if fmt == "csv":
        return to_csv(summary)
    if fmt == "json":
        return to_json(summary, language=language) + "\n"
    if fmt == "html":
        from bot.reports.chart import team_chart

        return to_html(summary, language, team_chart(summary, language))
    raise TrainbotError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
