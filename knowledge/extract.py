"""Extractive answers: the answer is built around the best sentence of the best passage.

A sentence cut out of its passage often says less than it seems to: "下面几类做法…：" without
the list it introduces, "This is why …" without what "this" is, a question line without its
answer. So the best sentence (ranked by the question's words and their translations and by
its stored vector's closeness to the question, :func:`score_sentences`) brings what it
needs to be read on its own:

- a lead-in (a line ending in ``：`` or ``:`` followed by list items or numbered lines)
  comes with its whole list, and a list item with its lead-in and the rest of the list; a
  table row with the table's header row;
- otherwise the sentence before and the sentence after it in its passage come too
  (:data:`ANCHOR_WINDOW`): the answer often sits beside the sentence that shares the
  question's words;
- a sentence that starts with a pronoun or a connective (它, 这, 此外, 因此, 但, It, This,
  However, Therefore …) comes with the sentence before it;
- an FAQ pair comes whole (a question line is never shown without its answer).

Other well-ranked sentences that share a word with the question fill what room is left
(:data:`ANSWER_CHARS`; an item or a lead-in among them brings its lead-in or its list). A
list may make the answer longer, up to :data:`LIST_CHARS`, so a chat message stays
readable. The answer keeps to one language, its best sentence's, and that sentence comes
from a passage in the question's language when one covers the question as well as the
other language's best passage covers its translations. It reads in the order of
its sources: the best passage first, each passage's sentences in their own order, one
citation at the end of each run of consecutive sentences.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from knowledge.chunking import split_sentences as chunk_sentences
from knowledge.tokenize import content_words, detect_language, has_cjk, tokenize
from knowledge.types import Hit

logger = logging.getLogger(__name__)

ANSWER_CHARS = 360
"""Room for the sentences of an answer (a list around the best sentence may need more)."""

LIST_CHARS = 800
"""The longest a lead-in with its list may make an answer: about a phone screen of text.

Longer lists are shown with the first sentence of each item, then only the items around
the best one.
"""

CLOSENESS_WEIGHT = 2.0
"""How much a sentence's similarity to the question (standardised over the candidates)
counts, in units of the best sentence's shared-word weight: one standard deviation above
the mean counts twice as much as the best word overlap. Chosen on the eval sets (docs/qa.md:
1 / 1.5 / 2 / 2.5 showed the evidence in 96.1 / 96.9 / 97.3 / 97.4% of CMRC answers that
cite it, and held on two more splits of CMRC), so not a held-out figure."""

ANCHOR_WINDOW = (1, 1)
"""Sentences shown before and after the best one: the answer is often beside the sentence
that shares the question's words ("…于1879年建城。2000年时…")."""

ANCHOR_LANGUAGE_TIE = 0.9
"""A sentence in the question's language that scores at least this share of the best
sentence's score (in the other language) answers as well: a tie goes to the asker's language."""

ANCHOR_LANGUAGE_MARGIN = 1.0
"""A passage in the question's language answers as well as one in the other language when
it covers at least this much of the share of the question the other one covers."""

_BULLET = re.compile(r"^\s*[-*•·]\s+")
_NUMBER = re.compile(r"^\s*(?:\d{1,2}[.、)）]|[(（]\d{1,2}[)）])\s*")
_CHINESE_NUMBER = re.compile(
    r"^\s*(?:[一二三四五六七八九十]{1,3}、|[(（][一二三四五六七八九十]{1,3}[)）])"
)
_LEAD_IN_END = re.compile(r"[:：]\s*$")

_LEANING_ZH = (
    "它",
    "他",
    "她",
    "这",
    "那些",
    "那个",
    "那么",
    "该",
    "此",
    "其",
    "因此",
    "所以",
    "因而",
    "于是",
    "但",
    "不过",
    "然而",
    "而且",
    "并且",
    "同时",
    "另外",
    "另一方面",
    "也就是说",
    "否则",
    "反之",
)
_LEANING_EN = re.compile(
    r"^(?:it|its|this|these|that|those|they|their|them|he|she|his|her|such|however|"
    r"therefore|thus|hence|also|but|so|moreover|furthermore|besides|instead|otherwise|"
    r"meanwhile|consequently|then|still|yet|in addition|as a result|in that case|"
    r"for this reason|because of this)\b",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[；;]\s*$")
MAX_CLAUSES = 5
"""Clauses a semicolon-split sentence brings at most on each side of the one chosen."""
_MARKER_OR_QUOTE = re.compile(r"^[\s\-*•·\"'“‘「『（(]+")


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage (Chinese and English sentence ends, and line breaks)."""
    return [part.strip() for part in chunk_sentences(text) if part.strip()]


def list_marker(line: str) -> str | None:
    """What kind of list item a line is: ``-`` (bullet), ``1`` (``1.``, ``（1）``), ``一``
    (``一、``, ``（一）``), or ``None`` for a line that is no list item."""
    if _BULLET.match(line):
        return "-"
    if _NUMBER.match(line):
        return "1"
    if _CHINESE_NUMBER.match(line):
        return "一"
    return None


def _is_row(line: str) -> bool:
    """A table row as the loaders write it: cells between `` | ``."""
    return line.count(" | ") >= 2


def leans_back(sentence: str) -> bool:
    """Whether a sentence starts with a pronoun or connective that needs the one before it."""
    bare = _MARKER_OR_QUOTE.sub("", sentence)
    return bare.startswith(_LEANING_ZH) or bool(_LEANING_EN.match(bare))


@dataclass(frozen=True, slots=True)
class _Sentence:
    source: int
    position: int
    line: int
    text: str


class _Passage:
    """One source's sentences with the lines they stand on and the lists they form."""

    def __init__(self, source: int, text: str, heading: str = "") -> None:
        self.source = source
        self.text = text
        self.heading = heading
        self.language = detect_language(text)
        self.sentences: list[_Sentence] = []
        lines = [line for line in text.split("\n") if line.strip()]
        self.lines: list[list[int]] = []
        for number, line in enumerate(lines):
            positions = []
            for sentence in split_sentences(line):
                positions.append(len(self.sentences))
                self.sentences.append(_Sentence(source, len(self.sentences), number, sentence))
            self.lines.append(positions)
        self.markers = [list_marker(line) for line in lines]
        self.tables: dict[int, list[int]] = {}
        """A table's header row -> its rows (the header first)."""
        self.lists: dict[int, list[int]] = {}
        """A lead-in line -> the lines of its list (the lead-in first)."""
        for number, line in enumerate(lines):
            if _is_row(line) and (number == 0 or not _is_row(lines[number - 1])):
                rows = [number]
                while rows[-1] + 1 < len(lines) and _is_row(lines[rows[-1] + 1]):
                    rows.append(rows[-1] + 1)
                if len(rows) > 1:
                    self.tables[number] = rows
        for number, line in enumerate(lines):
            if not _LEAD_IN_END.search(line):
                continue
            own = self.markers[number]
            items = []
            for later in range(number + 1, len(lines)):
                marker = self.markers[later]
                if marker is None or (own is not None and marker == own):
                    break
                items.append(later)
            if items:
                self.lists[number] = [number, *items]

    def lead_in(self, line: int) -> int | None:
        """The lead-in line whose list holds ``line`` (or ``line`` itself when it is one)."""
        for lead, lines in self.lists.items():
            if line in lines:
                return lead
        return None

    def row_group(self, line: int) -> list[int] | None:
        """A table row with its table's header row (the header alone is itself)."""
        for header, rows in self.tables.items():
            if line in rows:
                return [position for at in sorted({header, line}) for position in self.lines[at]]
        return None

    def lean(self, position: int) -> list[int]:
        """A sentence (all its clauses: :meth:`clauses`) and the sentences before it that it
        leans on (at most two)."""
        positions = self.clauses(position)
        leaned = 0
        while leaned < 2 and positions[0] > 0:
            if not leans_back(self.sentences[positions[0]].text):
                break
            positions = [*self.clauses(positions[0] - 1), *positions]
            leaned += 1
        return positions

    def clauses(self, position: int) -> list[int]:
        """The whole sentence a sentence belongs to when semicolons split it: the
        clauses before and after it on its line (at most :data:`MAX_CLAUSES` each way).

        Chinese text ends a sentence at ；, but what follows goes on with it: "一家名为
        希尔夏品牌…；另一家名为…。", "一是…；二是…；三是…。" Shown alone, a clause
        answers half the question.
        """
        line = self.sentences[position].line
        first = last = position
        while (
            first > 0
            and position - first < MAX_CLAUSES
            and self.sentences[first - 1].line == line
            and _CLAUSE_END.search(self.sentences[first - 1].text)
        ):
            first -= 1
        while (
            last + 1 < len(self.sentences)
            and last - position < MAX_CLAUSES
            and self.sentences[last + 1].line == line
            and _CLAUSE_END.search(self.sentences[last].text)
        ):
            last += 1
        return list(range(first, last + 1))

    def group(self, sentence: _Sentence) -> list[int]:
        """What the best sentence brings: its lead-in's whole list, its table's header, or
        the sentences beside it (:data:`ANCHOR_WINDOW`) and what they lean on."""
        lead = self.lead_in(sentence.line)
        if lead is not None:
            return [position for line in self.lists[lead] for position in self.lines[line]]
        row = self.row_group(sentence.line)
        if row is not None:
            return row
        positions = set(self.lean(sentence.position))
        before, after = ANCHOR_WINDOW
        for position in range(sentence.position - before, sentence.position + after + 1):
            if not 0 <= position < len(self.sentences) or position in positions:
                continue
            neighbour = self.sentences[position]
            if self.lead_in(neighbour.line) is not None or self.row_group(neighbour.line):
                continue
            positions |= set(self.lean(position))
        return sorted(positions)

    def context(self, sentence: _Sentence) -> list[int]:
        """What another sentence brings: a lead-in its list, an item its lead-in, or what
        it leans on."""
        row = self.row_group(sentence.line)
        if row is not None:
            return row
        lead = self.lead_in(sentence.line)
        if lead == sentence.line:
            return [position for line in self.lists[lead] for position in self.lines[line]]
        positions = self.lean(sentence.position)
        if lead is not None:
            positions = sorted({*self.lines[lead], *positions})
        return positions

    def fit(self, positions: list[int], best: int, limit: int) -> list[int]:
        """A lead-in and its list (``positions``), fitted into ``limit`` characters: whole
        when it fits, else the lead-in and each item's first sentence, the items nearest
        the best sentence's first."""
        size = sum(len(self.sentences[position].text) for position in positions)
        if size <= limit:
            return positions
        lines = sorted({self.sentences[position].line for position in positions})
        lead, items = lines[0], lines[1:]
        best_line = self.sentences[best].line
        kept = [self.lines[lead]]
        for line in items:
            first = self.lines[line][:1]
            if line == best_line and best not in first:
                first = [*first, best]
            kept.append(first)
        head = list(kept[0])
        used = sum(len(self.sentences[p].text) for p in head)
        best_at = items.index(best_line) + 1 if best_line in items else 0
        order = sorted(range(1, len(kept)), key=lambda i: (abs(i - best_at), i))
        chosen: list[int] = []
        for i in order:
            cost = sum(len(self.sentences[p].text) for p in kept[i])
            if used + cost > limit and (chosen or best_at == 0):
                continue
            chosen.append(i)
            used += cost
        return sorted({*head, *(p for i in chosen for p in kept[i])})


def held_words(words: set[str], text: str) -> set[str]:
    """The ``words`` (keyword tokens) that ``text`` holds.

    A Chinese word counts where it is written, whatever the segmentation: 率, a translation
    of "rate", is no token of 通过率 or 流失率, but a sentence holding those holds it.
    """
    tokens = set(tokenize(text))
    return {word for word in words if word in tokens or (has_cjk(word) and word in text)}


def score_sentences(
    question: str,
    passages: Sequence[_Passage],
    *,
    translations: Sequence[str] = (),
    weight: Callable[[str], float] | None = None,
    closeness: Sequence[Mapping[str, float]] = (),
) -> list[tuple[float, float, _Sentence]]:
    """Each sentence's score and the weight of the question's words it shares.

    The score is those shared words (rarer ones counting more), plus, with ``closeness``
    (each passage's sentences' similarity to the question, from their stored vectors),
    :data:`CLOSENESS_WEIGHT` times the best word score for each standard deviation a
    sentence stands above the mean similarity, plus a small bonus for earlier sentences of
    better sources.
    """
    words = content_words(question) | set(translations)
    shares = []
    for passage in passages:
        for sentence in passage.sentences:
            common = held_words(words, sentence.text)
            shared = sum(weight(token) for token in common) if weight else float(len(common))
            shares.append((shared, passage, sentence))
    similar = {
        (passage.source, sentence.position): closeness[passage.source - 1][sentence.text]
        for _, passage, sentence in shares
        if passage.source <= len(closeness) and sentence.text in closeness[passage.source - 1]
    }
    scale = max((shared for shared, _, _ in shares), default=0.0) or 1.0
    # Standardised within each language: a question is closer to every sentence in its own
    # language, so one scale for both would rank its language's sentences up wholesale.
    groups: dict[str, list[float]] = {}
    for _, passage, sentence in shares:
        value = similar.get((passage.source, sentence.position))
        if value is not None:
            groups.setdefault(passage.language, []).append(value)
    moments = {}
    for group, values in groups.items():
        mean = sum(values) / len(values)
        spread = (sum((value - mean) ** 2 for value in values) / len(values)) ** 0.5
        if len(values) > 1 and spread > 0:
            moments[group] = (mean, spread)
    scored = []
    for shared, passage, sentence in shares:
        total = shared + 1.0 / (passage.source + sentence.position)
        if passage.language in moments:
            mean, spread = moments[passage.language]
            # A sentence without a vector of its own (too short) counts as below average.
            value = similar.get((passage.source, sentence.position), mean - spread)
            total += CLOSENESS_WEIGHT * scale * (value - mean) / spread
        scored.append((total, shared, sentence))
    return scored


def _prefer_language(
    ranked: list[tuple[float, float, _Sentence]],
    passages: Sequence[_Passage],
    language: str,
    words: set[str],
    translations: set[str],
    weight: Callable[[str], float] | None,
) -> tuple[float, float, _Sentence]:
    """The best sentence, from a passage in the question's language when one answers as well.

    A passage answers as well when it covers the question at least as fully: the share of
    the question's words (by weight) that it holds in its heading or text, against the share
    of their translations that the best passage in the other language holds. An English FAQ
    entry headed "How can I help keep users?" answers that question as well as the Chinese
    section on retention; an English page holding only "data" of "Do I need approval before
    exporting data?" does not, against the Chinese rule holding 导出, 数据 and 审批.
    """
    best = ranked[0]
    if detect_language(best[2].text) == language:
        return best
    close = next(
        (
            item
            for item in ranked
            if item[1] > 0 and passages[item[2].source - 1].language == language
        ),
        None,
    )
    if close is not None and close[0] >= ANCHOR_LANGUAGE_TIE * best[0]:
        return close  # as good as the best, within a tie: the asker's language

    def cover(passage: _Passage, vocabulary: set[str]) -> float:
        held = held_words(vocabulary, passage.heading + "\n" + passage.text)
        total = sum(weight(token) for token in vocabulary) if weight else len(vocabulary)
        found = sum(weight(token) for token in held) if weight else len(held)
        return found / total if total else 0.0

    same = [passage for passage in passages if passage.language == language]
    other = [passage for passage in passages if passage.language != language]
    if not same or not other:
        return best
    bar = ANCHOR_LANGUAGE_MARGIN * max(cover(passage, translations) for passage in other)
    for passage in same:  # best-ranked first
        if cover(passage, words) > 0 and cover(passage, words) >= bar:
            found = [item for item in ranked if item[2].source == passage.source and item[1] > 0]
            if found:
                return found[0]
    return best


def extract(
    question: str,
    hits: Sequence[Hit],
    *,
    max_chars: int = ANSWER_CHARS,
    list_chars: int = LIST_CHARS,
    translations: Sequence[str] = (),
    weight: Callable[[str], float] | None = None,
    closeness: Sequence[Mapping[str, float]] = (),
) -> str:
    """The answer around the best sentence of the top sources, with ``[n]`` citations.

    Args:
        question: the question as searched.
        hits: the sources, best first; ``[n]`` cites ``hits[n-1]``.
        max_chars: room for the answer's sentences (a list's items beside).
        list_chars: room for the list the best sentence brings.
        translations: the keyword tokens the retriever searched the other language with,
            so an English question about Chinese material finds its Chinese sentence.
        weight: a word's weight (the index's IDF): 导出 counts more than 数据.
        closeness: per source, its sentences' similarity to the question by sentence text
            (:meth:`knowledge.index.KnowledgeIndex.sentence_similarities`): a sentence
            that says the same in other words ranks up.

    Returns:
        One line per line of the sources shown, a citation after each run of consecutive
        sentences of one source; empty without sources.
    """
    passages = [
        _Passage(number, hit.chunk.text, f"{hit.chunk.title}\n{hit.chunk.section}")
        for number, hit in enumerate(hits, start=1)
    ]
    scored = score_sentences(
        question, passages, translations=translations, weight=weight, closeness=closeness
    )
    if not scored:
        return ""
    language = detect_language(question)
    ranked = sorted(scored, key=lambda item: -item[0])
    words = content_words(question)
    _, _, best = _prefer_language(ranked, passages, language, words, set(translations), weight)
    anchor = passages[best.source - 1]
    first = anchor.group(best)
    if anchor.lead_in(best.line) is not None:
        first = anchor.fit(first, best.position, list_chars)
    elif sum(len(anchor.sentences[position].text) for position in first) > list_chars:
        first = anchor.lean(best.position)  # neighbours too long to show: the sentence alone
    chosen = {(best.source, position) for position in first}
    # The sentences beside the best one come free; a list is the answer and fills the room.
    counted = first if anchor.lead_in(best.line) is not None else anchor.lean(best.position)
    used = sum(len(anchor.sentences[position].text) for position in counted)
    anchor_language = detect_language(best.text)
    for _, shared, sentence in ranked:
        if used >= max_chars * 0.6:
            break
        if shared <= 0 or (sentence.source, sentence.position) in chosen:
            continue
        if detect_language(sentence.text) != anchor_language:
            continue  # one language throughout: the anchor's
        passage = passages[sentence.source - 1]
        group = [
            position
            for position in passage.context(sentence)
            if (sentence.source, position) not in chosen
        ]
        cost = sum(len(passage.sentences[position].text) for position in group)
        if used + cost > max_chars:
            continue
        chosen |= {(sentence.source, position) for position in group}
        used += cost
    chosen = _faq_pairs_whole(chosen, passages, best=(best.source, best.position))
    return _render(chosen, passages, first_source=best.source)


def _render(
    chosen: set[tuple[int, int]], passages: Sequence[_Passage], *, first_source: int
) -> str:
    """The chosen sentences in their sources' order, the best source first: sentences of
    one line joined, one citation after each run of consecutive sentences."""
    order = sorted(chosen, key=lambda item: (item[0] != first_source, item[0], item[1]))
    lines: list[str] = []
    current = ""
    for at, (source, position) in enumerate(order):
        sentence = passages[source - 1].sentences[position]
        if current:
            previous = passages[source - 1].sentences[position - 1]
            if previous.line == sentence.line:
                current += _joiner(current) + sentence.text
            else:
                lines.append(current)
                current = sentence.text
        else:
            current = sentence.text
        following = order[at + 1] if at + 1 < len(order) else None
        if following != (source, position + 1):
            lines.append(f"{current} [{source}]")
            current = ""
    return "\n".join(lines)


def _joiner(text: str) -> str:
    """A space between English sentences, nothing after a Chinese one."""
    return " " if text and text[-1].isascii() else ""


_FAQ_QUESTION = re.compile(r"^\s*(?:问|Q|Question)\s*[:：]", re.IGNORECASE)
_FAQ_ANSWER = re.compile(r"^\s*(?:答|A|Answer)\s*[:：]", re.IGNORECASE)


def _faq_groups(sentences: Sequence[str]) -> dict[int, list[int]]:
    """FAQ pairs of a passage: each question line's position -> its answer's positions (the
    answer line and the sentences after it, up to the next question line)."""
    groups: dict[int, list[int]] = {}
    question: int | None = None
    for position, sentence in enumerate(sentences):
        if _FAQ_QUESTION.match(sentence):
            question = position
            groups[position] = []
        elif question is not None and (groups[question] or _FAQ_ANSWER.match(sentence)):
            groups[question].append(position)
        else:
            question = None
    return {question: answer for question, answer in groups.items() if answer}


def _faq_pairs_whole(
    chosen: set[tuple[int, int]], passages: Sequence[_Passage], *, best: tuple[int, int]
) -> set[tuple[int, int]]:
    """Keep FAQ question-answer pairs together: a chosen answer brings its question line
    and the rest of its answer; a question line chosen without its answer is dropped,
    unless it is the best sentence of all, when its answer comes with it."""
    result = set(chosen)
    for passage in passages:
        source = passage.source
        texts = [sentence.text for sentence in passage.sentences]
        for question, answer in _faq_groups(texts).items():
            pair = {(source, position) for position in (question, *answer)}
            answered = any((source, position) in chosen for position in answer)
            if answered or best == (source, question):
                result |= pair
            else:
                result.discard((source, question))
    return result
