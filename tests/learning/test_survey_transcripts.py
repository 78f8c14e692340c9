"""Transcripts of the satisfaction survey after a lesson, on every front door.

A rating after a lesson, a comment by reply, a double tap counting once, quiet hours, one
prompt a day, and the track's survey rule (off, every Nth, end of track).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import events
from bot.app import TrainBot
from bot.clock import FakeClock
from bot.events import ButtonPress, Conversation
from bot.learning import claim, local_date
from bot.people import find_person
from bot.store.models import DeliveryKind, DeliveryStatus, SurveyResponse
from bot.views import render_delivery
from quizzes.content import SurveyRule
from tests.drivers import ChatDriver

DriverFactory = Callable[..., ChatDriver]


@pytest.fixture
def default_locale() -> str | None:
    return "en-US"


async def enrol(driver: ChatDriver) -> None:
    await driver.say("/start")
    await driver.press("Frontline operations")
    if driver.platform == "telegram":  # Telegram never tells a person's time zone
        await driver.press("Asia/Shanghai")


async def push_lesson(bot: TrainBot, driver: ChatDriver, lesson_id: str) -> str:
    """Push a lesson to the person as the dispatcher would; return what they saw."""
    now = bot.ctx.clock.now()
    with bot.ctx.db.session() as session:
        person = find_person(session, events.Person(driver.platform, driver.user_id))
        assert person is not None
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
    seen = [text for reply in replies for text in await driver.pushed(reply)]
    return "\n".join(seen)


def surveys(bot: TrainBot) -> list[SurveyResponse]:
    with bot.ctx.db.session() as session:
        rows = list(session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)).all())
        session.expunge_all()
        return rows


def set_rule(bot: TrainBot, rule: SurveyRule, track_id: str = "frontline") -> None:
    course = bot.ctx.library.course
    course.tracks[track_id] = course.tracks[track_id].model_copy(update={"survey": rule})


async def test_rating_after_a_lesson_a_comment_by_reply_and_a_double_tap(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    alice = chat_as("alice")
    await enrol(alice)
    await push_lesson(bot, alice, "fl-01")
    (done,) = await alice.press("Got it")
    assert "Noted — lesson completed." in done
    assert "How useful was “The five stages of the user lifecycle”?" in done
    assert "⭐1" in done and "⭐5" in done
    (rated,) = await alice.press("⭐4")
    assert "you rated it ⭐4" in rated and "Reply to this message with a comment" in rated
    (saved,) = await alice.reply("you rated it ⭐4", "The example with Mrs Li helped")
    assert "your comment is saved" in saved
    (again,) = await alice.press("⭐2")  # the prompt's button, tapped a second time
    assert "already recorded (⭐4)" in again and "counts once" in again
    (row,) = surveys(bot)
    assert (row.lesson_id, row.rating, row.end_of_track) == ("fl-01", 4, False)
    assert row.comment == "The example with Mrs Li helped"
    assert row.asked_on.isoformat() == "2026-11-16"  # Monday 09:30 in Shanghai


async def test_an_ordinary_message_is_no_comment(chat_as: DriverFactory, bot: TrainBot) -> None:
    bob = chat_as("bob")
    await enrol(bob)
    await push_lesson(bot, bob, "fl-01")
    await bob.press("Got it")
    await bob.press("⭐5")
    await bob.say("/progress")  # the bot said something else since the rating
    (answer,) = await bob.say("What counts as churn?")
    assert "comment is saved" not in answer
    assert surveys(bot)[0].comment is None


async def test_one_survey_prompt_a_day(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    carol = chat_as("carol")
    await enrol(carol)
    await push_lesson(bot, carol, "fl-01")
    (first,) = await carol.press("Got it")
    assert "How useful" in first
    await push_lesson(bot, carol, "fl-02")
    (second,) = await carol.press("Got it")
    assert "Noted — lesson completed." in second and "How useful" not in second
    clock.advance(timedelta(days=1))
    await push_lesson(bot, carol, "fl-03")
    (third,) = await carol.press("Got it")
    assert "How useful" in third
    assert [row.lesson_id for row in surveys(bot)] == ["fl-01", "fl-03"]


async def test_no_prompt_in_quiet_hours(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    dan = chat_as("dan")
    await enrol(dan)
    clock.set(datetime(2026, 11, 16, 14, 0, tzinfo=UTC))  # 22:00 in Shanghai: quiet hours
    await push_lesson(bot, dan, "fl-01")
    (done,) = await dan.press("Got it")
    assert "Noted — lesson completed." in done and "How useful" not in done and "⭐" not in done
    assert surveys(bot) == []  # skipped, not deferred: nothing waits to be sent later


async def test_a_track_with_surveys_off(chat_as: DriverFactory, bot: TrainBot) -> None:
    set_rule(bot, SurveyRule(every=0, end_of_track=False))
    erin = chat_as("erin")
    await enrol(erin)
    await push_lesson(bot, erin, "fl-06")  # even the last lesson
    (done,) = await erin.press("Got it")
    assert "How useful" not in done and "⭐" not in done
    assert surveys(bot) == []


async def test_every_second_lesson_and_the_end_of_the_track(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    set_rule(bot, SurveyRule(every=2, end_of_track=True))
    fay = chat_as("fay")
    await enrol(fay)
    seen = []
    for lesson_id in ("fl-01", "fl-02", "fl-03", "fl-06"):
        await push_lesson(bot, fay, lesson_id)
        (done,) = await fay.press("Got it")
        seen.append(done)
        clock.advance(timedelta(days=1))
    assert ["How useful" in text for text in seen] == [False, True, False, True]
    assert "You finished the track “Frontline operations”" in seen[-1]
    rows = surveys(bot)
    assert [(row.lesson_id, row.end_of_track) for row in rows] == [
        ("fl-02", False),
        ("fl-06", True),
    ]


async def test_the_prompt_speaks_chinese(chat_as: DriverFactory, bot: TrainBot) -> None:
    gao = chat_as("gao", "zh-CN")
    await gao.say("/start")
    await gao.press("一线运营")
    if gao.platform == "telegram":
        await gao.press("Asia/Shanghai")
    with bot.ctx.db.session() as session:
        person = find_person(session, events.Person(gao.platform, gao.user_id))
        assert person is not None and person.language == "zh"
    await push_lesson(bot, gao, "fl-01")
    (done,) = await gao.press("学完了")
    assert "对你有多大帮助" in done
    (rated,) = await gao.press("⭐5")
    assert "你的评分是 ⭐5" in rated
    (saved,) = await gao.reply("你的评分是 ⭐5", "例子很实用")
    assert "你的意见已和评分一起保存" in saved


async def test_quiz_me_asks_the_survey_before_the_quiz(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    hal = chat_as("hal")
    await enrol(hal)
    await push_lesson(bot, hal, "fl-01")
    (shown,) = await hal.press("Quiz me")
    assert shown.index("How useful") < shown.index("📝 Quiz")
    (rated,) = await hal.press("⭐3")
    assert "you rated it ⭐3" in rated
    assert surveys(bot)[0].rating == 3


async def test_forget_names_and_erases_the_ratings(chat_as: DriverFactory, bot: TrainBot) -> None:
    ivy = chat_as("ivy")
    await enrol(ivy)
    await push_lesson(bot, ivy, "fl-01")
    await ivy.press("Got it")
    await ivy.press("⭐2")
    await ivy.reply("you rated it ⭐2", "Too long for a phone screen")
    (summary,) = await ivy.say("/forget")
    assert "your ratings of lessons (1) and the comments you added" in summary
    await ivy.press("Yes, erase")
    assert surveys(bot) == []


async def test_someone_elses_survey_and_a_forged_one(chat_as: DriverFactory, bot: TrainBot) -> None:
    jo = chat_as("jo")
    await enrol(jo)
    await push_lesson(bot, jo, "fl-01")
    await jo.press("Got it")
    survey_id = surveys(bot)[0].id
    kim = chat_as("kim")
    await enrol(kim)
    conversation = Conversation(kim.platform, kim.user_id)
    who = events.Person(kim.platform, kim.user_id, locale="en-US")
    (not_yours,) = bot.handle_now(ButtonPress(who, conversation, f"sv:{survey_id}:1"))
    assert "That survey was sent to someone else" in not_yours.text
    (stale,) = bot.handle_now(ButtonPress(who, conversation, "sv:999:1"))
    assert "no longer active" in stale.text
    assert surveys(bot)[0].rating is None


async def test_comments_feed_the_learners_words_analysis(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    from bot.evaluation.words import analyse_lessons
    from bot.surveys import comments_by_lesson

    for user_id, lesson_id, rating, text in (
        ("kai", "fl-01", 5, "Very useful, clear examples"),
        ("lin", "fl-02", 1, "Too long and confusing"),
        ("mo", "fl-02", 2, "Confusing, too long for a phone"),
    ):
        learner = chat_as(user_id)
        await enrol(learner)
        await push_lesson(bot, learner, lesson_id)
        await learner.press("Got it")
        await learner.press(f"⭐{rating}")
        await learner.reply(f"you rated it ⭐{rating}", text)
    with bot.ctx.db.session() as session:
        comments = comments_by_lesson(session)
    assert comments == {
        "fl-01": ["Very useful, clear examples"],
        "fl-02": ["Too long and confusing", "Confusing, too long for a phone"],
    }
    ranked = analyse_lessons(comments)  # the lexicon: no embedding model given
    assert [lesson.lesson_id for lesson in ranked] == ["fl-02", "fl-01"]  # most negative first
