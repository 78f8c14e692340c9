"""Pushing lessons and quizzes at each person's local time, exactly once.

Every minute the scheduler calls :meth:`Dispatcher.tick`. For each enrolled, active person
it works out their local date and time, and whether a lesson or quiz is due: a working
day, the track's cadence, not a calendar blackout, the slot time reached and not inside
quiet hours. A due push is **claimed** first — a delivery row unique per person, kind,
local date and slot — then sent, then marked sent. Only the process that inserted the row
sends it, so two dispatchers never both push; a row left claimed by a crash is re-claimed
after ``claim_timeout`` (by one process: the re-claim is a conditional update) and sent
then; a sent row is never sent again.

The one window no chat platform lets us close: a crash after the platform accepted a
message and before the row is marked sent re-sends that one message after restart.
Marking right after each send keeps that window to one message.

Policies (documented in docs/learning.md):

- **Blackout windows skip** the push rather than postpone it: after a sales peak people
  would otherwise get a backlog of days at once. Spaced repetition absorbs the gap.
- **Quiet hours postpone**: a slot inside quiet hours moves to the end of the quiet window.
- Non-working days are skipped like blackouts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.clock import Clock
from bot.events import Conversation, ConversationKind, Reply
from bot.handlers.learning import render_delivery
from bot.i18n import t
from bot.learning import DAILY, claim_many, learner_states
from bot.library import CourseLibrary
from bot.ports import Outbound, RateLimited, RecipientUnreachable, SendError, TransientSendError
from bot.ratelimit import RateLimiter, limiter_for
from bot.settings import QuietHours, Settings, parse_hhmm
from bot.store.db import Database
from bot.store.models import Delivery, DeliveryKind, DeliveryStatus, Person, PersonStatus
from quizzes.content import Course, Track
from quizzes.selection import LearnerState, next_lesson, next_quiz

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_RETRY_AFTER = 120.0  # never sleep longer than this inside one tick


@dataclass
class TickReport:
    """What one dispatch tick did."""

    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    reminded: int = 0
    unreachable: int = 0
    errors: list[str] = field(default_factory=list)


def effective_time(slot: time, quiet: QuietHours | None) -> time:
    """The slot, moved to the end of quiet hours when it falls inside them."""
    if quiet is not None and quiet.contains(slot):
        return quiet.end
    return slot


def slot_name(index: int) -> str:
    """``daily`` for the first quiz of a day, ``daily-2`` ... for more."""
    return DAILY if index == 0 else f"{DAILY}-{index + 1}"


@dataclass(frozen=True)
class Due:
    """A push due now for a person."""

    person_id: int
    kind: DeliveryKind
    day: date
    slot: str


def due_pushes(
    person: Person, track: Track, course: Course, settings: Settings, now: datetime
) -> list[Due]:
    """Which pushes are due for ``person`` at ``now`` (before looking at the store)."""
    zone = ZoneInfo(person.timezone)
    local = now.astimezone(zone)
    day = local.date()
    weekday = local.strftime("%a").lower()[:3]
    if weekday not in settings.working_days:
        return []
    if course.calendar.blackout_on(day, track.id) is not None:
        return []
    quiet = settings.quiet
    if quiet is not None and quiet.contains(local.time()):
        return []
    due: list[Due] = []
    lesson_at = effective_time(parse_hhmm(settings.lesson_time), quiet)
    if weekday in track.cadence.lesson_days and local.time() >= lesson_at:
        due.append(Due(person.id, DeliveryKind.LESSON, day, DAILY))
    quiz_at = effective_time(parse_hhmm(person.quiz_time or settings.quiz_time), quiet)
    if weekday in track.cadence.quiz_days and local.time() >= quiz_at:
        for index in range(track.cadence.quizzes_per_day):
            due.append(Due(person.id, DeliveryKind.QUIZ, day, slot_name(index)))
    return due


class Dispatcher:
    """Claims, sends and marks pushes; recovers stale claims; sends reminders.

    Args:
        db: the store.
        library: the course being served.
        settings: configuration (times, quiet hours, working days, reminders).
        clock: the time source.
        outbound: one sender per platform.
        claim_timeout: after this, a claimed-but-unsent row is taken over and retried.
        max_send_attempts: after this many failed sends a delivery is marked failed.
        limiters: per-platform rate limiters (defaults follow each platform's limits).
        concurrency: sends in flight at once.
    """

    def __init__(
        self,
        *,
        db: Database,
        library: CourseLibrary,
        settings: Settings,
        clock: Clock,
        outbound: Mapping[str, Outbound],
        claim_timeout: timedelta = timedelta(minutes=5),
        max_send_attempts: int = 5,
        limiters: Mapping[str, RateLimiter] | None = None,
        concurrency: int = 16,
    ) -> None:
        self.db = db
        self.library = library
        self.settings = settings
        self.clock = clock
        self.outbound = dict(outbound)
        self.claim_timeout = claim_timeout
        self.max_send_attempts = max_send_attempts
        self.limiters = dict(limiters or {}) or {name: limiter_for(name) for name in self.outbound}
        self._semaphore = asyncio.Semaphore(concurrency)

    def _now(self) -> datetime:
        return self.clock.now()

    async def tick(self) -> TickReport:
        """One pass: recover stale claims, claim what is due, send, remind."""
        report = TickReport()
        if not self.library.loaded:
            report.errors.append("no valid course loaded")
            return report
        now = self._now()
        recovered = self._reclaim_stale(now)
        report.retried = len(recovered)
        claimed = self._claim_due(now, report)
        await self._send_all([*recovered, *claimed], report)
        await self._remind(now, report)
        if report.claimed or report.sent or report.failed:
            logger.info(
                "dispatch: %d claimed, %d sent, %d skipped, %d failed, %d retried, %d reminded",
                report.claimed,
                report.sent,
                report.skipped,
                report.failed,
                report.retried,
                report.reminded,
            )
        return report

    # -- claiming ----------------------------------------------------------------------

    def _eligible(self) -> list[Person]:
        with self.db.session() as session:
            people = session.scalars(
                select(Person).where(
                    Person.status == PersonStatus.ACTIVE,
                    Person.enrolled_at.is_not(None),
                    Person.enrollment_step.is_(None),
                    Person.track_id.is_not(None),
                    Person.platform.in_(list(self.outbound)),
                )
            ).all()
            for person in people:
                session.expunge(person)
        return list(people)

    def _claim_due(self, now: datetime, report: TickReport) -> list[int]:
        course = self.library.course
        wanted: dict[int, tuple[Person, list[Due]]] = {}
        for person in self._eligible():
            track = course.tracks.get(person.track_id or "")
            if track is None:
                continue
            pushes = due_pushes(person, track, course, self.settings, now)
            if pushes:
                wanted[person.id] = (person, pushes)
        if not wanted:
            return []
        days = {due.day for _, dues in wanted.values() for due in dues}
        existing: set[tuple[int, DeliveryKind, date, str]] = set()
        with self.db.session() as session:
            for person_ids in _chunks(list(wanted), 500):
                existing.update(
                    session.execute(
                        select(
                            Delivery.person_id, Delivery.kind, Delivery.local_date, Delivery.slot
                        ).where(Delivery.local_date.in_(days), Delivery.person_id.in_(person_ids))
                    ).all()
                )
        open_people = [
            (
                person,
                [
                    due
                    for due in dues
                    if (due.person_id, due.kind, due.day, due.slot) not in existing
                ],
            )
            for person, dues in wanted.values()
        ]
        open_people = [(person, dues) for person, dues in open_people if dues]
        claimed: list[int] = []
        for batch in _chunks(open_people, 500):
            with self.db.session() as session:
                states = learner_states(session, [person for person, _ in batch], now)
                rows = []
                for person, dues in batch:
                    state = states[person.id]
                    for due in dues:
                        item, state = _pick(course, state, due.kind, now)
                        rows.append(
                            {
                                "person_id": person.id,
                                "kind": due.kind,
                                "slot": due.slot,
                                "local_date": due.day,
                                "item_id": item,
                                "language": person.language,
                                "track_id": person.track_id,
                                "team_id": person.team_id,
                                "status": DeliveryStatus.CLAIMED
                                if item
                                else DeliveryStatus.SKIPPED,
                                "error": None if item else "nothing to deliver",
                                "send_attempts": 0,
                                "claimed_at": now,
                            }
                        )
                inserted = set(claim_many(session, rows))
                report.claimed += len(inserted)
                if inserted:
                    sendable = session.scalars(
                        select(Delivery.id).where(
                            Delivery.id.in_(inserted), Delivery.status == DeliveryStatus.CLAIMED
                        )
                    ).all()
                    report.skipped += len(inserted) - len(sendable)
                    claimed.extend(sendable)
        return claimed

    def _reclaim_stale(self, now: datetime) -> list[int]:
        """Take over rows claimed long ago and never sent (the claimer crashed)."""
        cutoff = now - self.claim_timeout
        taken: list[int] = []
        with self.db.session() as session:
            stale = session.execute(
                select(Delivery.id, Delivery.claimed_at).where(
                    Delivery.status == DeliveryStatus.CLAIMED, Delivery.claimed_at < cutoff
                )
            ).all()
        for delivery_id, claimed_at in stale:
            with self.db.session() as session:
                result = session.execute(
                    update(Delivery)
                    .where(
                        Delivery.id == delivery_id,
                        Delivery.status == DeliveryStatus.CLAIMED,
                        Delivery.claimed_at == claimed_at,
                    )
                    .values(claimed_at=now)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    taken.append(delivery_id)
        return taken

    # -- sending -----------------------------------------------------------------------

    async def _send_all(self, delivery_ids: list[int], report: TickReport) -> None:
        """Send people's pushes concurrently, each person's in order (lesson first)."""
        by_person: dict[int, list[tuple[Delivery, Person]]] = {}
        for ids in _chunks(sorted(delivery_ids), 500):
            with self.db.session() as session:
                rows = session.execute(
                    select(Delivery, Person)
                    .join(Person, Person.id == Delivery.person_id)
                    .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.CLAIMED)
                    .order_by(Delivery.id)
                ).all()
                session.expunge_all()
            for delivery, person in rows:
                by_person.setdefault(person.id, []).append((delivery, person))

        async def send_in_order(items: list[tuple[Delivery, Person]]) -> None:
            for delivery, person in items:
                if not await self._send_one(delivery, person, report):
                    break  # unreachable or failing: the rest wait for the next tick

        await asyncio.gather(*(send_in_order(items) for items in by_person.values()))

    def conversation_for(self, person: Person) -> Conversation:
        """Where pushes to a person go: their DM."""
        return Conversation(
            person.platform, person.chat_id or person.platform_user_id, ConversationKind.DIRECT
        )

    async def _send_one(self, delivery: Delivery, person: Person, report: TickReport) -> bool:
        """Send one claimed delivery; ``False`` when the person's next ones should wait."""
        if person.status is not PersonStatus.ACTIVE:
            self._finish(
                delivery.id, DeliveryStatus.FAILED, error=f"person is {person.status.value}"
            )
            report.failed += 1
            return False
        replies = render_delivery(self.library.course, delivery, person.language)
        if not replies:
            self._finish(delivery.id, DeliveryStatus.SKIPPED, error="item no longer in the course")
            report.skipped += 1
            return True
        conversation = self.conversation_for(person)
        sender = self.outbound[person.platform]
        limiter = self._limiter(person.platform)
        async with self._semaphore:
            refs: list[str | None] = []
            for reply in replies:
                ref = await self._deliver(
                    sender, limiter, conversation, reply, delivery.id, person.id, report
                )
                if ref is _FAILED:
                    return False
                refs.append(ref if isinstance(ref, str) else None)
        message_ref = next((ref for ref in reversed(refs) if ref), None)
        self._finish(delivery.id, DeliveryStatus.SENT, message_ref=message_ref)
        report.sent += 1
        return True

    async def _deliver(
        self,
        sender: Outbound,
        limiter: RateLimiter,
        conversation: Conversation,
        reply: Reply,
        delivery_id: int,
        person_id: int,
        report: TickReport,
    ) -> object:
        try:
            return await self._send_retrying(sender, limiter, conversation, reply)
        except RecipientUnreachable as exc:
            self._unreachable(person_id, delivery_id, str(exc))
            report.unreachable += 1
            report.failed += 1
            return _FAILED
        except SendError:
            attempts = self._count_attempt(delivery_id)
            if attempts >= self.max_send_attempts:
                self._finish(
                    delivery_id, DeliveryStatus.FAILED, error="gave up after repeated send errors"
                )
                report.failed += 1
            return _FAILED  # still claimed: the stale-claim recovery tries again later

    async def _send_retrying(
        self, sender: Outbound, limiter: RateLimiter, conversation: Conversation, reply: Reply
    ) -> str | None:
        """Send one message: a 429 is waited out, a timeout or 5xx tried again (3 tries).

        Raises:
            RecipientUnreachable: the person blocked the bot or left (at once, no retry).
            SendError: still failing after the last try.
        """
        last: Exception | None = None
        for attempt in range(3):
            await limiter.wait(conversation.chat_id)
            try:
                return await sender.send(conversation, reply)
            except RecipientUnreachable:
                raise
            except RateLimited as exc:
                wait = min(exc.retry_after, MAX_RETRY_AFTER)
                logger.warning("%s asked to wait %.1fs", conversation.platform, wait)
                limiter.pause(wait)
                last = exc
            except (TransientSendError, SendError, OSError) as exc:
                logger.warning("send failed (attempt %d): %s", attempt + 1, exc)
                await asyncio.sleep(min(2.0**attempt * 0.05, 1.0))
                last = exc
        raise TransientSendError(f"failed after 3 tries: {last}") from last

    def _limiter(self, platform: str) -> RateLimiter:
        """The platform's rate limiter, shared by delivery passes and single sends."""
        return self.limiters.setdefault(platform, limiter_for(platform))

    async def send_one(
        self, person_id: int, conversation: Conversation, reply: Reply
    ) -> str | None:
        """Send a message outside a delivery pass (e.g. a weekly report) with the same care.

        Rate limits are shared with the pass, timeouts and server errors are retried, and a
        person who blocked the bot is marked unreachable, as in a pass.

        Raises:
            SendError: when it could not be sent (the caller records it).
        """
        sender = self.outbound[conversation.platform]
        limiter = self._limiter(conversation.platform)
        try:
            return await self._send_retrying(sender, limiter, conversation, reply)
        except RecipientUnreachable as exc:
            self._unreachable(person_id, None, str(exc))  # the caller records its own row
            raise

    def _count_attempt(self, delivery_id: int) -> int:
        with self.db.session() as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None:
                return 0
            delivery.send_attempts += 1
            return delivery.send_attempts

    def _finish(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        message_ref: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record the outcome at once, in its own transaction (one statement)."""
        values: dict[str, object] = {
            "status": status,
            "error": error,
            "send_attempts": Delivery.send_attempts + 1,
        }
        if status is DeliveryStatus.SENT:
            values.update(sent_at=self._now(), message_ref=message_ref)
        with self.db.session() as session:
            session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))

    def _unreachable(self, person_id: int, delivery_id: int | None, reason: str) -> None:
        """Mark the person unreachable and, in the same transaction, fail the delivery."""
        with self.db.session() as session:
            person = session.get(Person, person_id)
            if person is not None:
                person.status = PersonStatus.UNREACHABLE
                person.status_reason = reason[:200]
                person.updated_at = self._now()
            delivery = session.get(Delivery, delivery_id) if delivery_id is not None else None
            if delivery is not None:
                delivery.status = DeliveryStatus.FAILED
                delivery.error = f"unreachable: {reason}"[:1000]

    # -- reminders ---------------------------------------------------------------------

    async def _remind(self, now: datetime, report: TickReport) -> None:
        hours = self.settings.reminder_hours
        if not hours:
            return
        cutoff = now - timedelta(hours=hours)
        with self.db.session() as session:
            rows = session.execute(
                select(Delivery.id, Delivery.local_date, Person)
                .join(Person, Person.id == Delivery.person_id)
                .where(
                    Delivery.kind == DeliveryKind.QUIZ,
                    Delivery.status == DeliveryStatus.SENT,
                    Delivery.reminded_at.is_(None),
                    Delivery.sent_at < cutoff,
                    Delivery.slot.like(f"{DAILY}%"),
                    Person.status == PersonStatus.ACTIVE,
                    Person.platform.in_(list(self.outbound)),
                )
            ).all()
            for person in {row[2] for row in rows}:
                session.expunge(person)
        quiet = self.settings.quiet
        for delivery_id, day, person in rows:
            local = now.astimezone(ZoneInfo(person.timezone))
            if local.date() != day or (quiet is not None and quiet.contains(local.time())):
                continue  # only the same day, and never in quiet hours
            with self.db.session() as session:
                result = session.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery_id, Delivery.reminded_at.is_(None))
                    .values(reminded_at=now)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                delivery = session.get(Delivery, delivery_id)
                assert delivery is not None
                replies = render_delivery(self.library.course, delivery, person.language)
            if not replies:
                continue
            reminder = Reply(
                f"{t(person.language, 'quiz_reminder')}\n\n{replies[0].text}",
                buttons=replies[0].buttons,
            )
            try:
                await self.outbound[person.platform].send(self.conversation_for(person), reminder)
                report.reminded += 1
            except RecipientUnreachable as exc:
                self._unreachable(person.id, delivery_id, str(exc))
            except SendError as exc:
                logger.warning("reminder not sent: %s", exc)


def _pick(
    course: Course, state: LearnerState, kind: DeliveryKind, now: datetime
) -> tuple[str | None, LearnerState]:
    """The item for one due push, and the state as it will be once it is delivered."""
    if kind is DeliveryKind.LESSON:
        lesson = next_lesson(course, state)
        if lesson is None:
            return None, state
        return lesson, replace(state, delivered_lessons=(*state.delivered_lessons, lesson))
    pick = next_quiz(course, state, now)
    if pick is None or pick.kind != "quiz":
        return None, state
    return pick.item_id, replace(state, today=state.today | {pick.item_id})


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class _Failed:
    pass


_FAILED = _Failed()
