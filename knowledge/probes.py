"""Questions an index asks itself at ingest, to calibrate when to answer (no hand labels).

- **Probe questions** (answerable): from a sentence of the materials, its topic words in
  order with one of them dropped (the asked-for detail), at most eight, as a question
  ("…是什么？", "What about …?"). Two harder variants of each: a third of the words
  swapped for words of other passages (a question worded differently from the passage),
  and, when the index has a course lexicon, the words translated into the other language.
- **Near misses** (not answerable): every probe asked again with its source file left out
  of the search and the word statistics (leave one document out): a question in the
  course's own domain about something the materials do not hold.
- **Everyday questions** (not answerable): ``offtopic.yaml``, written for trainbot in
  Chinese and English (wifi password, CEO, salary, weather, sport…). One whose words
  are mostly found in the top passages is left out: the course covers it.

Everything is seeded (:data:`SEED`) and bounded (:data:`PROBE_SENTENCES`,
:data:`EVERYDAY`), so the same materials give the same calibration, at a cost of a few
seconds per ingest (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from knowledge.answer import CONFIDENCE, FEATURE_SIGNS, FEATURES, signals
from knowledge.calibration import (
    COURSE_WEIGHT,
    MAX_STRICTNESS,
    NEGATIVE_PERCENTILE,
    VERSION,
    Calibration,
    fit_logistic,
    separation,
)
from knowledge.chunking import split_sentences
from knowledge.index import KnowledgeIndex
from knowledge.search import Retriever
from knowledge.tokenize import STOPWORDS_EN, chinese_words, has_cjk

logger = logging.getLogger(__name__)

QUESTIONS = Path(__file__).with_name("offtopic.yaml")
SEED = 14
PROBE_SENTENCES = 40
"""Sentences probed at most (each gives up to three probe questions, each asked twice)."""
EVERYDAY = 24
"""Everyday questions asked at most (half of each language)."""
MIN_PROBES = 8
COVERED = 0.6
"""An everyday question whose topic words are found this much in the top passages is
treated as covered by the course and left out."""
CALIBRATED_SIGNALS = tuple(name for name in FEATURES if name != "cross_lingual")
"""The course model's signals. ``cross_lingual`` is left out: the probes are mostly in the
passages' own language and half the everyday questions are not, so a fit would learn
"another language means off-topic" and decline every question asked in the other language."""

_NUMBER = re.compile(r"^[\d.,%]+$")
_ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|\d[\d.,%]*")


@dataclass(frozen=True)
class Probe:
    """A made-up question about one file of the materials.

    Attributes:
        text: the question.
        path: the material file its sentence comes from.
    """

    text: str
    path: str


def everyday_questions(path: Path = QUESTIONS) -> dict[str, list[str]]:
    """The bundled everyday questions outside any course, by language."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    return {language: [str(text) for text in data[language]] for language in ("zh", "en")}


def topic_words(sentence: str) -> list[str]:
    """The words of a sentence that carry its topic, in order (no numbers)."""
    if has_cjk(sentence):
        return [w for w in chinese_words(sentence) if len(w) > 1 and not _NUMBER.match(w)]
    return [
        word
        for word in _ENGLISH_WORD.findall(sentence)
        if word.lower() not in STOPWORDS_EN and len(word) > 2 and not _NUMBER.match(word)
    ]


def as_question(words: Sequence[str], language: str) -> str:
    """Topic words as a question in ``language``."""
    if language == "zh":
        return "".join(words) + "是什么？"
    return "What about " + " ".join(words) + "?"


def probe_words(sentence: str, rng: random.Random) -> list[str] | None:
    """A sentence's topic words with one dropped, at most eight; ``None`` under four."""
    words = topic_words(sentence)
    if len(words) < 4:
        return None
    del words[rng.randrange(len(words))]
    if len(words) > 8:
        start = rng.randrange(len(words) - 7)
        words = words[start : start + 8]
    return words


def probes(
    index: KnowledgeIndex, *, sentences: int = PROBE_SENTENCES, seed: int = SEED
) -> list[Probe]:
    """The probe questions of an index (see the module docstring), one file at a time in turn."""
    rng = random.Random(seed)
    by_file: dict[str, list[str]] = {}
    vocabulary: list[str] = []
    for chunk in index.chunks.values():
        parts = [part.strip() for part in split_sentences(chunk.text) if part.strip()]
        by_file.setdefault(chunk.path, []).extend(parts)
    files = sorted(by_file)
    rng.shuffle(files)
    for path in files:
        rng.shuffle(by_file[path])
    picked: list[tuple[str, list[str], str]] = []
    while len(picked) < sentences and any(by_file.values()):
        for path in files:
            while by_file[path]:
                sentence = by_file[path].pop()
                words = probe_words(sentence, rng)
                if words is not None:
                    picked.append((path, words, "zh" if has_cjk(sentence) else "en"))
                    vocabulary.extend(words)
                    break
            if len(picked) >= sentences:
                break
    result: list[Probe] = []
    for path, words, language in picked:
        result.append(Probe(as_question(words, language), path))
        reworded = list(words)
        for position in rng.sample(range(len(words)), max(1, len(words) // 3)):
            reworded[position] = rng.choice(vocabulary)
        result.append(Probe(as_question(reworded, language), path))
        if len(index.lexicon.translations):
            translated = index.lexicon.translate(words, language, general=False)
            if len(translated) >= 2:
                other = "en" if language == "zh" else "zh"
                result.append(Probe(as_question(translated[:8], other), path))
    return result


def general(probes: int = 0) -> Calibration:
    """The calibration of a course too small to fit one: the general model and threshold."""
    level = math.log(CONFIDENCE.threshold / (1 - CONFIDENCE.threshold))
    return Calibration(
        {},
        0.0,
        0.0,
        [level] * (MAX_STRICTNESS + 1),
        negatives=level,
        counts={"probes": probes},
        version=VERSION,
    )


def calibrate(index: KnowledgeIndex, *, seed: int = SEED) -> Calibration:
    """Fit the index's calibration (see the module docstring).

    A course of one file has no near misses to learn from (leaving its only file out
    leaves nothing), and one with fewer than :data:`MIN_PROBES` probe questions too little
    to fit: those get the general model and threshold (:func:`general`).
    """
    made = probes(index, seed=seed)
    if len(index.files) < 2 or len(made) < MIN_PROBES:
        logger.info("too few materials to calibrate (%d probe questions)", len(made))
        return general(len(made))
    retriever = Retriever(index)
    positives: list[dict[str, float]] = []
    near: list[dict[str, float]] = []
    for probe in made:
        vector = index.embeddings.embed_query(probe.text)
        evidence = retriever.evidence(probe.text, 5, vector=vector)
        positives.append(signals(probe.text, evidence, index))
        evidence = retriever.evidence(probe.text, 5, vector=vector, exclude=probe.path)
        near.append(signals(probe.text, evidence, index, exclude=probe.path))
    rng = random.Random(seed)
    everyday: list[dict[str, float]] = []
    for questions in everyday_questions().values():
        for question in rng.sample(questions, min(len(questions), EVERYDAY // 2)):
            features = signals(question, retriever.evidence(question, 5), index)
            if features["coverage"] < COVERED:
                everyday.append(features)
    negatives = near + everyday
    weights, bias = fit_logistic(
        positives + negatives,
        [1] * len(positives) + [0] * len(negatives),
        CALIBRATED_SIGNALS,
        FEATURE_SIGNS,
    )
    draft = Calibration(weights, bias, COURSE_WEIGHT, [0.0] * (MAX_STRICTNESS + 1))
    mixed = [draft.logit(features, CONFIDENCE.confidence(features)) for features in positives]
    scale = [
        round(float(value), 4) for value in np.percentile(mixed, list(range(MAX_STRICTNESS + 1)))
    ]
    rejected = [draft.logit(features, CONFIDENCE.confidence(features)) for features in negatives]
    level = round(float(np.percentile(rejected, NEGATIVE_PERCENTILE)), 4)
    counts = {"probes": len(positives), "near_misses": len(near), "everyday": len(everyday)}
    apart = round(separation(mixed, rejected), 4)
    logger.info("calibrated abstention on %s (separation %.3f)", counts, apart)
    return Calibration(weights, bias, COURSE_WEIGHT, scale, level, counts, VERSION, apart)
