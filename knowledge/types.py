"""Values passed between the stages of the knowledge pipeline.

load (``loaders``) -> clean (``cleaning``) -> chunk (``chunking``) -> embed and index
(``index``) -> search (``search``) -> answer (``answer``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class LoadError(Exception):
    """A material file that cannot be read; the message says why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Block:
    """One structural unit of a section's text.

    Attributes:
        kind: ``paragraph``, ``list_item`` or ``lead_in`` (a line ending with a colon that
            introduces the list items following it).
        text: the cleaned text, without a list marker.
    """

    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Section:
    """The text under one heading.

    Attributes:
        path: the heading path from the top of the document, e.g.
            ``("用户生命周期", "用户留存")``; empty for text before the first heading.
        blocks: the section's paragraphs, lead-ins and list items, in order.
    """

    path: tuple[str, ...]
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded and cleaned material file.

    Attributes:
        path: the file's path relative to the materials directory (``/`` separators).
        title: the document title (first heading, HTML ``<title>``, docx Title style, or
            the file name without suffix).
        sections: the document's sections in order.
    """

    path: str
    title: str
    sections: tuple[Section, ...]


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable passage: a few sentences of one section.

    Attributes:
        id: stable id, ``<path>#<index>``.
        path: source file, relative to the materials directory.
        title: the document title.
        section: the heading path joined with `` > `` (may be empty).
        text: the passage text, never cut mid-sentence unless one sentence is too long.
        index: position of the chunk within its document.
    """

    id: str
    path: str
    title: str
    section: str
    text: str
    index: int

    def embedding_text(self) -> str:
        """What is embedded: the title and section path give the passage its context."""
        context = " > ".join(part for part in (self.title, self.section) if part)
        return f"{context}\n{self.text}" if context else self.text


@dataclass(frozen=True, slots=True)
class Hit:
    """A chunk found by a search, with its fused score and the evidence behind it."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    dense_score: float | None = None
    bm25_rank: int | None = None
    bm25_score: float | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """The result of asking the materials a question.

    Attributes:
        question: the question as searched: as asked, or the part of a long message
            that was searched (:func:`knowledge.search.query_text`).
        answered: ``False`` when the bot abstains (the materials don't cover it).
        text: the answer with ``[n]`` citations, or empty when abstaining.
        confidence: 0..1, the calibrated belief that the sources answer the question.
        language: ``zh`` or ``en``, the question's language.
        sources: the cited hits, in citation order (``[1]`` is ``sources[0]``).
    """

    question: str
    answered: bool
    text: str
    confidence: float
    language: str
    sources: list[Hit] = field(default_factory=list)
