"""The learners' words: key terms, sentiment and recurring complaints per lesson.

Plain texts in, plain results out: the comments, survey texts and 👎 answers of a lesson
come from the store (later), the results go into the "content to improve" list and the
report. Chinese key terms come from jieba's TF-IDF (``jieba.analyse``, with jieba loaded
the way :mod:`knowledge.tokenize` loads it); English ones from TF-IDF of the lesson's words
against all lessons' words. Complaints are grouped by the key terms they share or, given an
embedding model (the bundled multilingual e5), by meaning, which also joins a Chinese and an
English comment that say the same thing.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.evaluation.sentiment import Polarity, Sentiment, analyse_sentiments
from knowledge.tokenize import (
    QUESTION_WORDS,
    STOPWORDS_EN,
    STOPWORDS_ZH,
    ensure_jieba,
)

logger = logging.getLogger(__name__)

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_CLITIC = re.compile(r"(?:n't|'s|'re|'ll|'ve|'d|'m)$")

# Words every feedback comment uses about any lesson: they would top every lesson's list.
FEEDBACK_STOPWORDS_ZH = frozenset(
    [
        "课",
        "这节",
        "这节课",
        "节课",
        "一节课",
        "一节",
        "课程",
        "这一课",
        "感觉",
        "觉得",
        "真的",
        "非常",
        "特别",
        "比较",
        "有点",
        "还是",
        "而且",
        "就是",
        "已经",
        "然后",
        "看完",
        "希望",
        "一点",
        "一下子",
        "明明",
        "根本",
        "完全",
        "下次",
        "之前",
        "这么",
        "那么",
        "不能",
        "没有",
        "能不能",
        "一遍",
        "讲得",
        "那块",
        "那段",
        "那节",
        "那部分",
        "没看",
        "适不",
    ]
)
FEEDBACK_STOPWORDS_EN = frozenset(
    [
        "lesson",
        "lessons",
        "course",
        "one",
        "really",
        "quite",
        "bit",
        "lot",
        "much",
        "way",
        "far",
        "guess",
        "think",
        "feel",
        "felt",
        "found",
        "still",
        "again",
        "yet",
        "even",
        "finally",
        "exactly",
        "maybe",
        "please",
        "thanks",
        "thank",
        "oh",
        "wow",
        "hmm",
        "ok",
        "okay",
        "i'm",
        "it's",
        "didn't",
        "don't",
        "wasn't",
        "isn't",
        "can't",
        "couldn't",
        "wouldn't",
        "never",
        "nothing",
        "could",
        "would",
        "make",
        "made",
        "got",
        "next",
        "day",
        "part",
        "me",
        "us",
    ]
)
_ZH_STOP = STOPWORDS_ZH | QUESTION_WORDS | FEEDBACK_STOPWORDS_ZH
_EN_STOP = STOPWORDS_EN | QUESTION_WORDS | FEEDBACK_STOPWORDS_EN

MAX_GROUP_TEXTS = 500
"""Complaint grouping compares every pair: beyond this many texts only the newest are grouped."""
TERM_SIMILARITY = 0.25
"""Average Jaccard overlap of key words above which two complaint groups are merged."""
EMBEDDING_SIMILARITY = 0.6
"""Average cosine above which two complaint groups are merged (language-centred e5).

Complaints sound alike whatever they are about, so e5 puts them close: on the labelled
comments 0.35 merged 13 unrelated English complaints into one group; 0.6 keeps the pairs
that say the same thing, across languages too (docs/evaluation.md)."""


@dataclass(frozen=True)
class KeyTerm:
    """A term that characterises a lesson's comments.

    Attributes:
        term: the word as learners wrote it (Chinese word or English word).
        language: ``zh`` or ``en``.
        weight: its TF-IDF weight in the lesson (comparable within one language only).
        texts: in how many of the lesson's texts it occurs.
    """

    term: str
    language: str
    weight: float
    texts: int


@dataclass(frozen=True)
class ComplaintGroup:
    """Complaints that say the same thing.

    Attributes:
        count: how many texts are in the group.
        representative: the text closest to all the others (what a trainer reads first).
        terms: the words the group's texts share most, most shared first.
        texts: all the group's texts.
    """

    count: int
    representative: str
    terms: tuple[str, ...]
    texts: tuple[str, ...]


@dataclass(frozen=True)
class LessonWords:
    """What one lesson's comments say.

    Attributes:
        lesson_id: the lesson.
        texts: how many texts were analysed.
        positive: how many read as positive.
        neutral: how many read as neutral.
        negative: how many read as negative.
        mean_score: the mean sentiment score, from -1 to 1.
        terms_zh: the lesson's Chinese key terms, strongest first.
        terms_en: the lesson's English key terms, strongest first.
        complaints: recurring complaints, largest group first.
    """

    lesson_id: str
    texts: int
    positive: int
    neutral: int
    negative: int
    mean_score: float
    terms_zh: tuple[KeyTerm, ...] = ()
    terms_en: tuple[KeyTerm, ...] = ()
    complaints: tuple[ComplaintGroup, ...] = field(default_factory=tuple)


# -- words -------------------------------------------------------------------------------


def _is_cjk_term(word: str) -> bool:
    return bool(_CJK_RUN.fullmatch(word))


def chinese_terms(text: str) -> list[str]:
    """jieba's words of the Chinese parts of ``text`` that can be key terms (two characters or
    more, no stop word)."""
    import jieba

    ensure_jieba()
    words: list[str] = []
    for run in _CJK_RUN.findall(text):
        words.extend(word for word in jieba.cut(run) if len(word) > 1 and word not in _ZH_STOP)
    return words


def english_terms(text: str) -> list[str]:
    """Lower-cased English words of ``text`` that can be key terms (no stop word, clitics off)."""
    words: list[str] = []
    for word in _ENGLISH_WORD.findall(text):
        lowered = word.lower().strip("'-")
        if lowered in _EN_STOP:
            continue
        base = _CLITIC.sub("", lowered)
        if len(base) > 2 and base not in _EN_STOP:
            words.append(_singular(base))
    return words


def _singular(word: str) -> str:
    """examples -> example, pushes -> push, metrics -> metric; keeps "process", "analysis"."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("shes", "ches", "xes", "sses")) and len(word) > 4:
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def _text_terms(text: str) -> set[str]:
    return set(chinese_terms(text)) | set(english_terms(text))


# -- key terms -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _tfidf() -> Any:
    """jieba's TF-IDF extractor, built once: it reads jieba's IDF table (~0.4 s) when built."""
    import jieba.analyse

    ensure_jieba()
    extractor = jieba.analyse.TFIDF()
    extractor.stop_words = set(extractor.stop_words) | _ZH_STOP
    return extractor


def _chinese_key_terms(texts: Sequence[str], top: int) -> list[KeyTerm]:
    """jieba's TF-IDF (its own IDF table of general Chinese) over the lesson's Chinese text."""
    chinese = "。".join(run for text in texts for run in _CJK_RUN.findall(text))
    if not chinese:
        return []
    extractor = _tfidf()
    counted = Counter(term for text in texts for term in set(chinese_terms(text)))
    found = extractor.extract_tags(chinese, topK=top * 3, withWeight=True)
    terms = [
        KeyTerm(term=str(word), language="zh", weight=round(float(weight), 4), texts=counted[word])
        for word, weight in found
        if _is_cjk_term(str(word)) and counted[word]
    ]
    # A term several learners wrote outranks one a single long comment repeats.
    terms.sort(key=lambda term: (-term.texts, -term.weight))
    return terms[:top]


def _english_key_terms(
    texts: Sequence[str], document_frequency: Mapping[str, int], groups: int, top: int
) -> list[KeyTerm]:
    """TF-IDF of the lesson's English words against all lessons (smoothed IDF)."""
    frequency: Counter[str] = Counter()
    counted: Counter[str] = Counter()
    for text in texts:
        words = english_terms(text)
        frequency.update(words)
        counted.update(set(words))
    if not frequency:
        return []
    total = sum(frequency.values())
    terms = [
        KeyTerm(
            term=word,
            language="en",
            weight=round(
                count
                / total
                * (math.log((1 + groups) / (1 + document_frequency.get(word, 0))) + 1),
                4,
            ),
            texts=counted[word],
        )
        for word, count in frequency.items()
    ]
    terms.sort(key=lambda term: (-term.texts, -term.weight, term.term))
    return terms[:top]


def key_terms(
    groups: Mapping[str, Sequence[str]], *, top: int = 8
) -> dict[str, tuple[list[KeyTerm], list[KeyTerm]]]:
    """The Chinese and English key terms of each group of texts (each lesson's comments).

    Args:
        groups: texts by group (lesson id); a text may mix Chinese and English.
        top: how many terms per language and group.

    Returns:
        For each group, its Chinese terms and its English terms, strongest first.
    """
    document_frequency: Counter[str] = Counter()
    for texts in groups.values():
        document_frequency.update({word for text in texts for word in english_terms(text)})
    return {
        name: (
            _chinese_key_terms(texts, top),
            _english_key_terms(texts, document_frequency, len(groups), top),
        )
        for name, texts in groups.items()
    }


# -- recurring complaints -------------------------------------------------------------------


def _jaccard_matrix(texts: Sequence[str]) -> np.ndarray:
    sets = [_text_terms(text) for text in texts]
    size = len(sets)
    matrix = np.eye(size, dtype=np.float64)
    for i in range(size):
        for j in range(i + 1, size):
            union = sets[i] | sets[j]
            score = len(sets[i] & sets[j]) / len(union) if union else 0.0
            matrix[i, j] = matrix[j, i] = score
    return matrix


def _cosine_matrix(texts: Sequence[str], embeddings: Embeddings) -> np.ndarray:
    vectors = np.asarray(embeddings.embed_documents(list(texts)), dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.maximum(norms, 1e-12)
    return np.asarray(vectors @ vectors.T)


def _average_linkage(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Merge the two closest clusters (mean pairwise similarity) while they are close enough.

    Average linkage, not single: one comment that mentions two things must not chain two
    unrelated complaints into one group.
    """
    clusters: list[list[int]] = [[i] for i in range(len(similarity))]
    while len(clusters) > 1:
        best, pair = threshold, None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                score = float(similarity[np.ix_(clusters[a], clusters[b])].mean())
                if score >= best:
                    best, pair = score, (a, b)
        if pair is None:
            break
        a, b = pair
        clusters[a] = clusters[a] + clusters[b]
        del clusters[b]
    return clusters


def group_complaints(
    texts: Sequence[str],
    *,
    embeddings: Embeddings | None = None,
    min_count: int = 2,
    threshold: float | None = None,
) -> list[ComplaintGroup]:
    """Group complaints that say the same thing.

    Args:
        texts: the complaints (the negative comments of one lesson, say).
        embeddings: a model to compare meanings with (e.g. the bundled
            :class:`knowledge.embeddings.LocalE5Embeddings`); without one, texts are compared
            by the key words they share, which does not join the two languages.
        min_count: the smallest group returned (2: a complaint that recurs).
        threshold: the similarity two groups need to merge; defaults to
            :data:`EMBEDDING_SIMILARITY` or :data:`TERM_SIMILARITY`.

    Returns:
        Groups of at least ``min_count`` texts, largest first.
    """
    texts = [text for text in texts if text.strip()][-MAX_GROUP_TEXTS:]
    if not texts:
        return []
    if embeddings is not None:
        similarity = _cosine_matrix(texts, embeddings)
        limit = EMBEDDING_SIMILARITY if threshold is None else threshold
    else:
        similarity = _jaccard_matrix(texts)
        limit = TERM_SIMILARITY if threshold is None else threshold
    groups: list[ComplaintGroup] = []
    for members in _average_linkage(similarity, limit):
        if len(members) < min_count:
            continue
        inner = similarity[np.ix_(members, members)]
        centre = members[int(inner.sum(axis=1).argmax())]
        shared = Counter(term for index in members for term in _text_terms(texts[index]))
        terms = tuple(term for term, count in shared.most_common(3) if count > 1)
        groups.append(
            ComplaintGroup(
                count=len(members),
                representative=texts[centre],
                terms=terms,
                texts=tuple(texts[index] for index in sorted(members)),
            )
        )
    groups.sort(key=lambda group: (-group.count, group.representative))
    return groups


# -- per lesson ---------------------------------------------------------------------------------


def analyse_lessons(
    comments: Mapping[str, Sequence[str]],
    *,
    embeddings: Embeddings | None = None,
    top_terms: int = 8,
) -> list[LessonWords]:
    """Key terms, sentiment counts and recurring complaints for each lesson's comments.

    Args:
        comments: texts by lesson id (comments, survey texts, 👎 answers).
        embeddings: the deployment's embedding model, if any: with the bundled e5, sentiment
            is read by meaning (:class:`~bot.evaluation.sentiment.CentroidSentiment`) and
            complaints are grouped by meaning; without it, by the lexicon and key terms.
        top_terms: key terms per language and lesson.

    Returns:
        One result per lesson with texts, most negative mean score first.
    """
    groups = {
        lesson: [text for text in texts if text.strip()] for lesson, texts in comments.items()
    }
    groups = {lesson: texts for lesson, texts in groups.items() if texts}
    terms = key_terms(groups, top=top_terms)
    results: list[LessonWords] = []
    for lesson, texts in groups.items():
        sentiments: list[Sentiment] = analyse_sentiments(texts, embeddings=embeddings)
        labels = Counter(sentiment.label for sentiment in sentiments)
        negatives = [
            text
            for text, sentiment in zip(texts, sentiments, strict=True)
            if sentiment.label is Polarity.NEGATIVE
        ]
        zh, en = terms[lesson]
        results.append(
            LessonWords(
                lesson_id=lesson,
                texts=len(texts),
                positive=labels[Polarity.POSITIVE],
                neutral=labels[Polarity.NEUTRAL],
                negative=labels[Polarity.NEGATIVE],
                mean_score=round(sum(s.score for s in sentiments) / len(sentiments), 3),
                terms_zh=tuple(zh),
                terms_en=tuple(en),
                complaints=tuple(group_complaints(negatives, embeddings=embeddings)),
            )
        )
    results.sort(key=lambda result: (result.mean_score, result.lesson_id))
    return results


def by_lesson(rows: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """``(lesson_id, text)`` rows as texts by lesson, in the rows' order."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for lesson, text in rows:
        grouped[lesson].append(text)
    return dict(grouped)
