"""The Telegram adapter's pure translations: saved Bot API payloads in, events out; replies
in, Bot API calls out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram import (
    CALLBACK_DATA_LIMIT,
    MESSAGE_LIMIT,
    BotIdentity,
    CallbackPayloads,
    command_menu,
    file_url_for,
    parse_message_ref,
    parse_update,
    render_html,
    render_keyboard,
    render_reply,
    render_text,
    telegram_length,
)
from bot.app import COMMANDS
from bot.events import (
    Attachment,
    Button,
    ButtonPress,
    Command,
    Conversation,
    ConversationKind,
    Person,
    Reply,
    Text,
)

PAYLOADS = Path(__file__).parent / "payloads" / "telegram"
ME = BotIdentity(123456789, "trainbot_test_bot")
GROUP = "-1001234567890"


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def parse(name: str, payloads: CallbackPayloads | None = None) -> object:
    return parse_update(load(name), me=ME, payloads=payloads)


# -- parsing -------------------------------------------------------------------------------


def test_a_private_message_is_text_from_a_person_with_their_locale() -> None:
    assert parse("private_text.json") == Text(
        Person("telegram", "262144001", "Li Wei", "zh-hans", None),
        Conversation("telegram", "262144001", ConversationKind.DIRECT),
        "如何提高用户留存?",
    )


def test_a_command_loses_its_bot_name_and_case() -> None:
    event = parse("private_command.json")
    assert isinstance(event, Command)
    assert (event.name, event.args) == ("ask", "How often are the training materials reviewed?")
    assert event.person == Person("telegram", "262144002", "Ben", "en")


def test_a_mention_in_a_group_is_text_without_the_mention() -> None:
    event = parse("group_mention.json")
    assert isinstance(event, Text)
    assert event.text == "如何提高用户留存?"
    assert event.conversation == Conversation("telegram", GROUP, ConversationKind.CHANNEL)


@pytest.mark.parametrize(
    "name",
    [
        "group_chatter.json",
        "group_command_for_another_bot.json",
        "group_from_a_bot.json",
        "edited_message.json",
        "private_photo.json",
    ],
)
def test_what_the_bot_must_not_answer_parses_to_nothing(name: str) -> None:
    assert parse(name) is None


def test_a_command_addressed_to_this_bot_in_a_group_counts() -> None:
    event = parse("group_command_for_this_bot.json")
    assert isinstance(event, Command) and event.name == "help"
    assert event.conversation.kind is ConversationKind.CHANNEL


def test_a_reply_to_the_bot_in_a_group_counts_without_a_mention() -> None:
    event = parse("group_reply_to_bot.json")
    assert isinstance(event, Text) and event.text == "那流失用户怎么挽回?"


def test_a_mention_in_a_forum_topic_answers_in_that_topic() -> None:
    event = parse("topic_mention.json")
    assert isinstance(event, Text) and event.text == "what is the activation stage?"
    assert event.conversation == Conversation(
        "telegram", "-1009876543210", ConversationKind.THREAD, "800"
    )


def test_a_callback_query_is_a_button_press_with_the_message_ref() -> None:
    event = parse("callback_query.json")
    assert event == ButtonPress(
        Person("telegram", "262144002", "Ben", "en"),
        Conversation("telegram", "262144002", ConversationKind.DIRECT),
        "qa:17:B",
        message_ref="262144002:57",
    )
    assert parse_message_ref("262144002:57") == ("262144002", 57)
    assert parse_message_ref("-1001234567890:7") == ("-1001234567890", 7)
    assert parse_message_ref("console-ref") is None


def test_a_plain_group_command_for_an_unknown_name_is_left_to_other_bots() -> None:
    update = load("group_command_for_this_bot.json")
    update["message"]["text"] = "/weather"
    assert parse_update(update, me=ME) is None
    update["message"]["text"] = "/quiz"
    event = parse_update(update, me=ME)
    assert isinstance(event, Command) and event.name == "quiz"


# -- callback data -------------------------------------------------------------------------


def test_long_payloads_travel_as_short_tokens_and_come_back() -> None:
    payloads = CallbackPayloads()
    short = "en:tz:America/Los_Angeles"
    assert payloads.encode(short) == short
    long = "set:tz:" + "America/Argentina/ComodRivadavia" * 3
    token = payloads.encode(long)
    assert token.startswith("~") and len(token.encode()) <= CALLBACK_DATA_LIMIT
    assert payloads.encode(long) == token  # the same payload, the same token
    assert payloads.decode(token) == long
    assert payloads.decode(short) == short
    assert payloads.decode("~unknown") == "~unknown"  # the bot answers "stale button"
    update = load("callback_query.json")
    update["callback_query"]["data"] = token
    event = parse_update(update, me=ME, payloads=payloads)
    assert isinstance(event, ButtonPress) and event.payload == long


def test_the_token_store_forgets_the_oldest_first() -> None:
    payloads = CallbackPayloads(capacity=2)
    tokens = [payloads.encode(f"qa:{n}:" + "x" * 80) for n in range(3)]
    assert payloads.decode(tokens[0]) == tokens[0]
    assert payloads.decode(tokens[2]).startswith("qa:2:")


def test_a_keyboard_refuses_a_payload_that_would_not_fit_unless_shortened() -> None:
    long = Button("Europe", "set:tz:" + "x" * 70)
    with pytest.raises(ValueError, match="64 bytes"):
        render_keyboard(((long,),))
    keyboard = render_keyboard(((long,),), callback_data=CallbackPayloads().encode)
    assert keyboard is not None
    assert len(keyboard["inline_keyboard"][0][0]["callback_data"].encode()) <= 64


# -- rendering -----------------------------------------------------------------------------


def test_markdownish_becomes_html_and_everything_else_is_escaped() -> None:
    assert render_html("**bold** and _italic_") == "<b>bold</b> and <i>italic</i>"
    assert render_html("a <b> & c") == "a &lt;b&gt; &amp; c"
    assert render_html("**<i>**") == "<b>&lt;i&gt;</b>"
    assert render_html("evaluation_guide_v2.pdf and snake_case") == (
        "evaluation_guide_v2.pdf and snake_case"
    )
    assert render_html("- item one\n- item two") == "- item one\n- item two"


def test_a_quiz_renders_as_saved() -> None:
    reply = Reply(
        "📝 **Quiz**\nIs 3 < 5 & 5 > 3 in **our** snake_case_names?\n_Choose one_",
        buttons=((Button("A. Yes", "qa:17:A"),), (Button("B. No", "qa:17:B"),)),
    )
    calls = render_reply(reply, chat_id="262144002")
    assert [{"method": c.method, "params": c.params} for c in calls] == load(
        "render_quiz_message.json"
    )


def test_an_answered_quiz_is_edited_and_loses_its_buttons() -> None:
    reply = Reply(
        "📝 **Quiz**\nWhich stage comes right after acquisition?", edit_ref="262144002:57"
    )
    calls = render_reply(reply, chat_id="262144002")
    assert [{"method": c.method, "params": c.params} for c in calls] == load(
        "render_answered_quiz_edit.json"
    )


def test_a_long_text_is_split_between_lines_with_buttons_on_the_last_part() -> None:
    lines = [f"Line {n}: " + "培训 & <内容> " * 20 for n in range(120)]
    reply = Reply("\n".join(lines), buttons=((Button("👍", "fb:1:up"),),))
    calls = render_reply(reply, chat_id="1", reply_to=99)
    assert len(calls) > 1
    assert all(telegram_length(call.params["text"]) <= MESSAGE_LIMIT for call in calls)
    assert all("reply_markup" not in call.params for call in calls[:-1])
    assert calls[-1].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "fb:1:up"
    assert calls[0].params["reply_parameters"]["message_id"] == 99
    assert all("reply_parameters" not in call.params for call in calls[1:])
    rejoined = "\n".join(call.params["text"] for call in calls)
    assert rejoined == render_html(reply.text)  # nothing lost, nothing cut mid-line


def test_a_single_overlong_line_is_cut_into_valid_pieces() -> None:
    text = ("word&amp " * 1000) + "😀" * 3000
    chunks = render_text(text)
    assert len(chunks) > 2
    assert all(telegram_length(chunk) <= MESSAGE_LIMIT for chunk in chunks)
    assert all("&amp;am" not in chunk[-8:] for chunk in chunks)  # no entity cut in half
    assert "".join(chunks) == render_html(text)


def test_a_png_is_a_photo_and_anything_else_a_document() -> None:
    chart = Reply("**Weekly summary**", attachment=Attachment("week.png", b"\x89PNG", "image/png"))
    (photo,) = render_reply(chart, chat_id="5")
    assert photo.method == "sendPhoto" and photo.file.filename == "week.png"
    assert photo.params == {
        "chat_id": "5",
        "caption": "<b>Weekly summary</b>",
        "parse_mode": "HTML",
    }
    csv = Reply("", attachment=Attachment("week.csv", b"a,b\n", "text/csv"))
    (document,) = render_reply(csv, chat_id="5", thread_id="800")
    assert document.method == "sendDocument" and document.params == {
        "chat_id": "5",
        "message_thread_id": 800,
    }
    long = Reply("x" * 2000, attachment=Attachment("week.csv", b"a,b\n", "text/csv"))
    assert [call.method for call in render_reply(long, chat_id="5")] == [
        "sendMessage",
        "sendDocument",
    ]


def test_the_command_menu_comes_from_the_locales_in_both_languages() -> None:
    zh, en = command_menu("zh"), command_menu("en")
    assert [name for name, _ in zh] == [name for name, _ in en] == list(COMMANDS)
    assert dict(en)["quiz"] == "Get a quiz question now"
    assert dict(zh)["quiz"] == "马上来一道测验题"
    assert all(0 < len(text) <= 256 for _, text in zh + en)


def test_the_file_url_follows_the_api_url() -> None:
    assert file_url_for("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_url_for("http://127.0.0.1:8081/bot/") == "http://127.0.0.1:8081/file/bot"
