"""Course content: the sample course is valid; every kind of mistake is named by file:line."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.library import CourseLibrary, check_course
from quizzes.content import QuestionType
from quizzes.loader import ContentError, load_course
from tests.conftest import REPO, SAMPLE_CONTENT

TRACKS = """\
tracks:
  - id: frontline
    title: {zh: 一线运营, en: Frontline}
    audience: frontline
    level: 1
    pass_threshold: 0.8
  - id: managers
    title: {zh: 管理者, en: Managers}
    audience: manager
    level: 2
    pass_threshold: 0.75
    cadence: {lesson_days: [tue], quiz_days: [mon, wed], quizzes_per_day: 2}
"""

CALENDAR = """\
blackouts:
  - id: peak
    title: {zh: 大促, en: Sales peak}
    start: 2026-11-09
    end: 2026-11-12
    tracks: [frontline]
"""

QUIZ = """\
defaults:
  track: frontline
  lesson: fl-01
questions:
  - id: q1
    language: zh
    type: single
    prompt: 第一个阶段是?
    options: {A: 获取, B: 流失}
    answer: A
    explanation: 生命周期从获取开始。
    source: basics.md#获取
  - id: q1
    language: en
    type: single
    prompt: Which stage comes first?
    options: {A: Acquisition, B: Churn}
    answer: A
    explanation: The lifecycle starts with acquisition.
    source: basics.md#获取
  - id: q2
    language: en
    type: multi
    prompt: Which are lifecycle stages?
    options: {A: Activation, B: Retention, C: Lunch}
    answer: [A, B]
    explanation: Lunch is not a stage.
    source: basics.md
  - id: q3
    language: en
    type: true_false
    prompt: Churn is the last stage.
    answer: true
    explanation: Churn ends the lifecycle.
    source: basics.md
"""


def lesson(
    lesson_id: str, language: str, *, track: str = "frontline", order: int = 1, body: str = "Body."
) -> str:
    return f"---\nid: {lesson_id}\ntrack: {track}\norder: {order}\nlanguage: {language}\ntitle: T {lesson_id}\n---\n{body}\n"


def write_course(root: Path) -> Path:
    (root / "lessons").mkdir(parents=True)
    (root / "quizzes").mkdir()
    (root / "materials").mkdir()
    (root / "tracks.yaml").write_text(TRACKS, encoding="utf-8")
    (root / "calendar.yaml").write_text(CALENDAR, encoding="utf-8")
    (root / "lessons" / "fl-01.zh.md").write_text(lesson("fl-01", "zh"), encoding="utf-8")
    (root / "lessons" / "fl-01.en.md").write_text(lesson("fl-01", "en"), encoding="utf-8")
    (root / "lessons" / "mg-01.en.md").write_text(
        lesson("mg-01", "en", track="managers"), encoding="utf-8"
    )
    (root / "quizzes" / "frontline.yaml").write_text(QUIZ, encoding="utf-8")
    (root / "materials" / "basics.md").write_text("# 获取\n内容。\n", encoding="utf-8")
    return root


def run_validate(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters", "validate", str(directory)],
        cwd=directory.parent,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(directory.parent)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_sample_course_is_valid_and_large_enough() -> None:
    course = load_course(SAMPLE_CONTENT)
    counts = course.counts()
    assert counts["tracks"] >= 2
    assert counts["lessons"] >= 10
    assert counts["questions"] >= 50
    assert counts["blackouts"] >= 1
    suffixes = {Path(name).suffix for name in course.materials}
    assert {".md", ".txt", ".docx", ".pdf"} <= suffixes
    for lesson_id in course.lesson_ids("frontline") + course.lesson_ids("managers"):
        assert (
            course.lesson(lesson_id, "zh") is not None
            and course.lesson(lesson_id, "en") is not None
        )
    for question_id, _ in course.questions:
        zh, en = (
            course.questions.get((question_id, "zh")),
            course.questions.get((question_id, "en")),
        )
        assert zh is not None and en is not None, question_id
        assert zh.explanation and en.explanation and zh.source


def test_a_small_course_loads_with_everything_normalised(tmp_path: Path) -> None:
    course = load_course(write_course(tmp_path / "course"))
    assert course.lesson_ids("frontline") == ["fl-01"]
    assert course.tracks["managers"].cadence.quizzes_per_day == 2
    q1 = course.question("q1", "zh")
    assert (
        q1 is not None and q1.answer == ("A",) and q1.track == "frontline" and q1.lesson == "fl-01"
    )
    q2 = course.question("q2", "zh")  # falls back to English
    assert q2 is not None and q2.language == "en" and q2.type is QuestionType.MULTI
    assert q2.answer == ("A", "B")
    q3 = course.question("q3", "en")
    assert q3 is not None and q3.keys == ("true", "false") and q3.answer == ("true",)
    assert (
        course.calendar.blackout_on(__import__("datetime").date(2026, 11, 10), "frontline")
        is not None
    )
    assert (
        course.calendar.blackout_on(__import__("datetime").date(2026, 11, 10), "managers") is None
    )
    assert course.question_ids("fl-01") == ["q1", "q2", "q3"]


def test_cli_validate_prints_counts_and_exits_zero() -> None:
    result = run_validate(SAMPLE_CONTENT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout and "tracks" in result.stdout and "questions" in result.stdout


BAD_QUIZ = """\
questions:
  - id: dup
    language: en
    track: frontline
    lesson: fl-01
    type: single
    prompt: First?
    options: {A: one, B: two}
    answer: A
    explanation: Because.
    source: basics.md
  - id: dup
    language: en
    track: frontline
    lesson: fl-01
    type: single
    prompt: Again?
    options: {A: one, B: two}
    answer: A
    explanation: Because.
    source: basics.md
  - id: bad-answer
    language: en
    track: frontline
    lesson: fl-01
    type: single
    prompt: Which?
    options: {A: one, B: two}
    answer: C
    explanation: Because.
    source: basics.md
  - id: no-options
    language: en
    track: frontline
    lesson: fl-01
    type: multi
    prompt: Which ones?
    options: {}
    answer: [A]
    explanation: Because.
    source: basics.md
  - id: no-explanation
    language: en
    track: frontline
    lesson: fl-01
    type: true_false
    prompt: Yes?
    answer: true
    source: basics.md
  - id: unknown-track
    language: en
    track: astronauts
    lesson: fl-01
    type: true_false
    prompt: Up?
    answer: true
    explanation: Up.
    source: basics.md
  - id: unknown-lesson
    language: en
    track: frontline
    lesson: fl-99
    type: true_false
    prompt: Exists?
    answer: false
    explanation: No.
    source: basics.md
"""


def test_every_kind_of_mistake_is_reported_with_file_and_line(tmp_path: Path) -> None:
    root = write_course(tmp_path / "course")
    (root / "quizzes" / "broken.yaml").write_text(
        "questions:\n  - id: x\n    prompt: [unclosed\n", encoding="utf-8"
    )
    (root / "quizzes" / "mistakes.yaml").write_text(BAD_QUIZ, encoding="utf-8")
    (root / "lessons" / "fl-02.en.md").write_text(
        lesson("fl-02", "en", order=2, body="x" * 1201), encoding="utf-8"
    )
    (root / "lessons" / "zz-01.en.md").write_text(
        lesson("zz-01", "en", track="nowhere", order=1), encoding="utf-8"
    )

    result = run_validate(root)
    assert result.returncode != 0
    out = result.stdout
    expected = [
        f"{root}/quizzes/broken.yaml:3: malformed YAML",
        f"{root}/quizzes/mistakes.yaml:12: duplicate question id 'dup / en' (first defined at quizzes/mistakes.yaml:2)",
        f"{root}/quizzes/mistakes.yaml:29: answer C is not among the options (A, B)",
        f"{root}/quizzes/mistakes.yaml:38: a multi question needs options (found none)",
        f"{root}/quizzes/mistakes.yaml:42: missing explanation",
        f"{root}/quizzes/mistakes.yaml:52: unknown track 'astronauts'",
        f"{root}/quizzes/mistakes.yaml:62: unknown lesson 'fl-99'",
        f"{root}/lessons/fl-02.en.md:2: lesson too long: 1201 characters (at most 1200)",
        f"{root}/lessons/zz-01.en.md:3: unknown track 'nowhere'",
    ]
    for line in expected:
        assert line in out, f"missing {line!r} in:\n{out}"
    assert "9 problem(s)" in result.stderr


@pytest.mark.parametrize(
    ("relative", "content", "expected"),
    [
        (
            "tracks.yaml",
            "tracks:\n  - id: frontline\n    title: {zh: a, en: b}\n    audience: x\n    level: 1\n    pass_threshold: 1.5\n",
            "tracks.yaml:6: pass_threshold: Input should be less than or equal to 1",
        ),
        (
            "tracks.yaml",
            TRACKS.replace(
                "    pass_threshold: 0.8\n",
                "    pass_threshold: 0.8\n    survey:\n      every: -1\n",
                1,
            ),
            "tracks.yaml:8: survey.every: Input should be greater than or equal to 0",
        ),
        (
            "tracks.yaml",
            TRACKS.replace(
                "    pass_threshold: 0.8\n",
                "    pass_threshold: 0.8\n    survey: {after: all}\n",
                1,
            ),
            "tracks.yaml:7: unknown field survey.after",
        ),
        (
            "calendar.yaml",
            "blackouts:\n  - id: x\n    title: {zh: a, en: b}\n    start: 2026-11-12\n    end: 2026-11-09\n",
            "calendar.yaml:5: end 2026-11-09 is before start 2026-11-12",
        ),
        (
            "calendar.yaml",
            "blackouts:\n  - id: x\n    title: {zh: a, en: b}\n    start: 2026-11-01\n    end: 2026-11-02\n    tracks: [ghosts]\n",
            "calendar.yaml:6: unknown track 'ghosts'",
        ),
        (
            "lessons/fl-01.zh.md",
            "no front matter here\n",
            "lessons/fl-01.zh.md:1: missing front matter",
        ),
        (
            "lessons/fl-03.en.md",
            "---\nid: fl-01\ntrack: frontline\norder: 3\nlanguage: en\ntitle: Again\n---\nBody\n",
            "lessons/fl-03.en.md:2: duplicate lesson id 'fl-01 / en'",
        ),
        (
            "lessons/fl-03.zh.md",
            "---\nid: fl-03\ntrack: frontline\norder: 1\nlanguage: zh\ntitle: Clash\n---\nBody\n",
            "lessons/fl-03.zh.md:4: order 1 is already used by lesson 'fl-01'",
        ),
        (
            "quizzes/frontline.yaml",
            QUIZ.replace("    source: basics.md#获取\n", "    source: missing.md\n", 1),
            "quizzes/frontline.yaml:12: source 'missing.md' is not a file in materials/",
        ),
        (
            "quizzes/frontline.yaml",
            QUIZ.replace("answer: A\n    explanation: The", "answer: B\n    explanation: The"),
            "differs from its zh version",
        ),
        (
            "quizzes/frontline.yaml",
            QUIZ.replace("    type: true_false\n", "    type: essay\n"),
            "quizzes/frontline.yaml:31: type: Input should be 'single', 'multi' or 'true_false'",
        ),
        (
            "quizzes/frontline.yaml",
            QUIZ.replace("    answer: true\n", "    answer: true\n    options: {A: yes}\n"),
            "a true_false question takes no options",
        ),
        (
            "quizzes/frontline.yaml",
            "questions:\n  - id: q9\n    id: q10\n",
            "quizzes/frontline.yaml:3: malformed YAML: while constructing a mapping: found duplicate key 'id'",
        ),
    ],
)
def test_single_mistakes(tmp_path: Path, relative: str, content: str, expected: str) -> None:
    root = write_course(tmp_path / "course")
    (root / relative).write_text(content, encoding="utf-8")
    _, problems = check_course(root)
    rendered = [str(problem) for problem in problems]
    assert any(expected in line for line in rendered), rendered


def test_drafts_are_validated_but_not_published(tmp_path: Path) -> None:
    root = write_course(tmp_path / "course")
    (root / "quizzes" / "drafts").mkdir()
    draft = QUIZ.replace("id: q1", "id: d1").replace("id: q2", "id: d2").replace("id: q3", "id: d3")
    (root / "quizzes" / "drafts" / "from-gaps.yaml").write_text(draft, encoding="utf-8")
    course = load_course(root)
    assert course.question("d1", "en") is None
    assert course.drafts[("d1", "en")].draft is True
    (root / "quizzes" / "drafts" / "bad.yaml").write_text(
        BAD_QUIZ.replace("id: dup", "id: q1", 1), encoding="utf-8"
    )
    with pytest.raises(ContentError) as caught:
        load_course(root)
    assert any(p.path == "quizzes/drafts/bad.yaml" for p in caught.value.problems)


def test_the_library_keeps_serving_the_last_good_course(tmp_path: Path) -> None:
    root = write_course(tmp_path / "course")
    library = CourseLibrary(root)
    assert library.reload() == []
    assert library.course.question("q1", "en") is not None
    (root / "quizzes" / "frontline.yaml").write_text(
        textwrap.dedent(QUIZ) + "  - id: [broken\n", encoding="utf-8"
    )
    problems = library.reload()
    assert problems and problems[0].path == "quizzes/frontline.yaml"
    assert library.course.question("q1", "en") is not None  # still the previous content
    fresh = CourseLibrary(root)
    fresh.reload()
    with pytest.raises(ContentError):
        _ = fresh.course
