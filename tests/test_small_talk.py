"""Small talk, noise and typed quiz answers: read before anything is searched (issue 14)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.app import TrainBot
from bot.clock import FakeClock
from bot.events import Person, Text
from bot.intent import IntentKind, classify
from bot.library import CourseLibrary
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import AskedQuestion, Attempt, Delivery, DeliveryKind
from tests.drivers import ChatDriver, ConsoleDriver, GroupFactory

DriverFactory = Callable[..., ChatDriver]
LABELLED = yaml.safe_load(
    (Path(__file__).parent.parent / "benchmarks" / "eval" / "chitchat.yaml").read_text("utf-8")
)


def asked_count(bot: TrainBot) -> int:
    with bot.ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(AskedQuestion)) or 0


def test_the_labelled_set_is_large_enough_in_both_languages() -> None:
    lines = [item["text"] for item in LABELLED["small_talk"]]
    assert len(lines) >= 60 and len(LABELLED["questions"]) >= 40
    assert any(re.search(r"[\u4e00-\u9fff]", line) for line in lines)
    assert any(re.search(r"[a-z]", line) for line in LABELLED["questions"])


@pytest.mark.parametrize("item", LABELLED["small_talk"], ids=lambda item: item["text"])
def test_every_labelled_small_talk_line_takes_the_small_talk_path(item: dict[str, str]) -> None:
    intent = classify(item["text"], "zh")
    assert intent.kind is not IntentKind.QUESTION
    assert intent.kind == item["kind"]


@pytest.mark.parametrize("question", LABELLED["questions"])
def test_no_labelled_question_is_taken_for_small_talk(question: str) -> None:
    assert classify(question, "en").kind is IntentKind.QUESTION


@pytest.mark.parametrize(
    ("text", "choice"), [("A", 0), ("b", 1), ("Ｃ", 2), ("d.", 3), ("1", 0), ("４", 3)]
)
def test_a_lone_letter_or_digit_is_a_quiz_choice(text: str, choice: int) -> None:
    intent = classify(text, "en")
    assert intent.kind is IntentKind.CHOICE and intent.choice == choice


@pytest.mark.parametrize("text", ["higher", "type", "fine-tuning", "早期用户", "对于新人", "KPI?"])
def test_a_small_talk_word_inside_a_longer_word_is_no_small_talk(text: str) -> None:
    assert classify(text, "en").kind is IntentKind.QUESTION


async def test_greeting_thanks_and_emoji_get_a_friendly_reply_and_no_search(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    mei = chat_as("mei", "zh-CN")
    (hello,) = await mei.say("你好")
    assert "你好！👋" in hello and "/help" in hello and "培训覆盖率怎么计算？" in hello
    (thanks,) = await mei.say("谢谢！")
    assert "不客气" in thanks
    (emoji,) = await mei.say("😀😀😀")
    assert "我没太看懂" in emoji
    for reply in (hello, thanks, emoji):
        assert "根据课程资料" not in reply and "来源" not in reply and "👍" not in reply
    assert asked_count(bot) == 0


async def test_small_talk_is_answered_in_the_persons_language(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    ann = chat_as("ann", "en-US")
    (hello,) = await ann.say("hi")
    assert "Hi! 👋" in hello and "Ask me about the course" in hello and "/help" in hello
    (ok,) = await ann.say("ok")
    assert "OK 👌" in ok
    (mash,) = await ann.say("asdf qwer")
    assert "I didn't quite get that" in mash and "From the course materials" not in mash
    (letter,) = await ann.say("B")
    assert "No quiz is waiting" in letter and "/quiz" in letter
    assert asked_count(bot) == 0


async def enrol(driver: ChatDriver) -> None:
    await driver.say("/start")
    await driver.press("Frontline operations")
    await driver.press("Asia/Shanghai")


async def pending_quiz(driver: ChatDriver, bot: TrainBot) -> Delivery:
    (shown,) = await driver.say("/quiz")
    if "Quiz me" in shown:  # the track's next lesson comes first
        await driver.press("Quiz me")
    with bot.ctx.db.session() as session:
        delivery = session.scalars(
            select(Delivery).where(Delivery.kind == DeliveryKind.QUIZ).order_by(Delivery.id.desc())
        ).first()
        assert delivery is not None
        session.expunge(delivery)
        return delivery


def attempts(bot: TrainBot) -> list[Attempt]:
    with bot.ctx.db.session() as session:
        rows = list(session.scalars(select(Attempt)))
        session.expunge_all()
        return rows


async def test_a_quiz_is_answered_by_typing_its_letter_once(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    leo = chat_as("leo", "en-US")
    await enrol(leo)
    delivery = await pending_quiz(leo, bot)
    question = bot.ctx.library.course.question(delivery.item_id or "", "en")
    assert question is not None
    letter = "ABCD"[question.keys.index(question.answer[0])]
    (graded,) = await leo.say(letter.lower())
    assert "✅ Correct!" in graded
    (again,) = await leo.say(letter)
    assert "No quiz is waiting" in again
    rows = attempts(bot)
    assert len(rows) == 1 and rows[0].correct and rows[0].chosen == {"keys": [question.answer[0]]}
    assert asked_count(bot) == 0


async def test_a_quiz_is_answered_by_a_full_width_digit_or_the_option_text(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    ivy = chat_as("ivy", "en-US")
    await enrol(ivy)
    delivery = await pending_quiz(ivy, bot)
    question = bot.ctx.library.course.question(delivery.item_id or "", "en")
    assert question is not None
    wrong = next(key for key in question.keys if key not in question.answer)
    (graded,) = await ivy.say("１２３４"[question.keys.index(wrong)])
    assert "❌ Not quite" in graded
    delivery = await pending_quiz(ivy, bot)
    question = bot.ctx.library.course.question(delivery.item_id or "", "en")
    assert question is not None
    right = question.answer[0]
    text = question.options.get(right) or right  # a true/false question: "true"
    (graded,) = await ivy.say(text + ".")
    assert "✅ Correct!" in graded
    assert [row.correct for row in attempts(bot)] == [False, True]
    assert asked_count(bot) == 0


async def test_console_buttons_never_reuse_citation_numbers(bot: TrainBot) -> None:
    kim = ConsoleDriver(bot, Person("console", "kim", "Kim", "zh-CN"))
    (answer,) = await kim.say("培训覆盖率怎么计算？")
    text, buttons_line = answer.rstrip("\n").rsplit("\n", 1)
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert "来源：" in text and cited == set(range(1, max(cited) + 1))
    assert "👍" in buttons_line and "👍" not in text
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", buttons_line)]
    assert numbers == [max(cited) + 1, max(cited) + 2]
    (thanks,) = await kim.say(str(numbers[0]))  # the number shown presses 👍
    assert "谢谢你的反馈" in thanks
    (not_a_button,) = await kim.say("1")  # a citation number is no button: no quiz waits
    assert "没有等你作答的测验题" in not_a_button


async def test_a_letter_in_a_group_does_not_answer_the_private_quiz(
    in_group: GroupFactory, bot: TrainBot
) -> None:
    tom = in_group("tom")
    await enrol(tom)
    await pending_quiz(tom, bot)
    group, private = await tom.say_in_group("B")
    assert "✅" not in group + private and "❌" not in group + private
    assert "I didn't quite get that" in group + private
    assert attempts(bot) == [] and asked_count(bot) == 0
    (hello,) = await tom.say("hello")  # and small talk in the private chat as anywhere
    assert "Hi! 👋" in hello


@pytest.mark.postgres
async def test_two_typed_answers_at_once_count_once(
    db_url: str, settings: Settings, clock: FakeClock
) -> None:
    db = Database(db_url)
    db.upgrade()
    library = CourseLibrary(settings.content_dir)
    library.reload()
    bot = TrainBot(settings=settings, db=db, library=library, clock=clock)
    nia = ConsoleDriver(bot, Person("console", "nia", "Nia", "en"))
    await enrol(nia)
    delivery = await pending_quiz(nia, bot)
    question = bot.ctx.library.course.question(delivery.item_id or "", "en")
    assert question is not None
    letter = "ABCD"[question.keys.index(question.answer[0])]
    typed = Text(nia.person, nia.chat.conversation, letter)
    first, second = await asyncio.gather(bot.handle(typed), bot.handle(typed))
    texts = sorted(reply.text for replies in (first, second) for reply in replies)
    assert sum("✅ Correct!" in text for text in texts) == 1, texts
    assert sum("already answered" in text or "No quiz is waiting" in text for text in texts) == 1
    assert len(attempts(bot)) == 1 and asked_count(bot) == 0
    bot.close()
