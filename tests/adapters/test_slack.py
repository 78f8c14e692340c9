"""The Slack front door end to end: the real bot and adapter (HTTP mode) against a fake
Slack Web API, with events, slash commands and clicks delivered and signed as Slack does."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from adapters.slack import (
    BOT_EVENTS,
    BOT_SCOPES,
    EVENTS_PATH,
    SLASH_COMMAND,
    SUBCOMMANDS,
    SlackAdapter,
    parse_event,
)
from bot import events_log
from bot.app import TrainBot
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.errors import ConfigError
from bot.events import (
    Attachment,
    Conversation,
    ConversationKind,
    Event,
    Person,
    Reply,
    Text,
)
from bot.ports import RateLimited, RecipientUnreachable, TransientSendError
from bot.ratelimit import RateLimiter
from bot.store.db import Database
from bot.store.models import (
    AskedQuestion,
    Attempt,
    Delivery,
    DeliveryKind,
    PersonStatus,
    ProcessedEvent,
)
from bot.store.models import Person as StoredPerson
from tests.fake_slack import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER_ID,
    FakeSlack,
    Message,
    SlackDriver,
    deliver,
    event_envelope,
    json_body,
    plain_text,
    slack_front_door,
)

REPO = Path(__file__).resolve().parents[2]
Factory = Callable[[Person], SlackDriver]
JSON = "application/json"


@pytest.fixture
async def slack(bot: TrainBot) -> AsyncIterator[Factory]:
    async with slack_front_door(bot) as make:
        yield make


def person(user_id: str, locale: str | None = "en-US", timezone: str | None = None) -> Person:
    return Person("slack", user_id, user_id.title(), locale, timezone)


def stored(bot: TrainBot, slack_user: str) -> StoredPerson:
    with bot.ctx.db.session() as session:
        row = session.scalars(
            select(StoredPerson).where(StoredPerson.platform_user_id == slack_user)
        ).one()
        session.expunge(row)
        return row


def dm_event(driver: SlackDriver, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": driver.channel,
        "channel_type": "im",
        "user": driver.user_id,
        "text": text,
        "ts": f"{time.time():.6f}",
        **extra,
    }


def posts(fake: FakeSlack) -> list[Message]:
    return [message for message in fake.messages if message.kind == "post"]


async def enrol(driver: SlackDriver, track: str = "Frontline operations") -> None:
    await driver.say("/start")
    await driver.press(track)


# -- conversations ------------------------------------------------------------------------


async def test_a_dm_question_is_answered_with_sources_and_feedback_buttons(
    slack: Factory, bot: TrainBot
) -> None:
    alice = slack(person("alice", "zh-CN"))
    (answer,) = await alice.say("培训覆盖率怎么计算？")
    assert answer.startswith("根据课程资料：")
    assert "来源：" in answer and "evaluation-guide.pdf" in answer
    assert "[👍 有帮助]  [👎 没帮助]" in answer
    (post,) = posts(alice.fake)
    assert post.channel == alice.channel and post.thread_ts is None
    assert post.blocks[0]["type"] == "section" and post.blocks[0]["text"]["type"] == "mrkdwn"
    (row,) = [block for block in post.blocks if block["type"] == "actions"]
    assert len({element["action_id"] for element in row["elements"]}) == 2
    (thanks,) = await alice.press("👍")
    assert "谢谢你的反馈" in thanks
    with bot.ctx.db.session() as session:
        asked = session.scalars(select(AskedQuestion)).one()
        assert asked.text == "培训覆盖率怎么计算？" and asked.feedback == 1


async def test_markup_in_a_question_comes_back_literally(slack: Factory, bot: TrainBot) -> None:
    ben = slack(person("ben"))
    await ben.say("Is <b>R&D</b> covered?")  # Slack delivers it as &lt;b&gt;R&amp;D...
    with bot.ctx.db.session() as session:
        assert session.scalars(select(AskedQuestion.text)).one() == "Is <b>R&D</b> covered?"
    await ben.adapter.send(
        Conversation("slack", ben.channel), Reply("**Tip:** <b>R&D</b> <@U0BOSS>")
    )
    section = posts(ben.fake)[-1].blocks[0]["text"]["text"]
    assert section == "*Tip:* &lt;b&gt;R&amp;D&lt;/b&gt; &lt;@U0BOSS&gt;"
    assert plain_text(posts(ben.fake)[-1]) == "Tip: <b>R&D</b> <@U0BOSS>"


async def test_a_mention_is_answered_in_its_thread(slack: Factory, bot: TrainBot) -> None:
    carol = slack(person("carol"))
    (said,) = await carol.mention(
        "How is training coverage calculated?", channel="C0GENERAL", ts="1763340100.000200"
    )
    assert said.startswith("The materials cover this only in Chinese:")
    (answer,) = posts(carol.fake)
    assert (answer.channel, answer.thread_ts) == ("C0GENERAL", "1763340100.000200")
    assert plain_text(answer).startswith("The materials cover this only in Chinese:")
    with bot.ctx.db.session() as session:
        asked = session.scalars(select(AskedQuestion.text)).one()
    assert asked == "How is training coverage calculated?"
    (thanks,) = await carol.press("👍")  # the click in the thread is answered there too
    assert "Thanks for the feedback" in thanks
    assert posts(carol.fake)[-1].thread_ts == "1763340100.000200"


async def test_replies_in_a_thread_the_bot_was_mentioned_in_are_answered_there(
    slack: Factory,
) -> None:
    carol, dan = slack(person("carol")), slack(person("dan"))
    thread = "1763340200.000300"
    await carol.mention("What is retention?", channel="C0GENERAL", ts=thread)
    (followup,) = await dan.reply_in_thread(
        "How is training coverage calculated?", channel="C0GENERAL", thread_ts=thread
    )
    assert followup.startswith("The materials cover this only in Chinese:")
    answer = posts(dan.fake)[-1]
    assert (answer.channel, answer.thread_ts) == ("C0GENERAL", thread)
    # A private channel works the same way.
    await carol.mention("What is churn?", channel="G0PRIVATE", ts="1763340300.000100")
    (private,) = await carol.reply_in_thread(
        "What is retention?",
        channel="G0PRIVATE",
        thread_ts="1763340300.000100",
        channel_type="group",
    )
    assert private.startswith("From the course materials:")

    before = len(posts(dan.fake))
    # Somebody else's thread, and the thread's own first message: not for the bot.
    await dan.reply_in_thread("lunch?", channel="C0GENERAL", thread_ts="1763340999.000100")
    await dan.reply_in_thread("What is retention?", channel="C0RANDOM", thread_ts=thread)
    assert len(posts(dan.fake)) == before


def test_a_thread_reply_that_mentions_the_bot_is_left_to_its_app_mention() -> None:
    body = event_envelope(
        {
            "type": "message",
            "channel": "C0GENERAL",
            "channel_type": "channel",
            "user": "U0CAROL",
            "text": f"<@{BOT_USER_ID}> and what about churn?",
            "ts": "1763340400.000200",
            "thread_ts": "1763340400.000100",
        }
    )
    assert parse_event(body, bot_user_id=BOT_USER_ID) is None
    body["event"]["text"] = "and what about churn?"
    event = parse_event(body, bot_user_id=BOT_USER_ID)
    assert isinstance(event, Text) and event.conversation.thread_id == "1763340400.000100"
    body["event"]["thread_ts"] = body["event"]["ts"]  # a thread's first message
    assert parse_event(body, bot_user_id=BOT_USER_ID) is None


async def test_slash_commands_quiz_and_progress(slack: Factory, bot: TrainBot) -> None:
    dan = slack(person("dan", "en-US", "Asia/Shanghai"))
    (help_text,) = await dan.say("/help")  # sent as "/train help" in the DM
    assert dan.fake.command_responses == []  # typed in the DM: no "see your DM" notice
    assert "your training assistant" in help_text
    assert dan.fake.calls_of("chat.postMessage")[-1]["channel"] == dan.channel
    assert "/train quiz" in posts(dan.fake)[-1].blocks[0]["text"]["text"]
    await enrol(dan)
    (lesson,) = await dan.say("/quiz")
    assert "First, the next lesson of your track" in lesson and "[Got it" in lesson
    (quiz,) = await dan.press("Quiz me")
    assert "📝 Quiz" in quiz
    (progress,) = await dan.say("/progress")
    assert "Your progress" in progress and "Answers: 0" in progress


async def test_bare_slash_command_is_help_and_unknown_ones_are_named(slack: Factory) -> None:
    erin = slack(person("erin"))
    from tests.fake_slack import form_body, slash_command_form

    fields = slash_command_form(
        erin.user_id, "Erin", "", "C0GENERAL", response_url=erin.fake.response_url()
    )
    status, _ = await deliver(
        erin.adapter.url, form_body(fields), content_type="application/x-www-form-urlencoded"
    )
    assert status == 200
    await erin.adapter.drain()
    (reply,) = posts(erin.fake)
    assert reply.channel == erin.channel  # answered in the DM, not in the channel
    assert "your training assistant" in plain_text(reply)
    (notice,) = erin.fake.command_responses  # only Erin sees it, in the channel
    assert notice == {
        "response_type": "ephemeral",
        "text": "I've answered you in our direct messages.",
    }
    (unknown,) = await erin.say("/frobnicate")
    assert "I don't know the command /frobnicate" in unknown


async def test_slash_command_in_a_channel_without_a_dm_says_only_how_to_open_one(
    slack: Factory,
) -> None:
    fay = slack(person("fay"))
    fay.fake.refuse_dm(fay.user_id)
    from tests.fake_slack import form_body, slash_command_form

    fields = slash_command_form(
        fay.user_id, "Fay", "progress", "C0GENERAL", response_url=fay.fake.response_url()
    )
    status, _ = await deliver(
        fay.adapter.url, form_body(fields), content_type="application/x-www-form-urlencoded"
    )
    assert status == 200
    await fay.adapter.drain()
    assert posts(fay.fake) == []  # nothing personal anywhere
    (notice,) = fay.fake.command_responses  # only Fay sees it
    assert notice["response_type"] == "ephemeral"
    assert notice["text"].startswith(
        "I can't message you privately yet: open trainbot under Apps in the sidebar"
    )


async def test_a_quiz_answer_edits_the_question_and_a_double_click_counts_once(
    slack: Factory, bot: TrainBot
) -> None:
    fay = slack(person("fay", "en-US", "Asia/Shanghai"))
    await enrol(fay)
    await fay.say("/quiz")
    await fay.press("Quiz me")
    with bot.ctx.db.session() as session:
        delivery = session.scalars(select(Delivery).where(Delivery.kind == DeliveryKind.QUIZ)).one()
        question = bot.ctx.library.course.question(delivery.item_id or "", "en")
    assert question is not None
    from quizzes.grading import option_label

    quiz_message = posts(fay.fake)[-1]
    (feedback,) = await fay.press(option_label(question, question.answer[0], "en"))
    assert feedback.startswith("✅ Correct!") and "📎 Source:" in feedback
    (update,) = fay.fake.calls_of("chat.update")
    assert (update["channel"], update["ts"]) == (quiz_message.channel, quiz_message.ts)
    assert all(block["type"] != "actions" for block in update["blocks"])  # buttons removed
    (again,) = await fay.press(option_label(question, question.answer[0], "en"))
    assert "already answered" in again
    with bot.ctx.db.session() as session:
        assert len(session.scalars(select(Attempt)).all()) == 1
    assert len(fay.fake.calls_of("chat.update")) == 1


async def test_time_zone_from_slack_is_used_at_enrolment(slack: Factory, bot: TrainBot) -> None:
    sam = slack(person("sam", "en-US", "America/New_York"))
    (welcome,) = await sam.say("/start")
    assert "Welcome, Sam!" in welcome and "Which track fits your role?" in welcome
    (done,) = await sam.press("Frontline")
    assert "You're all set" in done and "(America/New_York)" in done
    assert "Which time zone" not in welcome + done
    row = stored(bot, sam.user_id)
    assert (row.timezone, row.language, row.display_name) == ("America/New_York", "en", "Sam")
    (users_info,) = sam.fake.calls_of("users.info")  # cached for the next events
    assert users_info["include_locale"] in ("true", "1", True)


async def test_an_unknown_time_zone_in_a_slack_profile_falls_back_to_the_organisations(
    slack: Factory, bot: TrainBot, caplog: pytest.LogCaptureFixture
) -> None:
    """A profile saying ``Mars/Olympus`` is not stored: pushes would stop for everyone."""
    caplog.set_level(logging.WARNING)
    mo = slack(person("mo", "en-US", "Mars/Olympus"))
    (answer,) = await mo.say("How is training coverage calculated?")
    assert "The materials cover this only in Chinese" in answer
    assert stored(bot, mo.user_id).timezone == bot.ctx.settings.timezone == "Asia/Shanghai"
    (welcome,) = await mo.say("/start")
    assert "Welcome, Mo!" in welcome
    (asked,) = await mo.press("Frontline")
    assert "Which time zone" in asked  # as if Slack had not said
    (done,) = await mo.press("Berlin")
    assert "You're all set" in done and "(Europe/Berlin)" in done
    assert stored(bot, mo.user_id).timezone == "Europe/Berlin"
    warnings = [r.getMessage() for r in caplog.records if "unknown time zone" in r.getMessage()]
    assert len(warnings) == 1 and mo.user_id in warnings[0], warnings
    assert mo.name not in warnings[0] and "Mars" not in warnings[0]  # the id, nothing else


# -- the events API: retries, signatures, what is ignored -----------------------------------


async def test_a_retry_is_not_answered_twice_but_an_unseen_retry_is(
    slack: Factory, bot: TrainBot
) -> None:
    gus = slack(person("gus"))
    url = gus.adapter.url
    first = json_body(
        event_envelope(dm_event(gus, "What is the activation stage?"), event_id="Ev0A")
    )
    assert (await deliver(url, first, content_type=JSON))[0] == 200
    await gus.adapter.drain()
    assert len(posts(gus.fake)) == 1
    assert (await deliver(url, first, content_type=JSON, retry_num=1))[0] == 200
    await gus.adapter.drain()
    assert len(posts(gus.fake)) == 1
    unseen = json_body(event_envelope(dm_event(gus, "What is retention?"), event_id="Ev0B"))
    assert (await deliver(url, unseen, content_type=JSON, retry_num=2))[0] == 200
    await gus.adapter.drain()
    assert len(posts(gus.fake)) == 2
    with bot.ctx.db.session() as session:
        assert len(session.scalars(select(AskedQuestion)).all()) == 2
        ids = session.scalars(select(ProcessedEvent.event_id)).all()
    assert sorted(ids) == ["Ev0A", "Ev0B"]


@pytest.mark.parametrize(
    ("secret", "age"), [("not-the-secret", 0), (None, 301)], ids=["bad-signature", "stale"]
)
async def test_unsigned_or_stale_requests_are_rejected(
    slack: Factory, secret: str | None, age: int
) -> None:
    hal = slack(person("hal"))
    body = json_body(event_envelope(dm_event(hal, "What is retention?")))
    kwargs: dict[str, Any] = {"timestamp": int(time.time()) - age}
    if secret is not None:
        kwargs["secret"] = secret
    status, _ = await deliver(hal.adapter.url, body, content_type=JSON, **kwargs)
    assert status == 401
    await hal.adapter.drain()
    assert posts(hal.fake) == [] and hal.fake.calls_of("users.info") == []


async def test_url_verification_answers_the_challenge(slack: Factory) -> None:
    ivy = slack(person("ivy"))
    body = json_body(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"}
    )
    status, text = await deliver(ivy.adapter.url, body, content_type=JSON)
    assert status == 200 and "3eZbrw1aBm2rZgRNFdxV" in text


@pytest.mark.parametrize(
    "extra",
    [
        {"subtype": "message_changed"},
        {"subtype": "channel_join"},
        {"bot_id": "B0OTHER"},
        {"user": BOT_USER_ID, "bot_id": "B0BOT"},
        {"channel_type": "channel", "channel": "C0GENERAL"},
    ],
    ids=["edit", "join", "other-bot", "ourselves", "channel-message"],
)
async def test_bot_messages_subtypes_and_channel_chatter_are_ignored(
    slack: Factory, extra: dict[str, Any]
) -> None:
    jo = slack(person("jo"))
    body = json_body(event_envelope(dm_event(jo, "What is retention?", **extra)))
    assert (await deliver(jo.adapter.url, body, content_type=JSON))[0] == 200
    await jo.adapter.drain()
    assert posts(jo.fake) == []


# -- sending: retries and errors -------------------------------------------------------------


async def test_a_429_is_retried_after_retry_after_and_the_message_arrives(
    slack: Factory,
) -> None:
    kim = slack(person("kim"))
    kim.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    (answer,) = await kim.say("/help")
    assert "your training assistant" in answer
    assert len(kim.fake.calls_of("chat.postMessage")) == 2


async def test_send_maps_slack_failures_to_the_outbound_errors(slack: Factory) -> None:
    lee = slack(person("lee"))
    adapter, fake = lee.adapter, lee.fake
    to_lee = Conversation("slack", lee.user_id)
    fake.fail_next("chat.postMessage", error="account_inactive")
    with pytest.raises(RecipientUnreachable, match="account_inactive"):
        await adapter.send(to_lee, Reply("hello"))
    fake.fail_next("chat.postMessage", error="is_archived")
    with pytest.raises(RecipientUnreachable):
        await adapter.send(Conversation("slack", "C0OLD", ConversationKind.CHANNEL), Reply("hi"))
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    with pytest.raises(RateLimited) as limited:
        await adapter.send(to_lee, Reply("hello"))
    assert limited.value.retry_after == 1.0
    fake.fail_next("chat.postMessage", status=500)
    with pytest.raises(TransientSendError):
        await adapter.send(to_lee, Reply("hello"))
    ref = await adapter.send(to_lee, Reply("hello"))
    assert ref == f"{lee.channel}:{posts(fake)[-1].ts}"
    assert fake.calls_of("conversations.open")[0]["users"] == lee.user_id


async def test_an_inactive_person_is_marked_unreachable_by_the_dispatcher(
    slack: Factory, bot: TrainBot, clock: FakeClock
) -> None:
    mo = slack(person("mo", "en-US", "Asia/Shanghai"))
    await enrol(mo)
    mo.fake.fail_next("chat.postMessage", error="account_inactive")
    dispatcher = Dispatcher(
        db=bot.ctx.db,
        library=bot.ctx.library,
        settings=bot.ctx.settings,
        clock=clock,
        outbound={"slack": mo.adapter},
        limiters={"slack": RateLimiter()},
    )
    report = await dispatcher.tick()  # Monday 09:30 in Shanghai: the quiz is due
    assert report.claimed >= 1 and report.unreachable == 1
    row = stored(bot, mo.user_id)
    assert row.status is PersonStatus.UNREACHABLE and "account_inactive" in (
        row.status_reason or ""
    )


async def test_attachments_are_uploaded_with_files_upload_v2(slack: Factory) -> None:
    nan = slack(person("nan"))
    chart = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    ref = await nan.adapter.send(
        Conversation("slack", nan.user_id),
        Reply("**Weekly summary**", attachment=Attachment("summary.png", chart, "image/png")),
    )
    post, upload = nan.fake.messages
    assert ref == f"{nan.channel}:{post.ts}"
    assert (upload.kind, upload.channel, upload.filename, upload.content) == (
        "file",
        nan.channel,
        "summary.png",
        chart,
    )
    assert nan.fake.calls_of("files.getUploadURLExternal")[0]["length"] == str(len(chart))
    csv = b"name,done\nAlice,3\n"
    await nan.adapter.send(
        Conversation("slack", nan.channel),
        Reply("", attachment=Attachment("w.csv", csv, "text/csv")),
    )
    assert nan.fake.messages[-1].content == csv and len(posts(nan.fake)) == 1


# -- configuration, manifest, dedupe store ----------------------------------------------------


def test_http_mode_without_a_signing_secret_is_a_config_error(bot: TrainBot) -> None:
    settings = bot.ctx.settings
    settings.slack_bot_token = BOT_TOKEN
    with pytest.raises(ConfigError, match="TRAINBOT_SLACK_SIGNING_SECRET"):
        SlackAdapter(bot, settings)
    settings.slack_bot_token = ""
    settings.slack_signing_secret = "secret"
    with pytest.raises(ConfigError, match="TRAINBOT_SLACK_BOT_TOKEN"):
        SlackAdapter(bot, settings)


async def test_a_rejected_token_is_a_config_error(bot: TrainBot) -> None:
    fake = FakeSlack()
    await fake.start()
    try:
        settings = bot.ctx.settings
        settings.slack_bot_token = "xoxb-revoked"
        settings.slack_signing_secret = "secret"
        settings.slack_api_url = fake.api_url
        with pytest.raises(ConfigError, match="invalid_auth"):
            await SlackAdapter(bot, settings, host="127.0.0.1", port=0).start()
    finally:
        await fake.stop()


def test_the_manifest_matches_what_the_adapter_listens_to() -> None:
    manifest = yaml.safe_load((REPO / "slack-manifest.yaml").read_text(encoding="utf-8"))
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == SLASH_COMMAND
    assert all(name in command["usage_hint"] for name in SUBCOMMANDS)
    settings = manifest["settings"]
    assert sorted(settings["event_subscriptions"]["bot_events"]) == sorted(BOT_EVENTS)
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert EVENTS_PATH in (REPO / "slack-manifest.yaml").read_text(encoding="utf-8")


def test_processed_events_are_claimed_once_and_pruned(database: Database, clock: FakeClock) -> None:
    now = clock.now()
    assert events_log.first_time(database, "slack", "Ev1", now)
    assert not events_log.first_time(database, "slack", "Ev1", now)
    assert events_log.first_time(database, "telegram", "Ev1", now)
    assert events_log.first_time(database, "slack", "Ev2", now + timedelta(days=2))
    assert events_log.first_time(database, "report", "weekly-report:2026-W47:C0", now)
    assert events_log.prune(database, "slack", now + timedelta(days=1)) == 1
    assert events_log.seen(database, "telegram", "Ev1") and events_log.seen(
        database, "report", "weekly-report:2026-W47:C0"
    )  # other platforms' records are theirs to prune
    with database.session() as session:
        assert sorted(session.scalars(select(ProcessedEvent.event_id)).all()) == [
            "Ev1",
            "Ev2",
            "weekly-report:2026-W47:C0",
        ]


# -- Socket Mode --------------------------------------------------------------------------------


async def test_socket_mode_receives_events_over_the_websocket(bot: TrainBot) -> None:
    fake = FakeSlack()
    await fake.start()
    settings = bot.ctx.settings
    settings.slack_bot_token = BOT_TOKEN
    settings.slack_app_token = APP_TOKEN
    settings.slack_signing_secret = ""
    settings.slack_api_url = fake.api_url
    fake.add_user("UOLA", "Ola", tz="Europe/Berlin", locale="en-GB")
    adapter = SlackAdapter(bot, settings)
    try:
        line = await adapter.start()
        assert line.startswith("slack: Socket Mode as @trainbot") and APP_TOKEN not in line
        event = {
            "type": "message",
            "channel": "DOLA",
            "channel_type": "im",
            "user": "UOLA",
            "text": "What is retention?",
            "ts": "1763340200.000100",
        }
        ack = await fake.push_envelope("events_api", event_envelope(event))
        assert ack["envelope_id"].startswith("env-")
        await adapter.drain()
        (answer,) = [m for m in fake.messages if m.kind == "post"]
        assert answer.channel == "DOLA" and answer.blocks
        payload = {
            "command": SLASH_COMMAND,
            "text": "progress",
            "user_id": "UOLA",
            "user_name": "ola",
            "channel_id": "DOLA",
            "team_id": "T0TRAIN",
        }
        await fake.push_envelope("slash_commands", payload)
        await adapter.drain()
        assert "not enrolled" in plain_text(fake.messages[-1])
        assert len(fake.calls_of("apps.connections.open")) == 1
    finally:
        await adapter.stop()
        await adapter.stop()  # idempotent
        await fake.stop()


class GatedBot:
    """The real bot behind a gate: ``handle`` waits until the test opens it."""

    def __init__(self, bot: TrainBot) -> None:
        self.bot = bot
        self.seen_events = bot.seen_events
        self.language_of = bot.language_of
        self.introduce = bot.introduce
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def handle(self, event: Event) -> list[Reply]:
        self.entered.set()
        await self.gate.wait()
        return await self.bot.handle(event)


async def test_slack_is_acknowledged_before_the_bot_answers(bot: TrainBot) -> None:
    fake = FakeSlack()
    await fake.start()
    settings = bot.ctx.settings
    settings.slack_bot_token = BOT_TOKEN
    settings.slack_signing_secret = fake.signing_secret
    settings.slack_api_url = fake.api_url
    fake.add_user("UPIA", "Pia", locale="en-US")
    gated = GatedBot(bot)
    adapter = SlackAdapter(gated, settings, host="127.0.0.1", port=0)
    await adapter.start()
    try:
        event = {
            "type": "message",
            "channel": "DPIA",
            "channel_type": "im",
            "user": "UPIA",
            "text": "What is retention?",
            "ts": "1763340400.000100",
        }
        status, _ = await asyncio.wait_for(
            deliver(adapter.url, json_body(event_envelope(event)), content_type=JSON), 10
        )
        assert status == 200  # acknowledged while the bot is still working
        await asyncio.wait_for(gated.entered.wait(), 10)
        assert fake.messages == []
        gated.gate.set()
        await adapter.drain()
        assert [message.channel for message in fake.messages] == ["DPIA"]
    finally:
        gated.gate.set()
        await adapter.stop()
        await fake.stop()
