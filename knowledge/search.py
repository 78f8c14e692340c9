"""Hybrid retrieval: dense (Chroma) and keyword (BM25) scores fused per chunk.

Dense vectors carry meaning across wording and languages (an English question finds a
Chinese passage); BM25 over jieba tokens carries exact terms (DAU/MAU, LTV, 复审) that a
small embedding model blurs. The fusion is on scores, not ranks: the dense similarity is
standardised over the candidate pool and the BM25 score is divided by the best BM25 score,
then ``fused = dense_z + keyword_weight * bm25_share``. Reciprocal rank fusion was measured
too and lost badly on English questions about Chinese material: BM25 can only ever rank
same-language passages, and rank fusion gives its top (English) passage the same credit
however weak its match (docs/benchmarks.md).

When the index has a bilingual lexicon (:mod:`knowledge.lexicon`), the question's words
are also translated and searched with BM25 a second time, and that ranking is added the
same way: ``+ translated_weight * translated_bm25_share``. An English question then finds
the Chinese passage by its terms too, not only by the dense vectors. The translated
ranking weighs more for an English question (:data:`TRANSLATED_WEIGHTS`): the small
embedding model matches an English question to Chinese sentences weakly, so for English
questions over Chinese material the translated keywords carry more of the evidence, while
a Chinese question translated into English mostly meets the few English pages, which
its dense and direct keyword scores already judge well (measured in docs/benchmarks.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from knowledge.index import KnowledgeIndex
from knowledge.tokenize import (
    chinese_words,
    detect_language,
    english_stems,
    tokenize,
)
from knowledge.types import Hit

Mode = Literal["hybrid", "dense", "bm25"]
KEYWORD_WEIGHT = 0.8

TRANSLATED_WEIGHTS = {"en": 2.0, "zh": 0.8}
"""Weight of the translated BM25 ranking, by the question's language."""

MAX_QUERY_CHARS = 500
"""The longest text searched for one message (see :func:`query_text`).

500 characters fit in one 512-token window of the bundled model even in Chinese (about
one token per character), so no message costs more than one window to embed; that is
four times the longest of the 330 questions in ``benchmarks/eval/`` (127 characters).
"""

_QUESTION_MARK = re.compile(r"[?？]")
_SENTENCE_END = re.compile(r"[。！？；!?;.]\s*")
_SPACE = re.compile(r"\s+")


def query_text(message: str, limit: int = MAX_QUERY_CHARS) -> str:
    """The part of a message that is searched, embedded and tokenised: at most ``limit`` characters.

    The embedding model reads a text of any length, 512 tokens at a time, so a
    40,000-character message cost tens of seconds of CPU against milliseconds for a
    question, and its vector was a blur of the whole paste. A message that long is a
    question with text pasted around it, or no question at all. Whitespace runs are
    collapsed; then, when the message is still longer than ``limit``:

    - with a question mark (``?`` or ``？``), the query ends at the first one and holds
      as much of the text before it as fits, starting at a sentence start;
    - without one, it is the first ``limit`` characters, cut at the last sentence end
      (or space) in their second half.

    A message of at most ``limit`` characters is searched as it is (stripped).
    """
    stripped = message.strip()
    if len(stripped) <= limit:
        return stripped
    text = " ".join(stripped.split())
    if len(text) <= limit:
        return text
    mark = _QUESTION_MARK.search(text)
    if mark is not None:
        start = max(0, mark.end() - limit)
        if start > 0:
            # Begin at a sentence start (else a word start) in the window, not mid-word.
            window = text[start : mark.start()]
            boundary = _SENTENCE_END.search(window) or _SPACE.search(window)
            if boundary is not None and boundary.end() < len(window):
                start += boundary.end()
        return text[start : mark.end()].strip()
    head = text[:limit]
    ends = [found.end() for found in _SENTENCE_END.finditer(head)]
    cut = max([end for end in ends if end >= limit // 2], default=0)
    if not cut:
        space = head.rfind(" ")
        cut = space if space >= limit // 2 else limit
    return head[:cut].strip()


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything one search saw, for ranking and for the abstention signals.

    Attributes:
        hits: the fused ranking, best first.
        dense: ``(chunk id, cosine similarity)`` best first, over the candidate pool.
        keyword: ``(chunk id, BM25 score)`` best first, positive scores only.
        translated: the same for the question's words translated through the index's
            bilingual lexicon (empty without one).
        translations: those translated keyword tokens.
        vector: the question's embedding (None in keyword-only mode).
    """

    hits: list[Hit]
    dense: list[tuple[str, float]]
    keyword: list[tuple[str, float]]
    translated: list[tuple[str, float]] = field(default_factory=list)
    translations: list[str] = field(default_factory=list)
    vector: list[float] | None = None


class Retriever:
    """Searches a :class:`KnowledgeIndex`.

    Args:
        index: the index to search.
        candidates: how many chunks each ranking contributes to the fusion.
        keyword_weight: weight of the normalised BM25 score against the standardised dense
            score (tuned on the eval set, docs/benchmarks.md).
        translated_weights: the same for the BM25 score of the translated question, by
            the question's language (:data:`TRANSLATED_WEIGHTS`).
    """

    def __init__(
        self,
        index: KnowledgeIndex,
        *,
        candidates: int = 50,
        keyword_weight: float = KEYWORD_WEIGHT,
        translated_weights: Mapping[str, float] = TRANSLATED_WEIGHTS,
    ) -> None:
        self.index = index
        self.candidates = candidates
        self.keyword_weight = keyword_weight
        self.translated_weights = dict(translated_weights)

    def translations(self, query: str) -> list[str]:
        """Keyword tokens of the query's words in the other language (via the lexicon)."""
        if not len(self.index.lexicon):
            return []
        if detect_language(query) == "en":
            words = self.index.lexicon.translate(english_stems(query), "en")
        else:
            words = self.index.lexicon.translate(chinese_words(query), "zh")
        return tokenize(" ".join(words))

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        """The ``k`` best chunks for ``query``."""
        return self.evidence(query, k, mode).hits

    def evidence(
        self,
        query: str,
        k: int = 5,
        mode: Mode = "hybrid",
        *,
        exclude: str = "",
        vector: list[float] | None = None,
    ) -> Evidence:
        """Search and keep the rankings behind the result (for at most :func:`query_text`).

        Args:
            query: the question.
            k: how many hits.
            mode: which rankings to use.
            exclude: a material file left out of the search (calibration asks about a
                file as if it were not in the materials).
            vector: the question's embedding when already computed.
        """
        query = query_text(query)
        searchable = mode != "bm25" and bool(self.index.chunks)
        if searchable and vector is None:
            vector = self.index.embeddings.embed_query(query)
        if not searchable:
            vector = None
        dense = (
            self.index.dense_by_vector(vector, self.candidates, exclude=exclude)
            if vector is not None
            else []
        )
        keyword = (
            self.index.keyword_by_tokens(tokenize(query), self.candidates, exclude=exclude)
            if mode != "dense"
            else []
        )
        translations = self.translations(query) if mode != "dense" else []
        translated = self.index.keyword_by_tokens(translations, self.candidates, exclude=exclude)
        weight = self.translated_weights.get(detect_language(query), self.keyword_weight)
        hits = self._fuse(dense, keyword, k, translated, weight)
        return Evidence(hits, dense, keyword, translated, translations, vector)

    def _fuse(
        self,
        dense: list[tuple[str, float]],
        keyword: list[tuple[str, float]],
        k: int,
        translated: list[tuple[str, float]] | None = None,
        translated_weight: float = KEYWORD_WEIGHT,
    ) -> list[Hit]:
        translated = translated or []
        fused: dict[str, float] = {}
        if dense:
            scores = [score for _, score in dense]
            mean = sum(scores) / len(scores)
            spread = (sum((score - mean) ** 2 for score in scores) / len(scores)) ** 0.5 or 1.0
            floor = (min(scores) - mean) / spread if keyword or translated else 0.0
            for chunk_id, score in dense:
                fused[chunk_id] = (score - mean) / spread
            for chunk_id, _ in [*keyword, *translated]:
                fused.setdefault(chunk_id, floor)  # outside the dense pool: its lowest
        for ranking, weight in (
            (keyword, self.keyword_weight),
            (translated, translated_weight),
        ):
            if ranking:
                top = ranking[0][1]
                weight = weight if dense else 1.0
                for chunk_id, score in ranking:
                    fused[chunk_id] = fused.get(chunk_id, 0.0) + weight * score / top
        dense_at = {
            chunk_id: (rank, score) for rank, (chunk_id, score) in enumerate(dense, start=1)
        }
        keyword_at = {
            chunk_id: (rank, score) for rank, (chunk_id, score) in enumerate(keyword, start=1)
        }
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        hits = []
        for chunk_id, score in ranked:
            dense_rank, dense_score = dense_at.get(chunk_id, (None, None))
            bm25_rank, bm25_score = keyword_at.get(chunk_id, (None, None))
            hits.append(
                Hit(
                    chunk=self.index.chunks[chunk_id],
                    score=score,
                    dense_rank=dense_rank,
                    dense_score=dense_score,
                    bm25_rank=bm25_rank,
                    bm25_score=bm25_score,
                )
            )
        return hits
