"""The Monday summaries: each manager's team report by DM, the organisation-wide one to
the review channel, and the content-gap list to the trainers (admins).

Exactly once, whatever happens to the process (see docs/reports.md#scheduling):

- Each DM is claimed before it is built and sent, once per person and ISO week
  (:func:`bot.reports.claims.claim_report`): a run repeated after a restart on any day of
  the week, or by a second bot process, never sends the same summary again.
- The channel post is claimed as a ``channel_posts`` row and recorded as sent only after
  the platform accepted it; a failed try is tried again by a later run.
- Every claim carries this run's lease, renewed while the run lasts. A claim whose lease
  ran out (a failed try, or a process killed between claim and send) is taken over by the
  next run of the job or by :func:`retry_unsent_reports`, up to
  :data:`~bot.reports.claims.MAX_ATTEMPTS` tries.

That makes it safe for the scheduler to run the job again at every start once this week's
time has passed (:func:`run_is_due`), and to call :func:`retry_unsent_reports` every few
minutes: a run missed while the bot was down is sent once, and a run already made is not
repeated. All database work and report building runs off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot import metrics
from bot.admission import admitted_people
from bot.evaluation.improve import for_week, sentiment_model
from bot.events import Attachment, Conversation, ConversationKind, Reply
from bot.leases import LeaseKeeper, new_owner
from bot.ports import RecipientUnreachable, SendError, SendOutcomeUnknown
from bot.reports import claims
from bot.reports.access import ReportScope, manager_scope
from bot.reports.chart import team_chart
from bot.reports.claims import GAPS_SLOT, PRACTICE_SLOT, WEEKLY_SLOT, Claim, ClaimState
from bot.reports.metrics import WeeklySummary, build_summary
from bot.reports.render import chat_text, gap_digest
from bot.settings import WEEKDAYS, Settings, parse_hhmm
from bot.store.models import (
    ChannelPost,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Person,
    PersonStatus,
    PracticeFiring,
    Role,
    TeamManager,
)
from bot.weeks import iso_week_window, last_complete_week, week_of

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher

logger = logging.getLogger(__name__)

__all__ = [
    "GAPS_SLOT",
    "WEEKLY_SLOT",
    "WeeklyRun",
    "notify_practice_firings",
    "parse_channel",
    "retry_unsent_reports",
    "run_is_due",
    "scheduled_moment",
    "send_weekly_reports",
]


@dataclass
class WeeklyRun:
    """What one run of the weekly job (or of :func:`retry_unsent_reports`) did."""

    week: str
    managers: int = 0
    admins: int = 0
    channel: bool = False
    already_sent: int = 0
    recovered: int = 0
    """Claims taken over from an earlier try or a process that stopped (then sent or not)."""
    in_progress: int = 0
    """Summaries another run holds right now (it sends them)."""
    failed: list[str] = field(default_factory=list)
    """Recipients not reached by this run: given up, unreachable, or tried again later."""
    retry_later: list[str] = field(default_factory=list)
    """Those of ``failed`` whose claim was released for a later try."""
    unreached_admins: list[str] = field(default_factory=list)
    """``TRAINBOT_ADMINS`` entries the bot has never heard from: it has no chat to DM them."""


class _Outcome(StrEnum):
    SENT = "sent"
    NOTHING = "nothing"  # closed without a message (nothing to report, no longer allowed)
    FAILED = "failed"  # closed: unreachable, or the last try failed
    RETRY = "retry"  # released for a later try


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


class _Summaries:
    """Builds the week's replies (in a worker thread), each organisation-wide one once."""

    def __init__(self, dispatcher: Dispatcher, week: str, now: datetime) -> None:
        self.dispatcher = dispatcher
        self.week = week
        self.now = now
        self._digests: dict[str, Reply | None] = {}

    def _summary(self, scope: ReportScope | None, language: str) -> WeeklySummary:
        settings = self.dispatcher.settings
        return build_summary(
            self.dispatcher.db,
            self.dispatcher.library.course,
            week=self.week,
            timezone=settings.timezone,
            team_ids=scope.team_ids if scope is not None else None,
            person_ids=scope.person_ids if scope is not None else (),
            admitted=admitted_people(settings),
            include_people=scope is not None,
            language=language,
            now=self.now,
            working_days=settings.working_days,
            kpi_weeks=settings.kpi_weeks,
            trained_coverage=settings.kpi_trained_coverage,
        )

    def team(self, scope: ReportScope, language: str) -> Reply:
        """A manager's summary of ``scope`` (teams and direct reports), with the chart."""
        return _summary_reply(self._summary(scope, language), language)

    def digest(self, language: str) -> Reply | None:
        """The trainers' digest (the top lessons to improve, with their evidence, and the
        content gaps), or ``None`` when the week has neither."""
        if language not in self._digests:
            settings = self.dispatcher.settings
            summary = self._summary(None, language)
            summary.improve = for_week(
                self.dispatcher.db,
                self.dispatcher.library.course,
                week=self.week,
                weeks=settings.improve_weeks,
                timezone=settings.timezone,
                language=language,
                admitted=admitted_people(settings),
                embeddings=sentiment_model(settings.embeddings),
            )
            text = gap_digest(summary, language)
            extra = self._upkeep(summary, language)
            if extra:
                text = "\n".join([text, "", *extra]) if text else "\n".join(extra)
            self._digests[language] = Reply(text) if text is not None else None
        return self._digests[language]

    def _upkeep(self, summary: WeeklySummary, language: str) -> list[str]:
        """Content due for review and the practice rules fired, for the trainers."""
        from zoneinfo import ZoneInfo

        from bot.reports.upkeep import upkeep, upkeep_lines
        from bot.weeks import iso_week_window

        settings = self.dispatcher.settings
        library = self.dispatcher.library
        start, end = iso_week_window(self.week, settings.timezone)
        with self.dispatcher.db.session() as session:
            found = upkeep(
                session,
                library.course,
                library.root,
                today=self.now.astimezone(ZoneInfo(settings.timezone)).date(),
                review_months=settings.review_months,
                week_start=start,
                week_end=end,
            )
        return upkeep_lines(found, language)

    def organisation(self) -> Reply:
        """The organisation-wide summary for the review channel: counts, never names
        (everyone in the channel reads it; each manager gets their own people's names)."""
        language = self.dispatcher.settings.language
        return _summary_reply(self._summary(None, language), language, names=False)


def _summary_reply(summary: WeeklySummary, language: str, *, names: bool = True) -> Reply:
    png = team_chart(summary, language)
    return Reply(
        chat_text(summary, language, names=names),
        attachment=Attachment(f"report-{summary.week}.png", png, "image/png"),
    )


@contextlib.asynccontextmanager
async def _leases_kept(dispatcher: Dispatcher, owner: str) -> AsyncIterator[None]:
    """Keep this run's claims (deliveries and channel posts) its own while it runs."""
    now = dispatcher.clock.now
    async with (
        LeaseKeeper(dispatcher.db, Delivery, owner=owner, now=now),
        LeaseKeeper(dispatcher.db, ChannelPost, owner=owner, now=now),
    ):
        yield


@dataclass
class _Recipients:
    managers: list[Person]
    scopes: dict[int, ReportScope]
    admins: list[Person]


def _recipients(session: Session, settings: Settings) -> _Recipients:
    """Managers as the roster says now (role manager, with teams or direct reports) and
    admins as ``TRAINBOT_ADMINS`` says now; nobody from a stored flag."""
    reports = select(Person.manager_id).where(
        Person.manager_id.is_not(None), Person.status != PersonStatus.REMOVED
    )
    managers = session.scalars(
        select(Person)
        .where(
            Person.role == Role.MANAGER,
            or_(Person.id.in_(select(TeamManager.person_id)), Person.id.in_(reports)),
        )
        .where(Person.status == PersonStatus.ACTIVE, admitted_people(settings))
        .order_by(Person.id)
    ).all()
    scopes = {manager.id: manager_scope(session, manager) for manager in managers}
    admins = _admins(session, settings)
    session.expunge_all()
    return _Recipients(list(managers), scopes, admins)


def _admins(session: Session, settings: Settings) -> list[Person]:
    """The trainers as ``TRAINBOT_ADMINS`` says now who have written to the bot (active)."""
    listed = [
        (Person.platform == platform) & (Person.platform_user_id == user_id)
        for platform, _, user_id in (item.partition(":") for item in settings.admins)
    ]
    if not listed:
        return []
    return list(
        session.scalars(
            select(Person)
            .where(Person.status == PersonStatus.ACTIVE)
            .where(or_(*listed))
            .order_by(Person.id)
        ).all()
    )


async def send_weekly_reports(
    dispatcher: Dispatcher, *, now: datetime | None = None, owner: str | None = None
) -> WeeklyRun:
    """Send last week's summaries through the dispatcher's outbound ports.

    Each summary is claimed first; one already sent this week is not sent again, one
    whose earlier try failed or stopped half-way is taken over and sent. One recipient's
    failure is recorded and the run goes on with the others.

    Args:
        dispatcher: gives the store, course, settings, clock and outbound ports.
        now: the moment of the run (default: the dispatcher's clock).
        owner: the lease owner of this run's claims (default: a new one).
    """
    settings = dispatcher.settings
    now = now or dispatcher.clock.now()
    owner = owner or new_owner()
    week = last_complete_week(now, settings.timezone)
    run = WeeklyRun(week=week)
    summaries = _Summaries(dispatcher, week, now)
    recipients = await dispatcher.db.run(lambda s: _recipients(s, settings))
    known = {f"{admin.platform}:{admin.platform_user_id}" for admin in recipients.admins}
    run.unreached_admins = [item for item in settings.admins if item not in known]
    if run.unreached_admins:
        logger.warning(
            "no content-gap digest for %s: listed in TRAINBOT_ADMINS but never wrote to the "
            "bot, so there is no chat to send it to (they get it from the first Monday after "
            "they have written to it)",
            ", ".join(run.unreached_admins),
        )
    async with _leases_kept(dispatcher, owner):
        for manager in recipients.managers:
            scope, language = recipients.scopes[manager.id], manager.language
            sent = await _claim_and_send(
                dispatcher,
                run,
                manager,
                WEEKLY_SLOT + week,
                functools.partial(summaries.team, scope, language),
                owner=owner,
            )
            run.managers += sent
        for admin in recipients.admins:
            language = admin.language
            sent = await _claim_and_send(
                dispatcher,
                run,
                admin,
                GAPS_SLOT + week,
                functools.partial(summaries.digest, language),
                owner=owner,
            )
            run.admins += sent
        await _post_to_channel(dispatcher, run, summaries, owner=owner)
    return _logged(run)


def _label(person: Person) -> str:
    return f"{person.platform}:{person.platform_user_id}"


async def _claim_and_send(
    dispatcher: Dispatcher,
    run: WeeklyRun,
    person: Person,
    slot: str,
    make_reply: Callable[[], Reply | None],
    *,
    owner: str,
    local_date: date | None = None,
    item_id: str | None = None,
) -> int:
    """Claim, build, send and record one summary DM; ``1`` when it was sent now."""
    if person.platform not in dispatcher.outbound:
        logger.warning("no front door for %s: weekly summary not sent", person.platform)
        run.failed.append(_label(person))
        return 0
    try:
        claim = await dispatcher.db.run(
            lambda s: claims.claim_report(
                s,
                person,
                slot,
                owner=owner,
                now=dispatcher.clock.now(),
                local_date=local_date,
                item_id=item_id,
            ),
        )
        if not _counted_claim(run, claim):
            return 0
        assert claim.row_id is not None
        outcome = await _send_report(dispatcher, claim, person, make_reply, slot)
    except Exception:  # one recipient's trouble never stops the others' summaries
        logger.exception("weekly summary %s for person %d failed", slot, person.id)
        run.failed.append(_label(person))
        return 0
    return _counted_outcome(run, outcome, person)


def _counted_claim(run: WeeklyRun, claim: Claim) -> bool:
    """Count what a claim found; ``True`` when this run now holds the summary."""
    if claim.state is ClaimState.DONE:
        run.already_sent += 1
    elif claim.state is ClaimState.BUSY:
        run.in_progress += 1
    elif claim.state is ClaimState.RECOVERED:
        run.recovered += 1
    return claim.held


_METRIC_OUTCOMES = {
    _Outcome.SENT: metrics.SENT,
    _Outcome.NOTHING: metrics.SKIPPED,
    _Outcome.FAILED: metrics.FAILED,
    _Outcome.RETRY: metrics.RETRYING,
}


def _counted_outcome(run: WeeklyRun, outcome: _Outcome, person: Person) -> int:
    metrics.delivery(DeliveryKind.REPORT.value, _METRIC_OUTCOMES[outcome])
    if outcome is _Outcome.SENT:
        return 1
    if outcome in (_Outcome.FAILED, _Outcome.RETRY):
        run.failed.append(_label(person))
    if outcome is _Outcome.RETRY:
        run.retry_later.append(_label(person))
    return 0


async def _send_report(
    dispatcher: Dispatcher,
    claim: Claim,
    person: Person,
    make_reply: Callable[[], Reply | None],
    slot: str = WEEKLY_SLOT,
) -> _Outcome:
    """Build and send one claimed summary DM and record the outcome on its row."""
    db, row_id = dispatcher.db, claim.row_id
    what = "practice rule notice" if slot.startswith(PRACTICE_SLOT) else "weekly summary"
    assert row_id is not None
    if claim.send_started:
        logger.warning(
            "%s to person %d: the process sending it stopped mid-send; it may "
            "have arrived already and is sent again",
            what,
            person.id,
        )
    try:
        reply = await asyncio.to_thread(make_reply)
        if reply is None:
            await db.run(
                lambda s: claims.close_report(
                    s, row_id, DeliveryStatus.SKIPPED, error="nothing to report"
                ),
            )
            return _Outcome.NOTHING
        await db.run(lambda s: claims.report_send_started(s, row_id, dispatcher.clock.now()))
        ref = await dispatcher.send_one(person.id, dispatcher.conversation_for(person), reply)
    except SendOutcomeUnknown as exc:
        # The platform may have it: sending it again could repeat the summary.
        unconfirmed = f"not confirmed by the platform: {exc}"[:1000]
        logger.warning("%s to person %d: %s", what, person.id, unconfirmed)
        await db.run(
            lambda s: claims.close_report(
                s,
                row_id,
                DeliveryStatus.SENT,
                error=unconfirmed,
                now=dispatcher.clock.now(),
            ),
        )
        return _Outcome.SENT
    except RecipientUnreachable as exc:  # send_one marked the person unreachable
        error = f"unreachable: {exc}"
        logger.warning("%s to person %d: %s", what, person.id, error)
        await db.run(lambda s: claims.close_report(s, row_id, DeliveryStatus.FAILED, error=error))
        return _Outcome.FAILED
    except Exception as exc:  # a send error, or a summary that could not be built
        error = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, SendError):
            logger.exception("%s for person %d could not be built", what, person.id)
        tries, last = await db.run(
            lambda s: claims.report_try_failed(s, row_id, error, dispatcher.clock.now())
        )
        if last:
            logger.error(
                "%s to person %d: gave up after %d tries: %s", what, person.id, tries, error
            )
            return _Outcome.FAILED
        logger.warning(
            "%s to person %d failed (try %d of %d, tried again later): %s",
            what,
            person.id,
            tries,
            claims.MAX_ATTEMPTS,
            error,
        )
        return _Outcome.RETRY
    await db.run(
        lambda s: claims.close_report(
            s, row_id, DeliveryStatus.SENT, message_ref=ref, now=dispatcher.clock.now()
        ),
    )
    return _Outcome.SENT


NOTICE_DAYS = 7
"""A practice rule's notice is sent by the daily practice job of the day it fired or of the
next days: a process that stopped after firing it leaves the notice to the next run."""


async def notify_practice_firings(
    dispatcher: Dispatcher, *, now: datetime | None = None, owner: str | None = None
) -> WeeklyRun:
    """Tell each trainer (``TRAINBOT_ADMINS``) about each practice rule fired lately, once.

    A notice is a claimed ``report`` delivery per trainer and firing (slot
    ``practice:<firing id>``), so any number of processes send it once; a failed try is
    tried again by :func:`retry_unsent_reports` while the firing's cycle lasts.
    """
    settings = dispatcher.settings
    now = now or dispatcher.clock.now()
    owner = owner or new_owner()
    run = WeeklyRun(week=week_of(now, settings.timezone))

    def recent(session: Session) -> list[tuple[int, str, datetime]]:
        rows = session.execute(
            select(PracticeFiring.id, PracticeFiring.lesson_id, PracticeFiring.fired_at)
            .where(
                PracticeFiring.fired_at >= now - timedelta(days=NOTICE_DAYS),
                PracticeFiring.fired_at <= now,
                PracticeFiring.until > now,
            )
            .order_by(PracticeFiring.id)
        ).all()
        return [(int(row_id), lesson, fired) for row_id, lesson, fired in rows]

    firings = await dispatcher.db.run(recent)
    if not firings:
        return run

    def trainers(session: Session) -> list[Person]:
        found = _admins(session, settings)
        session.expunge_all()
        return found

    admins = await dispatcher.db.run(trainers)
    zone = ZoneInfo(settings.timezone)
    async with _leases_kept(dispatcher, owner):
        for firing_id, lesson_id, fired_at in firings:
            for admin in admins:
                run.admins += await _claim_and_send(
                    dispatcher,
                    run,
                    admin,
                    f"{PRACTICE_SLOT}{firing_id}",
                    functools.partial(_practice_reply, dispatcher, firing_id, admin.language),
                    owner=owner,
                    local_date=fired_at.astimezone(zone).date(),
                    item_id=lesson_id,
                )
    if run.admins or run.failed:
        logger.info(
            "practice rule notices: %d sent, %d failed%s",
            run.admins,
            len(run.failed),
            f" ({', '.join(run.failed)})" if run.failed else "",
        )
    return run


def _practice_reply(dispatcher: Dispatcher, firing_id: int, language: str) -> Reply | None:
    """The notice of one firing (built in a worker thread); ``None`` when it is gone."""
    from bot.reports.upkeep import practice_notice

    with dispatcher.db.session() as session:
        firing = session.get(PracticeFiring, firing_id)
        if firing is None:
            return None
        text = practice_notice(
            firing, dispatcher.library.course, language, dispatcher.settings.timezone
        )
    return Reply(text)


def _report_channel(dispatcher: Dispatcher) -> Conversation | None:
    """The configured review channel when its front door runs here, else ``None``."""
    try:
        channel = parse_channel(dispatcher.settings.report_channel)
    except ValueError as exc:
        logger.error("%s; the organisation-wide summary was not posted", exc)
        return None
    if channel is not None and channel.platform not in dispatcher.outbound:
        logger.error("report channel is on %s, which is not running", channel.platform)
        return None
    return channel


async def _post_to_channel(
    dispatcher: Dispatcher, run: WeeklyRun, summaries: _Summaries, *, owner: str
) -> None:
    """Claim and make the week's post to the review channel (if one is configured)."""
    channel = _report_channel(dispatcher)
    if channel is None:
        return
    label = f"channel {channel.platform}:{channel.chat_id}"
    try:
        if await asyncio.to_thread(
            claims.legacy_post_recorded,
            dispatcher.db,
            channel.platform,
            channel.chat_id,
            summaries.week,
        ):
            run.already_sent += 1
            return
        claim = await dispatcher.db.run(
            lambda s: claims.claim_channel_post(
                s,
                channel.platform,
                channel.chat_id,
                summaries.week,
                owner=owner,
                now=dispatcher.clock.now(),
            ),
        )
        if _counted_claim(run, claim):
            await _send_post(dispatcher, run, claim, channel, summaries)
    except Exception:  # recorded; the claim's lease runs out and a later run tries again
        logger.exception("weekly summary post to %s failed", label)
        run.failed.append(label)


async def _send_post(
    dispatcher: Dispatcher,
    run: WeeklyRun,
    claim: Claim,
    channel: Conversation,
    summaries: _Summaries,
) -> None:
    """Build and post one claimed channel summary; recorded as sent only once accepted."""
    db, row_id = dispatcher.db, claim.row_id
    assert row_id is not None
    label = f"channel {channel.platform}:{channel.chat_id}"
    try:
        reply = await asyncio.to_thread(summaries.organisation)
        ref = await dispatcher.outbound[channel.platform].send(channel, reply)
    except SendOutcomeUnknown as exc:
        # The platform may have posted it: posting again could repeat it in the channel.
        unconfirmed = f"not confirmed by the platform: {exc}"[:1000]
        logger.warning("weekly summary post to %s: %s", label, unconfirmed)
        await db.run(
            lambda s: claims.channel_post_sent(
                s, row_id, None, dispatcher.clock.now(), error=unconfirmed
            ),
        )
        run.channel = True
        return
    except Exception as exc:  # one try per run: the next run or retry tries again
        error = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, SendError):
            logger.exception("the weekly summary for %s could not be built", label)
        tries, last = await db.run(
            lambda s: claims.channel_post_try_failed(s, row_id, error, dispatcher.clock.now())
        )
        run.failed.append(label)
        if last:
            logger.error(
                "could not post the weekly summary %s to %s: gave up after %d tries: %s",
                summaries.week,
                label,
                tries,
                error,
            )
        else:
            run.retry_later.append(label)
            logger.warning(
                "could not post the weekly summary %s to %s (try %d of %d, tried again later): %s",
                summaries.week,
                label,
                tries,
                claims.MAX_ATTEMPTS,
                error,
            )
        return
    await db.run(lambda s: claims.channel_post_sent(s, row_id, ref, dispatcher.clock.now()))
    run.channel = True


async def retry_unsent_reports(
    dispatcher: Dispatcher, *, now: datetime | None = None, owner: str | None = None
) -> WeeklyRun:
    """Send the claimed summaries and channel posts whose lease ran out.

    Those are tries that failed (a platform error: released for a later try) and claims
    whose process was killed between claim and send. Only the last complete week's are
    sent; older ones are closed as failed. Cheap when there is nothing to do (two
    indexed queries), so the scheduler may call it every few minutes.

    Args:
        dispatcher: gives the store, course, settings, clock and outbound ports.
        now: the moment of the run (default: the dispatcher's clock).
        owner: the lease owner of the claims taken over (default: a new one).
    """
    settings = dispatcher.settings
    now = now or dispatcher.clock.now()
    owner = owner or new_owner()
    week = last_complete_week(now, settings.timezone)
    run = WeeklyRun(week=week)
    reports = await dispatcher.db.run(lambda s: claims.pending_reports(s, now))
    posts = await dispatcher.db.run(lambda s: claims.pending_channel_posts(s, now))
    if not reports and not posts:
        return run
    summaries = _Summaries(dispatcher, week, now)
    async with _leases_kept(dispatcher, owner):
        for row_id, person_id, slot in reports:
            try:
                await _retry_report(dispatcher, run, summaries, row_id, slot, owner=owner)
            except Exception:  # one recipient's trouble never stops the others' summaries
                logger.exception("retrying weekly summary %s for person %d failed", slot, person_id)
                run.failed.append(f"person {person_id}")
        for post in posts:
            try:
                await _retry_post(dispatcher, run, summaries, post, owner=owner)
            except Exception:
                logger.exception("retrying the weekly summary post %d failed", post.id)
                run.failed.append(f"channel {post.platform}:{post.channel_id}")
    return _logged(run)


@dataclass
class _Retry:
    claim: Claim
    person: Person | None = None
    scope: ReportScope | None = None


def _take_for_retry(
    session: Session,
    settings: Settings,
    row_id: int,
    slot: str,
    week: str,
    *,
    platforms: frozenset[str],
    owner: str,
    now: datetime,
) -> _Retry:
    """Take over a pending summary and check it is still to be sent, to whom and what.

    A summary to a person whose front door does not run in this process is left to a
    process where it does.
    """
    row = session.get(Delivery, row_id)
    person = session.get(Person, row.person_id) if row is not None else None
    if person is not None and person.platform not in platforms:
        return _Retry(Claim(ClaimState.BUSY))
    claim = claims.take_pending_report(session, row_id, owner=owner, now=now)
    if not claim.held:
        return _Retry(claim)
    reason = _stale(session, slot, week, now)
    scope: ReportScope | None = None
    if reason is None:
        if person is None or person.status is not PersonStatus.ACTIVE:
            reason = f"person is {person.status.value if person else 'gone'}"
        elif slot.startswith(WEEKLY_SLOT):
            scope = manager_scope(session, person)
            if not scope:
                reason = "no longer manages a team or anyone"
        elif not settings.is_admin(person.platform, person.platform_user_id):
            reason = "no longer an admin"
    if reason is not None:
        logger.warning("weekly summary %s (delivery %d) not sent: %s", slot, row_id, reason)
        claims.close_report(session, row_id, DeliveryStatus.FAILED, error=reason, tried=False)
        return _Retry(Claim(ClaimState.DONE))
    assert person is not None
    session.expunge(person)
    return _Retry(claim, person, scope)


def _stale(session: Session, slot: str, week: str, now: datetime) -> str | None:
    """Why a pending summary or notice is no longer worth sending, if it is not."""
    if slot.startswith(PRACTICE_SLOT):
        firing = session.get(PracticeFiring, int(claims.slot_key(slot)))
        if firing is None or firing.until <= now:
            return "the practice rule's cycle is over"
        return None
    if claims.slot_key(slot) != week:
        return f"not sent before the summary of {week} was due"
    return None


async def _retry_report(
    dispatcher: Dispatcher,
    run: WeeklyRun,
    summaries: _Summaries,
    row_id: int,
    slot: str,
    *,
    owner: str,
) -> None:
    taken = await dispatcher.db.run(
        lambda s: _take_for_retry(
            s,
            dispatcher.settings,
            row_id,
            slot,
            summaries.week,
            platforms=frozenset(dispatcher.outbound),
            owner=owner,
            now=dispatcher.clock.now(),
        ),
    )
    if not _counted_claim(run, taken.claim) or taken.person is None:
        return
    person = taken.person
    scope, language = taken.scope, person.language
    make_reply: Callable[[], Reply | None] = (
        functools.partial(summaries.team, scope, language)
        if scope is not None
        else functools.partial(_practice_reply, dispatcher, int(claims.slot_key(slot)), language)
        if slot.startswith(PRACTICE_SLOT)
        else functools.partial(summaries.digest, language)
    )
    outcome = await _send_report(dispatcher, taken.claim, person, make_reply, slot)
    if outcome is _Outcome.SENT:
        if scope is not None:
            run.managers += 1
        else:
            run.admins += 1
    _counted_outcome(run, outcome, person)


async def _retry_post(
    dispatcher: Dispatcher,
    run: WeeklyRun,
    summaries: _Summaries,
    post: ChannelPost,
    *,
    owner: str,
) -> None:
    channel = parse_channel(dispatcher.settings.report_channel)
    stale: str | None = None
    if post.week != summaries.week:
        stale = f"not posted before the summary of {summaries.week} was due"
    elif channel is None or (channel.platform, channel.chat_id) != (post.platform, post.channel_id):
        stale = "no longer the report channel"
    if stale is not None:

        def close(session: Session) -> bool:
            claim = claims.take_channel_post(session, post, owner=owner, now=dispatcher.clock.now())
            if claim.held:
                claims.close_channel_post(session, post.id, DeliveryStatus.FAILED, stale)
            return claim.held

        if await dispatcher.db.run(close):
            logger.warning("weekly summary post %d not made: %s", post.id, stale)
        return
    assert channel is not None
    if channel.platform not in dispatcher.outbound:
        return  # left to a process where that front door runs
    claim = await dispatcher.db.run(
        lambda s: claims.take_channel_post(s, post, owner=owner, now=dispatcher.clock.now()),
    )
    if _counted_claim(run, claim):
        await _send_post(dispatcher, run, claim, channel, summaries)


def _logged(run: WeeklyRun) -> WeeklyRun:
    logger.info(
        "weekly summaries for %s: %d managers, %d trainers, channel %s, %d already sent, "
        "%d taken over, %d held by another run, %d not sent (%d tried again later)",
        run.week,
        run.managers,
        run.admins,
        "yes" if run.channel else "no",
        run.already_sent,
        run.recovered,
        run.in_progress,
        len(run.failed),
        len(run.retry_later),
    )
    return run


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
