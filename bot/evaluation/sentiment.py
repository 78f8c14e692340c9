"""Sentiment of a learner's comment (positive / neutral / negative), two ways.

**By meaning** (:class:`CentroidSentiment`, used whenever the bundled e5 model is there): the
label whose mean comment vector the comment is closest to. **By the lexicon**
(:func:`analyse_sentiment`, the fallback with any other embedding model): words with rules,
written for training feedback in Chinese and English. Both measured on labelled comments in
docs/benchmarks.md; by meaning reads the comments no one tuned it on far better.

Not a library: the offline candidates are English only (VADER) or trained on product
reviews and unmaintained (SnowNLP), and both measured worse on our labelled comments
(docs/evaluation.md). The lexicon's rules are the ones short feedback needs: negation
(不/没/not/n't) flips the next opinion word, degree words (很/非常/very) strengthen it,
"too"/太 before a plain word makes a complaint (太长, too long), a positive word in quotes
is sarcasm, and a comment with as much praise as complaint is neutral. The text is read as
tokens (each Chinese character, English word, emoji and mark) matched longest-first, so 不错
is praise and not a negation of 错, and 看不懂 is one complaint, however jieba would cut it.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge.embeddings import LOCAL_MODEL_ID, LocalE5Embeddings

logger = logging.getLogger(__name__)


class Polarity(StrEnum):
    """The three labels of a comment."""

    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


@dataclass(frozen=True)
class Sentiment:
    """The sentiment of one text.

    Attributes:
        label: positive, neutral or negative.
        score: from -1 (all complaint) to 1 (all praise); 0 when nothing was found.
        praise: how much praise was found (the lexicon: summed strength of its positive
            words; by meaning: the probability of the positive label).
        complaint: how much complaint was found, likewise.
    """

    label: Polarity
    score: float
    praise: float
    complaint: float


# Opinion words with a strength (1 plain, 2 strong). Phrases are written with spaces
# between English words; Chinese phrases are matched character by character.
_POSITIVE_ZH = {
    "好": 1,
    "很好": 1.5,
    "不错": 1,
    "好评": 1.5,
    "赞": 1.5,
    "棒": 1.5,
    "优秀": 1.5,
    "实用": 1,
    "有用": 1,
    "管用": 1,
    "清楚": 1,
    "清晰": 1,
    "明白": 1,
    "易懂": 1,
    "简洁": 1,
    "到位": 1,
    "透彻": 1,
    "讲透": 1,
    "系统": 0.5,
    "有启发": 1.5,
    "启发": 1,
    "收获": 1,
    "帮助": 1,
    "满意": 1.5,
    "喜欢": 1.5,
    "谢谢": 1,
    "感谢": 1,
    "合理": 1,
    "贴近": 1,
    "精彩": 1.5,
    "生动": 1,
    "有趣": 1,
    "专业": 1,
    "推荐": 1,
    "点子上": 1.5,
    "搞明白": 1,
    "记住": 0.5,
    "受益": 1.5,
    "值得": 1,
    "强多了": 1.5,
    "好多了": 1.5,
    "干货": 1.5,
    "简单易懂": 1.5,
    "就能用": 1,
    "能用上": 1,
    "借鉴": 1,
    "适合": 1,
    "好用": 1.5,
    "方便": 1,
    "高效": 1,
    "精炼": 1,
    "精简": 1,
    "条理": 1,
    "接地气": 1.5,
    "实在": 1,
    "靠谱": 1.5,
    "给力": 1.5,
    "厉害": 1.5,
    "完美": 2,
    "优质": 1.5,
    "详细": 1,
    "全面": 1,
    "深入": 1,
    "直观": 1,
    "新颖": 1,
    "有意思": 1,
    "一目了然": 1.5,
    "通俗": 1,
    "点赞": 1.5,
    "期待": 0.5,
    "爱了": 2,
    "受用": 1.5,
    "学到": 1,
    "学会": 1,
    "懂了": 1,
    "有道理": 1,
    "中肯": 1,
    "贴切": 1,
    "转发": 1,
    "可信": 1,
    "够": 0.5,
    "强": 1,
    "好懂": 1.5,
    "省时间": 1.5,
    "马上": 0.5,
}
_NEGATIVE_ZH = {
    "差": 1,
    "烂": 2,
    "糟糕": 2,
    "难": 1,
    "难懂": 1.5,
    "看不懂": 1.5,
    "听不懂": 1.5,
    "没看懂": 1.5,
    "不会用": 1,
    "用不上": 1.5,
    "没用": 1.5,
    "没什么用": 1.5,
    "无用": 1.5,
    "空泛": 1.5,
    "空洞": 1.5,
    "枯燥": 1.5,
    "无聊": 1.5,
    "乏味": 1.5,
    "混乱": 1.5,
    "乱": 1,
    "过时": 1.5,
    "错误": 1,
    "有错": 1,
    "出错": 1,
    "对不上": 1.5,
    "浪费": 1.5,
    "废话": 1.5,
    "累": 1,
    "失望": 2,
    "敷衍": 1.5,
    "啰嗦": 1.5,
    "冗长": 1.5,
    "缺少": 1,
    "缺乏": 1,
    "不知道怎么": 1,
    "分不清": 1,
    "等于没讲": 2,
    "呵呵": 1.5,
    "坑": 1,
    "烦": 1,
    "不合适": 1,
    "麻烦": 1,
    "太少": 1,
    "太多": 1,
    "不行": 1.5,
    "垃圾": 2,
    "常识": 0.5,
    "浅": 1,
    "问题": 0.5,
    "有问题": 1.5,
    "不通": 1.5,
    "费劲": 1.5,
    "吃力": 1.5,
    "看不清": 1.5,
    "模糊": 1,
    "笼统": 1.5,
    "重复": 1,
    "拖沓": 1.5,
    "编的": 1.5,
    "假": 1,
    "脱节": 1.5,
    "跑题": 1.5,
    "离题": 1.5,
    "差太远": 1.5,
    "不切实际": 1.5,
    "纸上谈兵": 1.5,
    "全是概念": 1.5,
    "只有概念": 1.5,
    "理论太多": 1.5,
    "缺": 1,
    "错别字": 1,
    "过长": 1,
    "可惜": 1,
    "遗憾": 1,
    "头疼": 1.5,
    "反感": 1.5,
    "糊弄": 1.5,
    "鸡肋": 1.5,
    "多余": 1.5,
    "没必要": 1.5,
    "不需要": 1,
    "不值": 1.5,
    "凑数": 1.5,
    "套话": 1.5,
    "空话": 1.5,
    "看不出": 1,
    "搞不懂": 1.5,
    "不知所云": 2,
    "晦涩": 1.5,
    "频繁": 1,
    "费时": 1,
    "卡顿": 1,
    "没有案例": 1.5,
    "没有例子": 1.5,
}
# Phrases that contain an opinion word but say nothing good or bad (差不多 "about the same",
# 没用到 "have not used yet", hard to say); matched longest-first, they shadow 差, 没用, hard.
_NEUTRAL = (
    "差不多",
    "没用到",
    "没用过",
    "还没用",
    "不好说",
    "还可以",
    "hard to say",
    "not sure",
)
_POSITIVE_EN = {
    "good": 1,
    "great": 1.5,
    "excellent": 2,
    "awesome": 2,
    "amazing": 2,
    "nice": 1,
    "perfect": 1.5,
    "love": 1.5,
    "loved": 1.5,
    "like": 0.5,
    "liked": 1,
    "enjoyed": 1.5,
    "useful": 1,
    "helpful": 1,
    "help": 1,
    "helped": 1,
    "practical": 1,
    "relevant": 1,
    "clear": 1,
    "clearly": 1,
    "concise": 1,
    "concrete": 1,
    "easy": 1,
    "fair": 0.5,
    "well": 1,
    "structured": 0.5,
    "thanks": 1,
    "thank": 1,
    "spot on": 1.5,
    "to the point": 1.5,
    "make sense": 1,
    "makes sense": 1,
    "understood": 1,
    "insightful": 1.5,
    "engaging": 1.5,
    "interesting": 1,
    "recommend": 1,
    "saved": 1,
    "better": 1,
    "best": 1.5,
    "fun": 1,
    "valuable": 1.5,
    "brilliant": 2,
    "solid": 1,
    "more of these": 1.5,
    "handy": 1.5,
    "organised": 1,
    "organized": 1,
    "down-to-earth": 1.5,
    "beats": 1,
    "clarified": 1,
    "learned": 1,
    "learnt": 1,
    "adopted": 1,
    "thorough": 1,
    "comprehensive": 1,
    "detailed": 1,
    "crisp": 1,
    "neat": 1,
    "smart": 1,
    "informative": 1.5,
    "eye-opening": 1.5,
    "intuitive": 1,
    "straightforward": 1,
    "bite-sized": 1,
    "digestible": 1,
    "superb": 2,
    "fantastic": 2,
    "wonderful": 2,
    "terrific": 2,
    "outstanding": 2,
    "impressive": 1.5,
    "inspiring": 1.5,
    "actionable": 1.5,
    "effective": 1,
    "worth": 1,
    "worthwhile": 1.5,
    "appreciate": 1,
    "appreciated": 1,
    "enjoy": 1.5,
    "glad": 1,
    "happy": 1,
    "pleased": 1,
    "convincing": 1,
    "credible": 1,
    "accurate": 1,
    "hold together": 1,
    "finally": 0.5,
    "well written": 1.5,
    "sharing": 0.5,
    "works": 0.5,
}
_NEGATIVE_EN = {
    "bad": 1,
    "poor": 1.5,
    "terrible": 2,
    "awful": 2,
    "worst": 2,
    "boring": 1.5,
    "dry": 1,
    "dull": 1.5,
    "obvious": 1,
    "confusing": 1.5,
    "confused": 1.5,
    "muddled": 1.5,
    "unclear": 1.5,
    "vague": 1.5,
    "abstract": 1,
    "outdated": 1.5,
    "wrong": 1,
    "error": 1,
    "mistake": 1,
    "waste": 1.5,
    "useless": 2,
    "annoying": 1.5,
    "annoyed": 1.5,
    "hard": 1,
    "difficult": 1,
    "jargon": 1,
    "gave up": 1.5,
    "give up": 1.5,
    "no idea": 1,
    "can't tell": 1,
    "cannot tell": 1,
    "could not": 0.5,
    "couldn't": 0.5,
    "never covered": 1.5,
    "not enough": 1,
    "lacks": 1,
    "lacking": 1,
    "missing": 1,
    "disappointing": 2,
    "disappointed": 2,
    "tedious": 1.5,
    "repetitive": 1,
    "shallow": 1,
    "superficial": 1.5,
    "broken": 1,
    "oh great": 1.5,
    "meh": 1,
    "tired": 1,
    "hate": 2,
    "rambling": 1.5,
    "messy": 1.5,
    "painful": 1.5,
    "tiny": 1,
    "irritating": 1.5,
    "irrelevant": 1.5,
    "pointless": 2,
    "unnecessary": 1.5,
    "redundant": 1.5,
    "made up": 1.5,
    "fake": 1.5,
    "inaccurate": 1.5,
    "incorrect": 1,
    "misleading": 1.5,
    "frustrating": 1.5,
    "frustrated": 1.5,
    "slow": 1,
    "clunky": 1.5,
    "buggy": 1.5,
    "unhelpful": 1.5,
    "cluttered": 1.5,
    "long-winded": 1.5,
    "verbose": 1.5,
    "wordy": 1.5,
    "lengthy": 1,
    "generic": 1,
    "bland": 1,
    "patronising": 1.5,
    "condescending": 1.5,
    "nothing to do with": 1.5,
    "can't see": 1,
    "don't see": 1,
    "just concepts": 1.5,
    "only theory": 1.5,
    "theoretical": 1,
    "fix it": 1,
    "fix this": 1,
    "struggled": 1.5,
    "sloppy": 1.5,
    "typo": 1,
    "typos": 1,
    "dated": 1,
    "stale": 1,
    "weak": 1,
    "lame": 1.5,
    "sucks": 2,
    "ugh": 1.5,
    "no cases": 1.5,
    "no examples": 1.5,
    "didn't need": 1,
    "doesn't need": 1,
    "both correct": 1,
    "lost me": 1.5,
    "too many": 1,
}
_EMOJI = {
    "👍": 1.5,
    "👏": 1.5,
    "😊": 1,
    "😀": 1,
    "😄": 1,
    "🙂": 0.5,
    "❤": 1.5,
    "🎉": 1,
    "💯": 1.5,
    "👎": -1.5,
    "😞": -1,
    "😡": -1.5,
    "😤": -1,
    "🙄": -1,
    "😴": -1,
    "💤": -1,
    "😕": -1,
}
# Negators flip the next opinion word within a short reach (and weaken it a little: "not
# bad" is milder praise than "good"). 不太 and 一点都不 are negators in their own right.
_NEGATORS = frozenset(
    [
        "不",
        "没",
        "没有",
        "未",
        "别",
        "无",
        "并不",
        "不太",
        "不怎么",
        "一点都不",
        "一点也不",
        "毫不",
        "not",
        "no",
        "never",
        "n't",
        "hardly",
        "barely",
        "without",
        "nothing",
        "isn't",
        "wasn't",
        "don't",
        "didn't",
        "doesn't",
        "won't",
        "wouldn't",
        "aren't",
        "weren't",
    ]
)
_DEGREE = {
    "很": 1.5,
    "非常": 1.8,
    "特别": 1.8,
    "十分": 1.8,
    "超": 1.8,
    "超级": 1.8,
    "极": 2.0,
    "挺": 1.2,
    "蛮": 1.2,
    "比较": 1.1,
    "有点": 0.8,
    "有些": 0.8,
    "稍微": 0.7,
    "完全": 1.5,
    "真": 1.3,
    "真的": 1.3,
    "这么": 1.3,
    "very": 1.5,
    "really": 1.4,
    "so": 1.3,
    "extremely": 1.8,
    "super": 1.6,
    "quite": 1.2,
    "pretty": 1.2,
    "totally": 1.5,
    "completely": 1.5,
    "a bit": 0.8,
    "somewhat": 0.8,
    "kind of": 0.8,
    "all": 1.0,
}
# "Too much of something" is a complaint about the thing (太长, too long), whatever the
# word; before an opinion word it only strengthens it (太好了, too vague).
_EXCESS = frozenset(["太", "过于", "太过", "too", "way too", "far too", "overly"])
_MIXED = frozenset(["有好有坏", "好坏参半", "褒贬不一", "mixed feelings"])
_CLAUSE_END = frozenset("，。！？；、,.!?;:：…\n")
_QUOTES = frozenset("“”\"'‘’「」")
_NEGATION_REACH = 3
_THRESHOLD = 0.2
"""|score| below this is neutral."""
_VADER_ALPHA = 4.0
"""Squashes the summed strength into (-1, 1): a single plain word scores ±0.45."""

_TOKEN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"  # one Chinese character
    r"|[A-Za-z]+(?:'[A-Za-z]+)?"  # an English word with its clitic (didn't, it's)
    r"|\d+(?:\.\d+)?"
    r"|[^\sA-Za-z\d\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe0f\u200d]"  # a mark or emoji
)


def _tokens(text: str) -> list[str]:
    """Characters, lower-cased words, marks and emoji of ``text`` (variation selectors dropped)."""
    return [token.lower() for token in _TOKEN.findall(text)]


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(_tokens(phrase))


@dataclass(frozen=True)
class _Entry:
    kind: str  # "opinion", "negator", "degree", "excess", "mixed"
    value: float = 0.0


@lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[tuple[str, ...], _Entry], int]:
    """Every phrase as a token tuple, and the longest phrase's length."""
    entries: dict[tuple[str, ...], _Entry] = {}
    for words, sign in (
        (_POSITIVE_ZH, 1),
        (_POSITIVE_EN, 1),
        (_NEGATIVE_ZH, -1),
        (_NEGATIVE_EN, -1),
    ):
        for phrase, strength in words.items():
            entries[_key(phrase)] = _Entry("opinion", sign * strength)
    for phrase in _NEUTRAL:
        entries[_key(phrase)] = _Entry("opinion", 0.0)
    for emoji, value in _EMOJI.items():
        entries[(emoji,)] = _Entry("opinion", value)
    for phrase in _NEGATORS:
        entries[_key(phrase)] = _Entry("negator")
    for phrase, factor in _DEGREE.items():
        entries[_key(phrase)] = _Entry("degree", factor)
    for phrase in _EXCESS:
        entries[_key(phrase)] = _Entry("excess", 1.5)
    for phrase in _MIXED:
        entries[_key(phrase)] = _Entry("mixed")
    return entries, max(len(key) for key in entries)


def _split_clitic(tokens: list[str]) -> list[str]:
    """``didn't`` stays a negator; ``it's``/``team's`` lose their clitic."""
    out: list[str] = []
    for token in tokens:
        if "'" in token and not token.endswith("n't"):
            out.append(token.split("'", 1)[0])
        else:
            out.append(token)
    return out


def analyse_sentiment(text: str) -> Sentiment:
    """The sentiment of one comment, in Chinese, English or both.

    Args:
        text: the comment as the learner wrote it (emoji and punctuation included).

    Returns:
        The label with a score in [-1, 1] and the praise and complaint found.
    """
    entries, longest = _lexicon()
    tokens = _split_clitic(_tokens(text))
    praise = complaint = 0.0
    mixed = False
    negated_at: int | None = None
    degree = 1.0
    excess = False
    in_quotes = False
    quoted_opinion = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in _QUOTES:
            in_quotes = not in_quotes
            i += 1
            continue
        if token in _CLAUSE_END:
            negated_at, degree, excess = None, 1.0, False
            i += 1
            continue
        match: _Entry | None = None
        length = 0
        for size in range(min(longest, len(tokens) - i), 0, -1):
            found = entries.get(tuple(tokens[i : i + size]))
            if found is not None:
                match, length = found, size
                break
        if match is None:
            if excess:
                # 太长, too long: the excess itself is the complaint.
                complaint += 1.0 * degree
                excess, degree = False, 1.0
                negated_at = None
            i += 1
            continue
        if match.kind == "negator":
            negated_at = i
        elif match.kind == "degree":
            degree *= match.value
        elif match.kind == "excess":
            excess = True
        elif match.kind == "mixed":
            mixed = True
        else:
            value = match.value * degree * (1.5 if excess else 1.0)
            if negated_at is not None and i - negated_at <= _NEGATION_REACH + 1:
                # "not bad" is faint praise; "not good" a real complaint.
                value = -value * (0.7 if value < 0 else 1.0)
            if in_quotes and value > 0:
                # “好”课: praise in quotation marks is sarcasm.
                value = -value
                quoted_opinion = True
            if value > 0:
                praise += value
            elif value < 0:
                complaint -= value
            negated_at, degree, excess = None, 1.0, False
        i += length
    total = praise - complaint
    score = total / math.sqrt(total * total + _VADER_ALPHA)
    if mixed or (praise and complaint and abs(total) < 0.75 and not quoted_opinion):
        label = Polarity.NEUTRAL
    elif score >= _THRESHOLD:
        label = Polarity.POSITIVE
    elif score <= -_THRESHOLD:
        label = Polarity.NEGATIVE
    else:
        label = Polarity.NEUTRAL
    return Sentiment(label=label, score=round(score, 3), praise=praise, complaint=complaint)


# -- by meaning ---------------------------------------------------------------------------

CENTROIDS = Path(__file__).with_name("sentiment_centroids.json")
CENTROID_SOURCES = ("tests/data/comments.csv", "tests/data/comments_fresh.csv")
"""The labelled comments the centroids are the means of (scripts/compute_sentiment_centroids.py)."""
_TEMPERATURE = 0.02
"""Turns cosine similarities into label probabilities; e5's cosines differ by hundredths."""


@lru_cache(maxsize=1)
def _centroids() -> tuple[list[Polarity], np.ndarray]:
    data = json.loads(CENTROIDS.read_text(encoding="utf-8"))
    labels = [Polarity(label) for label in data["centroids"]]
    matrix = np.asarray([data["centroids"][label.value] for label in labels], dtype=np.float64)
    return labels, matrix


class CentroidSentiment:
    """Sentiment by meaning: the label whose mean comment vector a comment is closest to.

    The bundled e5 model places comments that praise, complain or only inform in different
    regions whatever their words; the mean vector of each label over 180 labelled comments
    reads comments the lexicon has no word for. On comments written after both were built it
    measured far better than the lexicon (docs/evaluation.md). It needs the model the
    centroids were computed with: the bundled e5 with its language centring.

    Args:
        embeddings: the bundled :class:`knowledge.embeddings.LocalE5Embeddings`.

    Raises:
        ValueError: for another model, whose vectors the centroids do not describe.
    """

    def __init__(self, embeddings: Embeddings) -> None:
        if not usable_for_centroids(embeddings):
            raise ValueError(f"the sentiment centroids are for {LOCAL_MODEL_ID} only")
        self.embeddings = embeddings

    def analyse(self, texts: Sequence[str]) -> list[Sentiment]:
        """The sentiment of each text, in order."""
        if not texts:
            return []
        # An empty text says nothing; its vector would still land nearest some centroid.
        readable = [index for index, text in enumerate(texts) if text.strip()]
        results = [Sentiment(Polarity.NEUTRAL, 0.0, 0.0, 0.0) for _ in texts]
        if not readable:
            return results
        labels, centroids = _centroids()
        vectors = np.asarray(
            self.embeddings.embed_documents([texts[index] for index in readable]),
            dtype=np.float64,
        )
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        similarity = vectors @ centroids.T
        weights = np.exp((similarity - similarity.max(axis=1, keepdims=True)) / _TEMPERATURE)
        probabilities = weights / weights.sum(axis=1, keepdims=True)
        positive = labels.index(Polarity.POSITIVE)
        negative = labels.index(Polarity.NEGATIVE)
        for index, row in zip(readable, probabilities, strict=True):
            results[index] = Sentiment(
                label=labels[int(row.argmax())],
                score=round(float(row[positive] - row[negative]), 3),
                praise=float(row[positive]),
                complaint=float(row[negative]),
            )
        return results


def usable_for_centroids(embeddings: Embeddings | None) -> bool:
    """Whether ``embeddings`` is the model the shipped centroids were computed with."""
    return isinstance(embeddings, LocalE5Embeddings) and embeddings.center_languages


def analyse_sentiments(
    texts: Sequence[str], *, embeddings: Embeddings | None = None
) -> list[Sentiment]:
    """The sentiment of each text: by meaning with the bundled e5 model, else by the lexicon.

    Args:
        texts: the comments.
        embeddings: the embedding model the deployment runs; only the bundled e5 is used
            (the centroids describe its vectors), any other falls back to the lexicon.
    """
    if embeddings is not None and usable_for_centroids(embeddings):
        return CentroidSentiment(embeddings).analyse(texts)
    return [analyse_sentiment(text) for text in texts]
