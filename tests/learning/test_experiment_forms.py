"""Experiments change what people get: each variant's quiz time and spacing, end to end
through the dispatcher and the answer buttons."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from adapters.memory import MemoryOutbound, Sent
from bot.app import TrainBot
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.events import ButtonPress, Conversation
from bot.events import Person as Who
from bot.library import CourseLibrary
from bot.ratelimit import RateLimiter
from bot.settings import load_settings
from bot.store.db import Database
from bot.store.models import (
    Attempt,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    ExperimentAssignment,
    Person,
    ReviewState,
)
from tests.conftest import SAMPLE_CONTENT

PLATFORM = "memory"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai

EXPERIMENTS = """\
experiments:
  - id: quiz-time
    title: {zh: 上午还是下午测验, en: Morning or afternoon quiz}
    population: {tracks: [frontline]}
    form: push_time
    variants:
      - id: morning
        push_time: "09:30"
      - id: afternoon
        push_time: "15:00"
    outcome: first_try_accuracy
    start: 2026-11-16
    end: 2026-12-31
  - id: spacing
    title: {zh: 复习间隔, en: Review spacing}
    population: {tracks: [frontline]}
    form: spacing
    variants:
      - id: relaxed
        retention: 0.8
      - id: tight
        retention: 0.95
    outcome: first_try_accuracy
    start: 2026-11-16
    end: 2026-12-31
"""


def setup(
    tmp_path: Path, db: Database, count: int, experiments: str = EXPERIMENTS
) -> tuple[TrainBot, Dispatcher, MemoryOutbound, FakeClock]:
    content = tmp_path / "content"
    shutil.copytree(SAMPLE_CONTENT, content)
    (content / "experiments.yaml").write_text(experiments, encoding="utf-8")
    settings = load_settings(database_url=db.url, content_dir=content, reminder_hours=0)
    library = CourseLibrary(content)
    assert library.reload() == []
    clock = FakeClock(MONDAY)
    with db.session() as session:
        for index in range(count):
            session.add(
                Person(
                    platform=PLATFORM,
                    platform_user_id=f"p{index}",
                    display_name=f"P{index}",
                    language="en",
                    timezone="Asia/Shanghai",
                    track_id="frontline",
                    enrolled_at=MONDAY - timedelta(days=7),
                    created_at=MONDAY - timedelta(days=7),
                    updated_at=MONDAY - timedelta(days=7),
                    quiz_time="16:00" if index == count - 1 else None,
                )
            )
    outbound = MemoryOutbound()
    dispatcher = Dispatcher(
        db=db,
        library=library,
        settings=settings,
        clock=clock,
        outbound={PLATFORM: outbound},
        limiters={PLATFORM: RateLimiter(overall=None)},
    )
    bot = TrainBot(settings=settings, db=db, library=library, clock=clock)
    return bot, dispatcher, outbound, clock


def new_quizzes(
    outbound: MemoryOutbound, db: Database, answered: set[str], prefixes: str | tuple[str, ...]
) -> list[tuple[Sent, list[str], int, str]]:
    """The quizzes sent and not yet answered (marked answered now): each message, its
    button payloads, its delivery and the question asked."""
    found = []
    for item in outbound.sent:
        payloads = [button.payload for row in item.reply.buttons for button in row]
        if not payloads or not payloads[0].startswith(prefixes) or item.ref in answered:
            continue
        answered.add(item.ref)
        delivery_id = int(payloads[0].split(":")[1])
        with db.session() as session:
            delivery = session.get(Delivery, delivery_id)
            assert delivery is not None and delivery.item_id is not None
            found.append((item, payloads, delivery_id, delivery.item_id))
    return found


def variants(db: Database, experiment: str) -> dict[str, str]:
    with db.session() as session:
        return dict(
            session.execute(
                select(Person.platform_user_id, ExperimentAssignment.variant)
                .join(ExperimentAssignment, ExperimentAssignment.person_id == Person.id)
                .where(ExperimentAssignment.experiment_id == experiment)
            ).all()
        )


async def test_each_variant_gets_its_quiz_time(tmp_path: Path, sqlite_database: Database) -> None:
    """Four people in the experiment (balanced 2/2) get their quizzes at 09:30 or 15:00; the
    person who chose 16:00 is left out of it and keeps 16:00."""
    _, dispatcher, _, clock = setup(tmp_path, sqlite_database, 5)
    while clock.now() < MONDAY + timedelta(hours=12):
        await dispatcher.tick()
        clock.advance(timedelta(minutes=5))
    assigned = variants(sqlite_database, "quiz-time")
    assert sorted(assigned) == ["p0", "p1", "p2", "p3"]  # p4 chose a time of their own
    assert Counter(assigned.values()) == {"morning": 2, "afternoon": 2}
    with sqlite_database.session() as session:
        quizzes = session.execute(
            select(Person.platform_user_id, Delivery.sent_at)
            .join(Delivery, Delivery.person_id == Person.id)
            .where(Delivery.kind == DeliveryKind.QUIZ, Delivery.status == DeliveryStatus.SENT)
        ).all()
    times = {user: f"{sent.astimezone(SHANGHAI):%H:%M}" for user, sent in quizzes}
    expected = {"morning": "09:30", "afternoon": "15:00"}
    for user, variant in assigned.items():
        assert times[user] == expected[variant], (user, variant)
    assert times["p4"] == "16:00"


async def test_each_spacing_variant_schedules_its_own_next_review(
    tmp_path: Path, sqlite_database: Database
) -> None:
    """The same right answer, as fast (rated Easy, so the card is learned at once): the
    tight variant (retention 0.95) brings the question back sooner than the relaxed one
    (0.8). The answers go through the quiz buttons, as a person's would."""
    bot, dispatcher, outbound, clock = setup(tmp_path, sqlite_database, 4)
    answered: set[str] = set()
    while clock.now() < MONDAY + timedelta(hours=9):
        await dispatcher.tick()
        for item, _, delivery_id, item_id in new_quizzes(
            outbound, sqlite_database, answered, "qa:"
        ):
            question = bot.ctx.library.course.question(item_id, "en")
            assert question is not None
            chat = item.conversation.chat_id
            who = Who(PLATFORM, chat, chat, "en-US", "Asia/Shanghai")
            press = ButtonPress(
                who,
                Conversation(PLATFORM, chat),
                f"qa:{delivery_id}:{question.answer[0]}",
                item.ref,
            )
            await bot.handle(press)  # at once: a fast, right answer
        clock.advance(timedelta(minutes=5))
    spacing = variants(sqlite_database, "spacing")
    assert Counter(spacing.values()) == {"relaxed": 2, "tight": 2}
    with sqlite_database.session() as session:
        rows = session.execute(
            select(Person.platform_user_id, ReviewState.due, ReviewState.last_review).join(
                ReviewState, ReviewState.person_id == Person.id
            )
        ).all()
    intervals: dict[str, list[timedelta]] = {"relaxed": [], "tight": []}
    for user, due, last in rows:
        intervals[spacing[user]].append(due - last)
    assert intervals["tight"] and intervals["relaxed"]
    # Measured: 3 days for 0.95, 28 days for 0.8 (FSRS's default parameters).
    assert max(intervals["tight"]) < min(intervals["relaxed"]), intervals


WORDING = """\
experiments:
  - id: wording
    title: {zh: 平铺直叙还是情景, en: Plain or scenario}
    population: {tracks: [frontline]}
    form: wording
    variants:
      - id: plain
        wording: plain
      - id: scenario
        wording: scenario
    outcome: first_try_accuracy
    lessons: [fl-01]
    start: 2026-11-16
    end: 2026-12-31
"""


async def test_each_wording_variant_is_asked_its_way_and_graded_alike(
    tmp_path: Path, sqlite_database: Database
) -> None:
    """The sample course words fl-01-q1 and fl-01-q3 two ways. People in the scenario
    variant are asked the scenario and read its explanation; people in the plain variant
    the questions as written; a right answer is right either way."""
    bot, dispatcher, outbound, clock = setup(tmp_path, sqlite_database, 4, WORDING)
    course = bot.ctx.library.course
    shown: dict[str, list[tuple[str, str]]] = {}  # user -> (question id, prompt)
    answered: set[str] = set()
    while clock.now() < MONDAY + timedelta(days=3):
        await dispatcher.tick()
        for item, payloads, delivery_id, item_id in new_quizzes(
            outbound, sqlite_database, answered, ("qa:", "qt:")
        ):
            chat = item.conversation.chat_id
            shown.setdefault(chat, []).append((item_id, item.reply.text))
            core = course.question(item_id, "en")
            assert core is not None
            who = Who(PLATFORM, chat, chat, "en-US", "Asia/Shanghai")
            where = Conversation(PLATFORM, chat)
            if payloads[0].startswith("qt:"):  # several answers: tick each, then submit
                for key in core.answer:
                    await bot.handle(ButtonPress(who, where, f"qt:{delivery_id}:{key}", item.ref))
                press = ButtonPress(who, where, f"qs:{delivery_id}", item.ref)
            else:
                press = ButtonPress(who, where, f"qa:{delivery_id}:{core.answer[0]}", item.ref)
            feedback = "\n".join(reply.text for reply in await bot.handle(press))
            scenario = course.question(item_id, "en", wording="scenario")
            assert scenario is not None
            expected = scenario if variants_of(sqlite_database)[chat] == "scenario" else core
            assert expected.explanation in feedback, (chat, item_id)
        clock.advance(timedelta(minutes=15))
    assigned = variants_of(sqlite_database)
    assert Counter(assigned.values()) == {"plain": 2, "scenario": 2}
    worded = {"fl-01-q1", "fl-01-q3"}
    checked = 0
    for user, items in shown.items():
        for question_id, text in items:
            if question_id not in worded:
                continue
            wording = "scenario" if assigned[user] == "scenario" else None
            question = course.question(question_id, "en", wording=wording)
            assert question is not None and question.prompt in text, (user, question_id)
            checked += 1
    assert checked >= 4  # each person was asked at least one of the two
    with sqlite_database.session() as session:
        rows = session.execute(
            select(Person.platform_user_id, Delivery.item_id, Delivery.selection)
            .join(Delivery, Delivery.person_id == Person.id)
            .where(Delivery.kind == DeliveryKind.QUIZ, Delivery.item_id.in_(sorted(worded)))
        ).all()
        attempts = session.scalars(select(func.count()).select_from(Attempt)).one()
        wrong = session.scalars(
            select(func.count()).select_from(Attempt).where(Attempt.correct.is_(False))
        ).one()
    for user, _, selection in rows:
        assert (selection or {}).get("wording") == (
            "scenario" if assigned[user] == "scenario" else None
        )
    assert attempts == len(answered) and wrong == 0  # right in either wording


def variants_of(db: Database) -> dict[str, str]:
    return variants(db, "wording")
