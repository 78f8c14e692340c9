"""Transcripts: what a person types, what the bot answers — on every front door."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.app import TrainBot
from bot.clock import FakeClock
from bot.events import Person
from bot.library import CourseLibrary
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import Person as StoredPerson
from bot.store.models import PersonStatus, Role
from tests.drivers import ChatDriver, ConsoleDriver

DriverFactory = Callable[..., ChatDriver]


@pytest.fixture
def bot(settings: Settings, clock: FakeClock) -> TrainBot:
    db = Database(settings.database_url)
    db.upgrade()
    library = CourseLibrary(settings.content_dir)
    assert library.reload() == []
    return TrainBot(settings=settings, db=db, library=library, clock=clock)


@pytest.fixture(params=["console"])
def chat_as(request: pytest.FixtureRequest, bot: TrainBot) -> DriverFactory:
    """Make a driver for a person with a given locale, on each adapter."""

    def make(user_id: str = "alice", locale: str | None = "zh-CN") -> ChatDriver:
        person = Person(request.param, user_id, display_name=user_id.title(), locale=locale)
        return ConsoleDriver(bot, person)

    return make


def stored(bot: TrainBot, user_id: str) -> StoredPerson | None:
    with bot.ctx.db.session() as session:
        return session.scalars(
            select(StoredPerson).where(StoredPerson.platform_user_id == user_id)
        ).one_or_none()


async def test_help_in_chinese_by_default(chat_as: DriverFactory) -> None:
    (answer,) = await chat_as(locale=None).say("/help")
    assert "你的培训助手" in answer
    assert "/quiz" in answer and "/progress" in answer


async def test_help_in_english_for_an_english_locale(chat_as: DriverFactory) -> None:
    (answer,) = await chat_as(locale="en-US").say("/help")
    assert "your training assistant" in answer
    assert "你" not in answer


async def test_start_enrols_once_and_welcomes(chat_as: DriverFactory, bot: TrainBot) -> None:
    alice = chat_as("alice", "en-GB")
    (first,) = await alice.say("/start")
    assert "Welcome, Alice! You are enrolled." in first
    person = stored(bot, "alice")
    assert person is not None
    assert (person.language, person.status, person.role) == (
        "en",
        PersonStatus.ACTIVE,
        Role.LEARNER,
    )
    assert person.timezone == "Asia/Shanghai"
    (again,) = await alice.say("/start")
    assert "Welcome back, Alice" in again
    with bot.ctx.db.session() as session:
        assert len(session.scalars(select(StoredPerson)).all()) == 1


async def test_stop_pauses_and_start_resumes(chat_as: DriverFactory, bot: TrainBot) -> None:
    bob = chat_as("bob", "zh-CN")
    await bob.say("/start")
    (paused,) = await bob.say("/stop")
    assert "已暂停" in paused
    person = stored(bot, "bob")
    assert person is not None and person.status is PersonStatus.OPTED_OUT
    (resumed,) = await bob.say("/start")
    assert "欢迎回来" in resumed
    person = stored(bot, "bob")
    assert person is not None and person.status is PersonStatus.ACTIVE


async def test_stop_before_enrolling_says_how_to_start(chat_as: DriverFactory) -> None:
    (answer,) = await chat_as("carol", "en").say("/stop")
    assert "not enrolled" in answer and "/start" in answer


async def test_unknown_and_unfinished_commands_are_answered_honestly(
    chat_as: DriverFactory,
) -> None:
    dave = chat_as("dave", "en")
    (unknown,) = await dave.say("/frobnicate")
    assert "I don't know the command /frobnicate" in unknown
    (later,) = await dave.say("/report")
    assert "/report is not available yet" in later


async def test_admins_from_settings_get_the_admin_role(
    settings: Settings, clock: FakeClock
) -> None:
    settings.admins.append("console:erin")
    db = Database(settings.database_url)
    db.upgrade()
    library = CourseLibrary(settings.content_dir)
    library.reload()
    bot = TrainBot(settings=settings, db=db, library=library, clock=clock)
    await ConsoleDriver(bot, Person("console", "erin", "Erin", "en")).say("/start")
    person = stored(bot, "erin")
    assert person is not None and person.role is Role.ADMIN
