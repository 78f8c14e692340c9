"""Drafting quiz questions from course passages, for a trainer to review.

Two ways, both ending in :class:`DraftQuestion` values that follow the question-bank rules
(the caller adds the track, lesson and id and writes them to ``quizzes/drafts/``):

- **From key sentences** (no model needed, deterministic): the passages are split into
  sentences; the key sentences are those whose terms recur in their passage (topical)
  while being rare in the other passages (distinctive). Each yields either a *cloze*
  question (the key term blanked out; the options are the term and distractor terms of
  the same kind from the other passages, or nearby numbers for a number) or a
  *true/false* statement (the sentence as written, or with the key term swapped for a
  distractor, which makes it false).
- **With a chat model** (LangChain, when the caller passes one): the model is asked for
  questions as JSON, citing the numbered passages; answers that break the rules are
  dropped, and when none is usable the key-sentence drafts are returned instead.

This module takes plain texts and callables (a sentence splitter, a term tokenizer), so it
stays independent of the retrieval room; the application passes the project's own.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

logger = logging.getLogger(__name__)

DraftType = Literal["single", "true_false"]
OPTION_KEYS = ("A", "B", "C", "D")
BLANK = "____"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?%?$")
_LATIN_TERM = re.compile(r"^[A-Za-z][A-Za-z'-]{3,}$")
_LIST_MARKER = re.compile(r"^(?:[-*•·]|\d+[.)、])\s+")
_MARKUP = re.compile(r"\*\*|__|`|^#+\s*")
_SIMPLE_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|(?<=\.)\s+|\n+")

# Sentence lengths that make a readable question: long enough to state a fact, short
# enough to read on a phone.
_SENTENCE_CHARS = {"zh": (10, 120), "en": (40, 260)}


@dataclass(frozen=True)
class Passage:
    """A piece of course material to draft from.

    Attributes:
        text: the passage text.
        source: what a question drawn from it cites: ``path#section`` under materials/.
        title: the document title (and section), for the model's context.
    """

    text: str
    source: str
    title: str = ""


@dataclass(frozen=True)
class DraftWording:
    """The fixed words of generated questions, in one language (``{sentence}`` is filled in)."""

    cloze: str
    true_false: str
    explanation: str


WORDING: dict[str, DraftWording] = {
    "zh": DraftWording(
        cloze="填空：{sentence}",
        true_false="判断对错：{sentence}",
        explanation="原文：{sentence}",
    ),
    "en": DraftWording(
        cloze="Fill in the blank: {sentence}",
        true_false="True or false: {sentence}",
        explanation="The material says: {sentence}",
    ),
}


@dataclass(frozen=True)
class DraftQuestion:
    """A drafted question, in the question-bank format minus track, lesson and id.

    Attributes:
        language: ``zh`` or ``en``.
        type: ``single`` (one right option) or ``true_false``.
        prompt: the question.
        options: option key -> text; empty for ``true_false``.
        answer: the right option key, or ``true`` / ``false``.
        explanation: shown after answering; quotes the material.
        source: ``path#section`` of the passage it was drawn from.
        method: ``cloze``, ``true_false`` or ``model``: how it was drafted.
    """

    language: str
    type: DraftType
    prompt: str
    options: dict[str, str] = field(default_factory=dict)
    answer: str = ""
    explanation: str = ""
    source: str = ""
    method: str = ""


def language_of(text: str) -> str:
    """``zh`` when the text is mostly Chinese, else ``en``."""
    cjk = len(_CJK.findall(text))
    latin = sum(1 for char in text if char.isascii() and char.isalpha())
    return "zh" if cjk and cjk * 2 >= latin * 0.5 else "en"


def simple_sentences(text: str) -> list[str]:
    """A plain sentence splitter, for callers without a better one."""
    return [part for part in _SIMPLE_SENTENCE_END.split(text) if part and part.strip()]


def draft_questions(
    passages: Sequence[Passage],
    *,
    count: int,
    terms: Callable[[str], Iterable[str]],
    sentences: Callable[[str], list[str]] = simple_sentences,
    language: str | None = None,
    llm: Any = None,
) -> list[DraftQuestion]:
    """Draft up to ``count`` questions from ``passages``.

    Args:
        passages: the material to draw from, most relevant first.
        count: how many questions at most.
        terms: the keyword tokenizer (words, or stems, of a text).
        sentences: splits a passage into sentences.
        language: with a model, the language to write in; without one, passages in this
            language are used first (a key-sentence draft is in its passage's language).
        llm: a LangChain chat model, or ``None`` for key-sentence drafts.

    Returns:
        The drafts, at most ``count``; fewer when the passages hold too little.
    """
    if count <= 0 or not passages:
        return []
    if llm is not None:
        written = draft_with_model(passages, count=count, language=language, llm=llm)
        if written:
            return written[:count]
        logger.warning("the chat model gave no usable question; drafting from key sentences")
    return draft_from_key_sentences(
        passages, count=count, terms=terms, sentences=sentences, language=language
    )


@dataclass(frozen=True)
class _Sentence:
    text: str
    passage: int
    position: int
    language: str
    terms: tuple[str, ...]


def _kind(term: str) -> str:
    if _NUMBER.match(term):
        return "number"
    return "zh" if _CJK.search(term) else "en"


def _eligible(term: str) -> bool:
    if _NUMBER.match(term):
        return True
    if _CJK.search(term):
        return 2 <= len(term) <= 6 and all(_CJK.match(char) for char in term)
    return bool(_LATIN_TERM.match(term))


def _occurs(term: str, sentence: str) -> bool:
    if _CJK.search(term) or _NUMBER.match(term):
        return term in sentence
    return re.search(rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])", sentence, re.I) is not None


def _sentences_of(
    passages: Sequence[Passage],
    terms: Callable[[str], Iterable[str]],
    sentences: Callable[[str], list[str]],
) -> list[_Sentence]:
    found: list[_Sentence] = []
    for number, passage in enumerate(passages):
        for position, raw in enumerate(sentences(passage.text)):
            text = _MARKUP.sub("", _LIST_MARKER.sub("", raw.strip())).strip()
            language = language_of(text)
            low, high = _SENTENCE_CHARS[language]
            # Table rows ("a | b | c") read as nonsense once a cell is blanked.
            if not low <= len(text) <= high or "|" in text or "\t" in text:
                continue
            kept = tuple(
                dict.fromkeys(
                    term for term in terms(text) if _eligible(term) and _occurs(term, text)
                )
            )
            if kept:
                found.append(_Sentence(text, number, position, language, kept))
    return found


def draft_from_key_sentences(
    passages: Sequence[Passage],
    *,
    count: int,
    terms: Callable[[str], Iterable[str]],
    sentences: Callable[[str], list[str]] = simple_sentences,
    language: str | None = None,
) -> list[DraftQuestion]:
    """Cloze and true/false drafts from the key sentences of ``passages`` (no model).

    Every third draft is a true/false statement (alternately true and false), the others
    cloze questions; a cloze question without at least two distractors becomes a
    true/false one. The same passages always give the same drafts.

    Args:
        passages: the material, most relevant first.
        count: how many questions at most.
        terms: the keyword tokenizer.
        sentences: splits a passage into sentences.
        language: passages in this language are drafted from first.
    """
    found = _sentences_of(passages, terms, sentences)
    if not found:
        return []
    in_passage: dict[int, Counter[str]] = {}
    document_frequency: Counter[str] = Counter()
    for sentence in found:
        in_passage.setdefault(sentence.passage, Counter()).update(sentence.terms)
        document_frequency.update(set(sentence.terms))
    total = len(found)

    def weight(term: str, passage: int) -> float:
        idf = math.log(1 + total / document_frequency[term])
        bonus = 1.5 if _kind(term) == "number" else 1.0
        return in_passage[passage][term] * idf * bonus

    def key_term(sentence: _Sentence) -> str:
        return max(
            sentence.terms,
            key=lambda term: (
                weight(term, sentence.passage),
                len(term),
                -sentence.terms.index(term),
            ),
        )

    def score(sentence: _Sentence) -> float:
        return sum(weight(term, sentence.passage) for term in sentence.terms) / math.sqrt(
            len(sentence.terms) + 1
        )

    # The best sentence of each passage first (passages come most relevant first), then
    # the second best of each, so the drafts cite several passages.
    ranked: dict[int, list[_Sentence]] = {}
    for sentence in found:
        ranked.setdefault(sentence.passage, []).append(sentence)
    for items in ranked.values():
        items.sort(key=lambda s: (-score(s), s.position))
    preferred = sorted(
        ranked, key=lambda p: (language is not None and _passage_language(ranked[p]) != language, p)
    )
    order: list[_Sentence] = []
    depth = max(len(items) for items in ranked.values())
    for level in range(depth):
        order.extend(ranked[p][level] for p in preferred if level < len(ranked[p]))

    all_terms = Counter(term for sentence in found for term in sentence.terms)
    drafts: list[DraftQuestion] = []
    seen_sentences: set[str] = set()
    for sentence in order:
        if len(drafts) >= count:
            break
        if sentence.text in seen_sentences:
            continue
        seen_sentences.add(sentence.text)
        term = key_term(sentence)
        distractors = _distractors(term, sentence, all_terms)
        passage = passages[sentence.passage]
        index = len(drafts)
        if index % 3 == 2 or len(distractors) < 2:
            drafts.append(
                _true_false(sentence, term, distractors, passage, truthful=index % 2 == 0)
            )
        else:
            drafts.append(_cloze(sentence, term, distractors, passage))
    return drafts


def _passage_language(sentences: list[_Sentence]) -> str:
    return Counter(sentence.language for sentence in sentences).most_common(1)[0][0]


def _distractors(term: str, sentence: _Sentence, all_terms: Counter[str]) -> list[str]:
    """Up to three wrong options of the same kind as ``term``, not in the sentence."""
    kind = _kind(term)
    if kind == "number":
        return _number_distractors(term, sentence.text)
    candidates = [
        other
        for other in all_terms
        if _kind(other) == kind
        and not _occurs(other, sentence.text)
        and other.lower() not in term.lower()
        and term.lower() not in other.lower()
        and (kind != "zh" or abs(len(other) - len(term)) <= 1)
    ]
    # Salient terms of the material make plausible wrong answers; ties go by text so the
    # choice never depends on set order.
    candidates.sort(key=lambda other: (-all_terms[other], other))
    if kind == "en":
        # Options in one case style, so the right one does not stand out by its capital.
        shaped = [
            other.capitalize() if term[0].isupper() else other.lower() for other in candidates
        ]
        candidates = [other for other in dict.fromkeys(shaped) if other.lower() != term.lower()]
    return candidates[:3]


def _number_distractors(term: str, sentence: str) -> list[str]:
    suffix = "%" if term.endswith("%") else ""
    value = float(term.rstrip("%"))
    decimals = len(term.rstrip("%").partition(".")[2])
    found: list[str] = []
    for factor in (2.0, 0.5, 1.5, 3.0):
        candidate = round(value * factor, decimals)
        if suffix and candidate > 100:
            continue
        text = (f"{candidate:.{decimals}f}" if decimals else str(int(candidate))) + suffix
        if text != term and text not in found and text not in sentence and candidate > 0:
            found.append(text)
    return found[:3]


def _blank(sentence: str, term: str) -> str:
    if _CJK.search(term) or _NUMBER.match(term):
        return sentence.replace(term, BLANK, 1)
    return re.sub(
        rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])", BLANK, sentence, count=1, flags=re.I
    )


def _swap(sentence: str, term: str, other: str) -> str:
    if _CJK.search(term) or _NUMBER.match(term):
        return sentence.replace(term, other, 1)
    return re.sub(
        rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])",
        lambda _match: other,
        sentence,
        count=1,
        flags=re.I,
    )


def _cloze(
    sentence: _Sentence, term: str, distractors: list[str], passage: Passage
) -> DraftQuestion:
    wording = WORDING[sentence.language]
    choices = [term, *distractors[:3]]
    # A stable shuffle (seeded by the sentence) so the right answer is not always A.
    random.Random(zlib.crc32(sentence.text.encode("utf-8"))).shuffle(choices)
    options = dict(zip(OPTION_KEYS, choices, strict=False))
    answer = next(key for key, text in options.items() if text == term)
    return DraftQuestion(
        language=sentence.language,
        type="single",
        prompt=wording.cloze.format(sentence=_blank(sentence.text, term)),
        options=options,
        answer=answer,
        explanation=wording.explanation.format(sentence=sentence.text),
        source=passage.source,
        method="cloze",
    )


def _true_false(
    sentence: _Sentence,
    term: str,
    distractors: list[str],
    passage: Passage,
    *,
    truthful: bool,
) -> DraftQuestion:
    wording = WORDING[sentence.language]
    statement = sentence.text
    if not truthful and distractors:
        statement = _swap(sentence.text, term, distractors[0])
    return DraftQuestion(
        language=sentence.language,
        type="true_false",
        prompt=wording.true_false.format(sentence=statement),
        answer="true" if statement == sentence.text else "false",
        explanation=wording.explanation.format(sentence=sentence.text),
        source=passage.source,
        method="true_false",
    )


# --------------------------------------------------------------------------- with a model


def model_prompt(passages: Sequence[Passage], *, count: int, language: str | None) -> str:
    """The instructions and numbered passages sent to the chat model."""
    name = {"zh": "Simplified Chinese (简体中文)", "en": "English"}.get(language or "", "")
    write_in = f"Write in {name}. " if name else "Write in the language of the passages. "
    numbered = "\n\n".join(
        f"[{number}] {passage.title}\n{passage.text}".strip()
        for number, passage in enumerate(passages, start=1)
    )
    return (
        f"Write {count} quiz questions for employee training, using ONLY facts stated in "
        "the numbered passages below. "
        + write_in
        + "Reply with a JSON array and nothing else. Each element is an object with: "
        '"type" ("single" or "true_false"), "prompt", "options" (for "single": an object '
        'mapping the keys "A", "B", "C", "D" to option texts; omit for "true_false"), '
        '"answer" (the right key, or true/false), "explanation" (one sentence quoting the '
        'passage), and "passage" (the number of the passage it comes from).'
        f"\n\nPassages:\n\n{numbered}"
    )


def draft_with_model(
    passages: Sequence[Passage], *, count: int, language: str | None, llm: Any
) -> list[DraftQuestion]:
    """Ask a LangChain chat model for questions; keep those that follow the rules.

    Args:
        passages: the material, numbered for the model from 1.
        count: how many questions to ask for.
        language: ``zh``/``en`` to write in, or ``None`` for the passages' language.
        llm: a LangChain chat model (anything with ``invoke(messages)``).

    Returns:
        The usable questions (possibly none: the caller falls back).
    """
    from langchain_core.messages import HumanMessage

    try:
        reply = llm.invoke([HumanMessage(model_prompt(passages, count=count, language=language))])
    except Exception as exc:
        # Any provider error (network, quota, refusal) means no drafts from the model; the
        # caller falls back to key sentences rather than failing the run.
        logger.warning("the chat model failed to draft questions: %s", exc)
        return []
    text = str(getattr(reply, "content", reply))
    items = _json_array(text)
    drafts = []
    for item in items:
        draft = _from_model(item, passages, language)
        if draft is None:
            logger.info("dropped a model-drafted question that breaks the bank's rules")
            continue
        drafts.append(draft)
    return drafts


def _json_array(text: str) -> list[Any]:
    start, end = text.find("["), text.rfind("]")
    if start < 0 or end <= start:
        return []
    try:
        parsed = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return []
    return parsed if isinstance(parsed, list) else []


def _from_model(
    item: Any, passages: Sequence[Passage], language: str | None
) -> DraftQuestion | None:
    if not isinstance(item, dict):
        return None
    kind = item.get("type")
    prompt = str(item.get("prompt") or "").strip()
    explanation = str(item.get("explanation") or "").strip()
    number = item.get("passage")
    if kind not in ("single", "true_false") or not prompt or not explanation:
        return None
    if isinstance(number, bool) or not isinstance(number, int):
        return None
    if not 1 <= number <= len(passages):
        return None
    written_in = language or language_of(prompt)
    if kind == "true_false":
        answer = item.get("answer")
        if isinstance(answer, str) and answer.strip().lower() in ("true", "false"):
            answer = answer.strip().lower() == "true"
        if not isinstance(answer, bool):
            return None
        return DraftQuestion(
            language=written_in,
            type="true_false",
            prompt=prompt,
            answer="true" if answer else "false",
            explanation=explanation,
            source=passages[number - 1].source,
            method="model",
        )
    options = item.get("options")
    if not isinstance(options, dict) or not 2 <= len(options) <= 6:
        return None
    options = {str(key).strip(): str(value).strip() for key, value in options.items()}
    answer = str(item.get("answer") or "").strip()
    if answer not in options or not all(options.values()):
        return None
    return DraftQuestion(
        language=written_in,
        type="single",
        prompt=prompt,
        options=options,
        answer=answer,
        explanation=explanation,
        source=passages[number - 1].source,
        method="model",
    )
