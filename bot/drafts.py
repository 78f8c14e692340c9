"""Drafting quiz questions for trainers: from the week's content gaps, or for a lesson.

The drafting itself is :mod:`quizzes.drafting` (key-sentence cloze and true/false drafts,
or a chat model when ``TRAINBOT_LLM`` is set); this module feeds it passages from the
materials and writes the result where trainers review it:

- ``--from-gaps``: each content gap of the week (:func:`bot.gaps.content_gaps`) is looked
  up in the Q&A index, and its top passages are drafted from;
- ``--lesson ID``: the lesson's own text (citing the lesson's ``source`` material) and the
  passages the index finds for the lesson title.

Each draft gets the lesson whose material and words match its passage best, a stable id
(``<lesson>-d<hash>``, so drafting again never duplicates a question), ``draft: true``,
and lands in ``quizzes/drafts/`` under the content directory, which the course validates
but never serves. A trainer edits the file, removes the marks and moves it up into
``quizzes/`` to publish it (docs/gaps.md).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bot.errors import TrainbotError
from bot.gaps import GapGroup, content_gaps
from bot.library import check_course
from bot.qa import KnowledgeService, KnowledgeUnavailable, chat_model_from_spec
from bot.settings import Settings
from bot.store.db import Database
from knowledge.answer import Answerer
from knowledge.chunking import split_sentences
from knowledge.search import Retriever
from knowledge.tokenize import STOPWORDS_EN, STOPWORDS_ZH, content_words, tagged_words
from knowledge.types import Hit
from quizzes.content import Course, Lesson
from quizzes.drafting import DraftQuestion, Passage, draft_questions
from quizzes.loader import ContentError

logger = logging.getLogger(__name__)

DRAFTS_DIR = Path("quizzes") / "drafts"
"""Where drafts are written, relative to the content directory."""

PASSAGES_PER_QUESTION = 3

# Parts of speech (jieba's tags) that make a good blank: nouns of every kind and verbal
# nouns. Function words, measure words and plain verbs make trivial or odd questions.
_TERM_TAGS = ("n", "vn", "nz", "nr", "ns", "nt", "nw")
_NUMBER = re.compile(r"(?<![\d.:])\d+(?:\.\d+)?%?(?![\d:])")
_ENGLISH_WORD = re.compile(r"^[A-Za-z][A-Za-z'-]{3,}$")


def draft_terms(text: str) -> list[str]:
    """Candidate key terms of ``text``: Chinese nouns (jieba's tagger), English content
    words of four letters or more, and numbers (with a ``%`` if they have one)."""
    terms: list[str] = []
    for word, tag in tagged_words(text):
        if tag == "eng" or word.isascii():
            if _ENGLISH_WORD.match(word) and word.lower() not in STOPWORDS_EN:
                terms.append(word)
        elif tag in _TERM_TAGS and word not in STOPWORDS_ZH:
            terms.append(word)
    terms.extend(_NUMBER.findall(text))
    return terms


@dataclass(frozen=True)
class DraftEntry:
    """A drafted question placed in the course.

    Attributes:
        id: the question id (``<lesson>-d<hash of the prompt>``).
        track: the track of ``lesson``.
        lesson: the lesson the question is filed under.
        question: the drafted question.
        origin: what it was drafted for (the gap question, or the lesson), for reviewers.
    """

    id: str
    track: str
    lesson: str
    question: DraftQuestion
    origin: str


@dataclass
class DraftBatch:
    """The outcome of one drafting run.

    Attributes:
        path: the drafts file written, or ``None`` when there was nothing new.
        entries: the questions written.
        already_drafted: drafts left out because the course already has their id.
        gaps: the content gaps of the window (``--from-gaps`` only).
        uncovered: the gaps whose best passage does not clear the index's answer threshold:
            nothing is drafted for them; the materials need something on them first.
    """

    path: Path | None
    entries: list[DraftEntry] = field(default_factory=list)
    already_drafted: int = 0
    gaps: list[GapGroup] = field(default_factory=list)
    uncovered: list[GapGroup] = field(default_factory=list)


class DraftError(TrainbotError):
    """Drafting cannot start (unknown lesson, nothing to draft from)."""


def source_of(hit: Hit) -> str:
    """The ``path#section`` a question drawn from ``hit`` cites (the deepest heading)."""
    section = hit.chunk.section.split(" > ")[-1].strip()
    return f"{hit.chunk.path}#{section}" if section else hit.chunk.path


def passage_of(hit: Hit) -> Passage:
    """A retrieved chunk as a passage to draft from."""
    heading = " > ".join(part for part in (hit.chunk.title, hit.chunk.section) if part)
    return Passage(text=hit.chunk.text, source=source_of(hit), title=heading)


def question_id(lesson_id: str, draft: DraftQuestion) -> str:
    """A stable id: the same draft in the same lesson always gets the same id."""
    digest = hashlib.sha1(f"{draft.language}\n{draft.prompt}".encode()).hexdigest()[:7]
    return f"{lesson_id}-d{digest}"


def choose_lesson(course: Course, material: str, text: str, language: str) -> Lesson | None:
    """The lesson a question about ``text`` (from ``material``) belongs to.

    Lessons drawn from the same material come first; among them, the one sharing most
    words with the passage. Lessons in ``language`` are preferred to their translations.
    """
    lessons = list(course.lessons.values())
    if not lessons:
        return None
    same_material = [lesson for lesson in lessons if lesson.source == material]
    candidates = same_material or lessons
    words = content_words(text)

    def fit(lesson: Lesson) -> tuple[int, int, int, str]:
        overlap = len(words & content_words(f"{lesson.title}\n{lesson.body}"))
        return (overlap, int(lesson.language == language), -lesson.order, lesson.id)

    return max(candidates, key=fit)


class Drafter:
    """Drafts questions from the configured materials into the content directory.

    Args:
        settings: the configuration (content dir, LLM).
        knowledge: the Q&A index service; ``None`` to draft from lesson texts only.
        llm: a LangChain chat model; by default the one ``TRAINBOT_LLM`` names, if any.
    """

    def __init__(
        self,
        settings: Settings,
        knowledge: KnowledgeService | None = None,
        *,
        llm: Any = None,
    ) -> None:
        self.settings = settings
        self.knowledge = knowledge
        if llm is None and settings.llm:
            llm = chat_model_from_spec(
                settings.llm,
                base_url=settings.llm_base_url,
                api_key=settings.llm_api_key,
                proxy=settings.https_proxy,
            )
        self.llm = llm
        course, problems = check_course(settings.content_dir)
        if course is None:
            raise ContentError(problems)
        self.course = course

    @property
    def drafts_dir(self) -> Path:
        """Where draft files go."""
        return self.settings.content_dir / DRAFTS_DIR

    def _retriever(self) -> Retriever:
        if self.knowledge is None or not self.knowledge.index.exists:
            raise KnowledgeUnavailable("the Q&A index has not been built: run 'trainbot ingest'")
        return Retriever(self.knowledge.index)

    def _draft(
        self, passages: Sequence[Passage], *, count: int, language: str | None
    ) -> list[DraftQuestion]:
        return draft_questions(
            passages,
            count=count,
            terms=draft_terms,
            sentences=split_sentences,
            language=language,
            llm=self.llm,
        )

    def from_gaps(
        self,
        db: Database,
        *,
        start: datetime,
        end: datetime,
        label: str,
        count: int = 5,
        language: str | None = None,
        team_ids: Sequence[int] | None = None,
    ) -> DraftBatch:
        """Draft about ``count`` questions for the content gaps asked in ``[start, end)``.

        The most asked gaps come first, one question each (more when there are fewer gaps
        than ``count``), drafted from the passages the index finds for the gap question.
        Only gaps the materials cover are drafted for: those whose best passage clears the
        answer threshold the bot itself applies (:meth:`knowledge.answer.Answerer.covers`);
        the others are returned as ``uncovered``.

        Args:
            db: the store.
            start: window start (aware).
            end: window end (aware).
            label: names the drafts file (``gaps-<label>.yaml``), e.g. the ISO week.
            count: how many questions to draft at most.
            language: write in this language; default each gap's own.
            team_ids: only gaps of these teams.

        Raises:
            KnowledgeUnavailable: when the Q&A index has not been built.
        """
        gaps = content_gaps(db, start=start, end=end, team_ids=team_ids, limit=count)
        if not gaps:
            return DraftBatch(path=None)
        retriever = self._retriever()
        # The bot's own decision (same index, calibration and strictness): a gap whose best
        # passage would not be shown as an answer has no material to draft from, and a
        # question drafted from the nearest unrelated passage would teach something else.
        judge = Answerer(retriever, strictness=self.settings.qa_strictness)
        covered: list[GapGroup] = []
        uncovered: list[GapGroup] = []
        for gap in gaps:
            answered, confidence, threshold = judge.covers(gap.question)
            logger.debug(
                "gap %r: confidence %.3f (threshold %.3f)", gap.question, confidence, threshold
            )
            (covered if answered else uncovered).append(gap)
        if not covered:
            return DraftBatch(path=None, gaps=gaps, uncovered=uncovered)
        per_gap = math.ceil(count / len(covered))
        drafted: list[tuple[DraftQuestion, str]] = []
        for gap in covered:
            hits = retriever.search(gap.question, k=PASSAGES_PER_QUESTION)
            passages = [passage_of(hit) for hit in hits]
            wanted = min(per_gap, count - len(drafted))
            if wanted <= 0:
                break
            for draft in self._draft(passages, count=wanted, language=language or gap.language):
                drafted.append((draft, f"gap: {gap.question} (asked {gap.count}x)"))
        batch = self._write(drafted, stem=f"gaps-{label}", command=f"--from-gaps --week {label}")
        batch.gaps = gaps
        batch.uncovered = uncovered
        return batch

    def for_lesson(
        self, lesson_id: str, *, count: int = 5, language: str | None = None
    ) -> DraftBatch:
        """Draft up to ``count`` questions for one lesson.

        Drafts from the lesson's text (when the lesson names its ``source`` material) and
        from the passages the index finds for the lesson title in that material.

        Raises:
            DraftError: for an unknown lesson, or one with nothing to draft from.
        """
        wanted_language = language or self.settings.language
        lesson = self.course.lesson(lesson_id, wanted_language)
        if lesson is None:
            known = ", ".join(sorted({known_id for known_id, _ in self.course.lessons}))
            raise DraftError(f"unknown lesson {lesson_id!r} (lessons: {known})")
        passages: list[Passage] = []
        if lesson.source:
            passages.append(Passage(text=lesson.body, source=lesson.source, title=lesson.title))
        passages.extend(self._lesson_passages(lesson))
        if not passages:
            raise DraftError(
                f"lesson {lesson_id!r} names no source material and the Q&A index is not "
                "built: add 'source:' to the lesson or run 'trainbot ingest'"
            )
        drafted = [
            (draft, f"lesson: {lesson.id} {lesson.title}")
            for draft in self._draft(passages, count=count, language=language or lesson.language)
        ]
        return self._write(
            drafted,
            stem=f"lesson-{lesson.id}",
            command=f"--lesson {lesson.id}",
            lesson=lesson,
        )

    def _lesson_passages(self, lesson: Lesson) -> list[Passage]:
        """Passages the index finds for the lesson title, from its material when it has one."""
        try:
            retriever = self._retriever()
        except KnowledgeUnavailable:
            logger.info("no Q&A index: drafting for %s from the lesson text only", lesson.id)
            return []
        hits = retriever.search(lesson.title, k=PASSAGES_PER_QUESTION * 3)
        own = [hit for hit in hits if lesson.source and hit.chunk.path == lesson.source]
        return [passage_of(hit) for hit in (own or hits)[:PASSAGES_PER_QUESTION]]

    def _place(self, draft: DraftQuestion, origin: str, lesson: Lesson | None) -> DraftEntry | None:
        material = draft.source.split("#", 1)[0]
        if lesson is None:
            lesson = choose_lesson(self.course, material, draft.explanation, draft.language)
        if lesson is None:
            return None
        return DraftEntry(
            id=question_id(lesson.id, draft),
            track=lesson.track,
            lesson=lesson.id,
            question=draft,
            origin=origin,
        )

    def _write(
        self,
        drafted: list[tuple[DraftQuestion, str]],
        *,
        stem: str,
        command: str,
        lesson: Lesson | None = None,
    ) -> DraftBatch:
        taken = {question_id for question_id, _ in (*self.course.questions, *self.course.drafts)}
        entries: list[DraftEntry] = []
        already = 0
        for draft, origin in drafted:
            placed = self._place(draft, origin, lesson)
            if placed is None:
                continue
            if placed.id in taken:
                already += 1
                continue
            taken.add(placed.id)
            entries.append(placed)
        if not entries:
            return DraftBatch(path=None, already_drafted=already)
        path = _free_path(self.drafts_dir, stem)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_drafts(entries, command=command), encoding="utf-8")
        course, problems = check_course(self.settings.content_dir)
        if course is None:
            # Never leave a drafts file that breaks the course the bot serves.
            path.unlink()
            raise ContentError(problems)
        self.course = course
        logger.info("wrote %d draft questions to %s", len(entries), path)
        return DraftBatch(path=path, entries=entries, already_drafted=already)


def _free_path(directory: Path, stem: str) -> Path:
    path = directory / f"{stem}.yaml"
    number = 2
    while path.exists():
        path = directory / f"{stem}-{number}.yaml"
        number += 1
    return path


HEADER = """\
# Draft questions written by `trainbot quizzes draft {command}`.
# They are validated with the course but never served. To publish one: check the prompt,
# options, answer, explanation and source against the material, fix or delete it, remove
# its `draft: true` line, and move it (or this whole file) up into quizzes/.
"""


def render_drafts(entries: Sequence[DraftEntry], *, command: str) -> str:
    """The drafts file: the question-bank format, each question marked ``draft: true``."""
    parts = [HEADER.format(command=command), "questions:"]
    for entry in entries:
        draft = entry.question
        fields: dict[str, Any] = {
            "id": entry.id,
            "language": draft.language,
            "track": entry.track,
            "lesson": entry.lesson,
            "type": draft.type,
            "prompt": draft.prompt,
        }
        if draft.options:
            fields["options"] = dict(draft.options)
        fields["answer"] = draft.answer == "true" if draft.type == "true_false" else draft.answer
        fields["explanation"] = draft.explanation
        fields["source"] = draft.source
        fields["draft"] = True
        dumped = yaml.safe_dump(
            [fields], allow_unicode=True, sort_keys=False, width=1000, default_flow_style=False
        )
        comment = " ".join(f"{entry.origin} — {draft.method}".split())
        parts.append(f"  # {comment}")
        parts.extend(f"  {line}" for line in dumped.splitlines())
    return "\n".join(parts) + "\n"
