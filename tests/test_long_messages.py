"""A huge message costs about what a question costs: only a bounded part of it is searched."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app import TrainBot
from bot.events import Person
from bot.store.models import AskedQuestion
from knowledge.search import MAX_QUERY_CHARS, query_text
from tests.drivers import ConsoleDriver

ANSWERED_EN = "From the course materials:"
ANSWERED_EN_FROM_CHINESE = "The materials cover this only in Chinese:"


def test_a_long_message_is_searched_for_its_question() -> None:
    assert query_text("  What is churn?  ") == "What is churn?"
    paste = "The weekly export lists every order and its delivery slot. " * 700
    assert len(paste) > 40_000
    assert query_text("What is the activation stage? " + paste) == "What is the activation stage?"
    asked_last = query_text(paste + "Which column holds the slot?")
    assert asked_last.endswith("Which column holds the slot?")
    assert len(asked_last) <= MAX_QUERY_CHARS and asked_last.startswith("The weekly export")
    unasked = query_text(paste)
    assert len(unasked) <= MAX_QUERY_CHARS and unasked.endswith("delivery slot.")
    chinese = query_text("用户" * 30_000)
    assert len(chinese) == MAX_QUERY_CHARS


@pytest.mark.parametrize(
    ("message", "replies"),
    [
        (
            "What is the activation stage? "
            + "Pasted from our order export, line after line. " * 860,
            (ANSWERED_EN,),
        ),
        (
            "Pasted from our order export, line after line. " * 860,
            (ANSWERED_EN, ANSWERED_EN_FROM_CHINESE, "don't cover"),
        ),
    ],
    ids=["question first", "no question"],
)
async def test_a_40000_character_message_gets_a_reply_for_a_bounded_query(
    message: str, replies: tuple[str, ...], bot: TrainBot
) -> None:
    assert len(message) > 40_000
    alice = ConsoleDriver(bot, Person("console", "alice", "Alice", "en"))
    (reply,) = await alice.say(message)
    assert any(expected in reply for expected in replies), reply

    searched = query_text(message)
    assert len(searched) <= MAX_QUERY_CHARS
    assert bot.ctx.knowledge is not None
    assert bot.ctx.knowledge.ask(message).question == searched
    with bot.ctx.db.session() as session:
        stored = session.scalars(select(AskedQuestion.text)).one()
    assert stored == searched
