"""The asker's language, on every front door: an English question gets English around it.

The people here have a Chinese profile (their platform locale is zh-CN), so each reply shows
that the question's language, when clear, decides the header, the source labels and the
buttons (bot.views.answer_language).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.drivers import ChatDriver

DriverFactory = Callable[..., ChatDriver]


def body(reply: str) -> str:
    """The answer between the header and the sources."""
    return reply.split("\n\n", 1)[0].split("\n", 1)[1]


async def test_an_english_question_about_english_material_reads_english(
    chat_as: DriverFactory,
) -> None:
    alice = chat_as("alice", "zh-CN")
    (reply,) = await alice.say("How do I spot a user who may churn?")
    assert reply.startswith("From the course materials:\n")
    assert "A user counts as churned after 30 days without an order." in reply
    assert "Sources:" in reply and "Helpful" in reply and "Not helpful" in reply
    assert not re.search(r"[\u4e00-\u9fff]", reply)  # no Chinese line, label or button
    (thanks,) = await alice.press("Helpful")
    assert "Thanks for the feedback" in thanks


async def test_an_english_question_about_chinese_only_material_says_so_first(
    chat_as: DriverFactory,
) -> None:
    (reply,) = await chat_as("bob", "zh-CN").say("How is training coverage calculated?")
    assert reply.startswith("The materials cover this only in Chinese:\n培训覆盖率 =")
    assert "Sources:" in reply and "Helpful" in reply
    assert "根据课程资料" not in reply and "来源" not in reply
    assert not re.search(r"[A-Za-z]{3,}", body(reply))  # the passage is not mixed with English


async def test_a_chinese_question_reads_chinese_for_an_english_profile(
    chat_as: DriverFactory,
) -> None:
    (reply,) = await chat_as("carol", "en-US").say("如何提高用户留存？")
    assert reply.startswith("根据课程资料：\n提高留存没有一招制胜的办法")
    # The lead-in comes with its whole list of six practices, and nothing unrelated after.
    assert body(reply).count("\n- ") == 6
    assert "留存率 =" not in reply
    assert "来源：" in reply and "有帮助" in reply


async def test_a_question_that_does_not_say_follows_the_profile(chat_as: DriverFactory) -> None:
    (reply,) = await chat_as("dan", "zh-CN").say("NPS?")
    assert reply.startswith("根据课程资料：") or "课程资料里还没有涉及" in reply


async def test_an_english_question_the_materials_do_not_cover_is_declined_in_english(
    chat_as: DriverFactory,
) -> None:
    (reply,) = await chat_as("erin", "zh-CN").say("What is for lunch in the canteen today?")
    assert reply.startswith("The course materials don't cover this yet")
