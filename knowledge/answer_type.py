"""Question analysis: what kind of answer a question expects, and what it is about.

Two pieces of classic question answering, used by the abstention signals
(:func:`knowledge.answer.signals`):

- The **expected answer type**: "多少钱" and "how much does it cost" want a price, "多久" and
  "how long" a duration, "电话是多少" a phone number. When a question expects a type, the
  passages that answer it hold an expression of that type (a price has a currency unit, a
  duration a time unit); passages on the right topic without one are a "near miss" (the
  materials talk about the referral coupon but never say how long it is valid).
- The **question focus**: the topic words closest to the question word, the thing the
  question asks about (行业平均水平 in "留存率的行业平均水平是多少", "birthday" in "When is the
  CEO's birthday?"). A near miss often finds every other word of the question but its focus.

Both are written from general wording of questions and units in Chinese and English, not
from any course: the patterns below are what any course's questions would use.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum

from knowledge.tokenize import (
    QUESTION_WORDS,
    STOPWORDS_EN,
    STOPWORDS_ZH,
    chinese_segments,
    english_stems,
    has_cjk,
)

logger = logging.getLogger(__name__)


class AnswerType(StrEnum):
    """What a question asks for."""

    CONTACT = "contact"
    PRICE = "price"
    RATE = "rate"
    DATE = "date"
    DURATION = "duration"
    NUMBER = "number"
    PLACE = "place"
    PERSON = "person"


CHECKABLE = frozenset(
    {
        AnswerType.CONTACT,
        AnswerType.PRICE,
        AnswerType.RATE,
        AnswerType.DATE,
        AnswerType.DURATION,
        AnswerType.NUMBER,
    }
)
"""Types with a surface form to look for. A place or a person is recognised but not checked:
without named-entity recognition any noun may name one (a department, a channel, a city)."""


def _any(*patterns: str) -> re.Pattern[str]:
    """One case-insensitive pattern matching any of ``patterns``."""
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE)


# How a question asks for each type, most specific first (a price is also a number).
_ASKS: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (
        AnswerType.CONTACT,
        _any(
            r"(?:电话|热线|号码|手机号|邮箱|邮件地址|联系方式|微信号)[^，。？?,]{0,4}(?:是多少|多少|是什么|是哪个)",
            r"\b(?:what|which)\b[^?]{0,30}\b(?:phone|telephone|hotline|e-?mail|contact)\b",
        ),
    ),
    (
        AnswerType.PRICE,
        _any(
            r"多少钱|几块钱|多少元|什么价|价格是多少|价钱|售价|费用是多少|收费多少",
            r"\bhow much\b[^?]{0,40}\b(?:cost|costs|charge|pay|spend|price)\b",
            r"\b(?:price|prices|cost|fee|fees)\b[^?]{0,20}\?",
            r"\bhow much money\b",
        ),
    ),
    (
        AnswerType.RATE,
        _any(
            r"(?:率|比例|占比|百分比)[^，。？?,]{0,10}(?:是多少|多少|几成|几个点)",
            r"百分之几",
            r"\bwhat (?:percentage|percent|proportion|share)\b",
            r"\b(?:what|how high|how low)\b[^?]{0,40}\b(?:rate|ratio|percentage)\b",
        ),
    ),
    (
        AnswerType.DATE,
        _any(
            r"什么时候|几号|哪天|哪一天|几月|哪个月|星期几|周几|哪年|哪一年|哪个年份|何年|什么年份"
            r"|什么日子|日期是",
            r"^\s*when\b",
            r"\b(?:what|which) (?:date|day|days|month|year|time)\b",
        ),
    ),
    (
        AnswerType.DURATION,
        _any(
            r"多久|多长时间|多少天|(?<![那这好])几(?:天|周|个月|年|个小时)|多少小时|多少分钟|有效期|期限",
            r"\bhow (?:long|often|soon|early)\b",
            r"\bhow many (?:minutes|hours|days|weeks|months|years)\b",
        ),
    ),
    (
        AnswerType.NUMBER,
        _any(
            r"(?<![哪那这好])几(?:个|次|位|名|条|项|人|倍|分)|多少",
            r"\bhow (?:many|much)\b",
            r"\bwhat (?:number|score|percentage|target)\b",
        ),
    ),
    (AnswerType.PLACE, _any(r"哪里|哪儿|什么地方|在哪", r"^\s*where\b")),
    (AnswerType.PERSON, _any(r"谁|哪位", r"^\s*(?:who|whom)\b")),
)

_CN_NUMBER = r"[零〇一二两三四五六七八九十百千万半几]+"
_NUMBER = rf"(?:\d+(?:[.,]\d+)?|{_CN_NUMBER})"
_EN_NUMBER = (
    r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty"
    r"|fifty|sixty|seventy|eighty|ninety|hundred|a|an|half|a few|several)"
)
_EN_ORDINAL = (
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth"
    r"|last|\d+(?:st|nd|rd|th))"
)
_TIME_UNIT_ZH = r"(?:分钟|小时|个小时|天|日|个工作日|工作日|周|个星期|星期|个月|月|季度|个季度|年)"
_TIME_UNIT_EN = (
    r"(?:minutes?|hours?|days?|working days?|business days?|weeks?|months?|quarters?|years?)"
)
_WEEKDAY_EN = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
_MONTH_EN = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?"
)

# How a passage expresses each type.
_EXPRESSES: dict[AnswerType, re.Pattern[str]] = {
    AnswerType.CONTACT: _any(
        r"\+?\d[\d -]{5,}\d",
        r"[\w.+-]+@[\w-]+\.[\w.]+",
        r"\d{3,}",
    ),
    AnswerType.PRICE: _any(
        rf"{_NUMBER}\s*(?:元|块|角|分钱|万元|亿元|美元|港币|令吉)",
        rf"[¥￥$€£]\s*{_NUMBER}",
        r"\d+(?:[.,]\d+)?\s*(?:yuan|rmb|cny|dollars?|usd|ringgit|myr)\b",
        r"\b(?:rmb|cny|usd|myr|rm)\s*\d",
    ),
    AnswerType.RATE: _any(
        r"\d+(?:\.\d+)?\s*[%％]",
        rf"百分之{_CN_NUMBER}",
        rf"{_NUMBER}\s*成",
        r"\d+(?:\.\d+)?\s*(?:percent|per cent)\b",
    ),
    AnswerType.DATE: _any(
        rf"{_NUMBER}\s*[月年]\s*{_NUMBER}\s*[日号]",
        rf"{_NUMBER}\s*[日号]",
        r"(?:周|星期|礼拜)[一二三四五六日天]",
        r"月初|月中|月底|月末|年初|年底|年末|季度末|季度初|节假日|春节|国庆|当天|次日|每天|每日",
        r"\d{4}[-/.]\d{1,2}(?:[-/.]\d{1,2})?",
        # A year on its own answers "when" and "which year": 1883, 1955年, in 1972, 一九五五年.
        r"(?<![\d.,])(?:1[0-9]|20)\d{2}(?!\d|[.,]\d)"
        r"(?!\s*(?:[元块角万亿个人次名条项倍分%％]|yuan|rmb|usd|dollars?|percent|people|users?))",
        r"[〇零一二三四五六七八九]{4}\s*年",
        rf"\b{_WEEKDAY_EN}\b",
        rf"\b{_MONTH_EN}\s+\d{{1,2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_EN}",
        r"\b\d{1,2}(?:st|nd|rd|th)\b",
        r"\b(?:daily|every day|each day)\b",
        # A time of day or a day counted from an event also says when: before nine in the
        # morning, at 9:30, 10 a.m., from the fourth day, with the next monthly salary.
        r"\d{1,2}[:：]\d{2}",
        r"\b\d{1,2}\s*(?:a\.?m\.?|p\.?m\.?)(?!\w)",
        r"\b(?:noon|midday|midnight|in the (?:morning|afternoon|evening))\b",
        rf"\b{_EN_ORDINAL}\s+(?:working\s+|business\s+)?(?:day|week|month|year)\b",
        r"\bnext\s+(?:\w+\s+)?(?:salary|payroll|pay ?day|pay ?run|week|month|quarter|year)\b",
        rf"(?:上午|下午|中午|早上|晚上|凌晨){_NUMBER}\s*[点時时]|{_NUMBER}\s*点(?:钟|前|之前|以前)",
        rf"第{_NUMBER}\s*(?:个)?(?:天|日|周|个月|月|年|个工作日|工作日)",
        r"次日|次月|下个?月|下周|下一?年",
    ),
    AnswerType.DURATION: _any(
        rf"{_NUMBER}\s*{_TIME_UNIT_ZH}",
        rf"[每当本次隔]\s*{_TIME_UNIT_ZH}",
        r"半年|半个月|一季度|长期|永久|实时|即时|立即|马上",
        rf"\b{_EN_NUMBER}[\s-]+{_TIME_UNIT_EN}\b",
        r"\b(?:every|each|per|within|a|next|same)\s+(?:minute|hour|day|week|month|quarter|year)\b",
        r"\b(?:hourly|daily|weekly|fortnightly|monthly|quarterly|yearly|annually)\b",
        r"\b(?:immediately|right away|same day|permanently)\b",
    ),
    AnswerType.NUMBER: _any(
        r"\d",
        # A bare count: a Chinese numeral with a measure word (十二支队伍, 三座桥, 两部电影).
        rf"{_CN_NUMBER}\s*(?:个|次|位|名|条|项|人|倍|分|种|类|步|点|成|层|级|批|轮|家|天|周|月|年|元"
        r"|支|只|张|座|部|本|场|届|台|辆|篇|首|颗|间|所|门|款|份|套|组|队|户|件|株|头|匹)",
        r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty"
        r"|thirty|forty|fifty|hundred|thousand|million|billion|dozen|half|once|twice|several"
        r"|a few)\b",
    ),
}


# An English question asks what its first question word asks: "How do we estimate how many
# months ..." wants a method, not a number.
_EN_METHOD_OR_REASON = re.compile(
    r"^\W*(?:\w+\W+){0,3}?(?:why|how (?:do|does|did|can|could|should|would|is|are|was|were))\b",
    re.IGNORECASE,
)


def expected_type(question: str) -> AnswerType | None:
    """What the question asks for, from its wording; ``None`` for why/how/what-is questions."""
    if not has_cjk(question) and _EN_METHOD_OR_REASON.search(question):
        return None
    for answer_type, pattern in _ASKS:
        if pattern.search(question):
            return answer_type
    return None


def expresses(text: str, answer_type: AnswerType) -> bool:
    """Whether ``text`` holds an expression of ``answer_type`` (always true for unchecked types).

    A time span answers "when" too, counted from the event asked about: "When is the
    post-mortem written?" — "within five working days".
    """
    if answer_type is AnswerType.DATE and expresses(text, AnswerType.DURATION):
        return True
    pattern = _EXPRESSES.get(answer_type)
    return pattern is None or bool(pattern.search(text))


def type_found(question: str, text: str) -> bool:
    """False only when the question expects a checkable type that ``text`` does not express."""
    answer_type = expected_type(question)
    return answer_type is None or expresses(text, answer_type)


# Where a Chinese question asks: the question word (or the copula before it).
_ZH_ASKING = frozenset(
    {
        "是",
        "多少",
        "几",
        "几天",
        "几号",
        "几个",
        "多久",
        "多长",
        "什么",
        "怎么",
        "怎样",
        "如何",
        "哪",
        "哪里",
        "哪儿",
        "哪些",
        "哪个",
        "谁",
        "吗",
        "啥",
        "为什么",
        "有没有",
        "是不是",
        "能不能",
        "要不要",
    }
)
# Times relative to now say when, not what: never the focus.
_ZH_TIME = frozenset(
    {
        "今天",
        "明天",
        "昨天",
        "今年",
        "明年",
        "去年",
        "本月",
        "下个月",
        "上个月",
        "这个月",
        "本周",
        "下周",
        "上周",
        "这周",
        "每个",
        "每天",
        "每周",
        "每月",
        "每年",
        "最近",
        "目前",
        "平时",
    }
)
_ZH_WH = re.compile(r"多少|几|多久|多长|什么|怎么|怎样|如何|哪|谁|啥|为什么|为何")
_ZH_BREAK = re.compile(r"[，。？！?!,;；：:\s]")
_EN_WH = frozenset({"what", "which", "who", "whom", "whose", "when", "where", "why", "how"})
_EN_AUX = frozenset(
    {
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "am",
        "may",
        "might",
        "must",
        "have",
        "has",
    }
)
# Prepositions and conjunctions that end a noun phrase (the stop words cover the rest).
_EN_BREAK = frozenset(
    {"after", "before", "during", "since", "until", "while", "whether", "between", "around", "per"}
)
_EN_UNITS = frozenset(
    {"minutes", "hours", "days", "weeks", "months", "years", "times", "people", "kind", "kinds"}
)
_EN_TIME_NOUNS = frozenset(
    {"time", "day", "days", "date", "week", "month", "year", "hour", "times", "dates"}
)
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|[^\sA-Za-z]")
_FOCUS_SIZE = 2


def question_focus(question: str) -> list[str]:
    """The question's focus: up to two topic words closest to where it asks.

    Chinese: the words just before the question word (用户留存率的行业平均水平是多少 →
    行业, 平均水平), or the last ones after it when the clause opens with it (多久要录进工单
    系统 → …, 系统). English: the words right after the wh-phrase (after the verb for "who"),
    starting again after a possessive ("What's the company's share price?" → share, price).
    A yes/no question (…吗, "Do I …") has no focus: it asks about its whole predicate.
    Words are in the form :func:`knowledge.answer.question_terms` uses (jieba words, light
    stems), so they can be looked up the same way.
    """
    if has_cjk(question):
        return _chinese_focus(question)
    return _english_focus(question)


def _is_topic_zh(word: str) -> bool:
    return (
        len(word) > 1
        and has_cjk(word)
        and word not in STOPWORDS_ZH
        and word not in QUESTION_WORDS
        and word not in _ZH_ASKING
        and word not in _ZH_TIME
    )


def _chinese_words_joined(text: str) -> list[str]:
    """jieba's words, with runs of single characters joined into one word.

    jieba splits a compound it does not know (年假 → 年 / 假), and the compound is the topic.
    """
    words: list[str] = []
    run = ""
    for word in chinese_segments(text):
        if len(word) == 1 and word not in _ZH_ASKING and word not in STOPWORDS_ZH:
            run += word
            continue
        if run:
            words.append(run)
            run = ""
        if word.strip():
            words.append(word)
    if run:
        words.append(run)
    return words


def _chinese_focus(question: str) -> list[str]:
    clause = next((part for part in _ZH_BREAK.split(question) if _asks_zh(part)), question)
    words = _chinese_words_joined(clause)
    asking = next((i for i, word in enumerate(words) if word in _ZH_ASKING), None)
    if asking is None or not _ZH_WH.search(clause):
        return []  # a yes/no question asks about its whole predicate, not one noun
    before, after = words[:asking], words[asking + 1 :]
    focus: list[str] = []
    for word in reversed(before):
        if _is_topic_zh(word):
            focus.insert(0, word)
            if len(focus) == _FOCUS_SIZE:
                break
        elif focus and word in STOPWORDS_ZH:
            break  # 的 / 和 close the noun phrase
    if not focus:
        # The question word opens the clause (多久要录进工单系统): the object ends it.
        focus = [word for word in after if _is_topic_zh(word)][-_FOCUS_SIZE:]
    return focus


def _asks_zh(clause: str) -> bool:
    return any(word in _ZH_ASKING for word in chinese_segments(clause)) or "几" in clause


def _english_focus(question: str) -> list[str]:
    words = _EN_WORD.findall(question)
    lowered = [word.lower() for word in words]
    start = next((i for i, word in enumerate(lowered) if word.split("'")[0] in _EN_WH), None)
    if start is None:
        return []  # a yes/no question asks about its whole predicate, not one noun
    rest = lowered[start + 1 :]
    if lowered[start] == "how" and rest and rest[0] not in _EN_AUX:
        rest = rest[1:]  # "How soon are customers told": the word asks how, it is no topic
    elif lowered[start] in {"what", "which"} and rest and rest[0] in _EN_TIME_NOUNS:
        rest = rest[1:]  # "By what time must I…": the noun says what kind of answer
    if lowered[start] in {"who", "whom"} and rest and rest[0] not in _EN_AUX:
        rest = rest[1:]  # "Who receives the summary": the verb, then what it is about
    focus: list[str] = []
    for raw in rest:
        bare = raw.split("'")[0]
        if not raw[0].isalpha() or bare in _EN_BREAK or raw.endswith("n't") or bare == "am":
            if focus:
                break
            continue
        if raw.endswith("'s") and bare not in _EN_WH and bare not in STOPWORDS_EN:
            focus = []  # a possessive names the owner; the head follows it
            continue
        if bare in STOPWORDS_EN or bare in _EN_AUX or bare in _EN_WH or bare in QUESTION_WORDS:
            if focus:
                break
            continue
        if not focus and bare in _EN_UNITS:
            continue
        focus.extend(english_stems(bare))
        if len(focus) >= _FOCUS_SIZE:
            break
    return focus[:_FOCUS_SIZE]
