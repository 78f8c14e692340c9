"""How an answer reads: only the sources it cites, each once, one separator for sections."""

from __future__ import annotations

import re

import pytest

from bot.views import answer_language, render_answer, source_label
from knowledge.types import Answer, Chunk, Hit


def hit(path: str, title: str, section: str, index: int = 0) -> Hit:
    return Hit(Chunk(f"{path}#{index}", path, title, section, "text", index), 1.0)


RETENTION = hit("lifecycle.md", "用户生命周期基础", "用户留存 > 如何提高用户留存")
RETENTION_AGAIN = hit("lifecycle.md", "用户生命周期基础", "用户留存 > 如何提高用户留存", 1)
STAGES = hit("lifecycle.md", "用户生命周期基础", "什么是用户生命周期")
FAQ = hit("faq.html", "New Frontline Staff FAQ", "How often is the course content updated?")


def sources_of(text: str) -> list[str]:
    listed = text.split("\n\n", 1)[1].splitlines()[1:]
    return listed


def test_a_source_the_text_never_cites_is_not_listed() -> None:
    answer = Answer(
        "q",
        True,
        "留存是指用户持续回来。 [2]\n稳定的品质最重要。 [2]",
        0.9,
        "zh",
        [STAGES, RETENTION, FAQ],
    )
    text = render_answer(answer, "zh")
    assert sources_of(text) == ["[1] 用户生命周期基础 › 用户留存 › 如何提高用户留存 (lifecycle.md)"]
    assert "[2]" not in text and "[3]" not in text
    assert text.count("[1]") == 3  # two sentences and the one source


def test_two_passages_of_one_section_are_one_source_numbered_in_citation_order() -> None:
    answer = Answer(
        "q",
        True,
        "First. [3]\nSecond. [1]\nThird. [2]",
        0.9,
        "en",
        [RETENTION, RETENTION_AGAIN, FAQ],
    )
    text = render_answer(answer, "en")
    body = text.split("\n\n", 1)[0]
    assert re.findall(r"\[(\d)\]", body) == ["1", "2", "2"]
    assert sources_of(text) == [
        "[1] New Frontline Staff FAQ › How often is the course content updated? (faq.html)",
        "[2] 用户生命周期基础 › 用户留存 › 如何提高用户留存 (lifecycle.md)",
    ]


def test_a_written_answer_citing_one_source_twice_in_a_row_reads_once() -> None:
    answer = Answer("q", True, "Coverage is completions over those due. [1] [1]", 0.9, "en", [FAQ])
    assert "due. [1]\n" in render_answer(answer, "en") + "\n"


def test_citations_outside_the_sources_are_left_as_written() -> None:
    answer = Answer("q", True, "See the table [7]. [1]", 0.9, "en", [FAQ])
    text = render_answer(answer, "en")
    assert "table [7]. [1]" in text and len(sources_of(text)) == 1


def test_one_separator_between_title_and_every_heading() -> None:
    assert source_label("指南", "一级指标 > 覆盖率 > 计算") == "指南 › 一级指标 › 覆盖率 › 计算"
    assert source_label("Guide", "") == "Guide"


def test_an_answer_only_in_the_other_language_says_so_in_the_askers() -> None:
    chinese = Answer("q", True, "培训覆盖率 = 完成人数 ÷ 应参训人数。 [1]", 0.9, "en", [RETENTION])
    assert render_answer(chinese, "en").startswith(
        "The materials cover this only in Chinese:\n培训覆盖率"
    )
    english = Answer("q", True, "Every six months. [1]", 0.9, "zh", [FAQ])
    assert render_answer(english, "zh").startswith("资料中只有英文内容：\nEvery six months.")


def test_an_answer_with_a_line_in_the_askers_language_gets_the_usual_header() -> None:
    mixed = Answer(
        "q", True, "留存很重要。 [1]\nEvery six months. [2]", 0.9, "zh", [RETENTION, FAQ]
    )
    assert render_answer(mixed, "zh").startswith("根据课程资料：\n")
    # A chat model writes in the asker's language from Chinese sources: no note.
    written = Answer(
        "q", True, "Coverage is completions over required staff [1].", 0.9, "en", [RETENTION]
    )
    assert render_answer(written, "en").startswith("From the course materials:\n")
    # Lines without words (a formula of digits) say nothing about the language.
    formula = Answer("q", True, "Coverage:\n228 ÷ 240 = 95% [1]", 0.9, "en", [RETENTION])
    assert render_answer(formula, "en").startswith("From the course materials:\n")


@pytest.mark.parametrize(
    ("question", "spoken", "language"),
    [
        ("How is training coverage calculated?", "zh", "en"),
        ("churn rate", "zh", "en"),
        ("培训覆盖率怎么计算？", "en", "zh"),
        ("DAU/MAU 是什么？", "en", "zh"),
        ("NPS?", "zh", "zh"),
        ("LTV", "en", "en"),
        ("👍", "zh", "zh"),
        ("2027", "en", "en"),
    ],
)
def test_the_question_decides_the_language_when_it_is_clear(
    question: str, spoken: str, language: str
) -> None:
    assert answer_language(question, spoken) == language
