"""Hybrid retrieval: dense (Chroma) and keyword (BM25) scores fused per chunk.

Dense vectors carry meaning across wording and languages (an English question finds a
Chinese passage); BM25 over jieba tokens carries exact terms (DAU/MAU, LTV, 复审) that a
small embedding model blurs. The fusion is on scores, not ranks: the dense similarity is
standardised over the candidate pool and the BM25 score is divided by the best BM25 score,
then ``fused = dense_z + keyword_weight * bm25_share``. Reciprocal rank fusion was measured
too and lost badly on English questions about Chinese material: BM25 can only ever rank
same-language passages, and rank fusion gives its top (English) passage the same credit
however weak its match (docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from knowledge.index import KnowledgeIndex
from knowledge.types import Hit

Mode = Literal["hybrid", "dense", "bm25"]
KEYWORD_WEIGHT = 0.8


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything one search saw, for ranking and for the abstention signals.

    Attributes:
        hits: the fused ranking, best first.
        dense: ``(chunk id, cosine similarity)`` best first, over the candidate pool.
        keyword: ``(chunk id, BM25 score)`` best first, positive scores only.
    """

    hits: list[Hit]
    dense: list[tuple[str, float]]
    keyword: list[tuple[str, float]]


class Retriever:
    """Searches a :class:`KnowledgeIndex`.

    Args:
        index: the index to search.
        candidates: how many chunks each ranking contributes to the fusion.
        keyword_weight: weight of the normalised BM25 score against the standardised dense
            score (tuned on the eval set, docs/benchmarks.md).
    """

    def __init__(
        self,
        index: KnowledgeIndex,
        *,
        candidates: int = 50,
        keyword_weight: float = KEYWORD_WEIGHT,
    ) -> None:
        self.index = index
        self.candidates = candidates
        self.keyword_weight = keyword_weight

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        """The ``k`` best chunks for ``query``."""
        return self.evidence(query, k, mode).hits

    def evidence(self, query: str, k: int = 5, mode: Mode = "hybrid") -> Evidence:
        """Search and keep the rankings behind the result."""
        dense = self.index.dense(query, self.candidates) if mode != "bm25" else []
        keyword = self.index.keyword(query, self.candidates) if mode != "dense" else []
        return Evidence(self._fuse(dense, keyword, k), dense, keyword)

    def _fuse(
        self, dense: list[tuple[str, float]], keyword: list[tuple[str, float]], k: int
    ) -> list[Hit]:
        fused: dict[str, float] = {}
        if dense:
            scores = [score for _, score in dense]
            mean = sum(scores) / len(scores)
            spread = (sum((score - mean) ** 2 for score in scores) / len(scores)) ** 0.5 or 1.0
            floor = (min(scores) - mean) / spread if keyword else 0.0
            for chunk_id, score in dense:
                fused[chunk_id] = (score - mean) / spread
            for chunk_id, _ in keyword:
                fused.setdefault(chunk_id, floor)  # outside the dense pool: its lowest
        if keyword:
            top = keyword[0][1]
            weight = self.keyword_weight if dense else 1.0
            for chunk_id, score in keyword:
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
