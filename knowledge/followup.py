"""Follow-up questions: rewriting one that leans on the question before into a standalone one.

People ask the way they talk: "一线轨道的合格线是多少？" and then "那管理轨道呢？", or "How is
training coverage calculated?" and then "What about the pass rate?". Asked alone, the
follow-up names no topic ("the pass rate" of what?) or only the new part of it, so
retrieval finds the wrong passage. Before searching, the follow-up is rewritten into the
question it stands for, from the conversation's previous question:

- with a chat model, by the model (:func:`condense_prompt`, the usual "condense question"
  step of conversational retrieval);
- without one, by the rule below (:func:`rewrite`), written from how follow-ups are worded
  in Chinese and English, not from any course.

**Detecting a follow-up** (:func:`is_followup`): a short message (at most
:data:`MAX_ZH_CHARS` Chinese characters or :data:`MAX_EN_WORDS` English words) that leans
on what was said before by its wording: it opens with a connective (那 / 那么 / 还有 /
另外 / 至于, "and", "what about", "how about", "also"), ends with 呢, or names the topic by a
pronoun (它 / 这个 / 那个 / 这些, "it", "they", "those", "that"). A short Chinese question that
names no topic at all also leans on the one before, as Chinese leaves out a topic it
continues (由谁来组织？ 收到以后怎么处理？: :func:`names_no_topic`). A question that names its
own topic in full ("培训覆盖率怎么计算？") is never rewritten, however short.

**Rewriting** (:func:`rewrite`): the follow-up's own words are kept and the previous
question supplies the rest.

- A pronoun is replaced by the previous question's topic words ("Who organises it?" after
  "How often are the training materials reviewed?" → "Who organises training materials
  reviewed?").
- A Chinese question that names no topic gets the previous question's topic words in
  front ("培训教材多久复审一次？" + "由谁来组织？" → "培训教材复审由谁来组织？").
- A bare phrase ("那管理轨道呢？", "And the retention rate?") takes the place of the part of the
  previous question it contrasts with: the words it shares a character or a stem with,
  together with the words just before them in the same noun phrase, and the word after
  them when the phrase goes on past the shared part (一线轨道的合格线是多少？ + 管理轨道 →
  管理轨道的合格线是多少？; 用户要求删除自己的数据怎么办？ + 要求更正 → 要求更正自己的数据怎么办？; "How do I calculate the activation rate?" +
  "the retention rate" → "How do I calculate the retention rate?").
- A bare phrase that shares nothing takes the place of the previous question's focus
  (:func:`knowledge.answer_type.question_focus`): "How is training coverage calculated?"
  + "And the pass rate?" → "How is the pass rate calculated?"; one that starts with a
  preposition ("And for managers?") replaces the previous question's last phrase that
  starts with the same preposition.
- Otherwise (the follow-up asks its own question about an unnamed topic, or the previous
  question has no focus) the previous question is kept and the follow-up's words are put
  before it ("春节：双十一大促的禁推窗口是哪几天？"), so the search sees both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.answer_type import question_focus
from knowledge.tokenize import (
    QUESTION_WORDS,
    STOPWORDS_EN,
    STOPWORDS_ZH,
    chinese_segments,
    detect_language,
    english_stems,
    has_cjk,
    tagged_words,
)

logger = logging.getLogger(__name__)

MAX_ZH_CHARS = 12
"""A Chinese follow-up has at most this many Chinese characters (那管理轨道的合格线呢 has 9)."""
MAX_EN_WORDS = 8
"""An English follow-up has at most this many words ("And what about the management track?")."""


@dataclass(frozen=True)
class Turn:
    """One earlier question of the conversation and what the bot answered.

    Attributes:
        question: the question as it was searched (a follow-up already rewritten).
        answer: the answer's text, empty when the bot declined.
    """

    question: str
    answer: str = ""


_ZH_LEAD = re.compile(r"^\s*(?:那么|那如果|那要是|那|还有|另外|至于|然后|换成)\s*[，,、]?\s*")
_ZH_TAIL = re.compile(r"(?:的呢|呢|呐)\s*[？?！!。.…~～]*\s*$")
_ZH_PRONOUN = re.compile(r"它们|它|这个|那个|这些|那些|这种|那种|这项|该项")
_EN_LEAD = re.compile(
    r"^\s*(?:and|but|also|so|then|or)?\s*(?:what|how)\s+about\b\s*|^\s*(?:and|also|plus|but|or)\b[,\s]*",
    re.IGNORECASE,
)
_EN_PRONOUN = re.compile(
    r"\b(?:it|its|they|them|their|those|these|that one|this one|the same)\b", re.IGNORECASE
)
_EN_PREPOSITION = re.compile(r"(for|in|on|at|with|to|from|during|after|before)\b", re.I)
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_END_PUNCT = re.compile(r"[？?！!。.…~～\s]+$")
_ZH_ASKS = re.compile(
    r"多少|几|多久|多长|什么|怎么|怎样|如何|哪|谁|啥|为什么|为何|吗|是否|有没有|能不能|要不要"
)
_EN_ASKS = frozenset({"what", "which", "who", "whom", "whose", "when", "where", "why", "how"})
_EN_AUX = frozenset({"is", "are", "do", "does", "did", "can", "should", "will", "was", "were"})


def _is_short(question: str) -> bool:
    if has_cjk(question):
        return len(_CJK.findall(question)) <= MAX_ZH_CHARS
    return len(_EN_WORD.findall(question)) <= MAX_EN_WORDS


def leans_on_before(question: str) -> bool:
    """Whether the wording leans on something said before: a connective, 呢, or a pronoun."""
    if has_cjk(question):
        return bool(
            _ZH_LEAD.match(question) or _ZH_TAIL.search(question) or _ZH_PRONOUN.search(question)
        )
    return bool(_EN_LEAD.match(question) or _EN_PRONOUN.search(question))


MAX_UNNAMED_CHARS = 8
"""A Chinese question that names no topic has at most this many characters (收到以后怎么处理 has 8)."""
_NOUN_TAGS = re.compile(r"^(?:n|vn|an|nz|eng|j|t|s|l|i|x)")
"""jieba's tags of words that can name a topic: nouns, verbal and adjectival nouns, names,
abbreviations, times and places, set phrases, and words of the course's own dictionary (x)."""
_PUNCTUATION = re.compile(r"[\s？?！!。.，,、…~～]+")


def names_no_topic(question: str) -> bool:
    """Whether a short Chinese question names no topic: its words are only verbs, question
    words and particles (由谁来组织？ 收到以后怎么处理？), so it asks about the topic before.

    jieba's tagger says which words can name one. A noun it splits into a verb and a suffix
    (召回 + 率) or into single characters (年 + 假) still names one: a one-character word
    right after a content word is read as part of it. Latin letters or digits (LTV, 30 天) name a topic too.
    """
    if (
        not has_cjk(question)
        or len(_CJK.findall(question)) > MAX_UNNAMED_CHARS
        or not _ZH_ASKS.search(question)
        or re.search(r"[A-Za-z0-9]", question)
    ):
        return False
    words = [
        (word, tag) for word, tag in tagged_words(question) if not _PUNCTUATION.fullmatch(word)
    ]
    for position, (word, tag) in enumerate(words):
        if _ZH_ASKS.search(word):
            continue
        if _NOUN_TAGS.match(tag):
            return False
        before = words[position - 1][0] if position else ""
        if len(word) == 1 and before and not _ZH_ASKS.search(before):
            return False  # 召回 + 率, 年 + 假: one word the tagger split
    return bool(words)


def is_followup(question: str) -> bool:
    """Whether ``question`` is a follow-up that needs the previous question to be understood.

    Short, and leaning on what came before by its wording, or a Chinese question that
    names no topic (see the module docstring).
    """
    question = question.strip()
    return bool(question) and (
        (_is_short(question) and leans_on_before(question)) or names_no_topic(question)
    )


def _core(question: str) -> str:
    """The follow-up without its connective, its 呢 and its end punctuation."""
    if has_cjk(question):
        core = _ZH_TAIL.sub("", _ZH_LEAD.sub("", question, count=1))
        core = re.sub(r"^(?:是)|(?:的)$", "", _END_PUNCT.sub("", core))
        return core.strip(" ，,")
    core = _EN_LEAD.sub("", question, count=1)
    return _END_PUNCT.sub("", core).strip(" ,")


def _asks(core: str) -> bool:
    """Whether the follow-up asks its own question (a question word), or is a bare phrase."""
    if has_cjk(core):
        return bool(_ZH_ASKS.search(core))
    words = [word.lower() for word in _EN_WORD.findall(core)]
    return bool(words) and (words[0] in _EN_ASKS or words[0] in _EN_AUX)


def _zh_topic_word(word: str) -> bool:
    return (
        bool(has_cjk(word) or word.isalnum())
        and word.strip() != ""
        and word not in STOPWORDS_ZH
        and word not in QUESTION_WORDS
        and not _ZH_ASKS.search(word)
    )


def _en_topic_word(word: str) -> bool:
    lowered = word.lower()
    return (
        lowered not in STOPWORDS_EN
        and lowered not in QUESTION_WORDS
        and lowered not in _EN_ASKS
        and lowered not in _EN_AUX
    )


def _topic_phrase(previous: str) -> str:
    """The previous question's topic words, in order (what a pronoun stands for)."""
    if has_cjk(previous):
        # A one-character word is a verb or particle here (算, 用, 来, 做), not the topic:
        # 流失率怎么算？ stands for 流失率, not 流失率算.
        words = [
            word
            for word in chinese_segments(previous)
            if _zh_topic_word(word)
            and not (len(word) == 1 and has_cjk(word))
            and not _ZH_COUNT.fullmatch(word)
        ]
        return "".join(words)
    return " ".join(word for word in _EN_WORD.findall(previous) if _en_topic_word(word))


_ZH_COUNT = re.compile(r"[一二两三四五六七八九十几每]+[次个回遍天周月年]")
"""How often, not what: 一次 of 多久复审一次 is no topic word."""

_ZH_PHRASE_BREAKS = frozenset("的是和与及或在对把被给从向跟了吗呢")


def _in_noun_phrase(word: str) -> bool:
    """Whether a word before the contrasted one still belongs to its noun phrase: 的, 是,
    prepositions, question words and punctuation end it; a modifier such as 中 or 一线 does
    not."""
    return (
        bool(_CJK.search(word) or word.isalnum())
        and word not in _ZH_PHRASE_BREAKS
        and not _ZH_ASKS.search(word)
    )


def _substitute_zh(previous: str, core: str) -> str | None:
    """The previous question with the part ``core`` contrasts with replaced, or ``None``."""
    words = chinese_segments(_END_PUNCT.sub("", previous))
    shared = set(_CJK.findall(core)) | {word.lower() for word in _EN_WORD.findall(core)}
    matched = [
        i
        for i, word in enumerate(words)
        if _zh_topic_word(word)
        and (set(_CJK.findall(word)) & shared or word.lower() in shared)
        and not _ZH_ASKS.search(word)
    ]
    if not matched:
        return None
    start, end = matched[0], matched[-1]
    while start > 0 and _in_noun_phrase(words[start - 1]):
        start -= 1  # the rest of the noun phrase: 一线 of 一线轨道, 中 of 中风险
    shared_tail = max((core.rfind(char) for char in _CJK.findall(words[end])), default=-1)
    goes_on = _CJK.search(core[shared_tail + 1 :]) is not None
    if goes_on and end + 1 < len(words) and _in_noun_phrase(words[end + 1]):
        end += 1  # 要求更正 after 要求删除…: the word after the shared one is replaced too
    return _joined("".join(words[:start]), core) + "".join(words[end + 1 :]) + "？"


def _substitute_en(previous: str, core: str) -> str | None:
    """The English counterpart of :func:`_substitute_zh` (shared stems, not characters)."""
    # Hyphens split words here, so "medium risk" contrasts with the "high" of "high-risk".
    tokens = re.findall(r"[A-Za-z][A-Za-z']*|[^A-Za-z]+", _END_PUNCT.sub("", previous))
    stems = set(english_stems(core))
    words = [(i, token) for i, token in enumerate(tokens) if token[0].isalpha()]
    matched = [
        position
        for position, (_, token) in enumerate(words)
        if _en_topic_word(token) and set(english_stems(token)) & stems
    ]
    if not matched:
        return None
    first, last = matched[0], matched[-1]
    while first > 0 and _en_topic_word(words[first - 1][1]):
        first -= 1
    while first > 0 and words[first - 1][1].lower() in {"the", "a", "an"}:
        first -= 1  # "the retention rate" replaces "the activation rate", article and all
    start, end = words[first][0], words[last][0]
    while end + 2 < len(tokens) and tokens[end + 1] == "-":
        end += 2  # the rest of a hyphenated word: "level-one" goes whole
    return _joined("".join(tokens[:start]), core) + "".join(tokens[end + 1 :]) + "?"


def _substitute_focus(previous: str, core: str) -> str | None:
    """The previous question with its focus (:func:`knowledge.answer_type.question_focus`,
    the noun phrase it asks about) replaced by ``core``, or ``None`` when it has none.

    For a bare phrase that shares no word with the previous question: "And the pass rate?"
    after "How is training coverage calculated?" asks the same of the pass rate.
    """
    preposition = _EN_PREPOSITION.match(core)
    if preposition is not None and not has_cjk(previous):
        # "And for managers?" after "… for the frontline track?": the phrase it replaces
        # starts with the same preposition.
        found = list(re.finditer(rf"\b{preposition.group(1)}\b", previous, re.IGNORECASE))
        if not found:
            return None
        return previous[: found[-1].start()] + core + "?"
    focus = question_focus(previous)
    if not focus:
        return None
    if has_cjk(previous):
        words = chinese_segments(_END_PUNCT.sub("", previous))
        inside = [any(word and word in part for part in focus) for word in words]
        mark = "？"
    else:
        words = re.findall(r"[A-Za-z][A-Za-z'-]*|[^A-Za-z]+", _END_PUNCT.sub("", previous))
        stems = set(focus)
        inside = [bool(word[0].isalpha() and set(english_stems(word)) & stems) for word in words]
        mark = "?"
    if not any(inside):
        return None
    # The last run of focus words (spaces between English words belong to the run).
    end = max(i for i, hit in enumerate(inside) if hit)
    start = end
    while start > 0 and (
        inside[start - 1] or (not words[start - 1].strip() and start > 1 and inside[start - 2])
    ):
        start -= 1
    if not has_cjk(previous):
        while start > 1 and words[start - 2].lower() in {"the", "a", "an"}:
            start -= 2  # "the activation rate": the article goes with its phrase
    return _joined("".join(words[:start]), core) + "".join(words[end + 1 :]) + mark


def _joined(before: str, core: str) -> str:
    """``before`` then ``core``, without repeating what ends one and starts the other
    (因为 + 因为价格离开, "pushed on" + "on the management track")."""
    for size in range(min(len(before), len(core)), 0, -1):
        overlap = before[-size:]
        if (
            core.startswith(overlap.strip())
            and overlap.strip()
            and (has_cjk(overlap) or not before[-size - 1 : -size].isalpha())
        ):
            return before[: len(before) - size] + (" " if overlap[0] == " " else "") + core
    return before + core


def _question_mark(text: str) -> str:
    return "？" if has_cjk(text) else "?"


def rewrite(question: str, history: Sequence[Turn]) -> str:
    """The standalone question a follow-up stands for, by the rule (module docstring).

    Args:
        question: what the person typed.
        history: the conversation's earlier turns, oldest first (only the last is used).

    Returns:
        ``question`` itself when it is no follow-up or there is nothing before it.
    """
    question = question.strip()
    if not history or not is_followup(question):
        return question
    previous = history[-1].question.strip()
    if not previous:
        return question
    core = _core(question)
    if not core:
        return previous  # "那呢？": the same question again
    zh_core = has_cjk(core)
    pronoun = (_ZH_PRONOUN if zh_core else _EN_PRONOUN).search(core)
    topic = _topic_phrase(previous)
    if pronoun is not None and topic:
        rewritten = core[: pronoun.start()] + topic + core[pronoun.end() :]
        return rewritten + _question_mark(core)
    if topic and has_cjk(previous) and names_no_topic(core):
        return topic + core + "？"
    if not _asks(core):
        substituted = (
            _substitute_zh(previous, core)
            if has_cjk(previous)
            else _substitute_en(previous, core)
            if not zh_core
            else None
        )
        if substituted is None:
            substituted = _substitute_focus(previous, core)
        if substituted is not None:
            return substituted
    separator = "：" if has_cjk(previous) else ": "
    return f"{core}{separator}{previous}"


def condense_prompt(question: str, history: Sequence[Turn]) -> tuple[str, str]:
    """System and user messages asking a chat model for the standalone question.

    The model sees the earlier turns (question and answer) and the follow-up, and is told
    to return the follow-up unchanged when it already stands on its own, in its language.
    """
    language = "Chinese (简体中文)" if detect_language(question) == "zh" else "English"
    system = (
        "You rewrite a follow-up question from a chat about training materials into a "
        "standalone question that can be understood without the conversation. Use the "
        "conversation only to fill in what the follow-up leaves out (its topic, what a "
        "pronoun refers to). If the follow-up already stands on its own, return it unchanged. "
        f"Write the question in {language}. Reply with the question only, nothing else."
    )
    lines = []
    for turn in history:
        lines.append(f"Question: {turn.question}")
        if turn.answer:
            lines.append(f"Answer: {turn.answer}")
    user = (
        "Conversation:\n" + "\n".join(lines) + f"\n\nFollow-up: {question}\n\nStandalone question:"
    )
    return system, user


def condensed(reply: str, question: str) -> str:
    """The model's standalone question, or ``question`` when its reply is unusable."""
    text = reply.strip().strip('"“”').strip()
    text = re.sub(r"^(?:standalone question|question)\s*[:：]\s*", "", text, flags=re.IGNORECASE)
    if not text or "\n" in text or len(text) > 500:
        return question
    return text
