"""/report: the weekly summary for managers and admins; learners get their /progress.

``/report`` shows the last complete ISO week for everything the person may see. Optional
arguments, in any order: an ISO week (``2026-W47``) and a team name (the team and those
below it, if the person may see it).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from bot.admission import admitted_people
from bot.events import Attachment, Command, Reply
from bot.handlers import learning
from bot.handlers.basics import language_for
from bot.i18n import t
from bot.reports.access import ViewerKind, access_for, team_by_name, teams_below
from bot.reports.metrics import WeeklySummary, build_summary
from bot.reports.render import chat_text
from bot.weeks import FutureWeekError, chosen_week

if TYPE_CHECKING:
    from bot.context import BotContext

logger = logging.getLogger(__name__)

_WEEK_TOKEN = re.compile(r"^[0-9]{4}-[Ww][0-9]{1,2}$")


def _arguments(args: str) -> tuple[str | None, str | None]:
    """(week, team name) from the command's arguments."""
    week = None
    rest = []
    for token in args.split():
        if week is None and _WEEK_TOKEN.match(token):
            week = token.upper()
        else:
            rest.append(token)
    return week, " ".join(rest) or None


def report(ctx: BotContext, event: Command) -> list[Reply]:
    """Answer /report according to who is asking."""
    language = language_for(ctx, event)
    with ctx.db.session() as session:
        session_role = ctx.session_roles.get((event.person.platform, event.person.user_id))
        access = access_for(session, ctx.settings, event.person, language, role=session_role)
    if access.kind is ViewerKind.LEARNER:
        own = learning.progress(ctx, event)
        return [Reply(t(language, "report_learner_refusal")), *own]
    if not access.may_report:
        return [Reply(t(language, "report_no_team"))]
    week, team_name = _arguments(event.args)
    try:
        week = chosen_week(week, ctx.clock.now(), ctx.settings.timezone)
    except FutureWeekError:
        return [Reply(t(language, "report_future_week", week=week))]
    except ValueError:
        return [Reply(t(language, "report_bad_week", week=week))]
    team_ids = access.team_ids
    person_ids = access.scope.person_ids if access.scope is not None else frozenset()
    if team_name is not None:
        with ctx.db.session() as session:
            team = team_by_name(session, team_name)
            if team is None or (team_ids is not None and team.id not in team_ids):
                return [Reply(t(language, "report_unknown_team", team=team_name))]
            team_ids = teams_below(session, [team.id])
            person_ids = frozenset()  # just that team, as asked
    summary, png = _build(ctx, week, team_ids, person_ids, language)
    logger.info("weekly report %s sent to a %s", week, access.kind.value)
    return [
        Reply(
            chat_text(summary, language),
            attachment=Attachment(f"report-{summary.week}.png", png, "image/png"),
        )
    ]


def _build(
    ctx: BotContext,
    week: str,
    team_ids: frozenset[int] | None,
    person_ids: frozenset[int],
    language: str,
) -> tuple[WeeklySummary, bytes]:
    from bot.reports.chart import team_chart  # matplotlib loads on the first report only

    summary = build_summary(
        ctx.db,
        ctx.library.course,
        week=week,
        timezone=ctx.settings.timezone,
        team_ids=team_ids,
        person_ids=person_ids,
        admitted=admitted_people(ctx.settings),
        include_people=team_ids is not None,
        language=language,
        now=ctx.clock.now(),
        working_days=ctx.settings.working_days,
        kpi_weeks=ctx.settings.kpi_weeks,
        trained_coverage=ctx.settings.kpi_trained_coverage,
    )
    return summary, team_chart(summary, language)
