"""Pushing lessons and quizzes at each person's local time, exactly once.

Every minute the scheduler calls :meth:`Dispatcher.tick`. For each enrolled, active person
it works out their local date and time, and whether a lesson or quiz is due: a working
day, the track's cadence, not a calendar blackout, the slot time reached and not inside
quiet hours. A due push is **claimed** first — a delivery row unique per person, kind,
local date and slot — then sent, then marked sent.

A claim is a **lease** (:mod:`bot.leases`): the row names the process that claimed it and
an expiry that process renews while its pass runs, however long the pass takes. Another
process takes a claimed row over only once the lease has run out, that is once its owner
is gone; a process that stops (SIGTERM) stops claiming, lets the sends under way finish,
and releases what it had not begun, so a restart or another replica sends those at once.

What a send's outcome can be, and what the row then says (docs/learning.md):

- accepted: ``sent``;
- the person blocked the bot or left: ``failed``, and the person is marked unreachable;
- a 429: waited out and tried again in the same pass;
- a 5xx or a connection failure (the platform did not take it): tried again, three times in
  the pass and then in later passes with a growing pause, ``failed`` after
  ``max_send_attempts``;
- a timeout waiting for the platform's answer: the platform may well have delivered it, so
  it is **not** sent again (that was a storm of duplicates on a slow platform): ``sent``,
  with ``error`` saying the delivery was not confirmed.

The one window no chat platform lets us close: a process killed (``kill -9``, power loss)
after the platform accepted a message and before the row was marked. Its lease runs out,
another process sends it again, and the row's ``error`` says it was taken over from a
send whose outcome is unknown. Only the sends in flight at that instant (at most
``concurrency``) can be repeated.

Database and CPU work run in worker threads, one slice of people at a time, so the event
loop keeps answering chat while a pass with thousands of people runs.

Each outcome is also counted in :mod:`bot.metrics` (``trainbot_deliveries_total``), and
each accepted push's lag from the moment it was due (``trainbot_dispatch_lag_seconds``;
docs/operations.md says how "due" is known for a push taken over or tried again).

The same pass pushes level 2 of the evaluation (docs/evaluation.md): a learner's
application check-in about a lesson completed N days before (:mod:`bot.checkins`, at the
lesson time, one a day), and each manager's and peer observer's checklist about the people
they observe, once a period (:mod:`bot.observations`). Both are deliveries claimed, leased,
retried and taken over like the rest.

Policies (documented in docs/learning.md):

- **Blackout windows skip** the push rather than postpone it: after a sales peak people
  would otherwise get a backlog of days at once. Spaced repetition absorbs the gap.
- **Quiet hours postpone**: a slot inside quiet hours moves to the end of the quiet window.
- Non-working days are skipped like blackouts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import checkins, metrics, observations
from bot.admission import admitted_people
from bot.campaigns import CAMPAIGN_PREFIX, PushWindow, hold_until_allowed
from bot.clock import Clock
from bot.events import Conversation, ConversationKind, Reply
from bot.experiments import forms_for, quiz_selection
from bot.i18n import t
from bot.learning import DAILY, PushDays, claim_many, learner_states
from bot.leases import LEASE, LeaseKeeper, expired, lease_values, new_owner, release
from bot.library import CourseLibrary
from bot.people import zone_of
from bot.ports import (
    Outbound,
    RateLimited,
    RecipientUnreachable,
    SendError,
    SendOutcomeUnknown,
    TransientSendError,
)
from bot.ratelimit import RateLimiter, limiter_for
from bot.settings import QuietHours, Settings, parse_hhmm
from bot.store.db import Database
from bot.store.models import Delivery, DeliveryKind, DeliveryStatus, Person, PersonStatus
from bot.views import checklist_reply, render_delivery
from quizzes.content import Course, Track
from quizzes.selection import LearnerState, next_lesson, next_quiz

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_RETRY_AFTER = 120.0  # never sleep longer than this inside one tick
TRIES_PER_PASS = 3
TAKEN_OVER_MID_SEND = "taken over after a send whose outcome is unknown: may be a repeat"
RETRY_PAUSE = timedelta(minutes=2)
"""After a pass's tries failed, the next pass tries again after this, doubled each time."""


@dataclass
class TickReport:
    """What one dispatch tick did."""

    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    """Claims taken over from a process that stopped or died, or tried again after a pause."""
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
    at: time | None = field(default=None, compare=False)
    """The local time it became due (the dispatch lag is counted from it)."""


@dataclass(frozen=True)
class PushTimes:
    """The organisation's push settings, parsed once per pass (not per person)."""

    working_days: frozenset[str]
    quiet: QuietHours | None
    lesson_at: time
    """When lessons go out, already moved out of quiet hours."""
    quiz_at: time
    """The default quiz time (a person's own may replace it), before quiet hours."""

    @classmethod
    def of(cls, settings: Settings) -> PushTimes:
        """Parse them from the configuration."""
        quiet = settings.quiet
        return cls(
            working_days=frozenset(settings.working_days),
            quiet=quiet,
            lesson_at=effective_time(parse_hhmm(settings.lesson_time), quiet),
            quiz_at=parse_hhmm(settings.quiz_time),
        )


def due_pushes(
    person: Person,
    track: Track,
    course: Course,
    times: PushTimes,
    now: datetime,
    *,
    zone: ZoneInfo | None = None,
    checkin: bool = False,
    quiz_at: time | None = None,
) -> list[Due]:
    """Which pushes are due for ``person`` at ``now`` (before looking at the store).

    Args:
        times: the organisation's push settings.
        zone: the person's time zone, when the caller resolved it already.
        checkin: whether some track asks application check-ins: one may then be due at
            the lesson time of every push day (:mod:`bot.checkins` says about what).
        quiz_at: the quiz time a push-time experiment gives the person (people with a
            time of their own are in no such experiment).
    """
    zone = zone or ZoneInfo(person.timezone)
    local = now.astimezone(zone)
    day = local.date()
    weekday = local.strftime("%a").lower()[:3]
    # The days off and blackouts streaks skip (PushDays); the cadence is checked per kind.
    days = PushDays(times.working_days, course.calendar)
    if not days.works_on(day) or days.blackout(day, track.id) is not None:
        return []
    quiet = times.quiet
    if quiet is not None and quiet.contains(local.time()):
        return []
    due: list[Due] = []
    if weekday in track.cadence.lesson_days and local.time() >= times.lesson_at:
        due.append(Due(person.id, DeliveryKind.LESSON, day, DAILY, times.lesson_at))
    # Not on the track's lesson days (unless every working day is one): a check-in takes
    # the day's one feedback prompt, and the rating asked after a lesson, while it is
    # fresh, cannot wait, where a check-in about a lesson of two weeks ago can.
    lesson_day = weekday in track.cadence.lesson_days
    every_day = times.working_days <= set(track.cadence.lesson_days)
    if checkin and local.time() >= times.lesson_at and (not lesson_day or every_day):
        due.append(Due(person.id, DeliveryKind.CHECKIN, day, DAILY, times.lesson_at))
    own = parse_hhmm(person.quiz_time) if person.quiz_time else quiz_at or times.quiz_at
    quiz_due = effective_time(own, quiet)
    if weekday in track.cadence.quiz_days and local.time() >= quiz_due:
        for index in range(track.cadence.quizzes_per_day):
            due.append(Due(person.id, DeliveryKind.QUIZ, day, slot_name(index), quiz_due))
    return due


class Dispatcher:
    """Claims, sends and marks pushes; takes over expired claims; sends reminders.

    Args:
        db: the store.
        library: the course being served.
        settings: configuration (times, quiet hours, working days, reminders).
        clock: the time source.
        outbound: one sender per platform.
        lease: how long a claim stays this process's without a renewal (renewed every
            third of it while a pass runs).
        owner: this process's owner id for leases (a fresh one by default).
        max_send_attempts: after this many failed tries a delivery is marked failed.
        limiters: per-platform rate limiters (defaults follow each platform's limits).
        concurrency: sends in flight at once.
        slice_size: people claimed at once before their pushes are sent.
    """

    def __init__(
        self,
        *,
        db: Database,
        library: CourseLibrary,
        settings: Settings,
        clock: Clock,
        outbound: Mapping[str, Outbound],
        lease: timedelta = LEASE,
        owner: str | None = None,
        max_send_attempts: int = 5,
        limiters: Mapping[str, RateLimiter] | None = None,
        concurrency: int = 16,
        slice_size: int = 500,
    ) -> None:
        self.db = db
        self.library = library
        self.settings = settings
        self.clock = clock
        self.outbound = dict(outbound)
        self.lease = lease
        self.owner = owner or new_owner()
        self.max_send_attempts = max_send_attempts
        self.limiters = dict(limiters or {}) or {
            name: limiter_for(name, telegram_rate=settings.telegram_rate) for name in self.outbound
        }
        self.slice_size = slice_size
        self.concurrency = concurrency
        self._stopping = False
        self._recorder = _Recorder(db)
        self._no_checkin: dict[int, date] = {}
        """People with nothing to check in about on this local day (a pass found none)."""
        self._due_at: dict[int, datetime] = {}
        """When the deliveries claimed or taken over in this pass became due, by row id."""

    def _now(self) -> datetime:
        return self.clock.now()

    # -- lifecycle ---------------------------------------------------------------------

    def stop(self) -> None:
        """Stop claiming: a pass under way finishes the sends it began and releases the rest."""
        self._stopping = True

    async def release_claims(self) -> int:
        """Hand every claim of this process back at once (for a stop that cannot wait)."""
        return await self.db.run(
            lambda session: release(session, Delivery, owner=self.owner, now=self._now())
        )

    # -- the pass ----------------------------------------------------------------------

    async def tick(self) -> TickReport:
        """One pass: take over expired claims, claim what is due slice by slice, send, remind."""
        report = TickReport()
        if not self.library.loaded:
            report.errors.append("no valid course loaded")
            return report
        if self._stopping:
            return report
        now = self._now()
        async with LeaseKeeper(
            self.db, Delivery, owner=self.owner, now=self._now, lease=self.lease
        ):
            try:
                await asyncio.to_thread(self._hold_campaigns, now)
                recovered = await asyncio.to_thread(self._take_over_expired, now)
                report.retried = len(recovered)
                await self._send_all(recovered, report)
                people = await asyncio.to_thread(self._eligible_ids)
                for batch in _chunks(people, self.slice_size):
                    if self._stopping:
                        break
                    claimed = await asyncio.to_thread(self._claim_slice, batch, now, report)
                    await self._send_all(claimed, report)
                if self.settings.observation_months and not self._stopping:
                    observers = await asyncio.to_thread(self._observer_ids)
                    for batch in _chunks(observers, self.slice_size):
                        if self._stopping:
                            break
                        claimed = await asyncio.to_thread(
                            self._claim_checklists, batch, now, report
                        )
                        await self._send_all(claimed, report)
                if not self._stopping:
                    await self._remind(now, report)
            finally:
                self._due_at.clear()
                released = await self.release_claims()
                if released and self._stopping:
                    logger.info("stopping: %d claimed pushes released for the next run", released)
        if report.claimed or report.sent or report.failed or report.retried:
            logger.info(
                "dispatch: %d claimed, %d sent, %d skipped, %d failed, %d taken over, %d reminded",
                report.claimed,
                report.sent,
                report.skipped,
                report.failed,
                report.retried,
                report.reminded,
            )
        return report

    # -- claiming (worker threads) -----------------------------------------------------

    def _eligible_ids(self) -> list[int]:
        """Who may get pushes now (ids only: each slice loads its own people)."""
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(Person.id)
                    .where(
                        Person.status == PersonStatus.ACTIVE,
                        Person.enrolled_at.is_not(None),
                        Person.enrollment_step.is_(None),
                        Person.track_id.is_not(None),
                        Person.platform.in_(list(self.outbound)),
                        admitted_people(self.settings),  # TRAINBOT_ENROLMENT as it is now
                    )
                    .order_by(Person.id)
                ).all()
            )

    def _zone(self, person: Person) -> ZoneInfo:
        """The person's time zone; the organisation's when the stored one is unknown."""
        return zone_of(person.timezone, self.settings.timezone, owner=f"person {person.id}")

    def _claim_slice(self, person_ids: list[int], now: datetime, report: TickReport) -> list[int]:
        """Claim the pushes due now for these people; returns the claimed rows to send."""
        with self.db.session() as session:
            return self._claim(session, person_ids, now, report)

    def _claim(
        self, session: Session, person_ids: list[int], now: datetime, report: TickReport
    ) -> list[int]:
        course = self.library.course
        times = PushTimes.of(self.settings)
        checkin = checkins.longest_wait(course) > 0
        people = session.scalars(
            select(Person).where(
                Person.id.in_(person_ids),
                Person.status == PersonStatus.ACTIVE,  # may have said /stop meanwhile
                Person.enrollment_step.is_(None),
            )
        ).all()
        # Experiments running today: their variants' push times (people are assigned the
        # first time they are looked at while one runs).
        forms = forms_for(
            session,
            course,
            list(people),
            now=now,
            today=now.astimezone(ZoneInfo(self.settings.timezone)).date(),
        )
        wanted: dict[int, tuple[Person, list[Due]]] = {}
        for person in people:
            track = course.tracks.get(person.track_id or "")
            if track is None:
                continue
            form = forms.get(person.id)
            quiz_at = parse_hhmm(form.push_time) if form and form.push_time else None
            try:
                pushes = due_pushes(
                    person,
                    track,
                    course,
                    times,
                    now,
                    zone=self._zone(person),
                    checkin=checkin,
                    quiz_at=quiz_at,
                )
            except Exception as exc:  # one bad row never stops everyone's pushes
                logger.exception("person %d skipped in this pass", person.id)
                report.errors.append(f"person {person.id}: {type(exc).__name__}")
                continue
            # Nothing to check in about today stays so all day (the window is counted
            # in local days, and a survey prompt already given stays given): not asked
            # again each pass. Per process; another one works it out for itself.
            pushes = [
                due
                for due in pushes
                if due.kind is not DeliveryKind.CHECKIN
                or self._no_checkin.get(person.id) != due.day
            ]
            if pushes:
                wanted[person.id] = (person, pushes)
        if not wanted:
            return []
        days = {due.day for _, dues in wanted.values() for due in dues}
        existing = set(
            session.execute(
                select(Delivery.person_id, Delivery.kind, Delivery.local_date, Delivery.slot).where(
                    Delivery.local_date.in_(days), Delivery.person_id.in_(list(wanted))
                )
            ).all()
        )
        open_people = [
            (person, [d for d in dues if (d.person_id, d.kind, d.day, d.slot) not in existing])
            for person, dues in wanted.values()
        ]
        open_people = [(person, dues) for person, dues in open_people if dues]
        if not open_people:
            return []
        # Only who gets a lesson or quiz needs their learner state (not a check-in alone).
        learning = [
            person
            for person, dues in open_people
            if any(due.kind is not DeliveryKind.CHECKIN for due in dues)
        ]
        states = (
            learner_states(session, learning, now, fallback_timezone=self.settings.timezone)
            if learning
            else {}
        )
        asking = {
            person.id: (self._zone(person), due.day)
            for person, dues in open_people
            for due in dues
            if due.kind is DeliveryKind.CHECKIN
        }
        picks = checkins.pick_checkins(session, course, asking, now) if asking else {}
        for person_id, pick in picks.items():
            if pick is None:
                self._no_checkin[person_id] = asking[person_id][1]
        rows: list[dict[str, Any]] = []
        asked: list[dict[str, Any]] = []  # check-ins (the others may carry a wording)
        due_at: dict[tuple[int, DeliveryKind, date, str], datetime] = {}
        lease = lease_values(self.owner, now, self.lease)
        no_lease = dict.fromkeys(lease)  # one insert needs the same keys in every row
        for person, dues in open_people:
            state = states.get(person.id)
            for due in dues:
                if due.at is not None:
                    due_at[person.id, due.kind, due.day, due.slot] = datetime.combine(
                        due.day, due.at, tzinfo=self._zone(person)
                    )
                item: str | None
                row: dict[str, Any] = {
                    "person_id": person.id,
                    "kind": due.kind,
                    "slot": due.slot,
                    "local_date": due.day,
                    "language": person.language,
                    "track_id": person.track_id,
                    "team_id": person.team_id,
                    "send_attempts": 0,
                    "claimed_at": now,
                }
                if due.kind is DeliveryKind.CHECKIN:
                    pick = picks.get(person.id)
                    if pick is None:
                        # No row (unlike a lesson with nothing to deliver): most days ask
                        # nothing, and a skipped row a day per person would double the
                        # table; the next pass asks the store again (four queries a slice).
                        continue
                    item = pick.lesson_id
                    # The track the lesson was learned in, and when (the message says it).
                    row.update(track_id=pick.track_id, selection=pick.selection())
                    asked.append(row)
                else:
                    assert state is not None
                    item, state = _pick(course, state, due.kind, now)
                    # A wording experiment's variant: the quiz records the wording shown.
                    row["selection"] = (
                        quiz_selection(course, item, forms.get(person.id))
                        if item is not None and due.kind is DeliveryKind.QUIZ
                        else None
                    )
                    rows.append(row)
                row.update(
                    item_id=item,
                    status=DeliveryStatus.CLAIMED if item else DeliveryStatus.SKIPPED,
                    error=None if item else "nothing to deliver",
                    **(lease if item else no_lease),
                )
        inserted = set(claim_many(session, rows)) | set(claim_many(session, asked))
        report.claimed += len(inserted)
        if not inserted:
            return []
        sendable: list[int] = []
        for inserted_row in session.execute(
            select(
                Delivery.id,
                Delivery.status,
                Delivery.person_id,
                Delivery.kind,
                Delivery.local_date,
                Delivery.slot,
            ).where(Delivery.id.in_(inserted))
        ).all():
            delivery_id, status, person_id, kind, day, slot = inserted_row
            if status is not DeliveryStatus.CLAIMED:
                metrics.delivery(kind.value, metrics.SKIPPED)
                continue
            sendable.append(delivery_id)
            moment = due_at.get((person_id, kind, day, slot))
            if moment is not None:
                self._due_at[delivery_id] = moment
        report.skipped += len(inserted) - len(sendable)
        return sendable

    def _observer_ids(self) -> list[int]:
        """Who observes someone and may get pushes now (ids only, as for learners)."""
        with self.db.session() as session:
            everyone = observations.observer_ids(session)
            found: list[int] = []
            for ids in _chunks(everyone, self.slice_size):
                found.extend(
                    session.scalars(
                        select(Person.id).where(
                            Person.id.in_(ids),
                            Person.status == PersonStatus.ACTIVE,
                            Person.platform.in_(list(self.outbound)),
                            admitted_people(self.settings),
                        )
                    ).all()
                )
            return sorted(found)

    def _claim_checklists(
        self, observer_ids: list[int], now: datetime, report: TickReport
    ) -> list[int]:
        """Claim the observation checklists due now for these observers (worker thread).

        Due at the lesson time of a push day in the observer's zone (their working day,
        no blackout, not in quiet hours), once per period and person observed.
        """
        course = self.library.course
        times = PushTimes.of(self.settings)
        days = PushDays(times.working_days, course.calendar)
        months = self.settings.observation_months
        with self.db.session() as session:
            people = session.scalars(
                select(Person).where(
                    Person.id.in_(observer_ids), Person.status == PersonStatus.ACTIVE
                )
            ).all()
            periods: dict[int, tuple[Person, date, datetime]] = {}
            for person in people:
                zone = self._zone(person)
                local = now.astimezone(zone)
                if not days.works_on(local.date()) or days.blackout(local.date(), person.track_id):
                    continue
                if times.quiet is not None and times.quiet.contains(local.time()):
                    continue
                if local.time() < times.lesson_at:
                    continue
                first, began = observations.period_began(local.date(), months, zone)
                periods[person.id] = (person, first, began)
            if not periods:
                return []
            observed = observations.observed_by(session, periods)
            wanted = {
                (observer_id, periods[observer_id][1], observations.slot_for(item.subject_id)): (
                    observer_id,
                    item.subject_id,
                    periods[observer_id][2],
                )
                for observer_id, items in observed.items()
                for item in items
            }
            claimed = observations.existing_checklists(session, wanted)
            pairs = [pair for key, pair in wanted.items() if key not in claimed]
            checklists = observations.lessons_to_ask(session, course, pairs, now)
            lease = lease_values(self.owner, now, self.lease)
            rows = []
            for checklist in checklists:
                observer, first, _ = periods[checklist.observer_id]
                rows.append(
                    {
                        "person_id": observer.id,
                        "kind": DeliveryKind.OBSERVATION,
                        # The period's first day: one checklist per observer, period and
                        # person observed (the slot names the person).
                        "local_date": first,
                        "slot": observations.slot_for(checklist.subject_id),
                        "item_id": str(checklist.subject_id),
                        "language": observer.language,
                        "track_id": None,
                        "team_id": observer.team_id,
                        "status": DeliveryStatus.CLAIMED,
                        "selection": checklist.selection(),
                        "send_attempts": 0,
                        "claimed_at": now,
                        **lease,
                    }
                )
            inserted = claim_many(session, rows)
            report.claimed += len(inserted)
            return inserted

    def _render_checklist(self, delivery: Delivery, language: str) -> list[Reply]:
        """An observation checklist as it stands (it reads the store; worker thread)."""
        with self.db.session() as session:
            try:
                shown = observations.checklist(session, self.library.course, delivery, language)
            except LookupError as exc:
                logger.warning("checklist %d not sent: %s", delivery.id, exc)
                return []
        return [checklist_reply(shown, language)]

    def _hold_campaigns(self, now: datetime) -> int:
        """Keep deferred campaign pushes out of quiet hours, blackouts and days off."""
        window = PushWindow.of(self.settings)
        with self.db.session() as session:
            return hold_until_allowed(session, self.library.course, window, now)

    def _take_over_expired(self, now: datetime) -> list[int]:
        """Make this process the owner of pushes whose owner is gone (its lease ran out).

        Reports are the weekly job's (:mod:`bot.reports.schedule`), never taken here. A row
        claimed before leases existed has none; it counts as expired once it is older
        than a lease.
        """
        with self.db.session() as session:
            # A campaign's push is due when its claim's expiry says it may go out, which
            # the take-over overwrites: read it first (for the dispatch lag only).
            deferred = dict(
                session.execute(
                    select(Delivery.id, Delivery.lease_expires_at).where(
                        expired(Delivery, now, legacy_grace=self.lease),
                        Delivery.slot.like(f"{CAMPAIGN_PREFIX}%"),
                        Delivery.lease_owner.is_(None),
                        Delivery.send_attempts == 0,
                    )
                ).all()
            )
            taken = session.scalars(
                update(Delivery)
                .where(
                    expired(Delivery, now, legacy_grace=self.lease),
                    Delivery.kind != DeliveryKind.REPORT,
                )
                .values(**lease_values(self.owner, now, self.lease))
                .returning(Delivery.id)
            ).all()
            if taken:
                # A send began and its outcome was never recorded: it may have arrived.
                session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(taken), Delivery.send_started_at.is_not(None))
                    .values(error=TAKEN_OVER_MID_SEND)
                )
        for delivery_id in taken:
            moment = deferred.get(delivery_id)
            if moment is not None:
                self._due_at[delivery_id] = moment
        return list(taken)

    # -- sending -----------------------------------------------------------------------

    def _load_claimed(self, delivery_ids: list[int]) -> list[tuple[Delivery, Person]]:
        found: list[tuple[Delivery, Person]] = []
        for ids in _chunks(sorted(delivery_ids), 500):
            with self.db.session() as session:
                rows = session.execute(
                    select(Delivery, Person)
                    .join(Person, Person.id == Delivery.person_id)
                    .where(
                        Delivery.id.in_(ids),
                        Delivery.status == DeliveryStatus.CLAIMED,
                        Delivery.lease_owner == self.owner,
                    )
                    .order_by(Delivery.id)
                ).all()
                session.expunge_all()
            found.extend((delivery, person) for delivery, person in rows)
        return found

    async def _send_all(self, delivery_ids: list[int], report: TickReport) -> None:
        """Send people's pushes concurrently, each person's in order (lesson first)."""
        if not delivery_ids:
            return
        by_person: dict[int, list[tuple[Delivery, Person]]] = {}
        for delivery, person in await asyncio.to_thread(self._load_claimed, delivery_ids):
            by_person.setdefault(person.id, []).append((delivery, person))

        queue = list(by_person.values())
        queue.reverse()

        async def worker() -> None:
            # A few workers rather than a task per person: each turn of the event loop
            # then runs a few sends' steps, never thousands at once.
            while queue:
                for delivery, person in queue.pop():
                    if not await self._send_one(delivery, person, report):
                        break  # unreachable, failing or stopping: the rest wait

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(queue)))))

    def conversation_for(self, person: Person) -> Conversation:
        """Where pushes to a person go: their DM."""
        return Conversation(
            person.platform, person.chat_id or person.platform_user_id, ConversationKind.DIRECT
        )

    async def _send_one(self, delivery: Delivery, person: Person, report: TickReport) -> bool:
        """Send one claimed delivery; ``False`` when the person's next ones should wait."""
        kind = delivery.kind.value
        if person.status is not PersonStatus.ACTIVE:
            await self._finish(
                delivery.id, DeliveryStatus.FAILED, error=f"person is {person.status.value}"
            )
            report.failed += 1
            metrics.delivery(kind, metrics.FAILED)
            return False
        if delivery.kind is DeliveryKind.OBSERVATION:
            replies = await asyncio.to_thread(self._render_checklist, delivery, person.language)
        else:
            replies = render_delivery(
                self.library.course, delivery, person.language, region=person.region
            )
        if not replies:
            gone = (
                "the person observed is gone"
                if delivery.kind is DeliveryKind.OBSERVATION
                else "item no longer in the course"
            )
            await self._finish(delivery.id, DeliveryStatus.SKIPPED, error=gone)
            report.skipped += 1
            metrics.delivery(kind, metrics.SKIPPED)
            return True
        conversation = self.conversation_for(person)
        sender = self.outbound[person.platform]
        limiter = self._limiter(person.platform)
        begun = False

        async def begin() -> None:
            """Right before the platform is called (after any rate-limit wait)."""
            nonlocal begun
            if begun:
                return
            if self._stopping:
                raise _NotBegun  # released at the end of the pass
            begun = True
            # The row is this process's (its lease), so its count is the stored one.
            await self._recorder.write(
                delivery.id,
                {"send_started_at": self._now(), "send_attempts": delivery.send_attempts + 1},
            )

        refs: list[str | None] = []
        unconfirmed: str | None = None
        for reply in replies:
            try:
                refs.append(
                    await self._send_retrying(sender, limiter, conversation, reply, begin=begin)
                )
            except _NotBegun:
                return False
            except SendOutcomeUnknown as exc:
                # The platform may have it: sending it again could duplicate it.
                unconfirmed = f"not confirmed by the platform: {exc}"[:1000]
                logger.warning("push %d not confirmed: %s", delivery.id, exc)
            except RecipientUnreachable as exc:
                await asyncio.to_thread(self._unreachable, person.id, delivery.id, str(exc))
                report.unreachable += 1
                report.failed += 1
                metrics.delivery(kind, metrics.UNREACHABLE)
                return False
            except SendError as exc:
                await self._failed_try(delivery, str(exc), report)
                return False
        accepted = self._now()
        message_ref = next((ref for ref in reversed(refs) if ref), None)
        if unconfirmed is None and delivery.error == TAKEN_OVER_MID_SEND:
            unconfirmed = TAKEN_OVER_MID_SEND  # kept: the person may have it twice
        await self._finish(
            delivery.id, DeliveryStatus.SENT, message_ref=message_ref, error=unconfirmed
        )
        report.sent += 1
        if unconfirmed is None:
            metrics.delivery(kind, metrics.SENT)
            due = self._due_moment(delivery, person)
            if due is not None:
                metrics.dispatch_lag((accepted - due).total_seconds())
        else:
            metrics.delivery(kind, metrics.UNCONFIRMED)
        return True

    def _due_moment(self, delivery: Delivery, person: Person) -> datetime | None:
        """When ``delivery`` became due, as near as this process knows (``None``: unknown).

        Exact for what this pass claimed, and for a campaign's first send; a daily push
        taken over from another process or tried again counts from its slot time in the
        person's zone (a push-time experiment's own time is not known here). A retried
        campaign push and an observation checklist are not counted.
        """
        known = self._due_at.pop(delivery.id, None)
        if known is not None or not delivery.slot.startswith(DAILY):
            return known
        times = PushTimes.of(self.settings)
        if delivery.kind is DeliveryKind.QUIZ:
            own = parse_hhmm(person.quiz_time) if person.quiz_time else times.quiz_at
            at = effective_time(own, times.quiet)
        elif delivery.kind in (DeliveryKind.LESSON, DeliveryKind.CHECKIN):
            at = times.lesson_at
        else:
            return None
        return datetime.combine(delivery.local_date, at, tzinfo=self._zone(person))

    async def _failed_try(self, delivery: Delivery, error: str, report: TickReport) -> None:
        """Record a pass's failed tries: a later pass tries again, or it is given up."""
        attempts = delivery.send_attempts + 1
        if attempts >= self.max_send_attempts:
            await self._finish(
                delivery.id,
                DeliveryStatus.FAILED,
                error=f"gave up after {attempts} passes: {error}"[:1000],
            )
            report.failed += 1
            metrics.delivery(delivery.kind.value, metrics.FAILED)
            return
        metrics.delivery(delivery.kind.value, metrics.RETRYING)
        pause = RETRY_PAUSE * 2 ** (attempts - 1)
        # Nobody's lease: any process may try it again once the pause is over.
        await self._recorder.write(
            delivery.id,
            {
                "lease_owner": None,
                "lease_expires_at": self._now() + pause,
                "send_started_at": None,
                "error": f"try {attempts} failed: {error}"[:1000],
            },
        )

    async def _send_retrying(
        self,
        sender: Outbound,
        limiter: RateLimiter,
        conversation: Conversation,
        reply: Reply,
        *,
        begin: Callable[[], Awaitable[None]] | None = None,
    ) -> str | None:
        """Send one message: a 429 is waited out, a 5xx or connection failure tried again.

        Args:
            begin: awaited right before each call of the platform, after the rate
                limiter's wait (records that the send began; may refuse to begin).

        Raises:
            RecipientUnreachable: the person blocked the bot or left (at once, no retry).
            SendOutcomeUnknown: a timeout; not tried again (it may have been delivered).
            SendError: still failing after the last try.
        """
        last: Exception | None = None
        for attempt in range(TRIES_PER_PASS):
            await limiter.wait(conversation.chat_id)
            if begin is not None:
                await begin()
            try:
                return await sender.send(conversation, reply)
            except (RecipientUnreachable, SendOutcomeUnknown):
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
        raise TransientSendError(f"failed after {TRIES_PER_PASS} tries: {last}") from last

    def _limiter(self, platform: str) -> RateLimiter:
        """The platform's rate limiter, shared by delivery passes and single sends."""
        return self.limiters.setdefault(
            platform, limiter_for(platform, telegram_rate=self.settings.telegram_rate)
        )

    async def send_one(
        self, person_id: int, conversation: Conversation, reply: Reply
    ) -> str | None:
        """Send a message outside a delivery pass (e.g. a weekly report) with the same care.

        Rate limits are shared with the pass, server errors are retried, and a person who
        blocked the bot is marked unreachable, as in a pass.

        Raises:
            SendOutcomeUnknown: it timed out; the platform may have delivered it.
            SendError: when it could not be sent (the caller records it).
        """
        sender = self.outbound[conversation.platform]
        limiter = self._limiter(conversation.platform)
        try:
            return await self._send_retrying(sender, limiter, conversation, reply)
        except RecipientUnreachable as exc:
            # the caller records its own row
            await asyncio.to_thread(self._unreachable, person_id, None, str(exc))
            raise

    async def _finish(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        message_ref: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record the outcome as soon as it is known (group-committed with its neighbours)."""
        values: dict[str, Any] = {
            "status": status,
            "error": error,
            "send_started_at": None,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        if status is DeliveryStatus.SENT:
            values.update(sent_at=self._now(), message_ref=message_ref)
        await self._recorder.write(delivery_id, values)

    def _unreachable(self, person_id: int, delivery_id: int | None, reason: str) -> None:
        """Mark the person unreachable and, in the same transaction, fail the delivery."""
        with self.db.session() as session:
            person = session.get(Person, person_id)
            if person is not None:
                person.status = PersonStatus.UNREACHABLE
                person.status_reason = reason[:200]
                person.updated_at = self._now()
            if delivery_id is not None:
                session.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery_id)
                    .values(
                        status=DeliveryStatus.FAILED,
                        error=f"unreachable: {reason}"[:1000],
                        send_started_at=None,
                        lease_owner=None,
                        lease_expires_at=None,
                    )
                )

    # -- reminders ---------------------------------------------------------------------

    def _reminders_due(self, now: datetime) -> list[tuple[int, Person, list[Reply]]]:
        """Claim today's reminders (``reminded_at``) and render them (worker thread)."""
        cutoff = now - timedelta(hours=self.settings.reminder_hours)
        with self.db.session() as session:
            rows = session.execute(
                select(Delivery, Person)
                .join(Person, Person.id == Delivery.person_id)
                .where(
                    Delivery.kind == DeliveryKind.QUIZ,
                    Delivery.status == DeliveryStatus.SENT,
                    Delivery.reminded_at.is_(None),
                    Delivery.sent_at < cutoff,
                    Delivery.slot.like(f"{DAILY}%"),
                    Person.status == PersonStatus.ACTIVE,
                    Person.platform.in_(list(self.outbound)),
                    admitted_people(self.settings),
                )
            ).all()
            session.expunge_all()
        quiet = self.settings.quiet
        due: list[tuple[int, Person, list[Reply]]] = []
        for delivery, person in rows:
            local = now.astimezone(self._zone(person))
            if local.date() != delivery.local_date or (
                quiet is not None and quiet.contains(local.time())
            ):
                continue  # only the same day, and never in quiet hours
            with self.db.session() as session:
                result = session.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery.id, Delivery.reminded_at.is_(None))
                    .values(reminded_at=now)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    continue
            replies = render_delivery(
                self.library.course, delivery, person.language, region=person.region
            )
            if replies:
                due.append((delivery.id, person, replies))
        return due

    async def _remind(self, now: datetime, report: TickReport) -> None:
        if not self.settings.reminder_hours:
            return
        for delivery_id, person, replies in await asyncio.to_thread(self._reminders_due, now):
            reminder = Reply(
                f"{t(person.language, 'quiz_reminder')}\n\n{replies[0].text}",
                buttons=replies[0].buttons,
            )
            reminded = DeliveryKind.REMINDER.value
            try:
                await self.outbound[person.platform].send(self.conversation_for(person), reminder)
                report.reminded += 1
                metrics.delivery(reminded, metrics.SENT)
            except RecipientUnreachable as exc:
                await asyncio.to_thread(self._unreachable, person.id, delivery_id, str(exc))
                metrics.delivery(reminded, metrics.UNREACHABLE)
            except SendError as exc:
                logger.warning("reminder not sent: %s", exc)
                metrics.delivery(reminded, metrics.FAILED)


class _Recorder:
    """Writes delivery outcomes in group commits.

    Each write waits until it is committed; whatever queues up while one commit runs goes
    into the next, so concurrent sends share transactions instead of queueing for the
    store's write lock one by one. Values are plain (no SQL expressions), so each commit is
    one bulk UPDATE by primary key per shape of values.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[tuple[int, dict[str, Any], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, delivery_id: int, values: dict[str, Any]) -> None:
        """Update one delivery row; returns once it is committed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((delivery_id, values, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="delivery-recorder")
        await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(self._commit, batch)
            except BaseException as exc:
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for _, _, future in batch:
                if not future.done():
                    future.set_result(None)

    def _commit(self, batch: list[tuple[int, dict[str, Any], asyncio.Future[None]]]) -> None:
        # One executemany per shape of update: a bulk UPDATE by primary key.
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for delivery_id, values, _ in batch:
            shapes.setdefault(tuple(sorted(values)), []).append({"id": delivery_id, **values})
        with self.db.session() as session:
            for rows in shapes.values():
                session.execute(update(Delivery), rows)


class _NotBegun(Exception):
    """A send that had not reached the platform when the dispatcher was told to stop."""


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
