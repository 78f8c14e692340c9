"""What is private when asked in a group (the bot core), and how a reply list is sent."""

from __future__ import annotations

import logging

import pytest

from adapters.memory import MemoryOutbound
from bot.app import TrainBot
from bot.audience import is_personal, send_replies
from bot.events import (
    Audience,
    BotAddress,
    ButtonPress,
    Command,
    Conversation,
    ConversationKind,
    Person,
    Reply,
    Text,
)
from bot.payloads import AnswerFeedback, QuizAnswer

MIA = Person("memory", "mia", "Mia", "en-US")
GROUP = Conversation("memory", "-100777", ConversationKind.CHANNEL)
THREAD = Conversation("memory", "C0TEAM", ConversationKind.THREAD, thread_id="17.1")
DIRECT = Conversation("memory", "mia", ConversationKind.DIRECT)


@pytest.mark.parametrize(
    ("event", "personal"),
    [
        (Command(MIA, GROUP, "report"), True),
        (Command(MIA, THREAD, "progress"), True),
        (Command(MIA, GROUP, "quiz"), True),
        (Command(MIA, GROUP, "settings", "lang en"), True),
        (Command(MIA, GROUP, "start"), True),
        (Command(MIA, GROUP, "stop"), True),
        (Command(MIA, GROUP, "forget"), True),  # matched by name, whoever adds it
        (Command(MIA, GROUP, "approve", "nina"), True),
        (Command(MIA, GROUP, "help"), False),
        (Command(MIA, GROUP, "ask", "What is churn?"), False),
        (Command(MIA, GROUP, "frobnicate"), False),
        (Text(MIA, THREAD, "What is churn?"), False),
        (ButtonPress(MIA, GROUP, QuizAnswer(7, "a").encode()), True),
        (ButtonPress(MIA, GROUP, "no-longer-made"), True),
        (ButtonPress(MIA, GROUP, AnswerFeedback(3, helpful=True).encode()), False),
        (Command(MIA, DIRECT, "report"), False),
        (ButtonPress(MIA, DIRECT, QuizAnswer(7, "a").encode()), False),
    ],
)
def test_what_is_personal_in_a_group(event: Command | Text | ButtonPress, personal: bool) -> None:
    assert is_personal(event) is personal


async def test_the_core_addresses_personal_answers_privately_and_adds_the_group_notes(
    bot: TrainBot,
) -> None:
    ben = Person("telegram", "4242", "Ben", "en-US")
    group = Conversation("telegram", "-100777", ConversationKind.CHANNEL)
    replies = await bot.handle(Command(ben, group, "progress"))
    assert [reply.audience for reply in replies] == [
        Audience.PRIVATE,
        Audience.DM_SENT_NOTE,
        Audience.NO_DM_NOTE,
    ]
    assert replies[0].text == "You are not enrolled yet. Type /start to begin."
    assert replies[1].text == "📬 Sent you a DM — personal answers don't go to the group."
    assert replies[2].text.startswith("I can't message you privately yet: open a private chat")

    bot.introduce("telegram", BotAddress("@qinghe_bot", "https://t.me/qinghe_bot"))
    *_, no_dm = await bot.handle(Command(ben, group, "quiz"))
    assert "open https://t.me/qinghe_bot (@qinghe_bot) and press Start" in no_dm.text

    direct = Conversation("telegram", "4242", ConversationKind.DIRECT)
    (reply,) = await bot.handle(Command(ben, direct, "progress"))
    assert reply.audience is Audience.HERE


def _answer(text: str) -> list[Reply]:
    return [
        Reply(text, audience=Audience.PRIVATE),
        Reply("chart", audience=Audience.PRIVATE),
        Reply("sent you a DM", audience=Audience.DM_SENT_NOTE),
        Reply("press Start first", audience=Audience.NO_DM_NOTE),
    ]


async def test_private_replies_go_to_the_private_chat_and_the_group_hears_they_did() -> None:
    outbound = MemoryOutbound()
    event = Command(MIA, GROUP, "report")
    await send_replies(_answer("Bob: 12%"), event=event, outbound=outbound)
    assert [reply.text for reply in outbound.to("mia")] == ["Bob: 12%", "chart"]
    assert [reply.text for reply in outbound.to(GROUP.chat_id)] == ["sent you a DM"]
    assert outbound.sent[0].conversation.kind is ConversationKind.DIRECT


async def test_a_refused_private_chat_gets_the_how_to_start_note_and_is_logged_without_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbound = MemoryOutbound(blocked={"mia"})
    caplog.set_level(logging.DEBUG)
    await send_replies(_answer("Bob: 12%"), event=Command(MIA, GROUP, "report"), outbound=outbound)
    assert [(item.conversation.chat_id, item.reply.text) for item in outbound.sent] == [
        (GROUP.chat_id, "press Start first")
    ]
    assert outbound.calls == 2  # one refused private send, then the note
    assert "may not write privately to mia" in caplog.text
    assert "Bob" not in caplog.text


async def test_a_failing_private_chat_posts_nothing_personal_and_no_wrong_advice(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbound = MemoryOutbound(fail_next=1)
    await send_replies(_answer("Bob: 12%"), event=Command(MIA, GROUP, "report"), outbound=outbound)
    assert outbound.sent == []
    assert "could not write privately to mia" in caplog.text and "Bob" not in caplog.text


async def test_a_private_send_of_unknown_outcome_counts_as_sent() -> None:
    outbound = MemoryOutbound(timeout_next=1)
    await send_replies(_answer("Bob: 12%"), event=Command(MIA, GROUP, "report"), outbound=outbound)
    assert [reply.text for reply in outbound.to(GROUP.chat_id)] == ["sent you a DM"]


async def test_replies_for_here_stop_at_the_first_that_fails() -> None:
    outbound = MemoryOutbound(fail_next=1)
    event = Text(MIA, THREAD, "What is churn?")
    await send_replies([Reply("one"), Reply("two")], event=event, outbound=outbound)
    assert outbound.sent == []
    await send_replies([Reply("one"), Reply("two")], event=event, outbound=outbound)
    assert [reply.text for reply in outbound.to("C0TEAM")] == ["one", "two"]
