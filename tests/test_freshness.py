"""Content that stays true: review dates, what is due, and marking a review in the files."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.library import check_course
from quizzes.content import Course
from quizzes.freshness import (
    ReviewDue,
    UnknownItem,
    add_months,
    mark_reviewed,
    review_due,
    sidecar,
)
from tests.conftest import SAMPLE_CONTENT
from tests.test_cli import trainbot

SAMPLE_REVIEWED = date(2026, 11, 16)
"""The date the sample course's items carry."""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the sample course to edit."""
    root = tmp_path / "content"
    shutil.copytree(SAMPLE_CONTENT, root)
    return root


def load(root: Path) -> Course:
    course, problems = check_course(root)
    assert course is not None, problems
    return course


def due_items(root: Path, today: date, months: int = 6) -> list[ReviewDue]:
    due, problems = review_due(load(root), root, today=today, months=months)
    assert problems == []
    return due


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 6, 4), 6, date(2026, 12, 4)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),  # no 31 February: the month's last day
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
    ],
)
def test_months_are_calendar_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_the_sample_course_is_reviewed_and_due_exactly_at_the_period(content: Path) -> None:
    """Every sample item carries 2026-11-16: nothing is due the day before six months have
    passed, everything is due on the day."""
    course = load(content)
    assert due_items(content, date(2027, 5, 15)) == []
    due = due_items(content, date(2027, 5, 16))
    expected = len(course.lessons) + len(course.questions) + len(course.materials)
    assert len(due) == expected
    assert {entry.reviewed for entry in due} == {SAMPLE_REVIEWED}
    assert {entry.due for entry in due} == {date(2027, 5, 16)}
    assert review_due(course, content, today=date(2040, 1, 1), months=0) == ([], [])


def test_marking_a_review_writes_every_file_of_the_item_and_keeps_the_rest(
    content: Path,
) -> None:
    quiz_file = content / "quizzes" / "frontline.yaml"
    before = quiz_file.read_text(encoding="utf-8")
    written = mark_reviewed(load(content), content, "fl-01-q2", date(2027, 6, 1))
    assert written == [quiz_file]
    after = quiz_file.read_text(encoding="utf-8")
    # Both language entries changed their one line; comments and everything else stay.
    changed = [
        (old, new)
        for old, new in zip(before.splitlines(), after.splitlines(), strict=True)
        if old != new
    ]
    assert changed == [("    reviewed: 2026-11-16", "    reviewed: 2027-06-01")] * 2
    lessons = mark_reviewed(load(content), content, "fl-01", date(2027, 6, 1))
    assert sorted(path.name for path in lessons) == ["fl-01.en.md", "fl-01.zh.md"]
    due = due_items(content, date(2027, 5, 16))
    fresh = {(entry.kind, entry.item) for entry in due}
    assert ("question", "fl-01-q2") not in fresh and ("lesson", "fl-01") not in fresh
    assert ("question", "fl-01-q1") in fresh


def test_an_item_without_a_date_is_due_and_marking_it_adds_the_line(content: Path) -> None:
    lesson = content / "lessons" / "fl-02.zh.md"
    lesson.write_text(
        "\n".join(
            line
            for line in lesson.read_text(encoding="utf-8").split("\n")
            if not line.startswith("reviewed:")
        ),
        encoding="utf-8",
    )
    quiz_file = content / "quizzes" / "managers.yaml"
    text = quiz_file.read_text(encoding="utf-8")
    quiz_file.write_text(
        text.replace("  - id: mg-03-q2\n    reviewed: 2026-11-16\n", "  - id: mg-03-q2\n"),
        encoding="utf-8",
    )
    due = due_items(content, date(2026, 12, 1))
    assert [(entry.label, entry.reviewed, entry.line) for entry in due] == [
        ("lesson fl-02 (zh)", None, 2),
        *(
            (f"question mg-03-q2 ({language})", None, entry.line)
            for language, entry in zip(("zh", "en"), due[1:], strict=True)
        ),
    ]
    mark_reviewed(load(content), content, "mg-03-q2", date(2026, 12, 1))
    mark_reviewed(load(content), content, "fl-02", date(2026, 12, 1))
    assert due_items(content, date(2026, 12, 1)) == []
    assert "  - id: mg-03-q2\n    reviewed: 2026-12-01\n    language: zh" in quiz_file.read_text(
        encoding="utf-8"
    )


def test_a_material_changed_on_disk_is_due_again_until_reviewed(content: Path) -> None:
    """A change to the text, not to the review lines, makes the review stale: the Markdown
    material's front matter and the Word file's sidecar record what was reviewed."""
    markdown = content / "materials" / "lifecycle-basics.md"
    word = content / "materials" / "training-norms.docx"
    assert due_items(content, date(2026, 12, 1)) == []
    markdown.write_text(
        markdown.read_text(encoding="utf-8") + "\n新的一段：活动规则已更新。\n", encoding="utf-8"
    )
    word.write_bytes(word.read_bytes() + b"\0")
    due = due_items(content, date(2026, 12, 1))
    assert [(entry.label, entry.changed, entry.reviewed) for entry in due] == [
        ("material lifecycle-basics.md", True, SAMPLE_REVIEWED),
        ("material training-norms.docx", True, SAMPLE_REVIEWED),
    ]
    assert due[1].path == "materials/training-norms.docx.review.yaml"
    mark_reviewed(load(content), content, "lifecycle-basics.md", date(2026, 12, 1))
    mark_reviewed(load(content), content, "training-norms.docx", date(2026, 12, 1))
    assert due_items(content, date(2026, 12, 1)) == []
    assert "reviewed: 2026-12-01" in sidecar(word).read_text(encoding="utf-8")


def test_a_material_without_front_matter_gets_one_and_keeps_its_text(content: Path) -> None:
    markdown = content / "materials" / "data-privacy.md"
    body = markdown.read_text(encoding="utf-8").split("---\n", 2)[2]
    markdown.write_text(body, encoding="utf-8")
    (due,) = due_items(content, date(2026, 12, 1))
    assert (due.label, due.reviewed) == ("material data-privacy.md", None)
    mark_reviewed(load(content), content, "data-privacy.md", date(2026, 12, 1))
    text = markdown.read_text(encoding="utf-8")
    assert text.startswith("---\nreviewed: 2026-12-01\nreviewed_sha256: ")
    assert text.endswith(body)
    assert due_items(content, date(2026, 12, 1)) == []


def test_a_malformed_sidecar_is_named_by_file_and_line(content: Path) -> None:
    holder = content / "materials" / "evaluation-guide.pdf.review.yaml"
    holder.write_text("reviewed: last spring\n", encoding="utf-8")
    due, problems = review_due(load(content), content, today=date(2026, 12, 1), months=6)
    assert problems == [f"{holder}:1: reviewed must be a date like 2026-06-01"]
    assert [entry.label for entry in due] == ["material evaluation-guide.pdf"]


def test_an_unknown_item_is_refused(content: Path) -> None:
    with pytest.raises(UnknownItem):
        mark_reviewed(load(content), content, "fl-99", date(2026, 12, 1))


def test_the_cli_lists_what_is_due_and_marks_reviews(content: Path, tmp_path: Path) -> None:
    """validate warns (exit 0, the course is still served) with file:line and the way out;
    content reviewed writes the date; an unknown id is refused without writing."""
    lesson = content / "lessons" / "mg-02.en.md"
    lesson.write_text(
        lesson.read_text(encoding="utf-8").replace("reviewed: 2026-11-16", "reviewed: 2025-01-10"),
        encoding="utf-8",
    )
    env = {"TRAINBOT_CONTENT_DIR": str(content), "TRAINBOT_REVIEW_MONTHS": "6"}
    checked = trainbot("validate", cwd=tmp_path, **env)
    assert checked.returncode == 0, checked.stderr
    assert "OK" in checked.stdout
    assert f"{lesson}:2: lesson mg-02 (en): last reviewed 2025-01-10, due 2025-07-10" in (
        checked.stdout
    )
    assert "trainbot content reviewed ID" in checked.stdout
    refused = trainbot("content", "reviewed", "mg-02", "nope", cwd=tmp_path, **env)
    assert refused.returncode != 0
    assert "no lesson, question or material named nope" in refused.stderr
    assert "reviewed: 2025-01-10" in lesson.read_text(encoding="utf-8")
    marked = trainbot("content", "reviewed", "mg-02", cwd=tmp_path, **env)
    assert marked.returncode == 0, marked.stderr
    assert "mg-02: reviewed" in marked.stdout and "mg-02.en.md" in marked.stdout
    again = trainbot("validate", cwd=tmp_path, **env)
    assert "mg-02" not in again.stdout
