"""Keyword tokens for BM25: jieba words for Chinese, light-stemmed words for English.

The same function tokenizes passages and questions, so they meet on the same terms.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache

import jieba

logger = logging.getLogger(__name__)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'+-]*|\d+(?:\.\d+)?%?")
_SEGMENT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[A-Za-z0-9][A-Za-z0-9'.+%-]*")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# "what's" is "what" (a stop word), "team's" is "team": drop the clitic, not just the "s".
_CONTRACTION = re.compile(r"(?:n't|'s|'re|'ll|'ve|'d|'m)$")
_init_lock = threading.Lock()
_initialised = False

# Function words that carry no topic in either language. Kept short on purpose: BM25's IDF
# already discounts common words; this list only removes what would match everything.
STOPWORDS_ZH = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "是",
        "在",
        "有",
        "就",
        "都",
        "而",
        "也",
        "被",
        "把",
        "对",
        "让",
        "向",
        "从",
        "到",
        "为",
        "以",
        "于",
        "之",
        "其",
        "这",
        "那",
        "这个",
        "那个",
        "一个",
        "一些",
        "什么",
        "怎么",
        "怎样",
        "如何",
        "哪些",
        "哪个",
        "为什么",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "我",
        "我们",
        "你",
        "你们",
        "他",
        "她",
        "它",
        "他们",
        "要",
        "会",
        "能",
        "可以",
        "应该",
        "需要",
        "如果",
        "因为",
        "所以",
        "但",
        "但是",
        "并",
        "并且",
        "等",
        "等等",
        "上",
        "下",
        "中",
        "里",
        "个",
        "些",
        "多少",
        "请问",
        "一下",
        "是否",
        "还是",
        "时候",
        "怎么办",
    ]
)
STOPWORDS_EN = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "about",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "not",
        "no",
        "so",
        "than",
        "too",
        "very",
        "just",
        "also",
        "any",
        "some",
        "all",
        "each",
        "there",
        "here",
        "up",
        "out",
        "over",
        "under",
        "again",
        "more",
        "most",
        "such",
        "only",
        "own",
        "same",
        "s",
        "t",
        "don't",
        "can't",
        "i'm",
        "it's",
        "please",
        "tell",
        "know",
        "get",
    ]
)

# Words that make a sentence a question but say nothing about its topic. Passages rarely
# contain them, so they are dropped from questions only (see :func:`question_tokens`): a
# casually phrased question (干啥, 多久) must neither match passages on them nor look as if
# it asked about something the materials lack.
QUESTION_WORDS = frozenset(
    [
        "多少",
        "几",
        "几天",
        "几号",
        "几个",
        "多久",
        "多长",
        "哪里",
        "哪儿",
        "哪",
        "哪些",
        "谁",
        "啥",
        "干啥",
        "咋",
        "咋办",
        "该",
        "吗",
        "呢",
        "么",
        "是不是",
        "有没有",
        "能不能",
        "要不要",
        "一般",
        "现在",
        "什么样",
        "还",
        "又",
        "得",
        "着",
        "过",
        "没",
        "不",
        "自己",
        "大家",
        "今天",
        "时",
        "后",
        "前",
        "much",
        "many",
        "long",
        "often",
        "am",
        "before",
        "after",
        "actual",
        "actually",
        "really",
        "anyone",
        "someone",
        "anything",
        "something",
        "way",
        "kind",
        "thing",
        "let",
        "like",
        "going",
        "still",
        "ever",
        "need",
        "want",
        "allow",
        "allowed",
        "ok",
        "okay",
    ]
)


def _ensure_jieba() -> None:
    """Load jieba's dictionary once, quietly (it logs to stderr by default)."""
    global _initialised
    if _initialised:
        return
    with _init_lock:
        if not _initialised:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _initialised = True


def ensure_jieba() -> None:
    """Load jieba's dictionary the one way the project does, for callers of ``jieba.analyse``.

    ``jieba.analyse`` cuts with jieba's default tokenizer, the one this module loads, so a
    caller that goes through here shares the dictionary instead of loading another.
    """
    _ensure_jieba()


def has_cjk(text: str) -> bool:
    """Whether the text contains Chinese characters."""
    return bool(_CJK.search(text))


def detect_language(text: str) -> str:
    """``zh`` when Chinese characters make up a real part of the text, else ``en``."""
    cjk = len(_CJK.findall(text))
    latin = sum(len(word) for word in _LATIN_WORD.findall(text))
    return "zh" if cjk and cjk * 3 >= latin * 0.5 else "en"


_LETTER_WORD = re.compile(r"[A-Za-z]{2,}")


def clear_language(text: str) -> str | None:
    """``zh`` or ``en`` when the text says which plainly, else ``None``.

    Chinese when it holds at least two Chinese characters (and :func:`detect_language`
    agrees); English when it holds no Chinese and at least two words of letters. A bare
    abbreviation (``NPS?``, ``LTV``), a number or an emoji says nothing.
    """
    if len(_CJK.findall(text)) >= 2:
        return "zh" if detect_language(text) == "zh" else None
    if not _CJK.search(text) and len(_LETTER_WORD.findall(text)) >= 2:
        return "en"
    return None


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    """A deliberately light English stemmer: plural and common verb/noun endings."""
    for suffix, replacement, minimum in (
        ("ies", "y", 5),
        ("sses", "ss", 6),
        ("ness", "", 7),
        ("ments", "", 8),
        ("ment", "", 7),
        ("ation", "ate", 8),
        ("ations", "ate", 9),
        ("ing", "", 6),
        ("ed", "", 5),
        ("es", "", 5),
        ("s", "", 4),
    ):
        if word.endswith(suffix) and len(word) >= minimum and not word.endswith("ss"):
            return word[: len(word) - len(suffix)] + replacement
    return word


def tokenize(text: str) -> list[str]:
    """Keyword tokens of ``text``: jieba words and character bigrams for Chinese, stems for English.

    Stop words and punctuation are dropped; single Chinese characters are kept only when
    they are not stop words, since many Chinese terms are one character long.
    """
    tokens: list[str] = []
    for segment in _SEGMENT.findall(text):
        if _CJK.match(segment):
            _ensure_jieba()
            for word in jieba.cut_for_search(segment):
                if word and word not in STOPWORDS_ZH:
                    tokens.append(word)
            # Character bigrams make matching robust to segmentation that differs between
            # a short question and a long passage (双十一 -> 双十/一 vs 双/十一/大促).
            tokens.extend(
                segment[i : i + 2]
                for i in range(len(segment) - 1)
                if segment[i : i + 2] not in STOPWORDS_ZH
            )
        else:
            word = segment.lower().strip(".'-")
            if not word or word in STOPWORDS_EN:
                continue
            tokens.append(_stem(word) if word.isalpha() else word)
    return tokens


def content_words(text: str) -> set[str]:
    """The distinct meaningful tokens of a question (for lexical-overlap signals)."""
    return {token for token in tokenize(text) if len(token) > 1 or has_cjk(token)}


def chinese_words(text: str) -> list[str]:
    """jieba's words (precise mode) of the Chinese parts of ``text``, without stop words."""
    words: list[str] = []
    for segment in _CJK_RUN.findall(text):
        _ensure_jieba()
        words.extend(word for word in jieba.cut(segment) if word not in STOPWORDS_ZH)
    return words


def chinese_segments(text: str) -> list[str]:
    """All of jieba's words (precise mode) of the Chinese parts of ``text``, stop words kept.

    For reading a question's structure, where the function words (的, 是) mark where a
    noun phrase ends and where the question word sits.
    """
    words: list[str] = []
    for segment in _CJK_RUN.findall(text):
        _ensure_jieba()
        words.extend(jieba.cut(segment))
    return words


def english_stems(text: str) -> list[str]:
    """Light-stemmed English words of ``text``, without stop words and numbers."""
    stems: list[str] = []
    for word in _ENGLISH_WORD.findall(text):
        word = _CONTRACTION.sub("", word.lower()).strip("'-")
        if word and word not in STOPWORDS_EN:
            stems.append(_stem(word))
    return stems


def tagged_words(text: str) -> list[tuple[str, str]]:
    """jieba's words of ``text`` with their part-of-speech tags (n noun, v verb, eng …)."""
    import jieba.posseg

    _ensure_jieba()
    return [(pair.word, pair.flag) for pair in jieba.posseg.cut(text)]


_ASKING = re.compile(
    r"\bhow\s+([A-Za-z]+)|\b(?:what|which)\s+(time|day|date|week|month|year|hour)s?\b",
    re.IGNORECASE,
)


def asking_words(question: str) -> set[str]:
    """The stems of the words that say what kind of answer is asked: the word after "how"
    ("soon" in "How soon are customers told?", "large" in "How large is the allowance?")
    and a time noun after "what" or "which" ("By what time…", "From which day…"). They
    say what is asked, not about what, so they are no topic words (many, much, long and
    often are question words)."""
    found = {word for pair in _ASKING.findall(question) for word in pair if word}
    return {_stem(word.lower()) for word in found} - {_stem(word) for word in STOPWORDS_EN}


def chinese_subwords(word: str) -> list[str]:
    """The shorter dictionary words inside a Chinese word (目标值 → 目标, 标值), longest first.

    jieba's search mode lists the dictionary words of two or more characters inside a
    word, so a compound the question writes one way (目标值) can be matched where the
    passage writes its part (目标). Stop words and the word itself are left out.
    """
    if not has_cjk(word) or len(word) < 3:
        return []
    _ensure_jieba()
    parts = {
        part
        for part in jieba.cut_for_search(word)
        if len(part) > 1 and part != word and part not in STOPWORDS_ZH and has_cjk(part)
    }
    return sorted(parts, key=lambda part: (-len(part), word.index(part)))
