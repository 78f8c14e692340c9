"""Transcripts of level 2 in chat, on every front door: the application check-in N days
after a lesson, and the observation checklist a manager or a peer gets once a month.

The pushes come from the real dispatcher on a fake clock, sent through each adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from bot import events
from bot.app import TrainBot
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.events import Conversation, Reply
from bot.learning import claim, local_date
from bot.people import find_person
from bot.store.models import (
    ApplicationReport,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Observer,
    Person,
    SurveyResponse,
)
from bot.views import render_delivery
from tests.drivers import ChatDriver

DriverFactory = Callable[..., ChatDriver]
TUESDAY = datetime(2026, 11, 17, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
CHECKIN = "applied it at work?"


@pytest.fixture
def default_locale() -> str | None:
    return "en-US"


class DriverOutbound:
    """The dispatcher's outbound port, sending each push through the person's driver."""

    def __init__(self, bot: TrainBot) -> None:
        self.bot = bot
        self.drivers: dict[str, ChatDriver] = {}
        self.seen: dict[str, list[str]] = {}

    def add(self, driver: ChatDriver) -> None:
        with self.bot.ctx.db.session() as session:
            person = stored(session, driver)
            self.drivers[person.chat_id or person.platform_user_id] = driver

    async def send(self, conversation: Conversation, reply: Reply) -> str | None:
        driver = self.drivers[conversation.chat_id]
        self.seen.setdefault(driver.user_id, []).extend(await driver.pushed(reply))
        return None

    def take(self, driver: ChatDriver) -> str:
        """Everything pushed to ``driver`` since the last call."""
        return "\n".join(self.seen.pop(driver.user_id, []))


def stored(session: object, driver: ChatDriver) -> Person:
    person = find_person(session, events.Person(driver.platform, driver.user_id))  # type: ignore[arg-type]
    assert person is not None
    return person


def dispatcher(bot: TrainBot, outbound: DriverOutbound, platform: str) -> Dispatcher:
    return Dispatcher(
        db=bot.ctx.db,
        library=bot.ctx.library,
        settings=bot.ctx.settings,
        clock=bot.ctx.clock,
        outbound={platform: outbound},
    )


async def enrol(driver: ChatDriver, track: str = "Frontline operations") -> None:
    """Enrol to the end (pushes go to enrolled people only), in Shanghai's time zone."""
    await driver.say("/start")
    (asked,) = await driver.press(track)
    if "Asia/Shanghai" in asked:  # the platform did not tell the person's zone
        await driver.press("Asia/Shanghai")


async def complete_lesson(
    bot: TrainBot, driver: ChatDriver, lesson_id: str, done: str = "Got it"
) -> str:
    """Push a lesson as the dispatcher would and press "Got it"; return what they saw."""
    now = bot.ctx.clock.now()
    with bot.ctx.db.session() as session:
        person = stored(session, driver)
        day = local_date(person, now, fallback_timezone=bot.ctx.settings.timezone)
        delivery = claim(
            session,
            person,
            kind=DeliveryKind.LESSON,
            day=day,
            slot=f"test:{lesson_id}",
            item_id=lesson_id,
            now=now,
        )
        assert delivery is not None
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        replies = render_delivery(bot.ctx.library.course, delivery, person.language)
    for reply in replies:
        await driver.pushed(reply)
    (said,) = await driver.press(done)
    return said


def reports(bot: TrainBot) -> list[ApplicationReport]:
    with bot.ctx.db.session() as session:
        rows = list(session.scalars(select(ApplicationReport).order_by(ApplicationReport.id)).all())
        session.expunge_all()
        return rows


def checkins(bot: TrainBot) -> list[Delivery]:
    with bot.ctx.db.session() as session:
        rows = list(
            session.scalars(
                select(Delivery).where(Delivery.kind == DeliveryKind.CHECKIN).order_by(Delivery.id)
            ).all()
        )
        session.expunge_all()
        return rows


async def test_a_checkin_14_days_after_a_lesson_answered_once_with_an_example(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    alice = chat_as("alice")
    await enrol(alice)
    clock.set(TUESDAY)
    await complete_lesson(bot, alice, "fl-01")
    outbound = DriverOutbound(bot)
    outbound.add(alice)
    pushes = dispatcher(bot, outbound, alice.platform)
    clock.set(TUESDAY + timedelta(days=13))  # Monday: 13 days on, not yet
    await pushes.tick()
    assert CHECKIN not in outbound.take(alice)
    clock.set(TUESDAY + timedelta(days=14))
    await pushes.tick()
    seen = outbound.take(alice)
    assert (
        "14 days ago you completed “The five stages of the user lifecycle”. "
        "Have you applied it at work?"
    ) in seen
    for label in ("Several times", "Once", "Not yet", "Not relevant to my work"):
        assert label in seen
    await pushes.tick()  # the same day again: nothing more
    assert CHECKIN not in outbound.take(alice)

    (recorded,) = await alice.press("Several times")
    assert "“The five stages of the user lifecycle”: recorded — Several times." in recorded
    assert "Reply to this message with an example" in recorded
    (saved,) = await alice.reply("recorded — Several times", "Used the stages with a new shop")
    assert "your example is saved" in saved
    (again,) = await alice.press("Not yet")  # the question's button, tapped a second time
    assert "already recorded (Several times); it counts once" in again

    (row,) = reports(bot)
    assert (row.lesson_id, row.answer, row.applied, row.observer_id) == (
        "fl-01",
        "several",
        True,
        None,
    )
    assert (row.source, row.track_id) == ("self", "frontline")
    assert row.example == "Used the stages with a new shop"
    (checkin,) = checkins(bot)
    assert checkin.status is DeliveryStatus.ANSWERED
    assert checkin.local_date.isoformat() == "2026-12-01"
    (summary,) = await alice.say("/forget")
    assert "answers about applying lessons at work (1)" in summary
    await alice.press("Yes, erase")
    assert reports(bot) == []


async def test_one_checkin_a_day_oldest_first_and_none_for_old_lessons(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    bob = chat_as("bob")
    await enrol(bob)
    clock.set(TUESDAY - timedelta(days=28))  # more than 2 × 14 days before the check-in day
    await complete_lesson(bot, bob, "fl-01")
    clock.set(TUESDAY)
    await complete_lesson(bot, bob, "fl-02")
    clock.set(TUESDAY + timedelta(hours=1))
    await complete_lesson(bot, bob, "fl-03")
    outbound = DriverOutbound(bot)
    outbound.add(bob)
    pushes = dispatcher(bot, outbound, bob.platform)
    asked = []
    for day in (14, 15, 16):  # Tuesday to Thursday
        clock.set(TUESDAY + timedelta(days=day))
        await pushes.tick()
        await pushes.tick()
        asked.append(outbound.take(bob).count(CHECKIN))
    # Wednesday is a lesson day of the track: its feedback prompt is the lesson's rating.
    assert asked == [1, 0, 1]
    assert [row.item_id for row in checkins(bot)] == ["fl-02", "fl-03"]


async def test_one_feedback_prompt_a_day_and_quiet_hours(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    carol = chat_as("carol")
    await enrol(carol)
    clock.set(TUESDAY)
    await complete_lesson(bot, carol, "fl-01")
    outbound = DriverOutbound(bot)
    outbound.add(carol)
    pushes = dispatcher(bot, outbound, carol.platform)
    # The check-in day: a survey prompt came first (a lesson completed at 08:30) …
    clock.set(TUESDAY + timedelta(days=14) - timedelta(hours=1))
    done = await complete_lesson(bot, carol, "fl-02")
    assert "How useful" in done
    clock.set(TUESDAY + timedelta(days=14))
    await pushes.tick()
    assert CHECKIN not in outbound.take(carol)  # … so no check-in today
    # The next day, 22:00 in Shanghai: quiet hours, nothing.
    clock.set(TUESDAY + timedelta(days=15, hours=12, minutes=30))
    await pushes.tick()
    assert CHECKIN not in outbound.take(carol)
    # Thursday 09:30: the check-in, and then no survey prompt after today's lesson.
    clock.set(TUESDAY + timedelta(days=16))
    await pushes.tick()
    assert CHECKIN in outbound.take(carol)
    done = await complete_lesson(bot, carol, "fl-03")
    assert "Noted — lesson completed." in done and "How useful" not in done
    with bot.ctx.db.session() as session:
        asked_on = sorted(
            day.isoformat() for day in session.scalars(select(SurveyResponse.asked_on))
        )
    assert asked_on == ["2026-11-17", "2026-12-01"]


async def test_two_dispatchers_push_a_checkin_once(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    dan = chat_as("dan")
    await enrol(dan)
    clock.set(TUESDAY)
    await complete_lesson(bot, dan, "fl-01")
    outbound = DriverOutbound(bot)
    outbound.add(dan)
    clock.set(TUESDAY + timedelta(days=14))
    first = dispatcher(bot, outbound, dan.platform)
    second = dispatcher(bot, outbound, dan.platform)
    await first.tick()
    await second.tick()
    assert outbound.take(dan).count(CHECKIN) == 1
    assert len(checkins(bot)) == 1
    (recorded,) = await dan.press("Not yet")
    assert "recorded — Not yet. Thanks! If something stood in the way, reply" in recorded


async def test_the_checkin_speaks_chinese(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    gao = chat_as("gao", "zh-CN")
    await enrol(gao, "一线运营")
    clock.set(TUESDAY)
    await complete_lesson(bot, gao, "fl-01", "学完了")
    outbound = DriverOutbound(bot)
    outbound.add(gao)
    clock.set(TUESDAY + timedelta(days=14))
    await dispatcher(bot, outbound, gao.platform).tick()
    seen = outbound.take(gao)
    assert "14 天前你学完了“用户生命周期的五个阶段”。在工作中用上了吗？" in seen
    (recorded,) = await gao.press("用过一次")
    assert "已记录——用过一次" in recorded
    (saved,) = await gao.reply("已记录——用过一次", "给新门店讲了一遍")
    assert "你的例子已和回答一起保存" in saved


DECEMBER_FIRST = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)  # Tuesday 09:30 in Shanghai
LIFECYCLE = "The five stages of the user lifecycle"
ACTIVATION = "Activation: first value, fast"


def observe(
    bot: TrainBot,
    subject: ChatDriver,
    *,
    manager: ChatDriver | None = None,
    peers: tuple[ChatDriver, ...] = (),
) -> None:
    """Set up the roster by hand: ``subject``'s manager and peer observers."""
    with bot.ctx.db.session() as session:
        person = stored(session, subject)
        if manager is not None:
            person.manager_id = stored(session, manager).id
        for peer in peers:
            session.add(
                Observer(
                    subject_id=person.id,
                    observer_id=stored(session, peer).id,
                    added_at=bot.ctx.clock.now(),
                )
            )


def checklists(bot: TrainBot) -> list[Delivery]:
    with bot.ctx.db.session() as session:
        rows = list(
            session.scalars(
                select(Delivery)
                .where(Delivery.kind == DeliveryKind.OBSERVATION)
                .order_by(Delivery.id)
            ).all()
        )
        session.expunge_all()
        return rows


async def a_learner_with_three_lessons(
    bot: TrainBot, chat_as: DriverFactory, clock: FakeClock
) -> ChatDriver:
    """Alice completes fl-01 and fl-02 in November, and fl-03 four days before December."""
    alice = chat_as("alice")
    await enrol(alice)
    clock.set(TUESDAY)
    await complete_lesson(bot, alice, "fl-01")
    clock.set(TUESDAY + timedelta(days=2))
    await complete_lesson(bot, alice, "fl-02")
    clock.set(DECEMBER_FIRST - timedelta(days=4))
    await complete_lesson(bot, alice, "fl-03")
    return alice


async def test_a_managers_checklist_answered_row_by_row(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    alice = await a_learner_with_three_lessons(bot, chat_as, clock)
    mia = chat_as("mia")
    await enrol(mia, "Managers' planning")
    observe(bot, alice, manager=mia)
    outbound = DriverOutbound(bot)
    outbound.add(alice)
    outbound.add(mia)
    pushes = dispatcher(bot, outbound, mia.platform)
    clock.set(DECEMBER_FIRST - timedelta(hours=1))  # 08:30: before the lesson time
    await pushes.tick()
    assert "Observation checklist" not in outbound.take(mia)
    clock.set(DECEMBER_FIRST)
    await pushes.tick()
    seen = outbound.take(mia)
    assert "👀 Observation checklist for Alice: have you seen them apply" in seen
    # The most recent first; fl-03, completed 4 days ago, is too fresh to be observed.
    assert seen.index(f"1. {ACTIVATION}") < seen.index(f"2. {LIFECYCLE}")
    assert "Six ways to improve retention" not in seen and "3 ✅ seen" not in seen
    for label in ("1 ✅ seen", "1 ❌ not seen", "1 ❔ can't tell", "2 ✅ seen"):
        assert label in seen
    assert "Observation checklist" not in outbound.take(alice)

    (first,) = await mia.press("1 ✅ seen")
    assert f"1. {ACTIVATION} — ✅ seen" in first
    assert "1 ❌" not in first and "2 ❌ not seen" in first  # answered rows lose their buttons
    (second,) = await mia.press("2 ❔ can't tell")
    assert f"2. {LIFECYCLE} — ❔ can't tell" in second and "All answered" in second
    (saved,) = await mia.reply("All answered", "She walked a new hire through activation")
    assert "your example is saved" in saved
    (again,) = await mia.press("2 ✅ seen")  # a button of the checklist as sent before
    assert f"Already recorded for “{LIFECYCLE}” (❔ can't tell); it counts once." in again

    rows = reports(bot)
    assert [(row.lesson_id, row.answer, row.applied, row.source) for row in rows] == [
        ("fl-02", "seen", True, "manager"),
        ("fl-01", "unsure", None, "manager"),
    ]
    assert rows[1].example == "She walked a new hire through activation"
    (checklist,) = checklists(bot)
    assert checklist.status is DeliveryStatus.ANSWERED and checklist.completed_at is not None
    assert checklist.selection == {
        "subject": rows[0].subject_id,
        "lessons": ["fl-02", "fl-01"],
        "tracks": ["frontline", "frontline"],
    }
    clock.set(DECEMBER_FIRST + timedelta(days=1))  # once a month
    await pushes.tick()
    assert "Observation checklist" not in outbound.take(mia)
    clock.set(datetime(2027, 1, 4, 1, 30, tzinfo=UTC))  # the next month: asked again
    await pushes.tick()
    assert "Observation checklist for Alice" in outbound.take(mia)


async def test_peers_the_roster_names_and_nobody_else(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    alice = await a_learner_with_three_lessons(bot, chat_as, clock)
    pat = chat_as("pat")
    await enrol(pat)
    sam = chat_as("sam")  # neither her manager nor named: never asked about her
    await enrol(sam)
    observe(bot, alice, peers=(pat,))
    outbound = DriverOutbound(bot)
    for driver in (alice, pat, sam):
        outbound.add(driver)
    pushes = dispatcher(bot, outbound, pat.platform)
    clock.set(DECEMBER_FIRST + timedelta(hours=12, minutes=30))  # 22:00: quiet hours
    await pushes.tick()
    assert "Observation checklist" not in outbound.take(pat)
    clock.set(DECEMBER_FIRST + timedelta(days=1))
    await pushes.tick()
    assert "Observation checklist for Alice" in outbound.take(pat)
    assert "Observation checklist" not in outbound.take(sam)
    with bot.ctx.db.session() as session:  # the roster no longer names Pat
        session.execute(delete(Observer))
    (refused,) = await pat.press("1 ✅ seen")
    assert "no longer active" in refused
    assert reports(bot) == []


async def test_the_checklist_speaks_chinese(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    alice = await a_learner_with_three_lessons(bot, chat_as, clock)
    wei = chat_as("wei", "zh-CN")
    await enrol(wei, "管理规划")
    observe(bot, alice, manager=wei)
    outbound = DriverOutbound(bot)
    outbound.add(alice)
    outbound.add(wei)
    clock.set(DECEMBER_FIRST)
    await dispatcher(bot, outbound, wei.platform).tick()
    seen = outbound.take(wei)
    assert "👀 Alice 的观察清单：你是否看到 TA 在工作中运用了下面这些课的内容？" in seen
    assert "1. 激活：让新用户尽快体验到价值" in seen
    assert "1 ✅ 看到过" in seen and "1 ❌ 没看到" in seen and "1 ❔ 说不准" in seen
    (first,) = await wei.press("1 ✅ 看到过")
    assert "1. 激活：让新用户尽快体验到价值 — ✅ 看到过" in first
