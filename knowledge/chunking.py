"""Cutting documents into retrievable chunks of whole sentences.

A chunk holds a few sentences of one section, never more: a passage that mixes two
sections answers neither well and cites the wrong heading. Sentences are packed greedily
up to a target size; a sentence is cut only when it alone is longer than a chunk may be.
A list stays with the line that introduces it, and when a long list continues in the next
chunk, that chunk repeats the introducing line so that every piece of the list says what
it is a list of.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from knowledge.types import Block, Chunk, Document, Section

logger = logging.getLogger(__name__)

TARGET_CHARS = 350
MAX_CHARS = 500
MIN_CHARS = 150
MERGE_SLACK = 1.2
"""A tiny last piece may join the chunk before it if that stays within max_chars * this."""

_CLOSERS = "”’」』）)】》\"'"
# Chinese sentence ends split wherever they stand; ASCII "!" and "?" need a space, the end
# or a CJK character after them; "." needs a space or the end (checked for abbreviations).
_SENTENCE_END = re.compile(
    rf"(?:[。！？；]|……|…)+[{_CLOSERS}]*"
    rf"|[!?]+[{_CLOSERS}]*(?=\s|$|[\u3000-\u9fff\uff00-\uffef])"
    rf"|\.+[{_CLOSERS}]*(?=\s|$)"
    r"|\n"
)
_WORD_BEFORE_DOT = re.compile(r"([A-Za-z0-9.]+)\.+$")
_ABBREVIATIONS = frozenset(
    {
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "al",
        "approx",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "sr",
        "jr",
        "st",
        "no",
        "nos",
        "fig",
        "figs",
        "inc",
        "ltd",
        "co",
        "corp",
        "dept",
        "a.m",
        "p.m",
        "u.s",
        "u.k",
    }
)
_CLAUSE_END = re.compile(r"[，、；：,;:](?:\s+|(?=\S))")
_TRAILING_COLONS = ("：", ":")


@dataclass(frozen=True, slots=True)
class _Piece:
    """A sentence (or part of an over-long one) of one block."""

    text: str
    kind: str
    block: int
    first: bool
    """The piece starts its block, so it starts a new line."""
    lead_in: int | None = None
    """Index of the lead-in block introducing the list this piece belongs to."""
    context: bool = False
    """A repeated lead-in at the top of a list's continuation chunk."""
    sticky: bool = False
    """Must not end a chunk: a lead-in, or a block's last sentence ending with a colon."""


def chunk_document(
    document: Document,
    *,
    target_chars: int = TARGET_CHARS,
    max_chars: int = MAX_CHARS,
    min_chars: int = MIN_CHARS,
) -> list[Chunk]:
    """Cut a document into chunks of whole sentences, section by section.

    Args:
        document: the loaded document.
        target_chars: pack sentences up to about this many characters.
        max_chars: no chunk is longer, unless one sentence alone is (it is then cut at
            commas or spaces) or a tiny last piece was merged (up to
            ``max_chars * MERGE_SLACK``).
        min_chars: a last piece of a section shorter than this joins the chunk before it.

    Returns:
        The chunks in document order; ``index`` counts across the whole document and
        ``id`` is ``"<path>#<index>"``.
    """
    if not 0 < min_chars <= target_chars <= max_chars:
        raise ValueError("need 0 < min_chars <= target_chars <= max_chars")
    chunks: list[Chunk] = []
    for section in document.sections:
        for text in _chunk_section(section, target_chars, max_chars, min_chars):
            index = len(chunks)
            chunks.append(
                Chunk(
                    id=f"{document.path}#{index}",
                    path=document.path,
                    title=document.title,
                    section=" > ".join(section.path),
                    text=text,
                    index=index,
                )
            )
    return chunks


def split_sentences(text: str) -> list[str]:
    """Split text into sentences; joined back together they give the text unchanged.

    Chinese sentences end at 。！？；(and …), with any closing quotes or brackets after
    the mark; English ones at . ! ? before a space or the end. Abbreviations (``e.g.``,
    ``Dr.``), initials, decimals (``3.5``) and list numbers (``1.``) do not end a sentence.
    A line break always does (code blocks keep their lines).

    Args:
        text: a paragraph or list item.

    Returns:
        The sentences, each with the whitespace that followed it.
    """
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if match.group().startswith(".") and not _ends_with_sentence_dot(
            text[start : match.start() + 1]
        ):
            continue
        while end < len(text) and text[end] in " \t\n":
            end += 1
        if end > start:
            sentences.append(text[start:end])
            start = end
    if start < len(text):
        sentences.append(text[start:])
    return [sentence for sentence in sentences if sentence.strip()]


def _ends_with_sentence_dot(sentence: str) -> bool:
    """Whether the dot closing ``sentence`` ends it (not ``e.g.``, ``Dr.``, ``1.``)."""
    match = _WORD_BEFORE_DOT.search(sentence)
    if match is None:
        return True
    word = match.group(1).casefold()
    if word in _ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isalpha():
        return False  # an initial, as in "J. Smith"
    before = sentence[: match.start()]
    # "1." opening a line is a list number, not a sentence of its own.
    return not (word.isdigit() and len(word) <= 2 and (not before.strip() or before.endswith("\n")))


def _split_long(sentence: str, limit: int) -> list[str]:
    """Cut a sentence longer than ``limit`` at clause marks, else spaces, else anywhere."""
    if len(sentence) <= limit:
        return [sentence]
    for splitter in (_CLAUSE_END, re.compile(r"\s+")):
        parts = _split_keeping(sentence, splitter)
        if len(parts) > 1:
            return _pack(parts, limit)
    return [sentence[start : start + limit] for start in range(0, len(sentence), limit)]


def _split_keeping(text: str, splitter: re.Pattern[str]) -> list[str]:
    parts = []
    start = 0
    for match in splitter.finditer(text):
        if match.end() > start and match.end() < len(text):
            parts.append(text[start : match.end()])
            start = match.end()
    parts.append(text[start:])
    return [part for part in parts if part]


def _pack(parts: list[str], limit: int) -> list[str]:
    packed: list[str] = []
    current = ""
    for part in parts:
        if len(part) > limit:
            if current:
                packed.append(current)
                current = ""
            packed.extend(_split_long(part, limit))
        elif len(current) + len(part) > limit and current:
            packed.append(current)
            current = part
        else:
            current += part
    if current:
        packed.append(current)
    return packed


def _pieces(blocks: tuple[Block, ...], max_chars: int) -> list[_Piece]:
    """The section's sentences, each knowing its block and the list lead-in it belongs to."""
    pieces: list[_Piece] = []
    lead_in: int | None = None
    for index, block in enumerate(blocks):
        if block.kind == "lead_in":
            lead_in = index
        elif block.kind != "list_item":
            lead_in = None
        group = lead_in if block.kind == "list_item" else None
        limit = max_chars - 2  # room for the "- " marker
        if group is not None:
            # The lead-in is repeated above a continued list; leave room for it.
            limit = max(limit - len(blocks[group].text) - 1, max_chars // 2)
        parts = [
            part
            for sentence in split_sentences(block.text)
            for part in _split_long(sentence, limit)
        ]
        for position, part in enumerate(parts):
            sticky = block.kind == "lead_in" or (
                position == len(parts) - 1 and part.rstrip().endswith(_TRAILING_COLONS)
            )
            pieces.append(_Piece(part, block.kind, index, position == 0, group, sticky=sticky))
    return pieces


def _render(pieces: list[_Piece]) -> str:
    lines: list[str] = []
    previous: _Piece | None = None
    for piece in pieces:
        if previous is None or piece.block != previous.block or piece.context != previous.context:
            marker = "- " if piece.kind == "list_item" and piece.first else ""
            lines.append(marker + piece.text.lstrip())
        else:
            lines[-1] += piece.text
        previous = piece
    return "\n".join(line.rstrip() for line in lines)


def _chunk_section(section: Section, target: int, max_chars: int, min_chars: int) -> list[str]:
    pieces = _pieces(section.blocks, max_chars)
    lead_ins = {
        index: _Piece(block.text, "lead_in", index, True, context=True)
        for index, block in enumerate(section.blocks)
        if block.kind == "lead_in"
    }
    chunks: list[list[_Piece]] = []
    current: list[_Piece] = []
    for piece in pieces:
        if current:
            size = len(_render([*current, piece]))
            if size > max_chars or (size > target and len(_render(current)) >= min_chars):
                carry: list[_Piece] = []
                # A lead-in (or "as follows:" line) moves on with the list it introduces.
                while len(carry) < len(current) - 1 and current[-1 - len(carry)].sticky:
                    carry.insert(0, current[-1 - len(carry)])
                content = current[: len(current) - len(carry)]
                if any(not p.context for p in content):
                    chunks.append(content)
                    current = carry
                else:
                    chunks.append(current)
                    current = []
                if piece.lead_in is not None and not any(p.block == piece.lead_in for p in current):
                    current.insert(0, lead_ins[piece.lead_in])
        current.append(piece)
    if current:
        chunks.append(current)
    _merge_tail(chunks, max_chars, min_chars)
    return [_render(chunk) for chunk in chunks]


def _merge_tail(chunks: list[list[_Piece]], max_chars: int, min_chars: int) -> None:
    """Fold a tiny last chunk into the one before it when the result is not too long."""
    if len(chunks) < 2 or len(_render(chunks[-1])) >= min_chars:
        return
    tail = [piece for piece in chunks[-1] if not piece.context]
    merged = [*chunks[-2], *tail]
    if len(_render(merged)) <= max_chars * MERGE_SLACK:
        chunks[-2:] = [merged]
