"""Follow-ups (issue 14, point 2): a question that leans on the one before is read with it.

Transcripts on every front door: a follow-up in the same conversation carries the topic
of the question before (a Slack thread the bot answered in, a Telegram group, a private
chat, a console session); in another conversation, or after TRAINBOT_FOLLOWUP_MINUTES,
it does not. The rule itself is checked on the labelled pairs and on every standalone
question of the eval sets; the chat-model path through the fake OpenAI server.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from benchmarks.qa_eval import HOLDOUT_FILES, TUNING_FILES, load_questions
from bot.app import TrainBot
from bot.clock import FakeClock
from bot.events import Conversation, ConversationKind, Person
from bot.followups import recent_turns, remember_turn
from bot.intent import IntentKind, classify
from bot.qa import KnowledgeService
from bot.settings import load_settings
from bot.store.db import Database
from bot.store.models import AskedQuestion, ConversationTurn
from bot.store.models import Person as StoredPerson
from knowledge.followup import Turn, is_followup, names_no_topic, rewrite
from tests.conftest import REPO, SAMPLE_CONTENT
from tests.drivers import ChatDriver, ConsoleDriver, GroupFactory, group_door
from tests.fake_openai import FakeOpenAI

DriverFactory = Callable[..., ChatDriver]
PAIRS = yaml.safe_load((REPO / "benchmarks" / "eval" / "followups.yaml").read_text("utf-8"))[
    "pairs"
]
FIRST = "一线轨道的合格线是多少？"
FOLLOWUP = "那管理轨道呢？"
STANDALONE = "管理轨道的合格线是多少？"
READ_AS = f"（接着上一个问题，理解为：{STANDALONE}）"


def asked_texts(bot: TrainBot) -> list[str]:
    with bot.ctx.db.session() as session:
        return list(session.scalars(select(AskedQuestion.text).order_by(AskedQuestion.id)))


# -- the rule ----------------------------------------------------------------------------


def test_the_labelled_set_has_forty_pairs_in_both_languages() -> None:
    assert len(PAIRS) >= 40
    assert {pair["language"] for pair in PAIRS} == {"zh", "en"}
    assert min(sum(pair["language"] == lang for pair in PAIRS) for lang in ("zh", "en")) >= 20


@pytest.mark.parametrize(
    ("previous", "followup", "standalone"),
    [
        (FIRST, FOLLOWUP, STANDALONE),
        ("培训覆盖率怎么计算？", "那通过率呢？", "通过率怎么计算？"),
        ("高风险用户怎么处置？", "中风险的呢？", "中风险用户怎么处置？"),
        ("中风险用户怎么处置？", "那低风险的呢？", "低风险用户怎么处置？"),
        ("用户要求删除自己的数据怎么办？", "那要求更正呢？", "要求更正自己的数据怎么办？"),
        ("什么是用户激活？", "有什么办法提高它？", "有什么办法提高用户激活？"),
        ("流失率怎么算？", "它和留存率有什么关系？", "流失率和留存率有什么关系？"),
        ("吉隆坡团队在哪个时区？", "温哥华呢？", "温哥华在哪个时区？"),
        (
            "How do I calculate the activation rate?",
            "And the retention rate?",
            "How do I calculate the retention rate?",
        ),
        (
            "How are high-risk users handled?",
            "What about medium risk?",
            "How are medium risk users handled?",
        ),
        (
            "Where does user feedback come from?",
            "How should it be handled?",
            "How should user feedback come be handled?",
        ),
        (
            "What is the referral reward?",
            "What about cross-selling?",
            "What is cross-selling?",
        ),
        # nothing shared: the phrase takes the place of the question's focus
        (
            "How is training coverage calculated?",
            "And the pass rate?",
            "How is the pass rate calculated?",
        ),
        ("培训教材多久复审一次？", "那课程呢？", "课程多久复审一次？"),
        # a Chinese question that names no topic continues the one before
        ("培训教材多久复审一次？", "由谁来组织？", "培训教材复审由谁来组织？"),
        ("用户反馈都从哪里来？", "收到以后怎么处理？", "用户反馈收到以后怎么处理？"),
        # a phrase that starts with a preposition replaces the one starting with it
        (
            "What is the passing score for the frontline track?",
            "And for managers?",
            "What is the passing score for managers?",
        ),
    ],
)
def test_a_followup_is_rewritten_from_the_question_before(
    previous: str, followup: str, standalone: str
) -> None:
    assert is_followup(followup)
    assert rewrite(followup, [Turn(previous)]) == standalone


def test_a_chained_followup_takes_the_topic_not_the_question_words() -> None:
    # The previous turn is itself a rewritten follow-up; its 由谁来 asks, it is no topic.
    chained = rewrite("收到以后怎么处理？", [Turn("培训教材复审由谁来组织？")])
    assert chained.startswith("培训教材复审") and "谁" not in chained


def test_no_standalone_question_of_the_eval_sets_is_taken_for_a_followup() -> None:
    questions = load_questions(TUNING_FILES + HOLDOUT_FILES)
    assert len(questions) > 300
    previous = [Turn("一线轨道的合格线是多少？")]
    assert [q["question"] for q in questions if is_followup(q["question"])] == []
    for question in questions:
        assert rewrite(question["question"], previous) == question["question"].strip()


@pytest.mark.parametrize(
    ("question", "unnamed"),
    [
        ("由谁来组织？", True),
        ("收到以后怎么处理？", True),
        ("谁负责复审？", True),
        # a noun, even one the tagger splits into a verb and a suffix (召回 + 率), names one
        ("召回率怎么算？", False),
        ("年假怎么申请？", False),  # the tagger splits 年假 into 年 + 假
        ("合格线是多少？", False),
        ("什么时候开始报名？", False),
        ("LTV 怎么算？", False),
        # no question, or too long to lean on anything
        ("收到以后处理", False),
        ("收到以后应该按照什么步骤怎么处理？", False),
    ],
)
def test_a_chinese_question_that_names_no_topic_is_told_apart(question: str, unnamed: bool) -> None:
    assert names_no_topic(question) is unnamed


@pytest.mark.parametrize("text", ["谢谢", "好的", "thanks", "ok", "got it", "呢？"])
def test_thanks_and_acknowledgements_are_small_talk_not_followups(text: str) -> None:
    assert classify(text, "zh").kind is not IntentKind.QUESTION


def test_without_history_nothing_is_rewritten() -> None:
    assert rewrite(FOLLOWUP, []) == FOLLOWUP


# -- transcripts on every front door -------------------------------------------------------


async def test_a_followup_carries_the_topic_of_the_question_before(
    chat_as: DriverFactory, bot: TrainBot
) -> None:
    mei = chat_as("mei", "zh-CN")
    (first,) = await mei.say(FIRST)
    assert "80%" in first and "理解为" not in first
    (thanks,) = await mei.say("谢谢！")  # small talk is no turn: the topic survives it
    assert "不客气" in thanks
    (followup,) = await mei.say(FOLLOWUP)
    assert followup.startswith(READ_AS)
    assert "管理轨道" in followup and "75%" in followup
    assert "管理岗位轨道" in followup  # the source cited is the management track's
    # The stored question (the content-gap list, the weekly report) is the standalone one.
    assert asked_texts(bot) == [FIRST, STANDALONE]


async def test_after_the_followup_window_a_followup_is_asked_alone(
    chat_as: DriverFactory, bot: TrainBot, clock: FakeClock
) -> None:
    ken = chat_as("ken", "zh-CN")
    await ken.say(FIRST)
    clock.advance(timedelta(minutes=bot.ctx.settings.followup_minutes, seconds=1))
    (alone,) = await ken.say(FOLLOWUP)
    assert "理解为" not in alone
    assert asked_texts(bot) == [FIRST, FOLLOWUP]
    with bot.ctx.db.session() as session:  # the expired turn went with the next question
        turns = session.scalars(select(ConversationTurn.question)).all()
    assert turns == [FOLLOWUP]


async def test_an_english_followup_on_every_door(chat_as: DriverFactory, bot: TrainBot) -> None:
    ben = chat_as("ben", "en-US")
    (first,) = await ben.say("What is the passing score for the frontline track?")
    assert "80%" in first and "75%" not in first
    (followup,) = await ben.say("And for managers?")
    assert followup.startswith(
        "(Following on from your last question, read as: What is the passing score for managers?)"
    )
    assert "管理轨道的题目以情景判断为主" in followup and "75%" in followup


async def test_followups_are_off_with_zero_minutes(chat_as: DriverFactory, bot: TrainBot) -> None:
    bot.ctx.settings.followup_minutes = 0
    ada = chat_as("ada", "zh-CN")
    await ada.say(FIRST)
    (alone,) = await ada.say(FOLLOWUP)
    assert "理解为" not in alone
    with bot.ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ConversationTurn)) == 0


async def test_a_new_console_session_is_a_new_conversation(bot: TrainBot) -> None:
    person = Person("console", "lin", "Lin", "zh-CN")
    await ConsoleDriver(bot, person).say(FIRST)
    (alone,) = await ConsoleDriver(bot, person).say(FOLLOWUP)
    assert "理解为" not in alone
    assert asked_texts(bot) == [FIRST, FOLLOWUP]


# -- conversations with groups and threads -------------------------------------------------


async def test_a_followup_in_another_conversation_does_not_carry_the_topic(
    in_group: GroupFactory, bot: TrainBot
) -> None:
    ann = in_group("ann", "zh-CN")
    await ann.say(FIRST)  # in the private chat
    group, _ = await ann.say_in_group(FOLLOWUP)  # a group (Telegram), a new thread (Slack)
    assert group and "理解为" not in group
    (private,) = await ann.say(FOLLOWUP)  # back in the private chat: carried there
    assert private.startswith(READ_AS)
    assert asked_texts(bot) == [FIRST, FOLLOWUP, STANDALONE]


async def test_a_followup_in_a_telegram_group_carries_only_the_askers_topic(
    bot: TrainBot,
) -> None:
    async with group_door("telegram", bot) as driver_for:
        ann = driver_for(Person("telegram", "ann", "Ann", "zh-CN"))
        bo = driver_for(Person("telegram", "bo", "Bo", "zh-CN"))
        await ann.say_in_group(FIRST)
        others, _ = await bo.say_in_group(FOLLOWUP)  # someone else's question is not Bo's
        assert "理解为" not in others
        group, private = await ann.say_in_group(FOLLOWUP)
        assert group.startswith(READ_AS) and "75%" in group and private == ""


async def test_a_reply_in_the_bots_slack_thread_is_a_followup_without_a_mention(
    bot: TrainBot,
) -> None:
    from tests.fake_slack import slack_front_door

    async with slack_front_door(bot) as make:
        carol = make(Person("slack", "carol", "Carol", "zh-CN"))
        thread = "1763340100.000200"
        await carol.mention(FIRST, channel="C0GENERAL", ts=thread)
        (followup,) = await carol.reply_in_thread(FOLLOWUP, channel="C0GENERAL", thread_ts=thread)
        assert followup.startswith(READ_AS) and "75%" in followup
        assert carol.fake.messages[-1].thread_ts == thread  # answered in the thread
        (other,) = await carol.mention(FOLLOWUP, channel="C0GENERAL", ts="1763340200.000300")
        assert "理解为" not in other  # another thread is another conversation


# -- with a chat model -------------------------------------------------------------------


def test_with_a_chat_model_the_model_condenses_the_followup(
    sample_index_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "index"
    shutil.copytree(sample_index_dir, copy)
    replies = [STANDALONE, "管理轨道的合格标准是测验正确率不低于 75% [1]。"]
    with FakeOpenAI(replies) as server:
        service = KnowledgeService(
            load_settings(
                content_dir=SAMPLE_CONTENT,
                index_dir=copy,
                llm="openai:gpt-4o-mini",
                llm_base_url=server.base_url,
                llm_api_key="test-key",
            )
        )
        answer = service.ask(FOLLOWUP, [Turn(FIRST, "一线轨道不低于 80% [1]")])
    condense, written = server.requests
    system, user = condense["body"]["messages"]
    assert "standalone question" in system["content"] and "简体中文" in system["content"]
    assert user["content"] == (
        f"Conversation:\nQuestion: {FIRST}\nAnswer: 一线轨道不低于 80% [1]\n\n"
        f"Follow-up: {FOLLOWUP}\n\nStandalone question:"
    )
    assert written["body"]["messages"][1]["content"].endswith(f"Question: {STANDALONE}")
    assert answer.question == STANDALONE and answer.answered
    assert any("75%" in hit.chunk.text for hit in answer.sources)


async def test_in_the_chat_a_chat_model_reads_the_followup_with_the_answer_before(
    bot: TrainBot,
) -> None:
    replies = [
        "一线轨道的合格线是测验正确率不低于 80% [1]。",
        STANDALONE,
        "管理轨道的合格线是测验正确率不低于 75% [1]。",
    ]
    with FakeOpenAI(replies) as server:
        settings = bot.ctx.settings
        settings.llm, settings.llm_base_url, settings.llm_api_key = (
            "openai:gpt-4o-mini",
            server.base_url,
            "test-key",
        )
        mei = ConsoleDriver(bot, Person("console", "mei", "Mei", "zh-CN"))
        (first,) = await mei.say(FIRST)
        (followup,) = await mei.say(FOLLOWUP)
    assert "80%" in first
    assert followup.startswith(READ_AS) and "75%" in followup
    condense = server.requests[1]["body"]["messages"][1]["content"]
    assert f"Question: {FIRST}\nAnswer: 一线轨道的合格线是测验正确率不低于 80% [1]。" in condense
    assert condense.endswith(f"Follow-up: {FOLLOWUP}\n\nStandalone question:")
    assert asked_texts(bot) == [FIRST, STANDALONE]


def test_a_chat_model_that_fails_leaves_the_followup_to_the_rule(
    sample_index_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "index"
    shutil.copytree(sample_index_dir, copy)
    service = KnowledgeService(
        load_settings(
            content_dir=SAMPLE_CONTENT,
            index_dir=copy,
            llm="openai:gpt-4o-mini",
            llm_base_url="http://127.0.0.1:9/v1",  # nothing listens there
            llm_api_key="test-key",
        )
    )
    assert service.answerer.standalone(FOLLOWUP, [Turn(FIRST)]) == STANDALONE


# -- the store, on SQLite and PostgreSQL -----------------------------------------------------


def test_turns_are_kept_per_person_and_conversation_and_expire(database: Database) -> None:
    now = datetime(2026, 11, 16, 1, 30, tzinfo=UTC)
    dm = Conversation("slack", "D0ANN")
    thread = Conversation("slack", "C0GENERAL", ConversationKind.THREAD, "1763340100.000200")
    other_thread = Conversation("slack", "C0GENERAL", ConversationKind.THREAD, "1763340200.0003")
    with database.session() as session:
        ann, bo = (
            StoredPerson(
                platform="slack",
                platform_user_id=user_id,
                display_name=user_id,
                created_at=now,
                updated_at=now,
            )
            for user_id in ("U0ANN", "U0BO")
        )
        session.add_all([ann, bo])
        session.flush()
        for minute in range(5):
            remember_turn(
                session,
                ann.id,
                thread,
                question=f"q{minute}",
                answer="a" * 1000,
                now=now + timedelta(minutes=minute),
                minutes=10,
            )
        remember_turn(session, bo.id, thread, question="bo", answer="", now=now, minutes=10)
        remember_turn(session, ann.id, dm, question="dm", answer="", now=now, minutes=10)
        later = now + timedelta(minutes=4)
        turns = recent_turns(session, ann.id, thread, now=later, minutes=10)
        assert [turn.question for turn in turns] == ["q2", "q3", "q4"]  # the last three
        assert len(turns[-1].answer) == 600 and turns[0].answer
        assert recent_turns(session, ann.id, other_thread, now=later, minutes=10) == []
        assert [t.question for t in recent_turns(session, ann.id, dm, now=later, minutes=10)] == [
            "dm"
        ]
        assert [
            t.question for t in recent_turns(session, bo.id, thread, now=later, minutes=10)
        ] == ["bo"]
        # Past the window nothing is read, and the next question deletes what expired.
        much_later = now + timedelta(minutes=15)
        assert recent_turns(session, ann.id, thread, now=much_later, minutes=10) == []
        remember_turn(session, bo.id, dm, question="new", answer="", now=much_later, minutes=10)
        left = session.scalars(select(ConversationTurn.question)).all()
        assert left == ["new"]
