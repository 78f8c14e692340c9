"""An extractive answer keeps an FAQ's question and answer together, never a question alone."""

from __future__ import annotations

import pytest

from knowledge.answer import extract
from knowledge.types import Chunk, Hit

FAQ = (
    "问：用户说“太贵了”，是不是直接发券？\n"
    "答：先了解他在和什么比较。很多时候推荐更合适的套餐比发券更有效。\n"
    "问：高风险名单太长，48 小时内联系不完怎么办？\n"
    "答：按风险分从高到低处理，同时在留存例会上提出。\n"
    "问：用户要求删除自己的数据怎么办？\n"
    "答：不要自行删除，按流程提交给数据安全小组处理。"
)
ENGLISH_FAQ = (
    "Q: How often is the course content updated?\n"
    "A: Every six months. The review happens in March and September.\n"
    "Q: Who do I ask about my schedule?\n"
    "A: Your store manager."
)


def hits(*texts: str) -> list[Hit]:
    return [
        Hit(Chunk(f"doc{n}.md#0", f"doc{n}.md", f"Doc {n}", "FAQ", text, 0), 1.0)
        for n, text in enumerate(texts, start=1)
    ]


def lines(answer: str) -> list[str]:
    return [line.rsplit(" [", 1)[0] for line in answer.splitlines()]


def question_lines_without_answers(shown: list[str]) -> list[str]:
    return [
        line
        for position, line in enumerate(shown)
        if line.startswith(("问：", "Q: "))
        and not (position + 1 < len(shown) and shown[position + 1].startswith(("答：", "A: ")))
    ]


@pytest.mark.parametrize(
    "question",
    [
        "高风险名单太长联系不完怎么办？",
        "用户说太贵了，是不是直接发券？",
        "Who do I ask about the course content?",
    ],
)
def test_no_question_line_is_shown_without_its_answer(question: str) -> None:
    shown = lines(extract(question, hits(FAQ, ENGLISH_FAQ)))
    assert shown and question_lines_without_answers(shown) == []


def test_the_answer_comes_with_its_question() -> None:
    shown = lines(extract("用户说太贵了，是不是直接发券？", hits(FAQ)))
    assert shown[:2] == [
        "问：用户说“太贵了”，是不是直接发券？",
        "答：先了解他在和什么比较。很多时候推荐更合适的套餐比发券更有效。",
    ]


def test_an_answer_sentence_brings_its_question_line() -> None:
    shown = lines(extract("What happens in March and September?", hits(ENGLISH_FAQ)))
    assert "Q: How often is the course content updated?" in shown
    question = shown.index("Q: How often is the course content updated?")
    assert shown[question + 1] == "A: Every six months. The review happens in March and September."
    assert "Q: Who do I ask about my schedule?" not in shown or "A: Your store manager." in shown
