"""Wording variants: the same question asked another way (a scenario), for a wording
experiment; and what validate says when one is not the same question."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.library import check_course
from quizzes.content import Course
from tests.conftest import SAMPLE_CONTENT


@pytest.fixture(scope="module")
def course() -> Course:
    found, problems = check_course(SAMPLE_CONTENT)
    assert found is not None, problems
    return found


def test_a_wording_is_asked_only_when_wanted_and_grades_alike(course: Course) -> None:
    core = course.question("fl-01-q1", "en")
    scenario = course.question("fl-01-q1", "en", wording="scenario")
    assert core is not None and scenario is not None
    assert core.prompt.startswith("Of the five lifecycle stages")
    assert scenario.prompt.startswith("Mr Wang signed up yesterday")
    assert (scenario.answer, set(scenario.options)) == (core.answer, set(core.options))
    assert course.question("fl-01-q1", "en", wording="plain") == core
    assert course.question("fl-01-q2", "en", wording="scenario") == course.question(
        "fl-01-q2", "en"
    )  # no scenario of its own: the question as written
    zh = course.question("fl-01-q3", "zh", wording="scenario")
    assert zh is not None and zh.prompt.startswith("张女士三个月没下单")
    # A wording variant is no question of its own.
    assert course.question_ids("fl-01").count("fl-01-q1") == 1
    assert course.counts()["wording_variants"] == 4
    assert course.has_wording("fl-01-q3", "scenario")
    assert not course.has_wording("fl-01-q2", "scenario")


def _edited(tmp_path: Path, old: str, new: str) -> tuple[list[str], int]:
    """The sample course with the first scenario entry's ``old`` line replaced; the
    problems validate reports, and the entry's line."""
    root = tmp_path / "content"
    shutil.copytree(SAMPLE_CONTENT, root)
    bank = root / "quizzes" / "frontline.yaml"
    text = bank.read_text(encoding="utf-8")
    start = text.index("    wording: scenario")
    line = text[:start].count("\n")  # the entry starts on the line before
    bank.write_text(text[:start] + text[start:].replace(old, new, 1), encoding="utf-8")
    found, problems = check_course(root)
    assert found is None
    return [f"{p.path}:{p.line}: {p.message}" for p in problems], line


def test_a_wording_variant_must_be_the_same_question(tmp_path: Path) -> None:
    problems, line = _edited(tmp_path, "    answer: B", "    answer: A")
    assert problems == [
        f"quizzes/frontline.yaml:{line}: wording variant 'fl-01-q1' (scenario) needs a core "
        "question 'fl-01-q1' in zh of the same type, lesson, option keys and answer (the same "
        "question, asked another way)"
    ]


def test_a_variant_is_regional_or_worded_and_plain_is_the_core(tmp_path: Path) -> None:
    problems, line = _edited(
        tmp_path, "    wording: scenario", "    wording: scenario\n    region: kuala-lumpur"
    )
    assert problems == [
        f"quizzes/frontline.yaml:{line + 1}: a question variant is regional or worded, not both"
    ]
    plain, line = _edited(tmp_path / "again", "    wording: scenario", "    wording: plain")
    assert plain == [
        f"quizzes/frontline.yaml:{line + 1}: wording 'plain' is the core question's: leave "
        "'wording' out"
    ]


EXPERIMENT = """\
experiments:
  - id: wording
    title: {{zh: 平铺直叙还是情景, en: Plain or scenario}}
    population: {{tracks: [frontline]}}
    form: wording
    variants:
      - id: plain
        wording: plain
      - id: story
        wording: {wording}
    outcome: first_try_accuracy
    lessons: [{lesson}]
    start: 2026-11-16
    end: 2026-12-31
"""


@pytest.mark.parametrize(
    ("wording", "lesson", "message"),
    [
        ("scenario", "fl-01", None),
        (
            "scenario",
            "fl-02",
            "experiments.yaml:6: variant story: no question of the experiment's lessons has "
            "the wording 'scenario' (add 'wording: scenario' variants, or use 'plain' for the "
            "questions as written)",
        ),
        (
            "comic",
            "fl-01",
            "experiments.yaml:6: variant story: no question of the experiment's lessons has "
            "the wording 'comic' (add 'wording: comic' variants, or use 'plain' for the "
            "questions as written)",
        ),
    ],
)
def test_a_wording_experiment_needs_questions_in_each_wording(
    tmp_path: Path, wording: str, lesson: str, message: str | None
) -> None:
    root = tmp_path / "content"
    shutil.copytree(SAMPLE_CONTENT, root)
    (root / "experiments.yaml").write_text(
        EXPERIMENT.format(wording=wording, lesson=lesson), encoding="utf-8"
    )
    found, problems = check_course(root)
    if message is None:
        assert problems == [] and found is not None
        assert [v.wording for v in found.experiments["wording"].variants] == ["plain", "scenario"]
    else:
        assert [f"{p.path}:{p.line}: {p.message}" for p in problems] == [message]
