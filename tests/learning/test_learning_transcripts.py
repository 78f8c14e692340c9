"""Transcripts of the learning flows: enrolment, /quiz, answering, /progress, /settings, /stop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import TrainBot
from bot.clock import FakeClock
from bot.events import ButtonPress, Conversation, Person
from bot.store.models import Attempt, Delivery, DeliveryKind, ReviewState
from bot.store.models import Person as StoredPerson
from tests.drivers import ChatDriver

DriverFactory = Callable[..., ChatDriver]


@pytest.fixture
def default_locale() -> str | None:
    return "en-US"


def latest(bot: TrainBot, kind: DeliveryKind) -> Delivery:
    with bot.ctx.db.session() as session:
        row = session.scalars(
            select(Delivery).where(Delivery.kind == kind).order_by(Delivery.id.desc())
        ).first()
        assert row is not None
        session.expunge(row)
        return row


def correct_label(bot: TrainBot, delivery: Delivery) -> str:
    from quizzes.grading import option_label

    question = bot.ctx.library.course.question(delivery.item_id or "", "en")
    assert question is not None
    return option_label(question, question.answer[0], "en")


async def enrol(
    driver: ChatDriver, track: str = "Frontline operations", zone: str = "Asia/Shanghai"
) -> None:
    await driver.say("/start")
    await driver.press(track)
    await driver.press(zone)


async def test_enrolment_asks_track_then_time_zone(chat_as: DriverFactory, bot: TrainBot) -> None:
    alice = chat_as("alice")
    (welcome,) = await alice.say("/start")
    assert "Welcome, Alice!" in welcome and "Which track fits your role?" in welcome
    assert "Frontline operations" in welcome and "Managers' planning" in welcome
    (zones,) = await alice.press("Managers")
    assert "Which time zone are you in?" in zones
    assert zones.index("Asia/Shanghai (UTC+8)") < zones.index("Europe/London")  # org default first
    (done,) = await alice.press("Europe/Berlin")
    assert "You're all set: track Managers' planning, daily quiz at 09:30 (Europe/Berlin)" in done
    with bot.ctx.db.session() as session:
        person = session.scalars(select(StoredPerson)).one()
        assert (person.track_id, person.timezone, person.enrollment_step) == (
            "managers",
            "Europe/Berlin",
            None,
        )


async def test_the_time_zone_is_asked_only_when_the_platform_does_not_tell(
    chat_as: DriverFactory,
) -> None:
    sam = chat_as("sam", "en-US", "America/New_York")
    await sam.say("/start")
    (done,) = await sam.press("Frontline")
    if sam.platform == "telegram":  # Telegram never tells a person's time zone
        assert "Which time zone are you in?" in done and "You're all set" not in done
    else:
        assert "You're all set" in done and "(America/New_York)" in done


async def test_quiz_answer_right_then_double_click(chat_as: DriverFactory, bot: TrainBot) -> None:
    alice = chat_as("alice")
    await enrol(alice)
    (intro, lesson) = (await alice.say("/quiz"))[0].split("📘", 1)
    assert "First, the next lesson of your track" in intro and "Got it" in lesson
    (quiz,) = await alice.press("Quiz me")
    assert "📝 Quiz" in quiz
    delivery = latest(bot, DeliveryKind.QUIZ)
    right = correct_label(bot, delivery)
    (feedback,) = await alice.press(right)
    assert feedback.startswith("✅ Correct!") and "📎 Source:" in feedback
    (again,) = await alice.press(right)
    assert "already answered" in again
    with bot.ctx.db.session() as session:
        assert len(session.scalars(select(Attempt)).all()) == 1
        state = session.get(ReviewState, (delivery.person_id, delivery.item_id))
        assert state is not None and state.reviews == 1 and state.due > bot.ctx.clock.now()


async def test_a_wrong_answer_shows_the_right_one(chat_as: DriverFactory, bot: TrainBot) -> None:
    bob = chat_as("bob")
    await enrol(bob)
    await bob.say("/quiz")
    await bob.press("Quiz me")
    delivery = latest(bot, DeliveryKind.QUIZ)
    question = bot.ctx.library.course.question(delivery.item_id or "", "en")
    assert question is not None
    wrong = next(key for key in question.keys if key not in question.answer)
    from quizzes.grading import option_label

    (feedback,) = await bob.press(option_label(question, wrong, "en"))
    assert feedback.startswith("❌ Not quite. The answer is:")
    assert option_label(question, question.answer[0], "en") in feedback
    assert question.explanation in feedback
    with bot.ctx.db.session() as session:
        attempt = session.scalars(select(Attempt)).one()
        assert not attempt.correct and attempt.chosen == {"keys": [wrong]}


async def test_someone_elses_and_stale_buttons_change_nothing(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    alice = chat_as("alice")
    await enrol(alice)
    await alice.say("/quiz")
    await alice.press("Quiz me")
    delivery = latest(bot, DeliveryKind.QUIZ)
    question = bot.ctx.library.course.question(delivery.item_id or "", "en")
    assert question is not None
    payload = f"qa:{delivery.id}:{question.answer[0]}"
    mallory = chat_as("mallory")
    await enrol(mallory)
    (reply,) = await bot.handle(
        ButtonPress(
            Person(mallory.platform, mallory.user_id, "Mallory", "en"),
            Conversation(mallory.platform, mallory.user_id),
            payload,
        )
    )
    assert "sent to someone else" in reply.text
    (stale,) = await bot.handle(
        ButtonPress(
            Person(alice.platform, alice.user_id, "Alice", "en"),
            Conversation(alice.platform, alice.user_id),
            "qa:999999:A",
        )
    )
    assert stale.text == "That button is no longer active."
    with bot.ctx.db.session() as session:
        assert session.scalars(select(Attempt)).all() == []


async def test_progress_counts_answers(chat_as: DriverFactory, bot: TrainBot) -> None:
    carol = chat_as("carol")
    await enrol(carol)
    await carol.say("/quiz")
    await carol.press("Quiz me")
    await carol.press(correct_label(bot, latest(bot, DeliveryKind.QUIZ)))
    (progress,) = await carol.say("/progress")
    assert "Your progress" in progress
    assert "lessons 1/6" in progress and "Streak: 1 day(s)" in progress
    assert "Answers: 1, accuracy 100%" in progress


async def test_stop_pauses_and_start_resumes_but_questions_still_work(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    dan = chat_as("dan")
    await enrol(dan)
    (paused,) = await dan.say("/stop")
    assert "paused" in paused
    (resumed,) = await dan.say("/start")
    assert "Welcome back, Dan" in resumed and "You're all set" in resumed


async def test_settings_change_language_time_zone_and_time(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    erin = chat_as("erin")
    await enrol(erin)
    (current,) = await erin.say("/settings")
    assert "Your settings" in current and "Daily quiz time: 09:30" in current
    (saved,) = await erin.press("中文")
    assert "已保存" in saved and "语言：中文" in saved
    (tz,) = await erin.say("/settings tz Europe/Berlin")
    assert "Europe/Berlin" in tz
    (bad,) = await erin.say("/settings time 25:00")
    assert "这个设置用不了" in bad
    (good,) = await erin.say("/settings time 07:45")
    assert "07:45" in good
    with bot.ctx.db.session() as session:
        person = session.scalars(select(StoredPerson)).one()
        assert (person.language, person.timezone, person.quiz_time) == (
            "zh",
            "Europe/Berlin",
            "07:45",
        )


async def test_multi_select_toggles_then_submits(chat_as: DriverFactory, bot: TrainBot) -> None:
    from bot.views import quiz_reply
    from quizzes.content import QuestionType

    course = bot.ctx.library.course
    multi = next(
        q
        for (qid, lang), q in course.questions.items()
        if lang == "en" and q.type is QuestionType.MULTI and q.track == "frontline"
    )
    frank = chat_as("frank")
    await enrol(frank)
    from bot.learning import claim, local_date
    from bot.store.models import DeliveryStatus

    with bot.ctx.db.session() as session:
        person = session.scalars(select(StoredPerson)).one()
        now = bot.ctx.clock.now()
        delivery = claim(
            session,
            person,
            kind=DeliveryKind.QUIZ,
            day=local_date(person, now),
            slot="test",
            item_id=multi.id,
            now=now,
        )
        assert delivery is not None
        delivery.status, delivery.sent_at = DeliveryStatus.SENT, now
        delivery_id = delivery.id
    (quiz,) = await frank.pushed(quiz_reply(multi, delivery_id, "en"))
    assert "Submit" in quiz
    for key in multi.answer:
        await frank.press(f"☐ {key}") if len(multi.options[key]) > 28 else await frank.press(
            f"☐ {key}."
        )
    (feedback,) = await frank.press("Submit")
    assert feedback.startswith("✅ Correct!")


async def test_a_press_is_one_transaction_and_two_at_once_count_once(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    """One unit of work per press; a double click racing itself records one attempt."""
    import asyncio

    from sqlalchemy import event

    dana = chat_as("dana")
    await enrol(dana)
    await dana.say("/quiz")
    await dana.press("Quiz me")
    delivery = latest(bot, DeliveryKind.QUIZ)
    question = bot.ctx.library.course.question(delivery.item_id or "", "en")
    assert question is not None
    press = ButtonPress(
        Person(dana.platform, dana.user_id, "Dana", "en"),
        Conversation(dana.platform, dana.user_id),
        f"qa:{delivery.id}:{question.answer[0]}",
    )
    begun: list[object] = []

    def count(connection: object) -> None:
        begun.append(connection)

    event.listen(bot.ctx.db.engine, "begin", count)
    try:
        first, second = await asyncio.gather(bot.handle(press), bot.handle(press))
    finally:
        event.remove(bot.ctx.db.engine, "begin", count)
    # One transaction each, after the admission gate's own short read (bot/admission.py):
    # sharing it would hold a read snapshot across the press, which SQLite cannot upgrade
    # to a write once another press has written.
    assert len(begun) == 4
    texts = sorted(reply.text for replies in (first, second) for reply in replies)
    assert sum("Correct" in text for text in texts) == 1
    assert sum("already answered" in text for text in texts) == 1
    with bot.ctx.db.session() as session:
        assert len(session.scalars(select(Attempt)).all()) == 1


async def test_a_weekday_streak_survives_the_weekend(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    dana = chat_as("dana")
    await enrol(dana)  # Monday 16 November, 09:30 in Shanghai
    await dana.say("/quiz")  # Monday: the first lesson, then its quiz
    await dana.press("Quiz me")
    await dana.press(correct_label(bot, latest(bot, DeliveryKind.QUIZ)))
    for _ in range(4):  # Tuesday to Friday: one quiz a day
        clock.advance(timedelta(days=1))
        shown = await dana.say("/quiz")
        if "Quiz me" in shown[-1]:  # a lesson came first
            await dana.press("Quiz me")
        quiz = latest(bot, DeliveryKind.QUIZ)
        question = bot.ctx.library.course.question(quiz.item_id or "", "en")
        assert question is not None
        # The answer's buttons as the front door hands them over (labels differ per door):
        # one press, or a tick per right option and the submit of a multi-select question.
        presses = [f"qa:{quiz.id}:{question.answer[0]}"]
        if question.type.value == "multi":
            presses = [f"qt:{quiz.id}:{key}" for key in question.answer] + [f"qs:{quiz.id}"]
        for payload in presses:
            await bot.handle(
                ButtonPress(
                    Person(dana.platform, dana.user_id, "Dana", "en"),
                    Conversation(dana.platform, dana.user_id),
                    payload,
                )
            )
    with bot.ctx.db.session() as session:
        assert len(session.scalars(select(Attempt)).all()) == 5
    (friday,) = await dana.say("/progress")
    assert "Streak: 5 day(s)" in friday
    clock.advance(timedelta(days=2, hours=12))  # Sunday 22:00 in Shanghai
    (sunday,) = await dana.say("/progress")
    assert "Streak: 5 day(s)" in sunday
    clock.advance(timedelta(days=2))  # Tuesday: Monday went unanswered
    (tuesday,) = await dana.say("/progress")
    assert "Streak: 0 day(s)" in tuesday
