"""The Monday summaries: each manager's team report by DM, the organisation-wide one to
the review channel, and the content-gap list to the trainers (admins).

Each DM to a stored person is claimed as a ``report`` delivery (unique per person, local
date and slot ``weekly:<week>`` or ``gaps:<week>``) before it is sent, so a run repeated
after a restart, or by a second bot process, never sends the same summary twice. The
channel has no person row: its post is recorded as a handled event
(``processed_events``, platform ``report``, ``weekly-report:<week>:<channel>``) before
it is sent. That makes
it safe for the scheduler to run the job again at every start once this week's time has
passed (:func:`run_is_due`): a run missed while the bot was down is sent once, and a run
already made is not repeated.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from bot import events_log
from bot.events import Attachment, Conversation, ConversationKind, Reply
from bot.learning import claim, local_date
from bot.ports import RecipientUnreachable, SendError
from bot.reports.access import managed_teams
from bot.reports.chart import team_chart
from bot.reports.metrics import WeeklySummary, build_summary
from bot.reports.render import chat_text, gap_digest
from bot.settings import WEEKDAYS, parse_hhmm
from bot.store.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Person,
    PersonStatus,
    Role,
    TeamManager,
)
from bot.weeks import iso_week_window, last_complete_week, week_of

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

logger = logging.getLogger(__name__)

WEEKLY_SLOT = "weekly:"
GAPS_SLOT = "gaps:"


@dataclass
class WeeklyRun:
    """What one Monday run did."""

    week: str
    managers: int = 0
    admins: int = 0
    channel: bool = False
    already_sent: int = 0
    failed: list[str] = field(default_factory=list)
    unreached_admins: list[str] = field(default_factory=list)
    """``TRAINBOT_ADMINS`` entries the bot has never heard from: it has no chat to DM them."""


def parse_channel(value: str) -> Conversation | None:
    """``platform:channel_id`` (``slack:C0123ABCD``, ``telegram:-1001234567890``) or ``None``.

    Raises:
        ValueError: when the value is set but not in that form.
    """
    value = value.strip()
    if not value:
        return None
    platform, _, channel_id = value.partition(":")
    if platform not in ("slack", "telegram", "console") or not channel_id:
        raise ValueError(
            f"invalid report channel {value!r} (expected platform:channel_id, e.g. slack:C0123ABCD)"
        )
    return Conversation(platform, channel_id, ConversationKind.CHANNEL)


def _summary_reply(summary: WeeklySummary, language: str) -> Reply:
    png = team_chart(summary, language)
    return Reply(
        chat_text(summary, language),
        attachment=Attachment(f"report-{summary.week}.png", png, "image/png"),
    )


def _manager_reply(
    summary: Callable[[frozenset[int] | None, str], WeeklySummary],
    scope: frozenset[int],
    language: str,
) -> Reply:
    return _summary_reply(summary(scope, language), language)


async def send_weekly_reports(dispatcher: Dispatcher, *, now: datetime | None = None) -> WeeklyRun:
    """Send last week's summaries through the dispatcher's outbound ports.

    Args:
        dispatcher: gives the store, course, settings, clock and outbound ports.
        now: the moment of the run (default: the dispatcher's clock).
    """
    settings = dispatcher.settings
    now = now or dispatcher.clock.now()
    week = last_complete_week(now, settings.timezone)
    run = WeeklyRun(week=week)
    course = dispatcher.library.course

    def summary(team_ids: frozenset[int] | None, language: str) -> WeeklySummary:
        return build_summary(
            dispatcher.db,
            course,
            week=week,
            timezone=settings.timezone,
            team_ids=team_ids,
            include_people=team_ids is not None,
            language=language,
            now=now,
        )

    with dispatcher.db.session() as session:
        managers = session.scalars(
            select(Person)
            .where(Person.id.in_(select(TeamManager.person_id)))
            .where(Person.status == PersonStatus.ACTIVE)
            .order_by(Person.id)
        ).all()
        scopes = {manager.id: managed_teams(session, manager.id) for manager in managers}
        admins = session.scalars(
            select(Person)
            .where(Person.status == PersonStatus.ACTIVE)
            .where(
                or_(
                    Person.role == Role.ADMIN,
                    *(
                        (Person.platform == platform) & (Person.platform_user_id == user_id)
                        for platform, _, user_id in (
                            item.partition(":") for item in settings.admins
                        )
                    ),
                )
            )
            .order_by(Person.id)
        ).all()
        session.expunge_all()
    known = {f"{admin.platform}:{admin.platform_user_id}" for admin in admins}
    run.unreached_admins = [item for item in settings.admins if item not in known]
    if run.unreached_admins:
        logger.warning(
            "no content-gap digest for %s: listed in TRAINBOT_ADMINS but never wrote to the "
            "bot, so there is no chat to send it to (they get it from the first Monday after "
            "they have written to it)",
            ", ".join(run.unreached_admins),
        )

    for manager in managers:
        scope, language = scopes[manager.id], manager.language
        sent = await _send_claimed(
            dispatcher,
            manager,
            WEEKLY_SLOT + week,
            week,
            functools.partial(_manager_reply, summary, scope, language),
            now,
        )
        _count(run, sent, "managers", manager)

    digests: dict[str, Reply | None] = {}

    def digest(language: str) -> Reply | None:
        if language not in digests:
            text = gap_digest(summary(None, language), language)
            digests[language] = Reply(text) if text is not None else None
        return digests[language]

    for admin in admins:
        sent = await _send_claimed(
            dispatcher,
            admin,
            GAPS_SLOT + week,
            week,
            functools.partial(digest, admin.language),
            now,
        )
        _count(run, sent, "admins", admin)

    try:
        channel = parse_channel(settings.report_channel)
    except ValueError as exc:
        logger.error("%s; the organisation-wide summary was not posted", exc)
        channel = None
    if channel is not None:
        sender = dispatcher.outbound.get(channel.platform)
        if sender is None:
            logger.error("report channel is on %s, which is not running", channel.platform)
        else:
            if not _first_post(dispatcher, channel, week, now):
                run.already_sent += 1
                return _logged(run)
            made = await asyncio.to_thread(summary, None, settings.language)
            try:
                await sender.send(channel, _summary_reply(made, settings.language))
                run.channel = True
            except SendError as exc:
                logger.error("could not post the weekly summary to the channel: %s", exc)
                run.failed.append(f"channel {channel.platform}:{channel.chat_id}")
    return _logged(run)


def _logged(run: WeeklyRun) -> WeeklyRun:
    logger.info(
        "weekly summaries for %s: %d managers, %d trainers, channel %s, %d already sent",
        run.week,
        run.managers,
        run.admins,
        "yes" if run.channel else "no",
        run.already_sent,
    )
    return run


def _count(run: WeeklyRun, sent: bool | None, attribute: str, person: Person) -> None:
    if sent is None:
        run.already_sent += 1
    elif sent:
        setattr(run, attribute, getattr(run, attribute) + 1)
    else:
        run.failed.append(f"{person.platform}:{person.platform_user_id}")


async def _send_claimed(
    dispatcher: Dispatcher,
    person: Person,
    slot: str,
    week: str,
    make_reply: Callable[[], Reply | None],
    now: datetime,
) -> bool | None:
    """Claim, build, send and close one report DM.

    The claim comes first, so a repeated run costs one insert per person, not a report.

    Returns:
        ``True`` when sent, ``False`` when it failed or had nothing to say, ``None`` when
        it had been claimed before.
    """
    if person.platform not in dispatcher.outbound:
        logger.warning("no front door for %s: weekly summary not sent", person.platform)
        return False
    with dispatcher.db.session() as session:
        stored = session.get(Person, person.id)
        assert stored is not None
        delivery = claim(
            session,
            stored,
            kind=DeliveryKind.REPORT,
            day=local_date(stored, now, fallback_timezone=dispatcher.settings.timezone),
            slot=slot,
            item_id=week,
            now=now,
        )
        if delivery is None:
            return None
        delivery_id = delivery.id
    status, error, ref = DeliveryStatus.SENT, None, None
    try:
        reply = await asyncio.to_thread(make_reply)
        if reply is None:
            status, error = DeliveryStatus.SKIPPED, "nothing to report"
        else:
            conversation = dispatcher.conversation_for(person)
            ref = await dispatcher.send_one(person.id, conversation, reply)
    except RecipientUnreachable as exc:
        status, error = DeliveryStatus.FAILED, f"unreachable: {exc}"
        logger.warning("weekly summary to person %d: %s", person.id, error)
    except SendError as exc:
        status, error = DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"
        logger.warning("weekly summary to person %d failed: %s", person.id, error)
    except Exception as exc:  # a report that cannot be built is recorded, not left claimed
        status, error = DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"
        logger.exception("weekly summary for person %d could not be built", person.id)
    with dispatcher.db.session() as session:
        row = session.get(Delivery, delivery_id)
        if row is not None:
            row.status = status
            row.error = error
            row.message_ref = ref
            row.send_attempts = 1
            row.sent_at = now if status is DeliveryStatus.SENT else None
    return status is DeliveryStatus.SENT


REPORT_RECORDS = "report"
"""``processed_events`` platform under which channel posts are recorded (never pruned)."""


def _first_post(dispatcher: Dispatcher, channel: Conversation, week: str, now: datetime) -> bool:
    """Record the channel post of ``week``; ``False`` when it was recorded before."""
    event_id = f"weekly-report:{week}:{channel.chat_id}"[:128]
    # Before this version the post was recorded under the channel's platform.
    if events_log.seen(dispatcher.db, channel.platform, event_id):
        return False
    return events_log.first_time(dispatcher.db, REPORT_RECORDS, event_id, now)


def scheduled_moment(week_start: datetime, schedule: str, timezone: str) -> datetime:
    """When the run of ``schedule`` (``mon 09:00``) falls in the week starting ``week_start``.

    Args:
        week_start: Monday 00:00 of a week (aware).
        schedule: ``TRAINBOT_REPORT_SCHEDULE``.
        timezone: the organisation's time zone.
    """
    from zoneinfo import ZoneInfo

    day_name, clock = schedule.split()
    local = week_start.astimezone(ZoneInfo(timezone)).date()
    day = local + timedelta(days=WEEKDAYS.index(day_name.lower()[:3]))
    return datetime.combine(day, parse_hhmm(clock), tzinfo=ZoneInfo(timezone))


def run_is_due(now: datetime, schedule: str, timezone: str) -> bool:
    """Whether this week's scheduled run time has passed (so last week's summary is due)."""
    start, _ = iso_week_window(week_of(now, timezone), timezone)
    return now >= scheduled_moment(start, schedule, timezone)
