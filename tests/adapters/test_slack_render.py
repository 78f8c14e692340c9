"""Slack translation, both ways: saved platform payloads -> neutral events, replies ->
Block Kit. Pure functions, no network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from adapters.slack import (
    ACTION_ID_PREFIX,
    MAX_BUTTON_LABEL,
    MAX_SECTION_CHARS,
    buttons_from_blocks,
    mrkdwn,
    parse_block_action,
    parse_event,
    parse_slash_command,
    person_from_user,
    render_blocks,
    render_message,
    send_error,
)
from bot.events import (
    Button,
    ButtonPress,
    Command,
    Conversation,
    ConversationKind,
    Person,
    Reply,
    Text,
)
from bot.ports import RateLimited, RecipientUnreachable, TransientSendError

PAYLOADS = Path(__file__).parent / "payloads" / "slack"
BOT = "U0BOT"


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return data


# -- parsing ------------------------------------------------------------------------------


def test_a_direct_message_becomes_text_with_slack_markup_undone() -> None:
    event = parse_event(payload("message_im.json"), bot_user_id=BOT)
    assert event == Text(
        Person("slack", "U0ALICE"),
        Conversation("slack", "D0ALICE", ConversationKind.DIRECT),
        "Is <b>R&D</b> covered? See the handbook and ask @U0BOSS",
    )


def test_a_direct_message_in_a_thread_keeps_the_thread() -> None:
    event = parse_event(payload("message_im_in_thread.json"), bot_user_id=BOT)
    assert isinstance(event, Text)
    assert event.conversation.thread_id == "1763340000.000100"


def test_a_mention_becomes_text_without_the_mention_in_a_thread_of_its_own() -> None:
    event = parse_event(payload("app_mention.json"), bot_user_id=BOT)
    assert event == Text(
        Person("slack", "U0CAROL"),
        Conversation("slack", "C0GENERAL", ConversationKind.THREAD, "1763340100.000200"),
        "How is training coverage calculated?",
    )


def test_a_bare_mention_inside_a_thread_asks_for_help_there() -> None:
    event = parse_event(payload("app_mention_in_thread.json"), bot_user_id=BOT)
    assert isinstance(event, Command) and event.name == "help"
    assert event.conversation.thread_id == "1763340100.000200"


@pytest.mark.parametrize(
    ("said", "command"),
    [
        ("/report 2026-W47 Team A", ("report", "2026-W47 Team A")),
        ("/Progress", ("progress", "")),
        ("/frobnicate now", ("frobnicate", "now")),
        ("report", ("report", "")),
        ("Quiz", ("quiz", "")),
        ("report writing tips?", None),
        ("progress of the rollout: which phase are we in?", None),
        ("report?", None),
        ("/etc/hosts is what?", None),
    ],
)
def test_a_mention_is_a_command_only_with_a_slash_or_a_command_word_alone(
    said: str, command: tuple[str, str] | None
) -> None:
    body = payload("app_mention.json")
    body["event"]["text"] = f"<@{BOT}> {said}"
    event = parse_event(body, bot_user_id=BOT)
    conversation = Conversation("slack", "C0GENERAL", ConversationKind.THREAD, "1763340100.000200")
    if command is None:
        assert event == Text(Person("slack", "U0CAROL"), conversation, said)
    else:
        assert event == Command(Person("slack", "U0CAROL"), conversation, *command)


@pytest.mark.parametrize("name", ["message_changed.json", "bot_message.json"])
def test_edits_and_bot_messages_are_ignored(name: str) -> None:
    assert parse_event(payload(name), bot_user_id=BOT) is None


def test_our_own_message_is_ignored_even_without_a_bot_id() -> None:
    body = payload("message_im.json")
    body["event"]["user"] = BOT
    assert parse_event(body, bot_user_id=BOT) is None


def test_the_slash_command_becomes_a_command_with_arguments() -> None:
    command = parse_slash_command(payload("slash_command.json"))
    assert command == Command(
        Person("slack", "U0DAN", "dan"),
        Conversation("slack", "C0GENERAL", ConversationKind.CHANNEL),
        "settings",
        "tz Europe/Berlin",
    )


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("", "help", ""),
        ("quiz", "quiz", ""),
        ("/progress", "progress", ""),
        ("ask What is R&amp;D?", "ask", "What is R&D?"),
    ],
)
def test_slash_command_text(text: str, name: str, args: str) -> None:
    body = payload("slash_command.json") | {"text": text}
    command = parse_slash_command(body)
    assert (command.name, command.args) == (name, args)


def test_a_button_click_becomes_a_press_on_that_message() -> None:
    press = parse_block_action(payload("block_actions.json"))
    assert press == ButtonPress(
        Person("slack", "U0FAY", "fay"),
        Conversation("slack", "D0FAY", ConversationKind.DIRECT),
        "qa:42:B",
        message_ref="D0FAY:1763340300.000700",
    )


def test_clicks_on_buttons_that_are_not_ours_are_ignored() -> None:
    body = payload("block_actions.json")
    body["actions"][0]["action_id"] = "someone-elses-button"
    assert parse_block_action(body) is None


def test_a_person_comes_with_locale_and_time_zone_from_users_info() -> None:
    assert person_from_user(payload("users_info.json")["user"]) == Person(
        "slack", "U0ALICE", "Alice", "zh-CN", "Asia/Shanghai"
    )
    bare = person_from_user({"id": "U0X", "name": "x", "profile": {"display_name": ""}})
    assert bare == Person("slack", "U0X", "x", None, None)


# -- rendering --------------------------------------------------------------------------------


def test_mrkdwn_escapes_markup_and_converts_bold_and_commands() -> None:
    assert mrkdwn("**Tip:** 1 < 2 & <b>x</b>") == "*Tip:* 1 &lt; 2 &amp; &lt;b&gt;x&lt;/b&gt;"
    assert mrkdwn("- /quiz — now\n- /settings tz Area/City") == (
        "- /train quiz — now\n- /train settings tz Area/City"
    )
    assert mrkdwn("see docs/quiz and /quizzes") == "see docs/quiz and /quizzes"
    assert mrkdwn("_italic_ stays") == "_italic_ stays"


def test_buttons_become_actions_blocks_with_unique_action_ids() -> None:
    reply = Reply(
        "Pick one",
        buttons=(
            (Button("A. Monthly", "qa:1:A"), Button("B. Yearly", "qa:1:B")),
            (Button("x" * 100, "qa:1:C"),),
        ),
    )
    blocks = render_blocks(reply)
    assert [block["type"] for block in blocks] == ["section", "actions", "actions"]
    ids = [e["action_id"] for block in blocks[1:] for e in block["elements"]]
    assert ids == [f"{ACTION_ID_PREFIX}{n}" for n in range(3)]
    assert [e["value"] for block in blocks[1:] for e in block["elements"]] == [
        "qa:1:A",
        "qa:1:B",
        "qa:1:C",
    ]
    long_label = blocks[2]["elements"][0]["text"]["text"]
    assert len(long_label) == MAX_BUTTON_LABEL and long_label.endswith("…")
    assert buttons_from_blocks(blocks)[0] == [
        Button("A. Monthly", "qa:1:A"),
        Button("B. Yearly", "qa:1:B"),
    ]


def test_long_text_is_cut_into_sections_at_line_breaks() -> None:
    line = "a" * 1000
    blocks = render_blocks(Reply("\n".join([line] * 7)))
    assert all(len(b["text"]["text"]) <= MAX_SECTION_CHARS for b in blocks)
    assert "\n".join(b["text"]["text"] for b in blocks) == "\n".join([line] * 7)
    huge = render_blocks(Reply("b" * (MAX_SECTION_CHARS * 2 + 5)))
    assert [len(b["text"]["text"]) for b in huge] == [MAX_SECTION_CHARS, MAX_SECTION_CHARS, 5]


def test_a_message_without_text_falls_back_to_its_button_labels() -> None:
    message = render_message(Reply("", buttons=((Button("Got it", "ls:1"),),)))
    assert message["text"] == "Got it"
    assert [block["type"] for block in message["blocks"]] == ["actions"]


# -- errors -------------------------------------------------------------------------------------


def api_error(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="http://127.0.0.1/api/chat.postMessage",
        req_args={},
        data=body,
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("failed", response)


@pytest.mark.parametrize(
    "error",
    ["user_not_found", "account_inactive", "channel_not_found", "not_in_channel", "is_archived"],
)
def test_unreachable_people_and_channels(error: str) -> None:
    assert isinstance(
        send_error(api_error(200, {"ok": False, "error": error})), RecipientUnreachable
    )


def test_429_after_retries_is_rate_limited_with_retry_after() -> None:
    mapped = send_error(api_error(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}))
    assert isinstance(mapped, RateLimited) and mapped.retry_after == 7.0


@pytest.mark.parametrize(
    ("status", "body"), [(500, {}), (503, {}), (200, {"ok": False, "error": "internal_error"})]
)
def test_server_errors_are_transient(status: int, body: dict[str, Any]) -> None:
    assert isinstance(send_error(api_error(status, body)), TransientSendError)
