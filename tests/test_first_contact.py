"""First contact on every front door: /whoami, the welcome, and what /settings explains."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import TrainBot
from bot.dispatcher import Dispatcher
from bot.events import Person, Reply
from bot.settings import Settings, load_settings
from bot.store.models import Person as StoredPerson
from tests.conftest import SAMPLE_CONTENT
from tests.drivers import ChatDriver, ConsoleDriver, GroupFactory

DriverFactory = Callable[..., ChatDriver]


async def enrol(driver: ChatDriver) -> None:
    await driver.say("/start")
    await driver.press("Frontline operations")
    await driver.press("Asia/Shanghai")


def stored(bot: TrainBot, driver: ChatDriver) -> StoredPerson:
    with bot.ctx.db.session() as session:
        return session.scalars(
            select(StoredPerson).where(StoredPerson.platform_user_id == driver.user_id)
        ).one()


async def test_whoami_names_the_person_and_the_chat(chat_as: DriverFactory) -> None:
    ana = chat_as("ana", "en-US")
    (answer,) = await ana.say("/whoami")
    platform, user_id = ana.platform, ana.user_id
    assert f"Your {platform} user id: {user_id}" in answer
    assert f"TRAINBOT_ADMINS as {platform}:{user_id}" in answer
    assert "This chat's id: " in answer
    assert "group" not in answer  # a private chat is not a group


async def test_whoami_in_chinese(chat_as: DriverFactory) -> None:
    lan = chat_as("lan", "zh-CN")
    (answer,) = await lan.say("/whoami")
    assert f"你的 {lan.platform} 用户 ID：{lan.user_id}" in answer and "本会话的 ID：" in answer


async def test_whoami_in_a_group_names_the_group_id_in_the_group(in_group: GroupFactory) -> None:
    mia = in_group("mia", "en-US")
    group, private = await mia.say_in_group("/whoami")
    assert f"user id: {mia.user_id}" in group
    assert "This is the group's id: use " in group
    assert private == ""  # nothing personal beyond the asker's own id, so it stays in place


async def test_help_lists_whoami(chat_as: DriverFactory) -> None:
    (answer,) = await chat_as("ana", "en-US").say("/help")
    assert "whoami" in answer


@pytest.mark.parametrize("zone", [None, "Europe/Berlin"])
async def test_welcome_promises_the_questions_it_asks(
    chat_as: DriverFactory, zone: str | None
) -> None:
    # Telegram never tells a time zone; Slack and the console may, then it is not asked.
    ana = chat_as("ana", "en-US", zone)
    (welcome,) = await ana.say("/start")
    assert "Which track fits your role?" in welcome
    (after_track,) = await ana.press("Frontline operations")
    asks_zone = "Which time zone are you in?" in after_track
    promised = "two quick questions" if asks_zone else "one quick question"
    assert promised in welcome
    assert asks_zone is (zone is None or ana.platform == "telegram")


async def test_quiz_time_in_quiet_hours_says_when_it_comes(chat_as: DriverFactory) -> None:
    erin = chat_as("erin", "en-US")
    await enrol(erin)
    (late,) = await erin.say("/settings time 22:30")
    assert "Daily quiz time: 22:30" in late
    assert "inside quiet hours (21:00-08:00)" in late and "at 08:00" in late
    (fine,) = await erin.say("/settings time 09:15")
    assert "09:15" in fine and "quiet" not in fine


async def test_quiz_time_in_quiet_hours_in_chinese(chat_as: DriverFactory) -> None:
    lan = chat_as("lan", "zh-CN")
    await lan.say("/start")
    await lan.press("一线运营")
    await lan.press("Asia/Shanghai")
    (late,) = await lan.say("/settings time 23:00")
    assert "免打扰时段（21:00-08:00）" in late and "08:00 送达" in late


async def test_a_city_name_is_a_time_zone(chat_as: DriverFactory, bot: TrainBot) -> None:
    erin = chat_as("erin", "en-US")
    await enrol(erin)
    (saved,) = await erin.say("/settings tz Vancouver")
    assert "Time zone: America/Vancouver" in saved
    (two_words,) = await erin.say("/settings tz new york")
    assert "Time zone: America/New_York" in two_words
    assert stored(bot, erin).timezone == "America/New_York"
    (ambiguous,) = await erin.say("/settings tz Indianapolis")
    assert "America/Indiana/Indianapolis" in ambiguous and "America/Indianapolis" in ambiguous
    (unknown,) = await erin.say("/settings tz Narnia")
    assert "I don't know a time zone called Narnia" in unknown
    assert stored(bot, erin).timezone == "America/New_York"


async def test_the_places_chinese_speakers_type_are_time_zones(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    """China has one zone, named after Shanghai: 北京, 深圳 or Beijing mean it; 温哥华 is
    Vancouver; UTC+8 is a fixed offset."""
    lan = chat_as("lan", "zh-CN")
    await lan.say("/start")
    await lan.press("一线运营")
    await lan.press("Asia/Shanghai")
    for typed, zone in (
        ("北京", "Asia/Shanghai"),
        ("温哥华", "America/Vancouver"),
        ("Shenzhen", "Asia/Shanghai"),
        ("深圳市", "Asia/Shanghai"),
        ("UTC+8", "Etc/GMT-8"),
    ):
        (saved,) = await lan.say(f"/settings tz {typed}")
        assert zone in saved, (typed, saved)
        assert stored(bot, lan).timezone == zone


async def test_a_learner_moves_only_to_a_switchable_track(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    erin = chat_as("erin", "en-US")
    await erin.say("/start")
    await erin.press("Managers' planning")
    await erin.press("Asia/Shanghai")
    (current,) = await erin.say("/settings")
    assert "- Track: Managers' planning" in current
    assert "Tracks you can move to: frontline" in current
    (moved,) = await erin.say("/settings track frontline")
    assert "Saved. Track: Frontline operations" in moved
    assert stored(bot, erin).track_id == "frontline"
    (refused,) = await erin.say("/settings track managers")
    assert "You can't move yourself to the track managers" in refused
    assert stored(bot, erin).track_id == "frontline"


async def test_an_old_enrolment_button_moves_no_one_to_a_kept_track(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    """The /start message stays in the chat: pressing its other track later is a change of
    track, allowed only where /settings track allows it."""
    fay = chat_as("fay", "en-US")
    if fay.platform == "console":
        pytest.skip("the console offers only the last message's buttons: none is old")
    await fay.say("/start")
    await fay.press("Frontline operations")
    await fay.press("Asia/Shanghai")
    (refused,) = await fay.press("Managers' planning")
    assert "You can't move yourself to the track managers" in refused
    assert stored(bot, fay).track_id == "frontline"
    (again,) = await fay.press("Frontline operations")
    assert "track Frontline operations" in again
    assert stored(bot, fay).track_id == "frontline"


class TestBeforeAdmission:
    """/whoami answers people the roster does not let in yet, and only about themselves."""

    @pytest.fixture
    def settings(self, tmp_path: Path, private_index_dir: Path) -> Settings:
        return load_settings(
            database_url=f"sqlite:///{tmp_path / 'trainbot.db'}",
            content_dir=SAMPLE_CONTENT,
            index_dir=private_index_dir,
            enrolment="roster",
        )

    async def test_whoami_works_before_the_roster_exists(
        self, chat_as: DriverFactory, bot: TrainBot
    ) -> None:
        stranger = chat_as("zoe", "en-US")
        (refused,) = await stranger.say("/help")
        assert "your training assistant" not in refused
        (answer,) = await stranger.say("/whoami")
        assert f"user id: {stranger.user_id}" in answer
        with bot.ctx.db.session() as session:
            assert session.scalars(select(StoredPerson)).all() == []


async def test_console_pushes_name_their_recipient(bot: TrainBot) -> None:
    """``trainbot run`` prints every console learner's pushes into one terminal."""
    alice = ConsoleDriver(bot, Person("console", "alice", "Alice", "en-US", "Asia/Shanghai"))
    bob = ConsoleDriver(bot, Person("console", "bob", "Bob", "zh-CN", "Asia/Shanghai"))
    for learner, track in ((alice, "Frontline operations"), (bob, "一线运营")):
        await learner.say("/start")
        await learner.press(track)
    dispatcher = Dispatcher(
        db=bot.ctx.db,
        library=bot.ctx.library,
        settings=bot.ctx.settings,
        clock=bot.ctx.clock,  # Monday 09:30 in Shanghai: lesson and quiz time
        outbound={"console": alice.chat},
    )
    start = alice.out.tell()
    report = await dispatcher.tick()
    assert report.sent >= 2
    terminal = alice.out.getvalue()[start:]
    assert "📨 For alice:" in terminal and "📨 For bob:" in terminal
    (zh_header,) = await bob.pushed(Reply("…"))
    assert "📨 发给 bob：" in zh_header
