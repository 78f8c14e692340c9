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
