"""The dispatcher with a fake clock: local times, the date line, DST, quiet hours,
blackouts, weekends, opted-out and unreachable people, crashes and concurrent dispatchers."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.memory import MemoryOutbound
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher, PushTimes, due_pushes, effective_time
from bot.library import CourseLibrary
from bot.ratelimit import RateLimiter
from bot.settings import QuietHours, Settings, load_settings, parse_hhmm
from bot.store.db import Database
from bot.store.models import Delivery, DeliveryKind, DeliveryStatus, Person, PersonStatus
from tests.conftest import SAMPLE_CONTENT

PLATFORM = "memory"


def make_settings(db_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": db_url,
        "content_dir": SAMPLE_CONTENT,
        "reminder_hours": 0,
    }
    values.update(overrides)
    return load_settings(**values)


def add_person(
    db: Database, user_id: str, zone: str, *, track: str = "frontline", **fields: object
) -> int:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with db.session() as session:
        person = Person(
            platform=PLATFORM,
            platform_user_id=user_id,
            display_name=user_id,
            language="en",
            timezone=zone,
            track_id=track,
            enrolled_at=now,
            created_at=now,
            updated_at=now,
            **fields,
        )
        session.add(person)
        session.flush()
        return person.id


class Harness:
    def __init__(self, db: Database, settings: Settings, clock: FakeClock) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self.library = CourseLibrary(settings.content_dir)
        assert self.library.reload() == []
        self.outbound = MemoryOutbound()
        self.sleeps: list[float] = []

    def dispatcher(self, **kwargs: object) -> Dispatcher:
        async def fake_sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        limiter = RateLimiter(overall=None, sleep=fake_sleep)
        return Dispatcher(
            db=self.db,
            library=self.library,
            settings=self.settings,
            clock=self.clock,
            outbound={PLATFORM: self.outbound},
            limiters={PLATFORM: limiter},
            **kwargs,  # type: ignore[arg-type]
        )

    async def run(self, until: datetime, step: timedelta = timedelta(minutes=1)) -> None:
        dispatcher = self.dispatcher()
        while self.clock.now() < until:
            await dispatcher.tick()
            self.clock.advance(step)

    def deliveries(self) -> list[Delivery]:
        with self.db.session() as session:
            rows = session.scalars(select(Delivery).order_by(Delivery.id)).all()
            for row in rows:
                session.expunge(row)
            return list(rows)


@pytest.fixture
def harness(sqlite_database: Database) -> Harness:
    return Harness(
        sqlite_database,
        make_settings(sqlite_database.url),
        FakeClock(datetime(2026, 11, 16, 0, 0, tzinfo=UTC)),
    )


def sent_at_local(harness: Harness, chat_id: str, zone: str) -> list[str]:
    from zoneinfo import ZoneInfo

    rows = [d for d in harness.deliveries() if d.status is DeliveryStatus.SENT]
    with harness.db.session() as session:
        ids = {p.id: p.platform_user_id for p in session.scalars(select(Person)).all()}
    return [
        f"{d.kind.value}@{d.sent_at.astimezone(ZoneInfo(zone)):%a %H:%M}"
        for d in rows
        if ids[d.person_id] == chat_id and d.sent_at is not None
    ]


async def test_pushes_arrive_at_local_time_once(harness: Harness) -> None:
    add_person(harness.db, "shanghai", "Asia/Shanghai")
    add_person(harness.db, "berlin", "Europe/Berlin")
    # Monday 2026-11-16 00:00 UTC .. Tuesday 00:00 UTC, every 5 minutes
    await harness.run(datetime(2026, 11, 17, 0, 0, tzinfo=UTC), timedelta(minutes=5))
    # frontline: lesson on Mon/Wed at 09:00, 2 quizzes Mon-Fri at 09:30
    assert sent_at_local(harness, "shanghai", "Asia/Shanghai") == [
        "lesson@Mon 09:00",
        "quiz@Mon 09:30",
        "quiz@Mon 09:30",
    ]
    assert sent_at_local(harness, "berlin", "Europe/Berlin") == [
        "lesson@Mon 09:00",
        "quiz@Mon 09:30",
        "quiz@Mon 09:30",
    ]
    assert len(harness.outbound.sent) == 6
    lesson = harness.outbound.to("shanghai")[0]
    assert lesson.text.startswith("📘 **") and lesson.buttons[0][0].payload.startswith("lg:")
    quiz = harness.outbound.to("shanghai")[1]
    assert quiz.text.startswith("📝 **Quiz**")
    first_two = {d.item_id for d in harness.deliveries() if d.kind is DeliveryKind.QUIZ}
    assert len(first_two) == 4 or len(first_two) == 2  # per person: two different questions
    per_person = Counter((d.person_id, d.kind, d.local_date, d.slot) for d in harness.deliveries())
    assert max(per_person.values()) == 1


async def test_the_date_line(harness: Harness) -> None:
    # At 2026-11-16 20:00 UTC it is Tuesday 10:00 in Kiritimati (UTC+14) and
    # Monday 09:00 in Pago Pago (UTC-11).
    add_person(harness.db, "kiritimati", "Pacific/Kiritimati")
    add_person(harness.db, "pago", "Pacific/Pago_Pago")
    harness.clock.set(datetime(2026, 11, 16, 20, 0, tzinfo=UTC))
    await harness.dispatcher().tick()
    by_chat = {d.person_id: d for d in harness.deliveries()}
    dates = sorted(
        {(d.person_id, d.local_date.isoformat(), d.kind.value) for d in harness.deliveries()}
    )
    assert ("2026-11-17", "quiz") in {
        (day, kind) for _, day, kind in dates
    }  # Kiritimati: Tue quizzes
    assert all(
        not (day == "2026-11-17" and kind == "lesson") for _, day, kind in dates
    )  # no lesson on Tue
    pago = [d for d in by_chat.values() if d.local_date.isoformat() == "2026-11-16"]
    assert pago and all(
        d.kind is DeliveryKind.LESSON for d in pago
    )  # 09:00 Mon: lesson yes, quiz not yet


async def test_daylight_saving_change(harness: Harness) -> None:
    # New York falls back on Sunday 2026-11-01; Monday 11-02 09:30 EST = 14:30 UTC,
    # while the Friday before, 09:30 EDT = 13:30 UTC.
    add_person(harness.db, "nyc", "America/New_York")
    harness.clock.set(datetime(2026, 10, 28, 12, 0, tzinfo=UTC))  # Wednesday, a lesson day
    await harness.run(datetime(2026, 11, 3, 0, 0, tzinfo=UTC), timedelta(minutes=10))
    quizzes = [d for d in harness.deliveries() if d.kind is DeliveryKind.QUIZ and d.sent_at]
    utc_times = sorted({(d.local_date.isoformat(), f"{d.sent_at:%H:%M}") for d in quizzes})
    assert utc_times == [
        ("2026-10-28", "13:30"),
        ("2026-10-29", "13:30"),
        ("2026-10-30", "13:30"),
        ("2026-11-02", "14:30"),
    ]


async def test_quiet_hours_postpone_a_late_slot(sqlite_database: Database) -> None:
    settings = make_settings(sqlite_database.url, quiz_time="22:30", quiet_hours="21:00-08:00")
    harness = Harness(
        sqlite_database, settings, FakeClock(datetime(2026, 11, 16, 0, 0, tzinfo=UTC))
    )
    add_person(harness.db, "late", "Asia/Shanghai")
    await harness.run(datetime(2026, 11, 17, 16, 0, tzinfo=UTC), timedelta(minutes=10))
    times = sent_at_local(harness, "late", "Asia/Shanghai")
    assert all(not (stamp.split(" ")[1] >= "21:" or stamp.split(" ")[1] < "08:") for stamp in times)
    assert "quiz@Mon 08:00" in times or "quiz@Tue 08:00" in times
    assert (
        effective_time(parse_hhmm("22:30"), QuietHours.parse("21:00-08:00")).strftime("%H:%M")
        == "08:00"
    )


async def test_blackouts_and_weekends_skip(harness: Harness) -> None:
    add_person(harness.db, "peak", "Asia/Shanghai")
    # 2026-11-09..12 is the Singles' Day blackout; 11-14/15 is a weekend.
    harness.clock.set(datetime(2026, 11, 9, 0, 0, tzinfo=UTC))
    await harness.run(datetime(2026, 11, 16, 0, 0, tzinfo=UTC), timedelta(minutes=15))
    days = sorted({d.local_date.isoformat() for d in harness.deliveries()})
    assert days == ["2026-11-13"]  # only Friday, after the peak and before the weekend


async def test_opted_out_and_unreachable_people_get_nothing(harness: Harness) -> None:
    add_person(harness.db, "stopped", "Asia/Shanghai", status=PersonStatus.OPTED_OUT)
    add_person(harness.db, "gone", "Asia/Shanghai", status=PersonStatus.UNREACHABLE)
    add_person(harness.db, "pending", "Asia/Shanghai", enrollment_step="timezone")
    harness.clock.set(datetime(2026, 11, 16, 2, 0, tzinfo=UTC))
    await harness.dispatcher().tick()
    assert harness.deliveries() == [] and harness.outbound.sent == []


async def test_people_the_enrolment_rule_refuses_or_an_admin_removed_get_nothing(
    harness: Harness,
) -> None:
    add_person(harness.db, "listed", "Asia/Shanghai", on_roster=True)
    add_person(harness.db, "walkin", "Asia/Shanghai")  # enrolled while the bot was open
    add_person(harness.db, "removed", "Asia/Shanghai", on_roster=True, status=PersonStatus.REMOVED)
    harness.settings.enrolment = "roster"
    harness.clock.set(datetime(2026, 11, 16, 2, 0, tzinfo=UTC))
    await harness.dispatcher().tick()
    assert {sent.conversation.chat_id for sent in harness.outbound.sent} == {"listed"}


async def test_a_blocked_user_becomes_unreachable(harness: Harness) -> None:
    add_person(harness.db, "blocker", "Asia/Shanghai")
    harness.outbound.blocked.add("blocker")
    harness.clock.set(datetime(2026, 11, 16, 2, 0, tzinfo=UTC))
    report = await harness.dispatcher().tick()
    assert report.unreachable >= 1
    with harness.db.session() as session:
        person = session.scalars(select(Person)).one()
        assert person.status is PersonStatus.UNREACHABLE and "blocked" in (
            person.status_reason or ""
        )
    harness.clock.advance(timedelta(days=2))
    await harness.dispatcher().tick()
    assert harness.outbound.calls == 1  # never tried again


async def test_a_429_is_honoured_and_retried(harness: Harness) -> None:
    add_person(harness.db, "busy", "Asia/Shanghai")
    harness.outbound.rate_limit_next = 1
    harness.outbound.retry_after = 7
    harness.clock.set(datetime(2026, 11, 16, 2, 0, tzinfo=UTC))
    report = await harness.dispatcher().tick()
    assert report.sent == 3 and report.failed == 0
    assert 7 in [round(s) for s in harness.sleeps]


async def test_a_crash_after_claim_is_delivered_exactly_once_after_restart(
    harness: Harness,
) -> None:
    add_person(harness.db, "crash", "Asia/Shanghai")
    harness.clock.set(datetime(2026, 11, 16, 2, 0, tzinfo=UTC))
    first = harness.dispatcher()
    from bot.dispatcher import TickReport

    # the process dies after claiming
    claimed = first._claim_slice(first._eligible_ids(), harness.clock.now(), TickReport())
    assert len(claimed) == 3 and harness.outbound.sent == []
    assert all(d.status is DeliveryStatus.CLAIMED for d in harness.deliveries())
    restarted = harness.dispatcher(lease=timedelta(minutes=5))
    await restarted.tick()  # too early: the lease says its owner may still be sending
    assert harness.outbound.sent == []
    harness.clock.advance(timedelta(minutes=6))
    report = await restarted.tick()
    assert report.retried == 3 and len(harness.outbound.sent) == 3
    for _ in range(3):
        harness.clock.advance(timedelta(minutes=10))
        await restarted.tick()
    assert len(harness.outbound.sent) == 3
    assert all(d.status is DeliveryStatus.SENT for d in harness.deliveries())


async def test_reminder_once_after_n_hours_not_in_quiet_hours(sqlite_database: Database) -> None:
    settings = make_settings(sqlite_database.url, reminder_hours=4)
    harness = Harness(
        sqlite_database, settings, FakeClock(datetime(2026, 11, 16, 1, 0, tzinfo=UTC))
    )
    add_person(harness.db, "slow", "Asia/Shanghai")
    await harness.run(datetime(2026, 11, 16, 16, 0, tzinfo=UTC), timedelta(minutes=15))
    texts = [reply.text for reply in harness.outbound.to("slow")]
    reminders = [text for text in texts if text.startswith("⏰")]
    assert len(reminders) == 2  # one per unanswered daily quiz, once each
    sent = [d for d in harness.deliveries() if d.reminded_at is not None]
    from zoneinfo import ZoneInfo

    assert all(
        "13:30" <= f"{d.reminded_at.astimezone(ZoneInfo('Asia/Shanghai')):%H:%M}" < "21:00"
        for d in sent
    )


async def test_two_dispatchers_at_once_never_duplicate(database: Database) -> None:
    settings = make_settings(database.url)
    clock = FakeClock(datetime(2026, 11, 16, 2, 0, tzinfo=UTC))
    first = Harness(database, settings, clock)
    for index in range(30):
        add_person(database, f"p{index}", "Asia/Shanghai")
    second_db = Database(database.url)
    second = Harness(second_db, settings, clock)
    second.outbound = first.outbound  # one platform, two bot processes
    await asyncio.gather(first.dispatcher().tick(), second.dispatcher().tick())
    counts = Counter((s.conversation.chat_id, s.reply.text) for s in first.outbound.sent)
    assert len(first.outbound.sent) == 90
    assert max(counts.values()) == 1
    second_db.dispose()


def test_due_pushes_respects_cadence(harness: Harness) -> None:
    course = harness.library.course
    person = Person(
        id=1, platform=PLATFORM, platform_user_id="x", timezone="Asia/Shanghai", track_id="managers"
    )
    monday = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
    tuesday = monday + timedelta(days=1)
    track = course.tracks["managers"]
    assert (
        due_pushes(person, track, course, PushTimes.of(harness.settings), monday) == []
    )  # managers: Tue-Thu
    kinds = [
        due.kind
        for due in due_pushes(person, track, course, PushTimes.of(harness.settings), tuesday)
    ]
    assert kinds.count(DeliveryKind.LESSON) == 1 and kinds.count(DeliveryKind.QUIZ) == 2


async def test_a_campaign_goes_through_the_same_exactly_once_path(harness: Harness) -> None:
    from bot.campaigns import CampaignError, PushWindow, push_campaign

    for name in ("a", "b"):
        add_person(harness.db, name, "Asia/Shanghai")
    add_person(harness.db, "m", "Asia/Shanghai", track="managers")
    harness.clock.set(datetime(2026, 11, 14, 3, 0, tzinfo=UTC))  # Saturday: no daily pushes
    course = harness.library.course
    window = PushWindow.of(harness.settings)
    first = push_campaign(
        harness.db,
        course,
        now=harness.clock.now(),
        window=window,
        name="kickoff",
        track="frontline",
        lesson="fl-01",
        at_once=True,  # a Saturday: without --now it would wait for Monday
    )
    assert (first.people, first.queued) == (2, 2)
    with pytest.raises(CampaignError, match="already pushed"):
        push_campaign(
            harness.db,
            course,
            now=harness.clock.now(),
            window=window,
            name="kickoff",
            track="frontline",
            lesson="fl-01",
            at_once=True,
        )
    await harness.dispatcher().tick()
    await harness.dispatcher().tick()
    assert sorted(s.conversation.chat_id for s in harness.outbound.sent) == ["a", "b"]
    assert all(s.reply.text.startswith("📘") for s in harness.outbound.sent)
    with pytest.raises(ValueError, match="unknown lesson"):
        push_campaign(
            harness.db,
            course,
            now=harness.clock.now(),
            window=window,
            name="x",
            track="frontline",
            lesson="zz-99",
        )
