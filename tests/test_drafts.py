"""Drafting questions into quizzes/drafts/: from gaps, for a lesson, with a model; never served."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from adapters.cli import app
from adapters.memory import MemoryOutbound
from bot.app import TrainBot
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.drafts import Drafter, DraftError
from bot.errors import TrainbotError
from bot.events import Command, Conversation
from bot.events import Person as ChatPerson
from bot.library import CourseLibrary, check_course
from bot.qa import KnowledgeService
from bot.ratelimit import RateLimiter
from bot.settings import Settings, load_settings
from bot.store.db import Database
from bot.store.models import (
    AskedQuestion,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Person,
    Team,
)
from bot.weeks import iso_week_window
from tests.conftest import SAMPLE_CONTENT
from tests.fake_openai import FakeOpenAI

WEEK = "2026-W47"


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """A copy of the sample course that the test may write drafts into."""
    copy = tmp_path / "course"
    shutil.copytree(SAMPLE_CONTENT, copy)
    return copy


@pytest.fixture
def course_settings(settings: Settings, course_dir: Path) -> Settings:
    return settings.model_copy(update={"content_dir": course_dir})


def ask(db: Database, text: str, *, at: datetime, answered: bool, feedback: int | None) -> None:
    with db.session() as session:
        session.add(
            AskedQuestion(
                text=text,
                language="zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en",
                answered=answered,
                confidence=0.8 if answered else 0.1,
                answer="..." if answered else None,
                sources={"items": []},
                feedback=feedback,
                asked_at=at,
            )
        )


def bank(path: Path) -> list[dict[str, object]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(data["questions"])


def test_drafts_from_the_weeks_gaps_are_validated_but_not_published(
    course_settings: Settings, sqlite_database: Database
) -> None:
    start, end = iso_week_window(WEEK, course_settings.timezone)
    ask(
        sqlite_database,
        "高风险用户要多久内联系？",
        at=start + timedelta(days=1),
        answered=True,
        feedback=-1,
    )
    ask(
        sqlite_database,
        "流失预警信号有哪些",
        at=start + timedelta(days=2),
        answered=False,
        feedback=None,
    )
    ask(sqlite_database, "What is the activation rate?", at=start, answered=False, feedback=None)
    ask(sqlite_database, "如何提高用户留存", at=start, answered=True, feedback=1)  # helpful: no gap
    drafter = Drafter(course_settings, KnowledgeService(course_settings))

    batch = drafter.from_gaps(sqlite_database, start=start, end=end, label=WEEK, count=4)

    assert batch.path == course_settings.content_dir / "quizzes" / "drafts" / f"gaps-{WEEK}.yaml"
    assert len(batch.gaps) == 3 and 1 <= len(batch.entries) <= 4
    written = bank(batch.path)
    materials = {p.name for p in (course_settings.content_dir / "materials").iterdir()}
    lessons = {path.stem.split(".")[0] for path in (SAMPLE_CONTENT / "lessons").glob("*.md")}
    for question in written:
        assert question["draft"] is True
        assert str(question["source"]).split("#")[0] in materials
        assert question["lesson"] in lessons
        assert str(question["id"]).startswith(f"{question['lesson']}-d")
    text = batch.path.read_text(encoding="utf-8")
    assert "# gap: 高风险用户要多久内联系？" in text

    course, problems = check_course(course_settings.content_dir)
    assert problems == [] and course is not None
    assert {qid for qid, _ in course.drafts} == {str(q["id"]) for q in written}
    assert not any(qid in {str(q["id"]) for q in written} for qid, _ in course.questions)
    assert all(draft.draft for draft in course.drafts.values())

    again = drafter.from_gaps(sqlite_database, start=start, end=end, label=WEEK, count=4)
    assert again.path is None and again.already_drafted == len(written)


def test_no_gaps_means_nothing_written(
    course_settings: Settings, sqlite_database: Database
) -> None:
    start, end = iso_week_window(WEEK, course_settings.timezone)
    batch = Drafter(course_settings, KnowledgeService(course_settings)).from_gaps(
        sqlite_database, start=start, end=end, label=WEEK
    )
    assert batch.path is None and batch.gaps == []
    assert not (course_settings.content_dir / "quizzes" / "drafts").exists()


def test_gaps_the_materials_do_not_cover_are_listed_not_drafted(
    course_settings: Settings, course_dir: Path, private_index_dir: Path, sqlite_database: Database
) -> None:
    # The sample course says nothing about annual leave; its nearest passage (quality
    # complaints) once became a cloze question for this gap.
    start, end = iso_week_window(WEEK, course_settings.timezone)
    ask(sqlite_database, "年假有几天？", at=start, answered=False, feedback=None)
    ask(
        sqlite_database,
        "How many days of annual leave do I get?",
        at=start + timedelta(days=1),
        answered=False,
        feedback=None,
    )
    drafter = Drafter(course_settings, KnowledgeService(course_settings))

    batch = drafter.from_gaps(sqlite_database, start=start, end=end, label=WEEK, count=4)

    assert batch.path is None and batch.entries == []
    assert sorted(gap.question for gap in batch.uncovered) == sorted(
        ["年假有几天？", "How many days of annual leave do I get?"]
    )
    assert not (course_dir / "quizzes" / "drafts").exists()

    # With a gap the materials do cover, that one alone is drafted for.
    ask(sqlite_database, "流失预警信号有哪些", at=start, answered=False, feedback=None)
    result = CliRunner().invoke(
        app,
        ["quizzes", "draft", "--from-gaps", "--week", WEEK, "--db", sqlite_database.url],
        env={
            "TRAINBOT_CONTENT_DIR": str(course_dir),
            "TRAINBOT_INDEX_DIR": str(private_index_dir),
            "TRAINBOT_TIMEZONE": course_settings.timezone,
        },
    )
    assert result.exit_code == 0, result.output
    assert "3 content gap(s)" in result.output
    assert "2 not covered by the materials, nothing drafted for them; add material on:" in (
        result.output
    )
    assert "  - 年假有几天？ (asked 1x)" in result.output
    written = bank(course_dir / "quizzes" / "drafts" / f"gaps-{WEEK}.yaml")
    text = (course_dir / "quizzes" / "drafts" / f"gaps-{WEEK}.yaml").read_text(encoding="utf-8")
    assert written and "# gap: 流失预警信号有哪些" in text and "年假" not in text


def test_lesson_drafts_are_filed_under_the_lesson_and_cite_its_material(
    course_settings: Settings,
) -> None:
    drafter = Drafter(course_settings, KnowledgeService(course_settings))
    batch = drafter.for_lesson("fl-04", count=3, language="zh")
    assert batch.path is not None and batch.path.name == "lesson-fl-04.yaml"
    written = bank(batch.path)
    assert len(written) == 3
    for question in written:
        assert (question["lesson"], question["track"]) == ("fl-04", "frontline")
        assert str(question["source"]).startswith("retention-playbook.txt")
    assert check_course(course_settings.content_dir)[1] == []
    # Drafting again writes a second file only with questions not drafted yet.
    second = Drafter(course_settings, KnowledgeService(course_settings)).for_lesson(
        "fl-04", count=3, language="zh"
    )
    assert second.already_drafted >= 1
    with pytest.raises(DraftError, match="unknown lesson 'nope'"):
        drafter.for_lesson("nope")


def test_without_an_index_a_lesson_is_drafted_from_its_own_text(
    course_dir: Path, tmp_path: Path
) -> None:
    settings = load_settings(content_dir=course_dir, index_dir=tmp_path / "no-index")
    batch = Drafter(settings, None).for_lesson("fl-01", count=2, language="en")
    assert batch.path is not None
    for question in bank(batch.path):
        assert question["language"] == "en" and question["source"] == "lifecycle-basics.md"


def test_a_configured_chat_model_writes_the_drafts(course_dir: Path, tmp_path: Path) -> None:
    reply = json.dumps(
        [
            {
                "type": "single",
                "prompt": "Within how many hours must frontline staff contact a high-risk user?",
                "options": {"A": "24", "B": "48", "C": "72"},
                "answer": "B",
                "explanation": "High-risk users are contacted within 48 hours.",
                "passage": 1,
            }
        ]
    )
    with FakeOpenAI([reply]) as server:
        settings = load_settings(
            content_dir=course_dir,
            index_dir=tmp_path / "no-index",
            llm="openai:gpt-4o-mini",
            llm_base_url=server.base_url,
            llm_api_key="test-key",
        )
        batch = Drafter(settings, None).for_lesson("fl-04", count=1, language="en")
    assert batch.path is not None
    (question,) = bank(batch.path)
    assert question["prompt"].startswith("Within how many hours")
    assert question["answer"] == "B" and question["draft"] is True
    (request,) = server.requests
    prompt = request["body"]["messages"][-1]["content"]
    assert "Write in English" in prompt and "[1] " in prompt
    assert check_course(course_dir)[1] == []


def test_cli_drafts_for_a_lesson_and_refuses_two_sources(course_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {
        "TRAINBOT_CONTENT_DIR": str(course_dir),
        "TRAINBOT_INDEX_DIR": str(tmp_path / "no-index"),
    }
    result = runner.invoke(app, ["quizzes", "draft", "--lesson", "mg-01", "--count", "2"], env=env)
    assert result.exit_code == 0, result.output
    assert "wrote 2 draft question(s)" in result.output
    assert (course_dir / "quizzes" / "drafts" / "lesson-mg-01.yaml").is_file()
    result = runner.invoke(app, ["validate", str(course_dir)], env=env)
    assert result.exit_code == 0 and "2 draft questions (not served)" in result.output
    result = runner.invoke(app, ["quizzes", "draft", "--from-gaps", "--lesson", "x"], env=env)
    assert isinstance(result.exception, TrainbotError)


def test_cli_drafts_from_one_teams_gaps(
    course_dir: Path, private_index_dir: Path, sqlite_database: Database
) -> None:
    start, _ = iso_week_window(WEEK, "Asia/Shanghai")
    with sqlite_database.session() as session:
        north, south = Team(name="north", created_at=start), Team(name="south", created_at=start)
        session.add_all([north, south])
        session.flush()
        teams = {"north": north.id, "south": south.id}
    ask(sqlite_database, "流失预警信号有哪些", at=start, answered=False, feedback=None)
    ask(sqlite_database, "What is the activation rate?", at=start, answered=False, feedback=None)
    with sqlite_database.session() as session:
        for row, team in zip(
            session.scalars(select(AskedQuestion).order_by(AskedQuestion.id)),
            ("north", "south"),
            strict=True,
        ):
            row.team_id = teams[team]
    runner = CliRunner()
    env = {
        "TRAINBOT_CONTENT_DIR": str(course_dir),
        "TRAINBOT_INDEX_DIR": str(private_index_dir),
        "TRAINBOT_TIMEZONE": "Asia/Shanghai",
    }
    url = sqlite_database.url
    command = ["quizzes", "draft", "--from-gaps", "--week", WEEK, "--db", url]

    result = runner.invoke(app, [*command, "--team", "north"], env=env)
    assert result.exit_code == 0, result.output
    assert f"1 content gap(s) in {WEEK} in team north" in result.output
    result = runner.invoke(app, command, env=env)
    assert f"2 content gap(s) in {WEEK}" in result.output
    result = runner.invoke(app, [*command, "--team", "nobody"], env=env)
    assert isinstance(result.exception, TrainbotError) and "nobody" in str(result.exception)
    result = runner.invoke(app, ["quizzes", "draft", "--lesson", "mg-01", "--team", "north"])
    assert isinstance(result.exception, TrainbotError) and "--from-gaps" in str(result.exception)


# --------------------------------------------------------------- drafts are never served

DRAFT_ID = "fl-01-dtest"
DRAFT_BANK = f"""\
questions:
  - id: {DRAFT_ID}
    language: en
    track: frontline
    lesson: fl-01
    type: true_false
    prompt: "True or false: the lifecycle starts with acquisition."
    answer: true
    explanation: The material lists acquisition first.
    source: lifecycle-basics.md
    draft: true
"""


@pytest.fixture
def draft_only_course(course_dir: Path) -> Path:
    """The sample course whose frontline track has one question: a draft for fl-01."""
    (course_dir / "quizzes" / "frontline.yaml").unlink()
    drafts = course_dir / "quizzes" / "drafts"
    drafts.mkdir()
    (drafts / "review-me.yaml").write_text(DRAFT_BANK, encoding="utf-8")
    return course_dir


def _learner(db: Database, user_id: str) -> None:
    """Someone on the frontline track who has read lesson fl-01."""
    enrolled = datetime(2026, 11, 1, tzinfo=UTC)
    with db.session() as session:
        person = Person(
            platform="memory",
            platform_user_id=user_id,
            display_name=user_id,
            language="en",
            timezone="Asia/Shanghai",
            track_id="frontline",
            enrolled_at=enrolled,
            created_at=enrolled,
            updated_at=enrolled,
        )
        session.add(person)
        session.flush()
        session.add(
            Delivery(
                person_id=person.id,
                kind=DeliveryKind.LESSON,
                local_date=enrolled.date(),
                item_id="fl-01",
                language="en",
                track_id="frontline",
                status=DeliveryStatus.COMPLETED,
                claimed_at=enrolled,
            )
        )


async def _quiz(bot: TrainBot, user_id: str) -> str:
    who = ChatPerson("memory", user_id, user_id, "en-US")
    replies = await bot.handle(Command(who, Conversation("memory", user_id), "quiz"))
    return "\n".join(reply.text for reply in replies)


async def _tick(
    db: Database, library: CourseLibrary, settings: Settings, clock: FakeClock
) -> set[str]:
    """Run the dispatcher once; the quiz items it delivered."""

    async def no_wait(_seconds: float) -> None:
        return None

    dispatcher = Dispatcher(
        db=db,
        library=library,
        settings=settings,
        clock=clock,
        outbound={"memory": MemoryOutbound()},
        limiters={"memory": RateLimiter(overall=None, sleep=no_wait)},
    )
    await dispatcher.tick()
    with db.session() as session:
        return set(
            session.scalars(
                select(Delivery.item_id).where(Delivery.kind == DeliveryKind.QUIZ)
            ).all()
        )


async def test_a_draft_is_served_only_once_moved_out_and_unmarked(
    draft_only_course: Path, sqlite_database: Database, clock: FakeClock
) -> None:
    settings = load_settings(
        database_url=sqlite_database.url, content_dir=draft_only_course, reminder_hours=0
    )
    library = CourseLibrary(draft_only_course)
    assert library.reload() == []
    assert (DRAFT_ID, "en") in library.course.drafts
    bot = TrainBot(settings=settings, db=sqlite_database, library=library, clock=clock)
    for user in ("ann", "bob", "cai", "dan", "eve"):
        _learner(sqlite_database, user)

    # In drafts/: validated, but neither /quiz nor the 09:30 push serves it.
    assert "the lifecycle starts with acquisition" not in await _quiz(bot, "ann")
    assert DRAFT_ID not in await _tick(sqlite_database, library, settings, clock)

    # Moved up but still marked draft: still not served.
    moved = draft_only_course / "quizzes" / "from-review.yaml"
    (draft_only_course / "quizzes" / "drafts" / "review-me.yaml").rename(moved)
    assert library.reload() == []
    assert (DRAFT_ID, "en") in library.course.drafts
    assert "the lifecycle starts with acquisition" not in await _quiz(bot, "bob")

    # Moved and unmarked: published, and served by /quiz and by the dispatcher.
    moved.write_text(DRAFT_BANK.replace("    draft: true\n", ""), encoding="utf-8")
    assert library.reload() == []
    assert library.course.question(DRAFT_ID, "en") is not None and not library.course.drafts
    assert "the lifecycle starts with acquisition" in await _quiz(bot, "cai")
    clock.advance(timedelta(days=1))  # Tuesday: a new day of pushes for everyone
    assert DRAFT_ID in await _tick(sqlite_database, library, settings, clock)
