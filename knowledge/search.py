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
the Chinese passage by its terms too, not only by the dense vectors.
"""

from __future__ import annotations

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
TRANSLATED_WEIGHT = 0.8


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
    """

    hits: list[Hit]
    dense: list[tuple[str, float]]
    keyword: list[tuple[str, float]]
    translated: list[tuple[str, float]] = field(default_factory=list)
    translations: list[str] = field(default_factory=list)


class Retriever:
    """Searches a :class:`KnowledgeIndex`.

    Args:
        index: the index to search.
        candidates: how many chunks each ranking contributes to the fusion.
        keyword_weight: weight of the normalised BM25 score against the standardised dense
            score (tuned on the eval set, docs/benchmarks.md).
        translated_weight: the same for the BM25 score of the lexicon-translated question
            (set equal to ``keyword_weight``; 0.5-1.0 measured the same on the eval set,
            1.2 lower).
    """

    def __init__(
        self,
        index: KnowledgeIndex,
        *,
        candidates: int = 50,
        keyword_weight: float = KEYWORD_WEIGHT,
        translated_weight: float = TRANSLATED_WEIGHT,
    ) -> None:
        self.index = index
        self.candidates = candidates
        self.keyword_weight = keyword_weight
        self.translated_weight = translated_weight

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

    def evidence(self, query: str, k: int = 5, mode: Mode = "hybrid") -> Evidence:
        """Search and keep the rankings behind the result."""
        dense = self.index.dense(query, self.candidates) if mode != "bm25" else []
        keyword = self.index.keyword(query, self.candidates) if mode != "dense" else []
        translations = self.translations(query) if mode != "dense" else []
        translated = self.index.keyword_by_tokens(translations, self.candidates)
        hits = self._fuse(dense, keyword, k, translated)
        return Evidence(hits, dense, keyword, translated, translations)

    def _fuse(
        self,
        dense: list[tuple[str, float]],
        keyword: list[tuple[str, float]],
        k: int,
        translated: list[tuple[str, float]] | None = None,
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
            (translated, self.translated_weight),
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
