"""Grounded answers: extractive by default, written by a chat model when one is configured.

Both paths first decide whether the materials answer the question at all. With e5 models
the top cosine similarity alone separates poorly (off-topic questions still score
0.75-0.9), so the confidence combines several signals (see :func:`signals`): a general
model (:data:`CONFIDENCE`, fitted on the labelled tuning questions in ``benchmarks/eval/``)
mixed with a course model fitted at ingest on the index's own probe questions, with the
threshold from those probes (:mod:`knowledge.calibration`, :mod:`knowledge.probes`;
``make bench`` reports how well, on the sample course and on outside corpora).
Below the threshold the answer is ``answered=False`` and nothing is invented.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.answer_type import question_focus, type_found
from knowledge.calibration import DEFAULT_STRICTNESS
from knowledge.extract import extract, split_sentences
from knowledge.followup import Turn, condense_prompt, condensed, rewrite
from knowledge.index import KnowledgeIndex
from knowledge.lexicon import Lexicon
from knowledge.search import Evidence, Retriever, query_text
from knowledge.tokenize import (
    QUESTION_WORDS,
    asking_words,
    chinese_subwords,
    chinese_words,
    detect_language,
    english_stems,
    has_cjk,
    tokenize,
)
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
    "answer_type",
    "focus",
    "background",
)
FEATURE_SIGNS = {
    "top_dense": 1,
    "dense_margin": 1,
    "coverage": 1,
    "weighted_coverage": 1,
    "unknown": -1,
    "cross_lingual": 0,
    "agreement": 1,
    "answer_type": 1,
    "focus": 1,
    "background": 1,
}
"""Which way each signal may move the confidence (0: either way).

The fit keeps every weight on its side. With few unanswerable questions to learn from (18 then), an
unconstrained fit gave overlapping signals opposite signs (more unknown words, more
confidence) that held in-sample but not across folds.
"""


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
    weights=(0.0, 0.0, 0.0, 0.0, 0.0, 0.6589, 0.6904, 2.7698, 0.596, 5.9731),
    bias=-3.6436,
    threshold=0.28,
)
"""The general model: fitted by ``benchmarks/qa_eval.py`` on the tuning questions
(``benchmarks/eval/qa.yaml`` and ``qa_holdout1.yaml``). The bot mixes it with each index's
own calibration (:mod:`knowledge.calibration`); alone it judges an index that has none.

The threshold is the operating point that still answers at least 95% of the answerable
questions; docs/benchmarks.md shows the whole trade-off curve and what it abstains on.
"""


def question_terms(question: str) -> list[str]:
    """The question's topic words: jieba words for Chinese, light stems for English (not the
    words that say what kind of answer is asked: :func:`knowledge.tokenize.asking_words`)."""
    terms = [*chinese_words(question), *english_stems(question)]
    asking = asking_words(question)
    seen: dict[str, None] = {}
    for term in terms:
        if term not in QUESTION_WORDS and term not in asking and len(term) > 1:
            seen.setdefault(term, None)
    return list(seen)


def _in_passage(term: str, text: str, tokens: set[str]) -> bool:
    """Chinese terms as substrings (segmentation differs), English stems as tokens."""
    return term in text if has_cjk(term) else term in tokens


def _term_idf(term: str, index: KnowledgeIndex, exclude: str = "") -> float:
    """Rarity of a term: a Chinese word is as rare as its rarest character bigram."""
    parts = [term[i : i + 2] for i in range(len(term) - 1)] if has_cjk(term) else [term]
    return max(index.idf(part, exclude=exclude) for part in parts or [term])


def _term_known(term: str, index: KnowledgeIndex, exclude: str = "") -> bool:
    """Whether some passage holds the term (a Chinese word: all its character bigrams)."""
    parts = [term[i : i + 2] for i in range(len(term) - 1)] if has_cjk(term) else [term]
    return all(index.knows(part, exclude=exclude) for part in parts or [term])


def _known_form(term: str, index: KnowledgeIndex, exclude: str = "") -> str:
    """A Chinese word as the materials write it, when the segmenter glued a neighbouring
    character to a name it does not know (刘七是 for 刘七 + 是, 史继偕著 for 史继偕 + 著):
    the word without its last, else its first character, when the index knows that form
    and not the whole. Anything else is returned as it is."""
    if not has_cjk(term) or len(term) < 3 or _term_known(term, index, exclude):
        return term
    for form in (term[:-1], term[1:]):
        if _term_known(form, index, exclude):
            return form
    return term


def _variants(term: str, lexicon: Lexicon | None) -> list[str]:
    """The term and its translations from the course's own parallel texts.

    The general dictionary (:mod:`knowledge.dictionary`) helps retrieval but not these
    signals: its many senses would let an off-topic word count as covered ("weather" →
    夏令, "summer weather"), and measured with it the abstention fell (docs/benchmarks.md).
    """
    if lexicon is None:
        return [term]
    return [term, *lexicon.translate([term], "zh" if has_cjk(term) else "en", general=False)]


def _holds(variants: Sequence[str], sentence: str) -> bool:
    """Whether a sentence holds one of the variants (stems compared without jieba: cheap)."""
    stems: set[str] | None = None
    for variant in variants:
        if has_cjk(variant):
            if variant in sentence:
                return True
            continue
        if stems is None:
            stems = set(english_stems(sentence))
        if variant in stems:
            return True
    return False


def _focus_forms(term: str, lexicon: Lexicon | None) -> list[str]:
    """The forms a focus word may take in a passage: itself, its translations, its sub-words.

    A Chinese compound the question writes one way is often written shorter in the
    passage (目标值 in the question, 目标 in the passage), so a focus also counts as found
    when the passage holds one of the dictionary words inside it
    (:func:`knowledge.tokenize.chinese_subwords`). English stems already cover inflection.
    """
    forms = _variants(term, lexicon)
    if has_cjk(term):
        forms += [part for part in chinese_subwords(term) if part not in forms]
    return forms


def signals(
    question: str, evidence: Evidence, index: KnowledgeIndex | None = None, *, exclude: str = ""
) -> dict[str, float]:
    """Retrieval signals that tell a covered question from an uncovered one.

    The lexical signals work on the question's topic words (:func:`question_terms`); a
    word counts as present when it, or one of its translations in the index's bilingual
    lexicon, is in the passage, so an English question about Chinese material is judged
    on its words too.

    - ``top_dense``: similarity of the best dense match (language-centred vectors).
    - ``dense_margin``: how far the best match stands above the median candidate: an
      on-topic question has a clear peak, an off-topic one a flat profile.
    - ``coverage``: share of the question's words present in the top three passages.
    - ``weighted_coverage``: the same, weighted by each word's rarity (IDF), so that the
      one distinctive word (年假, payroll) counts more than common ones. Words that can be
      neither found nor translated into the passages' script do not count.
    - ``unknown``: share of the question's words that no passage contains at all, in
      either language — a sign of a question from outside the course (it overlaps
      ``coverage``, so the fit may leave it at weight 0).
    - ``cross_lingual``: 1 when the question's language differs from the best passage's;
      such matches score lower, so the model learns to expect that.
    - ``agreement``: 1 when the best hit is in the top 5 of the dense ranking and of a
      keyword ranking (direct or translated).
    - ``answer_type``: 0 when the question expects a checkable kind of answer (a price, a
      duration, a phone number: :func:`knowledge.answer_type.expected_type`) and no
      sentence of the top three passages that holds the question's focus expresses one;
      else 1 (sentences are all of them when the question has no focus).
    - ``focus``: 1 when the head of the question's focus
      (:func:`knowledge.answer_type.question_focus`, the last of its words), a
      translation or, for a Chinese compound, a dictionary word inside it
      (:func:`_focus_forms`) is in the top three passages; also 1 when the question has
      no focus (a yes/no or wordless question).
    - ``background``: ``top_dense`` minus the question's similarity to the nearest of the
      everyday sentences outside the course in its language (:mod:`knowledge.background`):
      how much closer the question is to the course than to ordinary talk about anything
      else (0 without an index or a question vector).

    ``exclude`` names a material file to treat as absent from the index (the evidence was
    searched without it): calibration's near-miss probes.
    """
    dense_scores = [score for _, score in evidence.dense]
    top_dense = dense_scores[0] if dense_scores else 0.0
    median = sorted(dense_scores)[len(dense_scores) // 2] if dense_scores else 0.0
    terms = question_terms(question)
    if index is not None:
        terms = list(dict.fromkeys(_known_form(term, index, exclude) for term in terms))
    language = detect_language(question)
    lexicon = index.lexicon if index is not None else None
    top = evidence.hits[:3]
    text = "\n".join(hit.chunk.embedding_text() for hit in top)
    tokens = set(tokenize(text))
    passage_cjk = any(has_cjk(hit.chunk.text) for hit in top)
    present: dict[str, bool] = {}
    comparable: dict[str, bool] = {}
    known: dict[str, bool] = {}
    for term in terms:
        variants = _variants(term, lexicon)
        present[term] = any(_in_passage(variant, text, tokens) for variant in variants)
        comparable[term] = present[term] or any(
            has_cjk(variant) == passage_cjk for variant in variants
        )
        known[term] = index is None or any(
            _term_known(variant, index, exclude) for variant in variants
        )
    found = [term for term in terms if present[term]]
    coverage = len(found) / len(terms) if terms else 0.0
    unknown = sum(1 for term in terms if not known[term]) / len(terms) if terms else 0.0
    weighted = 1.0 if terms else 0.0
    if index is not None and terms:
        rarity = {term: _term_idf(term, index, exclude) for term in terms}
        counted = [term for term in terms if comparable[term]]
        total = sum(rarity[term] for term in counted) or 1.0
        weighted = (
            sum(rarity[term] for term in counted if present[term]) / total if counted else 1.0
        )
    best = evidence.hits[0] if evidence.hits else None
    translated_top = {chunk_id for chunk_id, _ in evidence.translated[:5]}
    agreement = float(
        best is not None
        and best.dense_rank is not None
        and best.dense_rank <= 5
        and (
            (best.bm25_rank is not None and best.bm25_rank <= 5) or best.chunk.id in translated_top
        )
    )
    cross = float(best is not None and detect_language(best.chunk.text) != language)
    focus = [_focus_forms(term, lexicon) for term in question_focus(question)]
    sentences = [sentence for hit in top for sentence in split_sentences(hit.chunk.text)]
    if focus:
        sentences = [s for s in sentences if any(_holds(forms, s) for forms in focus)]
        focus_found = any(_in_passage(form, text, tokens) for form in focus[-1])
    else:
        focus_found = True
    return {
        "top_dense": top_dense,
        "dense_margin": top_dense - median,
        "coverage": coverage,
        "weighted_coverage": weighted,
        "unknown": unknown,
        "cross_lingual": cross,
        "agreement": agreement,
        "answer_type": float(type_found(question, "\n".join(sentences))),
        "focus": float(focus_found),
        "background": (
            top_dense - index.background_similarity(evidence.vector, language)
            if index is not None and evidence.vector is not None and dense_scores
            else 0.0
        ),
    }


def extractive(
    question: str, evidence: Evidence, hits: Sequence[Hit], index: KnowledgeIndex
) -> str:
    """The extractive answer from ``hits`` (the cited sources, best first): their sentences
    ranked by the question's words, the retriever's translations of them, the index's IDF
    and the stored sentence vectors' closeness to the question (:func:`extract`)."""
    closeness = (
        index.sentence_similarities([hit.chunk for hit in hits], evidence.vector)
        if evidence.vector is not None
        else []
    )
    return extract(
        question,
        hits,
        translations=evidence.translations,
        weight=index.idf,
        closeness=closeness,
    )


class Answerer:
    """Answers questions from the materials, or abstains.

    Args:
        retriever: the hybrid retriever.
        llm: a LangChain chat model; ``None`` for extractive answers.
        model: a confidence model to use as it is, instead of the index's calibration.
        sources: how many passages an answer may cite.
        strictness: percent of the course's own probe questions the bot may decline
            (:meth:`knowledge.calibration.Calibration.threshold`); higher declines more.
    """

    def __init__(
        self,
        retriever: Retriever,
        *,
        llm: Any = None,
        model: ConfidenceModel | None = None,
        sources: int = 3,
        strictness: float = DEFAULT_STRICTNESS,
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.model = model or CONFIDENCE
        self.fixed_model = model is not None
        self.sources = sources
        self.strictness = strictness

    def decide(self, features: dict[str, float]) -> tuple[float, float]:
        """(confidence, threshold) for a question's signals.

        With the index's calibration (:mod:`knowledge.calibration`) the general model's
        confidence is mixed with the course model's and the threshold comes from the
        course's probe questions; an index without one (built before calibration existed)
        is judged by the general model and its threshold.
        """
        general = self.model.confidence(features)
        calibration = None if self.fixed_model else self.retriever.index.calibration
        if calibration is None:
            return general, self.model.threshold
        return calibration.confidence(features, general), calibration.threshold(self.strictness)

    def covers(self, question: str) -> tuple[bool, float, float]:
        """Whether the materials answer a standalone ``question``: the decision
        :meth:`answer` makes, without writing the answer.

        Returns:
            (covered, confidence, threshold); covered means some passage was found and the
            calibrated confidence reaches the threshold.
        """
        question = query_text(question)
        evidence = self.retriever.evidence(question, k=max(self.sources, 5))
        confidence, threshold = self.decide(signals(question, evidence, self.retriever.index))
        return bool(evidence.hits) and confidence >= threshold, confidence, threshold

    def answer(
        self, question: str, history: Sequence[Turn] = (), *, reply_language: str | None = None
    ) -> Answer:
        """Answer ``question`` with citations, or abstain when the materials don't cover it.

        A follow-up is first rewritten into a standalone question from ``history`` (the
        conversation's earlier turns, oldest first: :meth:`standalone`). A long message is
        answered for the part of it :func:`knowledge.search.query_text` keeps. The
        returned answer's ``question`` is what was searched. A chat model writes in
        ``reply_language`` (the bot passes the asker's: ``bot.views.answer_language``), by
        default the question's; "LTV?" shows no language of its own.
        """
        question = query_text(self.standalone(query_text(question), history))
        language = detect_language(question)
        evidence = self.retriever.evidence(question, k=max(self.sources, 5))
        features = signals(question, evidence, self.retriever.index)
        confidence, threshold = self.decide(features)
        logger.debug(
            "question signals %s -> confidence %.3f (threshold %.3f)",
            features,
            confidence,
            threshold,
        )
        hits = evidence.hits[: self.sources]
        if not hits or confidence < threshold:
            return Answer(question, False, "", confidence, language, hits)
        if self.llm is None:
            shown = extractive(question, evidence, hits, self.retriever.index)
            return Answer(question, True, shown, confidence, language, hits)
        text = self._written(question, reply_language or language, hits)
        if text is None:
            return Answer(question, False, "", confidence, language, hits)
        return Answer(question, True, text, confidence, language, hits)

    def standalone(self, question: str, history: Sequence[Turn]) -> str:
        """The question a follow-up stands for, given the conversation before it.

        With a chat model, the model condenses the history and the follow-up into one
        question (it returns a question that stands alone unchanged); without one, the
        rule of :func:`knowledge.followup.rewrite`. Without history, ``question`` itself.
        """
        if not history:
            return question
        if self.llm is None:
            rewritten = rewrite(question, history)
        else:
            from langchain_core.messages import HumanMessage, SystemMessage

            system, user = condense_prompt(question, history)
            try:
                reply = self.llm.invoke([SystemMessage(system), HumanMessage(user)])
            except Exception as exc:  # the model is down: the rule still reads the follow-up
                logger.warning("the chat model could not condense a follow-up (%s): rule used", exc)
                rewritten = rewrite(question, history)
            else:
                rewritten = condensed(str(getattr(reply, "content", reply)), question)
        if rewritten != question:
            logger.debug("follow-up rewritten into a standalone question")
        return rewritten

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
        f"Answer in {name}, in at most five sentences, even when the sources are written "
        "in another language: then translate what they say. After each sentence, cite the "
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
