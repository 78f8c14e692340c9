"""Transcripts of level 2 in chat, on every front door: the application check-in N days
after a lesson, and the observation checklist a manager or a peer gets once a month.

The pushes come from the real dispatcher on a fake clock, sent through each adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

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
    assert asked == [1, 1, 0]
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
