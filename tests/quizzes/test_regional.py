"""Regional variants: one core, local cases — picked by region, else the core."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.library import check_course
from quizzes.content import Course
from tests.conftest import SAMPLE_CONTENT

KL = "kuala-lumpur"


@pytest.fixture(scope="module")
def course() -> Course:
    found, problems = check_course(SAMPLE_CONTENT)
    assert found is not None, problems
    return found


def test_a_person_of_a_region_gets_its_variant_and_everyone_else_the_core(
    course: Course,
) -> None:
    assert course.regions() == [KL]
    regional = course.lesson("fl-04", "en", KL)
    core = course.lesson("fl-04", "en")
    assert regional is not None and core is not None
    assert regional.title == "Spotting churn warning signs (Kuala Lumpur team)"
    assert core.title == "Spotting churn warning signs"
    assert course.lesson("fl-04", "en", "vancouver") == core  # a region without a variant
    assert course.lesson("fl-03", "zh", KL) == course.lesson("fl-03", "zh")  # no variant
    question = course.question("fl-04-q1", "zh", KL)
    assert question is not None and question.prompt.startswith("斋月期间")
    assert course.question("fl-04-q1", "zh") is not None
    assert course.question("fl-04-q1", "zh").prompt.startswith("流失风险评分")  # type: ignore[union-attr]
    # The variants are not lessons or questions of their own.
    assert course.lesson_ids("frontline").count("fl-04") == 1
    assert course.question_ids("fl-04").count("fl-04-q1") == 1
    assert course.counts()["regional_variants"] == 4


def test_the_language_comes_before_the_region(tmp_path: Path) -> None:
    """Kuala Lumpur's variant only in Chinese: an English reader there gets the core English
    lesson, not a Chinese one."""
    root = tmp_path / "content"
    shutil.copytree(SAMPLE_CONTENT, root)
    (root / "lessons" / "fl-04.kuala-lumpur.en.md").unlink()
    found, problems = check_course(root)
    assert found is not None, problems
    lesson = found.lesson("fl-04", "en", KL)
    assert lesson is not None and lesson.title == "Spotting churn warning signs"
    zh = found.lesson("fl-04", "zh", KL)
    assert zh is not None and zh.region == KL


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda root: (root / "lessons" / "fl-04.kuala-lumpur.zh.md").write_text(
                (root / "lessons" / "fl-04.kuala-lumpur.zh.md")
                .read_text(encoding="utf-8")
                .replace("order: 4", "order: 5"),
                encoding="utf-8",
            ),
            "lessons/fl-04.kuala-lumpur.zh.md:2: regional variant 'fl-04' (kuala-lumpur) needs "
            "a core lesson 'fl-04' of the same track and order (one core, local cases)",
        ),
        (
            lambda root: shutil.copy(
                root / "lessons" / "fl-04.kuala-lumpur.zh.md",
                root / "lessons" / "fl-04.kl2.zh.md",
            ),
            "lessons/fl-04.kuala-lumpur.zh.md:2: duplicate lesson id 'fl-04 / zh / kuala-lumpur' "
            "(first defined at lessons/fl-04.kl2.zh.md:2)",
        ),
    ],
)
def test_a_variant_without_its_core_is_named_by_file_and_line(
    tmp_path: Path, edit: object, message: str
) -> None:
    root = tmp_path / "content"
    shutil.copytree(SAMPLE_CONTENT, root)
    assert callable(edit)
    edit(root)
    found, problems = check_course(root)
    assert found is None
    assert [f"{problem.path}:{problem.line}: {problem.message}" for problem in problems] == [
        message
    ]


def test_a_question_variant_must_be_the_same_kind_of_question(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(SAMPLE_CONTENT, root)
    bank = root / "quizzes" / "frontline.yaml"
    text = bank.read_text(encoding="utf-8")
    start = text.index("    region: kuala-lumpur")
    line = text[:start].count("\n")  # the entry starts on the line before
    bank.write_text(
        text[:start] + text[start:].replace("    lesson: fl-04", "    lesson: fl-03", 1),
        encoding="utf-8",
    )
    found, problems = check_course(root)
    assert found is None
    assert [f"{p.path}:{p.line}: {p.message}" for p in problems] == [
        f"quizzes/frontline.yaml:{line}: regional variant 'fl-04-q1' (kuala-lumpur) needs a "
        "core question 'fl-04-q1' of the same type, lesson and answer (one core, local cases)"
    ]


async def test_the_dispatcher_pushes_each_person_their_regions_lesson(
    tmp_path: Path,
) -> None:
    """Two learners at lesson 4: one in Kuala Lumpur gets the local case, the other the
    core lesson; one roster import sets the region (a bad one is refused by line)."""
    from datetime import UTC, date, datetime, timedelta

    from adapters.memory import MemoryOutbound
    from bot.clock import FakeClock
    from bot.dispatcher import Dispatcher
    from bot.library import CourseLibrary
    from bot.ratelimit import RateLimiter
    from bot.roster import import_roster
    from bot.settings import load_settings
    from bot.store.db import Database
    from bot.store.models import Delivery, DeliveryKind, DeliveryStatus, Person

    monday = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    db.upgrade()
    library = CourseLibrary(SAMPLE_CONTENT)
    assert library.reload() == []
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "platform,user_id,name,language,timezone,track,region\n"
        "console,kl,Aminah,en,Asia/Kuala_Lumpur,frontline,Kuala-Lumpur\n"
        "console,sz,Li,en,Asia/Shanghai,frontline,\n"
        "console,bad,Bad,en,Asia/Shanghai,frontline,kuala lumpur\n",
        encoding="utf-8",
    )
    report = import_roster(
        db,
        roster,
        course=library.course,
        now=monday - timedelta(days=30),
        default_language="en",
        default_timezone="Asia/Shanghai",
    )
    assert [line for line, _ in report.problems] == [4]
    assert "invalid region 'kuala lumpur'" in report.problems[0][1]
    with db.session() as session:
        people = {p.platform_user_id: p for p in session.query(Person).all()}
        assert (people["kl"].region, people["sz"].region) == (KL, None)
        for person in people.values():
            for order, lesson in enumerate(("fl-01", "fl-02", "fl-03")):
                session.add(
                    Delivery(
                        person_id=person.id,
                        kind=DeliveryKind.LESSON,
                        local_date=date(2026, 11, 2) + timedelta(days=order),
                        item_id=lesson,
                        track_id="frontline",
                        status=DeliveryStatus.COMPLETED,
                        claimed_at=monday - timedelta(days=14 - order),
                        sent_at=monday - timedelta(days=14 - order),
                        completed_at=monday - timedelta(days=14 - order),
                    )
                )
    settings = load_settings(database_url=db.url, content_dir=SAMPLE_CONTENT, reminder_hours=0)
    outbound = MemoryOutbound(platform="console")
    clock = FakeClock(monday)
    dispatcher = Dispatcher(
        db=db,
        library=library,
        settings=settings,
        clock=clock,
        outbound={"console": outbound},
        limiters={"console": RateLimiter(overall=None)},
    )
    while clock.now() < monday + timedelta(hours=3):
        await dispatcher.tick()
        clock.advance(timedelta(minutes=10))
    lessons = {
        chat: [reply.text for reply in outbound.to(chat) if reply.text.startswith("📘")]
        for chat in ("kl", "sz")
    }
    assert "Spotting churn warning signs (Kuala Lumpur team)" in lessons["kl"][0]
    assert "Ramadan" in lessons["kl"][0]
    assert "Spotting churn warning signs**" in lessons["sz"][0]
    assert "Ramadan" not in lessons["sz"][0]
    db.dispose()
