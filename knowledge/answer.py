"""Grounded answers: extractive by default, written by a chat model when one is configured.

Both paths first decide whether the materials answer the question at all. With e5 models
the top cosine similarity alone separates poorly (off-topic questions still score
0.75-0.9), so the confidence combines several signals (see :func:`signals`), calibrated on
the labelled questions in ``benchmarks/eval/qa.yaml`` (``make bench`` reports how well).
Below the threshold the answer is ``answered=False`` and nothing is invented.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.chunking import split_sentences as chunk_sentences
from knowledge.index import KnowledgeIndex
from knowledge.search import Evidence, Retriever
from knowledge.tokenize import content_words, detect_language, has_cjk, tokenize
from knowledge.types import Answer, Hit

logger = logging.getLogger(__name__)

NO_ANSWER = "NO_ANSWER"


FEATURES = (
    "top_dense",
    "dense_margin",
    "coverage",
    "weighted_coverage",
    "unknown",
    "cross_lingual",
    "agreement",
)


@dataclass(frozen=True)
class ConfidenceModel:
    """A logistic model over the retrieval signals; its output is the confidence.

    ``weights`` and ``bias`` are fitted by ``benchmarks/qa_eval.py`` on the eval set and
    recorded, with the threshold's measured effect, in ``docs/benchmarks.md``.
    """

    weights: tuple[float, ...] = (0.0,) * len(FEATURES)
    bias: float = 0.0
    threshold: float = 0.5

    def confidence(self, features: dict[str, float]) -> float:
        """The probability-like confidence that the sources answer the question."""
        z = self.bias + sum(
            w * features[name] for w, name in zip(self.weights, FEATURES, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


CONFIDENCE = ConfidenceModel(
    weights=(3.8699, -0.8873, 3.2675, 1.1259, -0.2626, 0.4817, 0.4394),
    bias=-2.6913,
    threshold=0.25,
)
"""The calibrated model: fitted by ``benchmarks/qa_eval.py`` on ``benchmarks/eval/qa.yaml``.

The threshold is the operating point that still answers at least 95% of the answerable
questions; docs/benchmarks.md shows the whole trade-off curve and what it abstains on.
"""


def signals(
    question: str, evidence: Evidence, index: KnowledgeIndex | None = None
) -> dict[str, float]:
    """Retrieval signals that tell a covered question from an uncovered one.

    - ``top_dense``: similarity of the best dense match (language-centred vectors).
    - ``dense_margin``: how far the best match stands above the median candidate: an
      on-topic question has a clear peak, an off-topic one a flat profile.
    - ``coverage``: share of the question's content words found in the top passages.
    - ``weighted_coverage``: the same, weighted by each word's rarity (IDF), so that the
      one distinctive word (年假, payroll) counts more than common ones; only words in the
      best passage's script count (1.0 when none can be compared).
    - ``unknown``: share of the question's content words that no passage contains at all
      — a strong sign of a question from outside the course.
    - ``cross_lingual``: 1 when the question's language differs from the best passage's;
      such matches score lower, so the model learns to expect that.
    - ``agreement``: 1 when the best hit is in the top 5 of both rankings.
    """
    dense_scores = [score for _, score in evidence.dense]
    top_dense = dense_scores[0] if dense_scores else 0.0
    median = sorted(dense_scores)[len(dense_scores) // 2] if dense_scores else 0.0
    words = content_words(question)
    found: set[str] = set()
    for hit in evidence.hits[:3]:
        found |= words & set(tokenize(hit.chunk.embedding_text()))
    coverage = len(found) / len(words) if words else 0.0
    weighted = unknown = 0.0
    best_text = evidence.hits[0].chunk.text if evidence.hits else ""
    # Only words written in the best passage's script can be looked for in it: an English
    # question about a Chinese passage is judged on the dense signals alone.
    comparable = {word for word in words if has_cjk(word) == has_cjk(best_text)}
    if index is not None and comparable:
        weights = {word: index.idf(word) for word in comparable}
        total = sum(weights.values()) or 1.0
        weighted = sum(weights[word] for word in found & comparable) / total
    elif words:
        weighted = 1.0
    if index is not None and words:
        unknown = sum(1 for word in words if not index.knows(word)) / len(words)
    best = evidence.hits[0] if evidence.hits else None
    agreement = float(
        best is not None
        and best.dense_rank is not None
        and best.dense_rank <= 5
        and best.bm25_rank is not None
        and best.bm25_rank <= 5
    )
    cross = float(
        best is not None and detect_language(best.chunk.text) != detect_language(question)
    )
    return {
        "top_dense": top_dense,
        "dense_margin": top_dense - median,
        "coverage": coverage,
        "weighted_coverage": weighted,
        "unknown": unknown,
        "cross_lingual": cross,
        "agreement": agreement,
    }


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage (Chinese and English sentence ends, and line breaks)."""
    return [part.strip() for part in chunk_sentences(text) if part.strip()]


def extract(question: str, hits: Sequence[Hit], *, max_chars: int = 360) -> str:
    """The most relevant sentences of the top sources, in source order, with citations.

    Sentences are ranked by how many of the question's content words they contain; ties
    (and questions sharing no word with the passage, such as an English question about
    Chinese material) favour earlier sentences of better-ranked sources.
    """
    words = content_words(question)
    candidates: list[tuple[float, int, int, str]] = []
    for source_number, hit in enumerate(hits, start=1):
        for position, sentence in enumerate(split_sentences(hit.chunk.text)):
            shared = len(words & set(tokenize(sentence)))
            rank_bonus = 1.0 / (source_number + position)
            candidates.append((shared + rank_bonus, source_number, position, sentence))
    chosen: list[tuple[int, int, str]] = []
    used = 0
    for _, source_number, position, sentence in sorted(candidates, key=lambda item: -item[0]):
        if chosen and used + len(sentence) > max_chars:
            continue
        chosen.append((source_number, position, sentence))
        used += len(sentence)
        if used >= max_chars * 0.6:
            break
    chosen.sort()
    return "\n".join(f"{sentence} [{source_number}]" for source_number, _, sentence in chosen)


class Answerer:
    """Answers questions from the materials, or abstains.

    Args:
        retriever: the hybrid retriever.
        llm: a LangChain chat model; ``None`` for extractive answers.
        model: the confidence model (calibrated defaults).
        sources: how many passages an answer may cite.
    """

    def __init__(
        self,
        retriever: Retriever,
        *,
        llm: Any = None,
        model: ConfidenceModel | None = None,
        sources: int = 3,
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.model = model or CONFIDENCE
        self.sources = sources

    def answer(self, question: str) -> Answer:
        """Answer ``question`` with citations, or abstain when the materials don't cover it."""
        question = question.strip()
        language = detect_language(question)
        evidence = self.retriever.evidence(question, k=max(self.sources, 5))
        features = signals(question, evidence, self.retriever.index)
        confidence = self.model.confidence(features)
        logger.debug("question signals %s -> confidence %.3f", features, confidence)
        hits = evidence.hits[: self.sources]
        if not hits or confidence < self.model.threshold:
            return Answer(question, False, "", confidence, language, hits)
        if self.llm is None:
            return Answer(question, True, extract(question, hits), confidence, language, hits)
        text = self._written(question, language, hits)
        if text is None:
            return Answer(question, False, "", confidence, language, hits)
        return Answer(question, True, text, confidence, language, hits)

    def _written(self, question: str, language: str, hits: Sequence[Hit]) -> str | None:
        from langchain_core.messages import HumanMessage, SystemMessage

        reply = self.llm.invoke(
            [SystemMessage(system_prompt(language)), HumanMessage(user_prompt(question, hits))]
        )
        text = str(getattr(reply, "content", reply)).strip()
        if not text or NO_ANSWER in text:
            return None
        return text


def system_prompt(language: str) -> str:
    """Instructions for the chat model: answer only from the sources, cite, or refuse."""
    name = "Chinese (简体中文)" if language == "zh" else "English"
    return (
        "You are a training assistant for employees. Answer the question using ONLY the "
        "numbered sources. Do not add facts that are not in the sources. "
        f"Answer in {name}, in at most five sentences. After each sentence, cite the "
        "sources it relies on as [1], [2]. If the sources do not answer the question, reply "
        f"with exactly {NO_ANSWER} and nothing else."
    )


def user_prompt(question: str, hits: Sequence[Hit]) -> str:
    """The numbered sources and the question."""
    parts = []
    for number, hit in enumerate(hits, start=1):
        heading = " > ".join(part for part in (hit.chunk.title, hit.chunk.section) if part)
        parts.append(f"[{number}] {heading}\n{hit.chunk.text}")
    return "Sources:\n\n" + "\n\n".join(parts) + f"\n\nQuestion: {question}"
