"""Content that stays true: every lesson, question and material is reviewed every N months.

The training norm asks for a review of every material's timeliness every six months. Each
item carries the date a trainer last checked it:

- a lesson or a question: ``reviewed: 2026-06-01`` in its front matter or YAML entry;
- a Markdown material: ``reviewed:`` in its front matter;
- any other material (PDF, Word, HTML, text): a sidecar file beside it,
  ``NAME.review.yaml`` (``training-norms.docx.review.yaml``), holding ``reviewed:``.

An item is **due for review** on its reviewed date plus the period (``TRAINBOT_REVIEW_MONTHS``,
six by default), and from that day on; an item with no date is due. A material also
records the hash of its text when it is marked reviewed (``reviewed_sha256``); when the
file changes on disk, the review no longer speaks for it and it is due again: an edit
may update one figure and leave the next paragraph out of date, so a change is the
moment to look at the whole again. ``trainbot content reviewed ID`` writes the date (and
the hash) into the file, where the course's authors keep everything else.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from quizzes.content import Course
from quizzes.loader import split_front_matter
from quizzes.yamlmarks import MarkedDict, YamlSyntaxError, load_marked_yaml

logger = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".review.yaml"
"""The sidecar of a material without front matter: ``NAME`` + this."""
HASH_CHARS = 16
"""How much of the SHA-256 is kept: enough to tell two versions of one file apart."""
_MARKDOWN = (".md", ".markdown")
_REVIEWED_LINE = re.compile(r"^(\s*-?\s*)reviewed\s*:.*$")


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, on the month's last day when it has fewer days."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class ReviewDue:
    """One item due for review: what it is, where to edit it, and why it is due."""

    kind: str  # "lesson", "question" or "material"
    item: str  # its id (a lesson's or question's) or file name (a material's)
    language: str | None  # a lesson's or question's language version
    path: str  # relative to the content directory
    line: int
    reviewed: date | None
    due: date | None  # reviewed + the period; None when never reviewed
    changed: bool = False  # a material whose text changed since it was reviewed

    @property
    def label(self) -> str:
        """``lesson fl-01 (zh)``, ``material training-norms.docx``."""
        suffix = f" ({self.language})" if self.language else ""
        return f"{self.kind} {self.item}{suffix}"


@dataclass(frozen=True)
class MaterialReview:
    """What a material's front matter or sidecar says about its review."""

    reviewed: date | None
    sha256: str | None
    path: Path  # the file holding it (the material, or its sidecar)
    line: int


def text_hash(path: Path) -> str:
    """The hash of a material's content: a Markdown file's body without its front matter
    (writing the review date must not count as a change), any other file's bytes."""
    data = path.read_bytes()
    if path.suffix.lower() in _MARKDOWN:
        text = data.decode("utf-8", errors="replace")
        parts = split_front_matter(text)
        # The body as the loader reads it, with or without a front matter block, so
        # adding the block to write the date does not count as a change.
        data = (parts[1] if parts is not None else text.strip()).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:HASH_CHARS]


def sidecar(material: Path) -> Path:
    """Where a non-Markdown material's review is kept."""
    return material.with_name(material.name + SIDECAR_SUFFIX)


def read_material_review(material: Path) -> MaterialReview:
    """The review a material records.

    Raises:
        ValueError: the front matter or sidecar is malformed (``file:line: problem``).
    """
    if material.suffix.lower() in _MARKDOWN:
        holder = material
        parts = split_front_matter(material.read_text(encoding="utf-8", errors="replace"))
        if parts is None:
            return MaterialReview(None, None, material, 1)
        text, first_line = parts[0], 2
    else:
        holder = sidecar(material)
        if not holder.is_file():
            return MaterialReview(None, None, holder, 1)
        text, first_line = holder.read_text(encoding="utf-8"), 1
    try:
        data = load_marked_yaml(text, first_line=first_line)
    except YamlSyntaxError as exc:
        raise ValueError(f"{holder}:{exc.line}: {exc}") from None
    if data is None:
        return MaterialReview(None, None, holder, first_line)
    if not isinstance(data, MarkedDict):
        raise ValueError(f"{holder}:{first_line}: expected a mapping with reviewed:")
    reviewed = data.get("reviewed")
    line = data.line_of("reviewed") if "reviewed" in data else data.line
    if reviewed is not None and not isinstance(reviewed, date):
        raise ValueError(f"{holder}:{line}: reviewed must be a date like 2026-06-01")
    digest = data.get("reviewed_sha256")
    return MaterialReview(reviewed, str(digest) if digest else None, holder, line)


def review_due(
    course: Course, root: Path, *, today: date, months: int
) -> tuple[list[ReviewDue], list[str]]:
    """The items due for review on ``today``, oldest review first (never reviewed first).

    Args:
        course: the loaded course (lessons and published questions; drafts are not served,
            so they are reviewed when published).
        root: the content directory (materials are read from its ``materials/``).
        today: the day to judge on.
        months: the review period; ``0`` reviews nothing.

    Returns:
        The items due, and the problems met reading materials' reviews (``file:line:
        problem``): such a material is listed as due, since its review cannot be read.
    """
    if months <= 0:
        return [], []
    due: list[ReviewDue] = []

    def check(kind: str, item: str, language: str | None, path: str, line: int, day: Any) -> None:
        until = add_months(day, months) if day is not None else None
        if until is None or until <= today:
            due.append(ReviewDue(kind, item, language, path, line, day, until))

    for lesson in course.every_lesson():
        check("lesson", lesson.id, lesson.language, lesson.path, lesson.line, lesson.reviewed)
    for question in course.every_question():
        check(
            "question",
            question.id,
            question.language,
            question.path,
            question.line,
            question.reviewed,
        )
    problems: list[str] = []
    materials = root / "materials"
    for name in course.materials:
        path = materials / name
        try:
            review = read_material_review(path)
        except ValueError as exc:
            problems.append(str(exc))
            due.append(ReviewDue("material", name, None, f"materials/{name}", 1, None, None))
            continue
        where = _relative(review.path, root)
        if review.reviewed is not None and review.sha256 and review.sha256 != text_hash(path):
            until = add_months(review.reviewed, months)
            due.append(
                ReviewDue("material", name, None, where, review.line, review.reviewed, until, True)
            )
            continue
        check("material", name, None, where, review.line, review.reviewed)
    due.sort(key=lambda entry: (entry.reviewed is not None, entry.reviewed or date.min, entry.path))
    return due, problems


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


class UnknownItem(LookupError):
    """No lesson, question or material has the id given."""


def mark_reviewed(course: Course, root: Path, item: str, day: date) -> list[Path]:
    """Write ``reviewed: day`` into every file of the lesson, question or material ``item``.

    A lesson's every language version, a question's every entry, or a material's front
    matter (Markdown) or sidecar, which also gets the hash of the text reviewed. Lines
    are replaced or inserted; the rest of each file is left as it was, comments included.

    Returns:
        The files written.

    Raises:
        UnknownItem: when ``item`` is no lesson id, question id or material name.
    """
    written: list[Path] = []
    lessons = [lesson for lesson in course.every_lesson() if lesson.id == item]
    for lesson in lessons:
        path = root / lesson.path
        _set_front_matter(path, {"reviewed": day.isoformat()})
        written.append(path)
    entries = [question for question in course.every_question() if question.id == item]
    for path_text in sorted({question.path for question in entries}):
        path = root / path_text
        _set_in_entries(path, item, day)
        written.append(path)
    if item in course.materials:
        material = root / "materials" / item
        values = {"reviewed": day.isoformat(), "reviewed_sha256": text_hash(material)}
        if material.suffix.lower() in _MARKDOWN:
            _set_front_matter(material, values)
            written.append(material)
        else:
            holder = sidecar(material)
            _write_sidecar(holder, values)
            written.append(holder)
    if not written:
        raise UnknownItem(item)
    return written


def _set_keys(lines: list[str], values: dict[str, str], start: int, end: int) -> None:
    """Set ``key: value`` lines among ``lines[start:end]``: a key's line is replaced, a
    missing key inserted at ``end`` (the block's end), in place."""
    for key, value in values.items():
        pattern = re.compile(rf"^{re.escape(key)}\s*:")
        for index in range(start, end):
            if pattern.match(lines[index]):
                lines[index] = f"{key}: {value}"
                break
        else:
            lines.insert(end, f"{key}: {value}")
            end += 1


def _set_front_matter(path: Path, values: dict[str, str]) -> None:
    """Set keys in a Markdown file's front matter (adding the block when there is none)."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---" or "---" not in [x.strip() for x in lines[1:]]:
        block = ["---", *(f"{key}: {value}" for key, value in values.items()), "---"]
        _write(path, "\n".join([*block, *lines]))
        return
    _set_keys(lines, values, 1, 1 + [x.strip() for x in lines[1:]].index("---"))
    _write(path, "\n".join(lines))


def _write_sidecar(path: Path, values: dict[str, str]) -> None:
    """Set keys in a material's sidecar, keeping any other line in it."""
    lines = path.read_text(encoding="utf-8").split("\n") if path.is_file() else []
    if not lines or lines[-1] != "":
        lines.append("")  # the file ends with a newline: keys go before it
    _set_keys(lines, values, 0, len(lines) - 1)
    _write(path, "\n".join(lines))


def _set_in_entries(path: Path, item: str, day: date) -> None:
    """Set ``reviewed:`` in the YAML entries (questions) whose ``id`` is ``item``.

    Entries are found by id in the file as it is now (an earlier insertion moves lines).
    An entry's own ``reviewed:`` line is replaced; without one, a line is inserted after
    the entry's first line, indented like its keys.
    """
    lines = path.read_text(encoding="utf-8").split("\n")
    data = load_marked_yaml("\n".join(lines))
    entries = [entry for entry in _mappings(data) if entry.get("id") == item]
    # Bottom up, so an insertion does not move the entries still to do.
    for entry in sorted(entries, key=lambda found: found.line, reverse=True):
        if "reviewed" in entry.key_lines:
            index = entry.key_lines["reviewed"] - 1
            lines[index] = _REVIEWED_LINE.sub(
                lambda match: f"{match.group(1)}reviewed: {day.isoformat()}", lines[index]
            )
            continue
        key = re.match(r"^(\s*-\s*|\s*)", lines[entry.line - 1])
        indent = " " * len(key.group(1)) if key else "    "
        lines.insert(entry.line, f"{indent}reviewed: {day.isoformat()}")
    _write(path, "\n".join(lines))


def _write(path: Path, text: str) -> None:
    """Write a content file atomically: a crash leaves the old file or the new, never half."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _mappings(value: Any) -> list[MarkedDict]:
    """Every mapping in a YAML document."""
    found: list[MarkedDict] = []
    if isinstance(value, MarkedDict):
        found.append(value)
        for item in value.values():
            found.extend(_mappings(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_mappings(item))
    return found


__all__ = [
    "HASH_CHARS",
    "SIDECAR_SUFFIX",
    "MaterialReview",
    "ReviewDue",
    "UnknownItem",
    "add_months",
    "mark_reviewed",
    "read_material_review",
    "review_due",
    "sidecar",
    "text_hash",
]
