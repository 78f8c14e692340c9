"""The Telegram front door end to end: the real bot and the real adapter (python-telegram-bot)
against a fake Bot API server on 127.0.0.1, configured through the API base URL setting."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from adapters.telegram import TelegramAdapter
from bot.app import TrainBot
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.errors import ConfigError
from bot.events import Attachment, Button, Conversation, Person, Reply
from bot.ports import RateLimited, RecipientUnreachable, TransientSendError
from bot.store.models import AskedQuestion, Attempt, Delivery, DeliveryKind, PersonStatus
from bot.store.models import Person as StoredPerson
from quizzes.grading import option_label
from tests.fake_telegram import (
    BOT_USERNAME,
    FakeTelegram,
    TelegramDriver,
    TelegramFrontDoor,
    telegram_front_door,
)

GROUP_ID = -1001234567890


@pytest.fixture
async def door(bot: TrainBot) -> AsyncIterator[TelegramFrontDoor]:
    async with telegram_front_door(bot) as front_door:
        yield front_door


def stored(bot: TrainBot, driver: TelegramDriver) -> StoredPerson:
    with bot.ctx.db.session() as session:
        person = session.scalars(
            select(StoredPerson).where(
                StoredPerson.platform == "telegram",
                StoredPerson.platform_user_id == driver.user_id,
            )
        ).one()
        session.expunge(person)
        return person


async def enrol(
    driver: TelegramDriver, track: str = "Frontline", zone: str = "Asia/Shanghai"
) -> None:
    await driver.say("/start")
    await driver.press(track)
    await driver.press(zone)


def dispatcher(bot: TrainBot, adapter: TelegramAdapter) -> Dispatcher:
    ctx = bot.ctx
    return Dispatcher(
        db=ctx.db,
        library=ctx.library,
        settings=ctx.settings,
        clock=ctx.clock,
        outbound={"telegram": adapter},
    )


def sent_to(server: FakeTelegram, chat_id: int, method: str = "sendMessage") -> list[Any]:
    return [c for c in server.calls(method) if c.params.get("chat_id") == chat_id and c.ok]


# -- 1. enrolment ----------------------------------------------------------------------------


async def test_start_enrols_with_track_and_time_zone_buttons(
    door: TelegramFrontDoor, bot: TrainBot
) -> None:
    alice = door(Person("telegram", "alice", "Alice", "zh-CN"))
    (welcome,) = await alice.say("/start")
    assert "欢迎" in welcome and "Alice" in welcome
    assert welcome.splitlines()[-2:] == ["[一线运营]", "[管理规划]"]
    await alice.press("一线")
    (done,) = await alice.press("Europe/Berlin")
    assert "Europe/Berlin" in done
    person = stored(bot, alice)
    assert (person.platform_user_id, person.language, person.timezone, person.track_id) == (
        str(alice.telegram_id),
        "zh",
        "Europe/Berlin",
        "frontline",
    )
    assert person.display_name == "Alice" and person.enrollment_step is None
    # Every press was answered, so the person's client stops its spinner.
    assert len(door.server.calls("answerCallbackQuery")) == 2


# -- 2. a question with sources, then 👍 ----------------------------------------------------


async def test_a_question_is_answered_with_sources_and_rated(
    door: TelegramFrontDoor, bot: TrainBot
) -> None:
    li = door(Person("telegram", "li", "Li", "zh-CN"))
    (answer,) = await li.say("如何提高用户留存?")
    assert answer.startswith("根据课程资料：") and "来源：" in answer and "[1]" in answer
    assert "[👍 有帮助]  [👎 没帮助]" in answer
    assert sent_to(door.server, li.telegram_id, "sendChatAction")  # "typing…" while searching
    (message,) = sent_to(door.server, li.telegram_id)
    assert message.params["parse_mode"] == "HTML"
    buttons = message.params["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"].rsplit(":", 1)[1] for b in buttons] == ["up", "down"]
    (thanks,) = await li.press("👍")
    assert "谢谢你的反馈" in thanks
    with bot.ctx.db.session() as session:
        asked = session.scalars(select(AskedQuestion)).one()
        assert asked.text == "如何提高用户留存?" and asked.answered and asked.feedback == 1


# -- 3. a pushed quiz answered by a button ----------------------------------------------------


async def test_a_pushed_quiz_is_answered_once_and_loses_its_buttons(
    door: TelegramFrontDoor, bot: TrainBot, clock: FakeClock
) -> None:
    alice = door(Person("telegram", "alice", "Alice", "en-US"))
    clock.set(datetime(2026, 11, 16, 0, 30, tzinfo=UTC))  # Monday 08:30 in Shanghai
    await enrol(alice)
    assert (await dispatcher(bot, door.adapter).tick()).claimed == 0
    clock.advance(timedelta(hours=1))  # 09:30, the default quiz time (the lesson is due too)
    report = await dispatcher(bot, door.adapter).tick()
    assert report.sent >= 2 and report.failed == 0, report
    with bot.ctx.db.session() as session:
        quiz = session.scalars(
            select(Delivery).where(Delivery.kind == DeliveryKind.QUIZ).order_by(Delivery.id.desc())
        ).first()
        assert quiz is not None and quiz.message_ref is not None
        session.expunge(quiz)
    chat, message_id = quiz.message_ref.split(":")
    assert chat == alice.user_id
    pushed = door.server.messages[(alice.telegram_id, int(message_id))]
    assert pushed["text"].startswith("📝 Quiz") and pushed["reply_markup"]["inline_keyboard"]
    question = bot.ctx.library.course.question(quiz.item_id or "", "en")
    assert question is not None
    right = option_label(question, question.answer[0], "en")

    (feedback,) = await alice.press(right)
    assert feedback.startswith("✅ Correct!") and "📎 Source:" in feedback
    (edit,) = [c for c in door.server.calls("editMessageText") if c.ok]
    assert edit.params["message_id"] == int(message_id)
    assert "reply_markup" not in edit.params  # an edit without a keyboard drops the old one
    assert "reply_markup" not in door.server.messages[(alice.telegram_id, int(message_id))]

    (again,) = await alice.press(right)  # a double click on the old keyboard
    assert "already answered" in again
    with bot.ctx.db.session() as session:
        assert len(session.scalars(select(Attempt)).all()) == 1
    assert len(door.server.calls("answerCallbackQuery")) == 4  # 2 enrolment + 2 presses


# -- 4. 429 -------------------------------------------------------------------------------------


async def test_a_429_is_waited_out_and_the_message_still_arrives(door: TelegramFrontDoor) -> None:
    ben = door(Person("telegram", "ben", "Ben", "en"))
    door.server.rate_limit_next("sendMessage", retry_after=1)
    (answer,) = await ben.say("/help")
    assert "your training assistant" in answer
    refused, accepted = [c for c in door.server.calls("sendMessage")]
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.at - refused.at >= 1.0  # retry_after was honoured


async def test_send_reports_rate_limits_and_server_errors_to_the_dispatcher(
    door: TelegramFrontDoor,
) -> None:
    ben = door(Person("telegram", "ben", "Ben", "en"))
    door.server.pressed_start(ben.telegram_id)
    conversation = Conversation("telegram", ben.user_id)
    for _ in range(3):  # the first try and the rate limiter's two retries
        door.server.rate_limit_next("sendMessage", retry_after=1)
    with pytest.raises(RateLimited) as limited:
        await door.adapter.send(conversation, Reply("hello"))
    assert limited.value.retry_after == 1
    door.server.fail_next("sendMessage", 500, "Internal Server Error")
    with pytest.raises(TransientSendError):
        await door.adapter.send(conversation, Reply("hello"))
    ref = await door.adapter.send(conversation, Reply("hello"))
    assert ref == f"{ben.user_id}:{sent_to(door.server, ben.telegram_id)[-1].result['message_id']}"


# -- 5. a user who blocked the bot -------------------------------------------------------------


async def test_a_user_who_blocked_the_bot_becomes_unreachable(
    door: TelegramFrontDoor, bot: TrainBot, clock: FakeClock
) -> None:
    bob = door(Person("telegram", "bob", "Bob", "en"))
    clock.set(datetime(2026, 11, 16, 0, 30, tzinfo=UTC))  # Monday 08:30 in Shanghai
    await enrol(bob)
    clock.advance(timedelta(hours=1))
    door.server.block_next("sendMessage")
    with pytest.raises(RecipientUnreachable):
        await door.adapter.send(Conversation("telegram", bob.user_id), Reply("hi"))
    door.server.block_next("sendMessage")
    report = await dispatcher(bot, door.adapter).tick()
    assert report.unreachable == 1
    person = stored(bot, bob)
    assert person.status is PersonStatus.UNREACHABLE and "blocked" in (person.status_reason or "")
    tries = len(door.server.calls("sendMessage"))
    clock.advance(timedelta(days=1))
    await dispatcher(bot, door.adapter).tick()
    assert len(door.server.calls("sendMessage")) == tries  # never tried again


# -- 6. webhook mode ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_checks_the_secret_token(bot: TrainBot) -> None:
    async with FakeTelegram() as server:
        port = free_port()
        settings = bot.ctx.settings
        settings.telegram_token = server.token
        settings.telegram_api_url = server.api_url
        settings.telegram_webhook_url = "https://trainbot.example.com/telegram/updates"
        settings.telegram_webhook_secret = "s3cret-Token_1"
        settings.telegram_webhook_port = port
        settings.telegram_webhook_listen = "127.0.0.1"
        adapter = TelegramAdapter(bot, settings)
        line = await adapter.start()
        try:
            assert line.startswith(
                "telegram: webhook https://trainbot.example.com/telegram/updates"
            )
            assert server.token not in line and "@trainbot_test_bot" in line
            assert server.webhook["url"] == "https://trainbot.example.com/telegram/updates"
            assert server.webhook["secret_token"] == "s3cret-Token_1"
            assert server.calls("getUpdates") == []
            user = server.add_user(262144009, "Wen", language_code="en")
            update = {"update_id": 5001, **server.message_update(user["id"], user["id"], "/help")}
            url = f"http://127.0.0.1:{port}/telegram/updates"
            async with aiohttp.ClientSession() as http:
                wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
                async with http.post(url, json=update, headers=wrong) as response:
                    assert response.status == 403
                await adapter.drain()
                assert server.calls("sendMessage") == []
                right = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}
                async with http.post(url, json=update, headers=right) as response:
                    assert response.status == 200
            await adapter.drain()
            (answer,) = server.calls("sendMessage")
            assert answer.params["chat_id"] == 262144009
            assert "your training assistant" in answer.params["text"]
        finally:
            await adapter.stop()
            await adapter.stop()  # idempotent


# -- 7. groups ---------------------------------------------------------------------------------


async def test_in_a_group_it_answers_only_when_addressed(
    door: TelegramFrontDoor, bot: TrainBot
) -> None:
    door.server.add_group(GROUP_ID, "门店运营群")
    li = door(Person("telegram", "li", "Li", "zh-CN")).in_chat(GROUP_ID)
    (chatter,) = await li.say("今天谁去仓库取货?")
    assert chatter == ""
    (other,) = await li.say("/help@other_helper_bot")
    assert other == ""
    (answer,) = await li.say(f"@{BOT_USERNAME} 如何提高用户留存?")
    assert answer.startswith("根据课程资料：")
    (question,) = [
        message
        for (chat, _), message in door.server.messages.items()
        if chat == GROUP_ID and message["text"].startswith(f"@{BOT_USERNAME}")
    ]
    (reply,) = sent_to(door.server, GROUP_ID)
    assert reply.params["reply_parameters"]["message_id"] == question["message_id"]
    with bot.ctx.db.session() as session:
        assert session.scalars(select(AskedQuestion.text)).all() == ["如何提高用户留存?"]
    (help_text,) = await li.say(f"/help@{BOT_USERNAME}")
    assert "你的培训助手" in help_text

    bot_user = door.server.add_user(555000111, "Alerts", username="alerts_bot", is_bot=True)
    before = len(door.server.requests)
    update = door.server.message_update(bot_user["id"], GROUP_ID, f"@{BOT_USERNAME} ping")
    update_id = await door.server.push_update(update)
    await door.server.wait_confirmed(update_id)
    await door.adapter.drain()
    assert [c.method for c in door.server.requests[before:] if c.method != "getUpdates"] == []


# -- 8. HTML escaping ---------------------------------------------------------------------------


async def test_angle_brackets_and_ampersands_come_back_literally(
    door: TelegramFrontDoor, bot: TrainBot
) -> None:
    erin = door(Person("telegram", "erin", "Erin", "en"))
    await enrol(erin)
    (bad,) = await erin.say("/settings time <b>&nbsp;")
    assert "I couldn't use that: invalid time '<b>&nbsp;'" in bad
    sent = sent_to(door.server, erin.telegram_id)[-1]
    assert "&lt;b&gt;&amp;nbsp;" in sent.params["text"]
    await erin.say("Is <b>bold</b> & <i>italic</i> allowed in answers?")
    with bot.ctx.db.session() as session:
        assert session.scalars(select(AskedQuestion.text)).one() == (
            "Is <b>bold</b> & <i>italic</i> allowed in answers?"
        )


# -- 9. the command menu -------------------------------------------------------------------------


async def test_the_command_menu_is_registered_in_both_languages(door: TelegramFrontDoor) -> None:
    menus = {
        c.params.get("language_code"): c.params["commands"]
        for c in door.server.calls("setMyCommands")
    }
    assert set(menus) == {None, "zh", "en"}
    names = [
        "start",
        "help",
        "ask",
        "quiz",
        "progress",
        "settings",
        "stop",
        "report",
        "forget",
        "whoami",
    ]
    for commands in menus.values():
        assert [c["command"] for c in commands] == names
    assert menus["en"][8]["description"] == "Erase everything stored about you"
    assert menus["zh"][8]["description"] == "删除关于你的全部数据"
    assert menus["en"][3]["description"] == "Get a quiz question now"
    assert menus["zh"][3]["description"] == "马上来一道测验题"
    assert menus[None] == menus["zh"]  # the organisation's default language


# -- attachments --------------------------------------------------------------------------------


async def test_a_chart_arrives_as_a_photo_and_a_csv_as_a_document(door: TelegramFrontDoor) -> None:
    manager = door(Person("telegram", "mia", "Mia", "en"))
    door.server.pressed_start(manager.telegram_id)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    (chart,) = await manager.pushed(
        Reply("**Week 47** <all teams>", attachment=Attachment("week-47.png", png, "image/png"))
    )
    assert chart == f"Week 47 <all teams>\n(attachment: week-47.png, {len(png)} bytes)"
    (photo,) = door.server.calls("sendPhoto")
    assert photo.params["caption"] == "<b>Week 47</b> &lt;all teams&gt;"
    assert photo.params["photo"]["filename"] == "week-47.png"
    assert photo.params["photo"]["content"] == png
    csv = b"team,completion\nShanghai,0.92\n"
    ref = await door.adapter.send(
        Conversation("telegram", manager.user_id),
        Reply("", attachment=Attachment("week-47.csv", csv, "text/csv")),
    )
    (document,) = door.server.calls("sendDocument")
    assert document.params["document"]["content"] == csv and "caption" not in document.params
    assert ref == f"{manager.user_id}:{document.result['message_id']}"
    assert door.server.calls("sendMessage") == []


# -- connecting ---------------------------------------------------------------------------------


async def test_long_polling_is_the_default_and_the_token_is_never_logged(
    door: TelegramFrontDoor, caplog: pytest.LogCaptureFixture
) -> None:
    assert door.connected == (
        f"telegram: long polling as @{BOT_USERNAME} via {door.server.api_url}"
    )
    assert [c.method for c in door.server.requests[:2]] == ["getMe", "setMyCommands"]
    assert door.server.calls("deleteWebhook")
    caplog.set_level(logging.INFO, logger="httpx")  # whatever an earlier test left it at
    with caplog.at_level(logging.DEBUG):
        await door(Person("telegram", "ben", "Ben", "en")).say("/help")
    assert door.server.calls("getUpdates") and not door.server.webhook
    assert "sendMessage" in caplog.text  # httpx did log the requests ...
    assert door.server.token not in caplog.text  # ... without the token
    assert "TEST-fake-token" not in caplog.text and "123456789:[redacted]" in caplog.text


async def test_a_refused_token_is_a_configuration_error(bot: TrainBot) -> None:
    async with FakeTelegram() as server:
        settings = bot.ctx.settings
        settings.telegram_token = "999:not-the-token"
        settings.telegram_api_url = server.api_url
        adapter = TelegramAdapter(bot, settings)
        with pytest.raises(ConfigError, match="TRAINBOT_TELEGRAM_TOKEN") as refused:
            await adapter.start()
        assert "not-the-token" not in str(refused.value) and refused.value.__cause__ is None
        await adapter.stop()
        settings.telegram_token = ""
        with pytest.raises(ConfigError, match="BotFather"):
            await TelegramAdapter(bot, settings).start()


# -- failures while handling ---------------------------------------------------------------------


async def test_stale_long_payload_tokens_are_answered_as_stale_buttons(
    door: TelegramFrontDoor,
) -> None:
    ben = door(Person("telegram", "ben", "Ben", "en"))
    door.server.pressed_start(ben.telegram_id)
    long_payload = "set:tz:" + "America/Argentina/ComodRivadavia" * 3
    (shown,) = await ben.pushed(Reply("Pick", buttons=((Button("Far away", long_payload),),)))
    assert "[Far away]" in shown
    (data,) = [
        b["callback_data"]
        for c in sent_to(door.server, ben.telegram_id)
        for row in c.params["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert data.startswith("~") and len(data.encode()) <= 64
    (answer,) = await ben.press("Far away")  # resolved server-side to the long payload
    assert "not enrolled" in answer
