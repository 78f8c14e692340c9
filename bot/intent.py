"""What a chat message is before anything is retrieved: a question, small talk, or a choice.

Greetings, thanks, acknowledgements, goodbyes, emoji, punctuation, keyboard mash and one
character are not questions about the course: searching the materials for them yields a
confident dump of unrelated sentences and a false content gap. :func:`classify` recognises
them in Chinese and English with small fixed rules. It errs on the side of a question: a
message is small talk only when *nothing* in it is left once the known small-talk phrases,
fillers and punctuation are taken away, or when every word in it is keyboard noise.

A lone ``A``-``D`` / ``1``-``4`` (full-width too) is a :attr:`IntentKind.CHOICE`: the
handler answers a pending quiz with it, or says that no quiz is waiting.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

logger = logging.getLogger(__name__)


class IntentKind(StrEnum):
    """What a message is, as far as answering it goes."""

    QUESTION = "question"
    GREETING = "greeting"
    THANKS = "thanks"
    ACK = "ack"
    GOODBYE = "goodbye"
    NOISE = "noise"
    CHOICE = "choice"


SMALL_TALK = frozenset(
    {IntentKind.GREETING, IntentKind.THANKS, IntentKind.ACK, IntentKind.GOODBYE, IntentKind.NOISE}
)
"""The kinds answered with a friendly reply instead of the course materials."""


@dataclass(frozen=True)
class Intent:
    """The result of :func:`classify`.

    Attributes:
        kind: what the message is.
        choice: for :attr:`IntentKind.CHOICE`, the zero-based option index (``A``/``1`` → 0).
    """

    kind: IntentKind
    choice: int | None = None

    @property
    def small_talk(self) -> bool:
        """Whether the message gets the small-talk reply (never retrieval)."""
        return self.kind in SMALL_TALK


# Longest first, so "thank you very much" is taken whole before "thank you".
_PHRASES: dict[IntentKind, tuple[str, ...]] = {
    IntentKind.GREETING: (
        "你好",
        "您好",
        "你们好",
        "大家好",
        "嗨",
        "哈喽",
        "哈啰",
        "嗨喽",
        "在吗",
        "在不在",
        "在么",
        "早上好",
        "上午好",
        "中午好",
        "下午好",
        "晚上好",
        "早安",
        "早",
        "hello",
        "hi",
        "hey",
        "hiya",
        "howdy",
        "yo",
        "good morning",
        "good afternoon",
        "good evening",
        "morning",
        "greetings",
        "what's up",
        "whats up",
        "sup",
        "how are you",
        "how r u",
        "你好吗",
        "最近好吗",
        # Questions about the bot, not the course: the greeting's hint answers them.
        "你是谁",
        "你能做什么",
        "你会什么",
        "怎么用",
        "帮助",
        "help",
        "who are you",
        "what can you do",
        "hello there",
        "hi there",
        "hey there",
    ),
    IntentKind.THANKS: (
        "谢谢",
        "谢谢你",
        "谢谢您",
        "多谢",
        "感谢",
        "非常感谢",
        "太感谢了",
        "谢了",
        "谢啦",
        "辛苦了",
        "thanks",
        "thank you",
        "thank you very much",
        "thanks a lot",
        "many thanks",
        "thx",
        "ty",
        "tysm",
        "cheers",
        "much appreciated",
        "appreciate it",
    ),
    IntentKind.ACK: (
        "好",
        "好的",
        "好滴",
        "好吧",
        "行",
        "可以",
        "收到",
        "明白",
        "明白了",
        "知道了",
        "懂了",
        "了解",
        "了解了",
        "嗯",
        "嗯嗯",
        "哦",
        "噢",
        "喔",
        "哦哦",
        "对",
        "是的",
        "没问题",
        "哈哈",
        "哈哈哈",
        "呵呵",
        "厉害",
        "不错",
        "很好",
        "太好了",
        "棒",
        "ok",
        "okay",
        "okey",
        "k",
        "kk",
        "got it",
        "understood",
        "cool",
        "great",
        "nice",
        "sure",
        "alright",
        "all right",
        "fine",
        "yes",
        "yep",
        "yeah",
        "no",
        "nope",
        "noted",
        "i see",
        "makes sense",
        "lol",
        "haha",
        "hahaha",
        "wow",
        "awesome",
        "perfect",
        "good",
        "sounds good",
        "roger",
        # Reactions to what was just said; nothing in them to search for.
        "是吗",
        "对吗",
        "真的吗",
        "真的",
        "原来如此",
        "是这样啊",
        "really",
        "oh really",
        "interesting",
    ),
    IntentKind.GOODBYE: (
        "再见",
        "拜拜",
        "拜",
        "回头见",
        "明天见",
        "晚安",
        "下次见",
        "先这样",
        "bye",
        "goodbye",
        "bye bye",
        "see you",
        "see ya",
        "see you later",
        "later",
        "good night",
        "night",
        "take care",
        "cya",
    ),
}

# Words that carry no question of their own around small talk: "hi bot", "谢谢老师".
_FILLERS = (
    "啊",
    "呀",
    "哈",
    "啦",
    "哇",
    "呢",
    "吧",
    "嘛",
    "哟",
    "哦",
    "喔",
    "了",
    "的",
    "们",
    "老师",
    "机器人",
    "助手",
    "小助手",
    "大家",
    "你",
    "您",
    "很",
    "非常",
    "真的",
    "bot",
    "trainbot",
    "there",
    "so",
    "very",
    "much",
    "again",
    "all",
    "guys",
    "everyone",
    "man",
    "buddy",
    "mate",
    "dear",
    "oh",
    "ah",
    "um",
    "uh",
    "hmm",
    "well",
    "then",
    "and",
    "too",
)

_TABLE: list[tuple[str, IntentKind | None]] = sorted(
    [(phrase, kind) for kind, phrases in _PHRASES.items() for phrase in phrases]
    + [(filler, None) for filler in _FILLERS],
    key=lambda item: -len(item[0]),
)

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890")
_LATIN_WORD = re.compile(r"[a-z]+")
_CHOICE_LETTERS = "abcd"
_CHOICE_DIGITS = "1234"
_VOWELS = frozenset("aeiouy")


def _normalise(text: str) -> str:
    # NFKC folds full-width letters, digits and punctuation ("Ａ", "１", "？") to ASCII.
    return unicodedata.normalize("NFKC", text).strip().lower()


def _is_word_char(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LN"  # letters (Latin, CJK, …) and digits; not symbols or emoji


def _keyboard_run(word: str) -> bool:
    if len(word) < 3:
        return False
    return any(word in row or word in row[::-1] for row in _KEYBOARD_ROWS)


def _gibberish_word(word: str) -> bool:
    """A Latin word no language would write: a key run, one repeated letter, a repeated
    chunk ("sdfsdf"), no vowel in five or more letters, or six consonants in a row."""
    if _keyboard_run(word):
        return True
    if len(word) >= 3 and len(set(word)) == 1:
        return True
    for size in range(2, len(word) // 2 + 1):
        chunk = word[:size]
        if len(word) % size == 0 and chunk * (len(word) // size) == word and _keyboard_like(chunk):
            return True
    if len(word) >= 5 and not _VOWELS & set(word):
        return True
    # Six, not five: "strengths" and "lengths" have five consonants in a row.
    return re.search(r"[^aeiouy]{6,}", word) is not None


def _keyboard_like(chunk: str) -> bool:
    # "haha" and "blabla" repeat a syllable but are words; "sdfsdf" repeats no syllable.
    return not _VOWELS & set(chunk) or _keyboard_run(chunk)


def _strip_small_talk(words: str) -> tuple[str, IntentKind | None]:
    """Remove known phrases and fillers from the start of ``words`` repeatedly.

    Returns what is left (``""`` when the message was only small talk) and the first kind
    of small talk met.
    """
    first: IntentKind | None = None
    rest = words.strip()
    while rest:
        for phrase, kind in _TABLE:
            if not rest.startswith(phrase):
                continue
            after = rest[len(phrase) :]
            # A Latin phrase must end at a word boundary: "hi" is not the start of "higher".
            if phrase[-1].isascii() and after[:1].isascii() and after[:1].isalnum():
                continue
            if first is None and kind is not None:
                first = kind
            rest = after.strip()
            break
        else:
            return rest, first
    return rest, first


def classify(text: str, language: str) -> Intent:
    """Say what a chat message is: a question, small talk of some kind, or a quiz choice.

    Args:
        text: the message as typed.
        language: the person's language (``"zh"`` or ``"en"``); the rules cover both
            languages whatever it is, since people mix them.

    Returns:
        The intent; :attr:`IntentKind.QUESTION` whenever unsure.
    """
    del language  # both languages' rules always apply; kept for callers' clarity
    normal = _normalise(text)
    # Punctuation, emoji and symbols become spaces: what is left are the words.
    words = " ".join("".join(c if _is_word_char(c) else " " for c in normal).split())
    if not words:
        return Intent(IntentKind.NOISE)  # emoji-only, punctuation-only
    if len(words) == 1:
        if words in _CHOICE_LETTERS:
            return Intent(IntentKind.CHOICE, _CHOICE_LETTERS.index(words))
        if words in _CHOICE_DIGITS:
            return Intent(IntentKind.CHOICE, _CHOICE_DIGITS.index(words))
    rest, kind = _strip_small_talk(words)
    if not rest:
        return Intent(kind or IntentKind.NOISE)
    compact = rest.replace(" ", "")
    if len(compact) == 1 or compact.isdigit():
        return Intent(IntentKind.NOISE)  # too short to be a question; a bare number
    if len(compact) >= 3 and len(set(compact)) == 1:
        return Intent(IntentKind.NOISE)  # "xxxxxxxx", "啊啊啊啊", "1111"
    latin = _LATIN_WORD.findall(rest)
    if latin and " ".join(latin) == rest and all(_gibberish_word(word) for word in latin):
        return Intent(IntentKind.NOISE)  # "asdf qwer", "jfkdlsa"
    return Intent(IntentKind.QUESTION)
