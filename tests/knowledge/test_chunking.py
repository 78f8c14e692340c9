"""Chunking: whole sentences, one section per chunk, lists with their lead-in."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
import yaml

from knowledge.chunking import MERGE_SLACK, chunk_document, split_sentences
from knowledge.loaders import load_materials
from knowledge.materials import list_materials
from knowledge.types import Block, Chunk, Document, Section
from tests.conftest import SAMPLE_CONTENT

MAX = 500
SLACK_MAX = int(MAX * MERGE_SLACK)
ZH_ENDS = ("。", "！", "？", "；")


def document(*sections: Section, path: str = "guide.md") -> Document:
    return Document(path=path, title="指南", sections=sections)


def paragraph(text: str) -> Block:
    return Block("paragraph", text)


def zh_sentences(count: int) -> list[str]:
    """Distinct Chinese sentences of 20 to 80 characters, ending with assorted marks."""
    sentences = []
    for number in range(count):
        body = f"第{number}句说明门店排班要兼顾客流高峰和员工休息" + "并且记录在台账中" * (
            number % 7
        )
        sentences.append(body + ZH_ENDS[number % len(ZH_ENDS)])
    return sentences


def en_sentences(count: int) -> list[str]:
    sentences = []
    for number in range(count):
        words = " and checks the cage" * (number % 6)
        sentences.append(f"Sentence {number} says the shift lead opens the depot{words}.")
    return sentences


def flatten(chunks: list[Chunk]) -> str:
    return "".join(chunk.text.replace("\n", "") for chunk in chunks)


# --- sentences ------------------------------------------------------------------------


def test_split_sentences_chinese_marks_and_closing_quotes() -> None:
    text = "第一句。第二句！第三句？他说：“先道歉。”然后补发；最后结束"

    assert split_sentences(text) == [
        "第一句。",
        "第二句！",
        "第三句？",
        "他说：“先道歉。”",
        "然后补发；",
        "最后结束",
    ]


def test_split_sentences_english_abbreviations_decimals_and_list_numbers() -> None:
    text = (
        "1. Load 3.5 kg per shelf, e.g. tins first. Dr. Lee checks it at 6 a.m. daily. "
        'He said "stop." Then what? Leave! J. Smith agrees'
    )

    assert split_sentences(text) == [
        "1. Load 3.5 kg per shelf, e.g. tins first. ",
        "Dr. Lee checks it at 6 a.m. daily. ",
        'He said "stop." ',
        "Then what? ",
        "Leave! ",
        "J. Smith agrees",
    ]


@pytest.mark.parametrize(
    "text",
    ["", "没有标点的一句话", "A. B. C.", "Mixed 中文。And English. 再来！", "line one\nline two\n"],
)
def test_split_sentences_loses_nothing(text: str) -> None:
    assert "".join(split_sentences(text)) == text


# --- packing --------------------------------------------------------------------------


@pytest.mark.parametrize("sentences", [zh_sentences(40), en_sentences(40)], ids=["zh", "en"])
def test_chunks_hold_whole_sentences_within_size_bounds(sentences: list[str]) -> None:
    text = (" " if sentences[0].isascii() else "").join(sentences)
    chunks = chunk_document(document(Section(("排班",), (paragraph(text),))))

    assert len(chunks) > 3
    assert all(len(chunk.text) <= MAX for chunk in chunks)
    assert all(len(chunk.text) >= 150 for chunk in chunks)
    assert statistics.median(len(chunk.text) for chunk in chunks) <= 350
    stripped = [s.strip() for s in sentences]
    for chunk in chunks:
        # Every chunk starts at a sentence start and ends at a sentence end.
        assert any(chunk.text.startswith(s) for s in stripped), chunk.text[:30]
        assert any(chunk.text.endswith(s) for s in stripped), chunk.text[-30:]
    assert flatten(chunks).replace(" ", "") == text.replace(" ", "")


def test_a_sentence_longer_than_a_chunk_is_cut_at_commas() -> None:
    long_sentence = "，".join(f"第{n}项检查内容需要逐一核对并签字确认" for n in range(60)) + "。"
    chunks = chunk_document(document(Section((), (paragraph(long_sentence),))))

    assert len(chunks) > 1
    assert all(len(chunk.text) <= MAX for chunk in chunks)
    assert all(chunk.text.endswith(("，", "。")) for chunk in chunks)
    assert flatten(chunks) == long_sentence


def test_a_sentence_without_commas_is_cut_hard() -> None:
    chunks = chunk_document(document(Section((), (paragraph("长" * 1200 + "。"),))))

    assert [len(chunk.text) for chunk in chunks] == [498, 498, 205]


def test_small_sizes_are_configurable_and_validated() -> None:
    text = "".join(zh_sentences(10))
    small = chunk_document(
        document(Section((), (paragraph(text),))), target_chars=80, max_chars=120, min_chars=40
    )

    assert all(len(chunk.text) <= 120 * MERGE_SLACK for chunk in small)
    with pytest.raises(ValueError):
        chunk_document(document(), target_chars=600, max_chars=500)


# --- lists ----------------------------------------------------------------------------


def test_lead_in_stays_with_its_list_and_is_repeated_on_continuation() -> None:
    lead_in = "发现设备故障时按以下步骤处理："
    items = [
        f"第{n}步：先记录故障现象和发生时间，再通知值班店长到场确认处理方式。" for n in range(12)
    ]
    blocks = (
        paragraph("".join(zh_sentences(6))),
        Block("lead_in", lead_in),
        *(Block("list_item", item) for item in items),
        paragraph("处理完毕后在台账中登记。"),
    )
    chunks = chunk_document(document(Section(("设备",), blocks)))
    list_chunks = [chunk for chunk in chunks if "- 第" in chunk.text]

    assert len(list_chunks) >= 2
    for chunk in list_chunks:
        lines = chunk.text.split("\n")
        first_item = next(i for i, line in enumerate(lines) if line.startswith("- "))
        assert first_item > 0 and lines[first_item - 1] == lead_in
    # The lead-in never ends a chunk on its own.
    assert not any(chunk.text.endswith(lead_in) for chunk in chunks)
    for item in items:
        assert sum(f"- {item}" in chunk.text.split("\n") for chunk in chunks) == 1
    assert all(len(chunk.text) <= SLACK_MAX for chunk in chunks)


def test_lead_in_moves_to_the_next_chunk_rather_than_end_one() -> None:
    # The paragraph fills most of a chunk; the lead-in must go with its items.
    filler = "".join(zh_sentences(9)[:8])
    blocks = (
        paragraph(filler),
        Block("lead_in", "检查要点："),
        *(Block("list_item", f"要点{n}：逐项核对货架标签与系统价格是否一致。") for n in range(6)),
    )
    chunks = chunk_document(document(Section((), blocks)))

    # The lead-in would still have fitted after the paragraph (344 + 6 characters), but
    # its first item would not: it moves on with the list instead of ending the chunk.
    assert len(chunks) == 2
    assert chunks[0].text == filler
    assert chunks[1].text.startswith("检查要点：\n- 要点0：")


def test_list_items_render_with_a_marker() -> None:
    blocks = (Block("lead_in", "Check:"), Block("list_item", "lights"), Block("list_item", "tills"))

    [chunk] = chunk_document(document(Section(("Opening",), blocks)))

    assert chunk.text == "Check:\n- lights\n- tills"


# --- sections and ids -----------------------------------------------------------------


def test_sections_are_never_merged_even_when_tiny() -> None:
    doc = document(
        Section((), (paragraph("前言。"),)),
        Section(("一、原则",), (paragraph("原则很短。"),)),
        Section(("一、原则", "（一）细则"), (paragraph("细则也很短。"),)),
    )

    chunks = chunk_document(doc)

    assert [(c.section, c.text) for c in chunks] == [
        ("", "前言。"),
        ("一、原则", "原则很短。"),
        ("一、原则 > （一）细则", "细则也很短。"),
    ]


def chunk_sizes(*sentences: str) -> list[int]:
    chunks = chunk_document(document(Section((), (paragraph("".join(sentences)),))))
    return [len(c.text) for c in chunks]


def test_a_tiny_tail_joins_the_previous_chunk_of_its_section() -> None:
    # 300 characters fill the first chunk; the 120 left over are too few to stand alone.
    assert chunk_sizes(
        "甲" * 99 + "。", "乙" * 99 + "。", "丙" * 99 + "。", "丁" * 99 + "。", "戊" * 19 + "。"
    ) == [420]
    # 150 left over are enough.
    assert chunk_sizes("甲" * 299 + "。", "乙" * 99 + "。", "丙" * 49 + "。") == [300, 150]


def test_a_tiny_tail_may_push_a_chunk_past_max_within_the_slack() -> None:
    assert chunk_sizes("甲" * 489 + "。", "乙" * 99 + "。") == [590]


def test_a_tiny_tail_stays_alone_when_merging_would_overflow() -> None:
    assert chunk_sizes("甲" * 489 + "。", "乙" * 139 + "。") == [490, 140]


def test_ids_count_across_the_document_and_are_stable() -> None:
    doc = document(
        Section(("A",), (paragraph("".join(zh_sentences(20))),)),
        Section(("B",), (paragraph("短。"),)),
        path="sub/guide.md",
    )

    chunks = chunk_document(doc)

    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert [c.id for c in chunks] == [f"sub/guide.md#{i}" for i in range(len(chunks))]
    assert all(c.path == "sub/guide.md" and c.title == "指南" for c in chunks)
    assert chunk_document(doc) == chunks


# --- the sample course ----------------------------------------------------------------

CHROME_MARKERS = (
    "cookie",
    "Accept all",
    "Reject optional",
    "Sign in",
    "Who's who",
    "Search the hub",
    "Learning Hub",
    "Related articles",
    "first-week checklist",
    "All rights reserved",
    "Terms of use",
    "Privacy notice",
    "What's new in app",
)


def sample_chunks() -> list[Chunk]:
    materials = SAMPLE_CONTENT / "materials"
    # The files the index reads: a material's review sidecar (NAME.review.yaml) is not one.
    documents, errors = load_materials(materials, list_materials(materials))
    assert errors == []
    return [chunk for doc in documents for chunk in chunk_document(doc)]


def quiz_sources() -> set[tuple[str, str]]:
    sources = set()
    for bank in sorted((SAMPLE_CONTENT / "quizzes").glob("*.yaml")):
        for question in yaml.safe_load(bank.read_text(encoding="utf-8"))["questions"]:
            if question.get("source"):
                file, _, heading = str(question["source"]).partition("#")
                sources.add((file, heading))
    return sources


def test_sample_course_chunks_are_clean_and_within_bounds() -> None:
    chunks = sample_chunks()

    materials = SAMPLE_CONTENT / "materials"
    assert {c.path for c in chunks} == {p.name for p in list_materials(materials)}
    assert len(list_materials(materials)) == 6
    for chunk in chunks:
        assert chunk.text.strip()
        assert len(chunk.text) <= SLACK_MAX, chunk.id
        for marker in CHROME_MARKERS:
            assert marker.casefold() not in chunk.text.casefold(), (chunk.id, marker)


def test_every_quiz_source_heading_is_a_chunk_section() -> None:
    sections: dict[str, set[str]] = {}
    for chunk in sample_chunks():
        sections.setdefault(chunk.path, set()).add(chunk.section.split(" > ")[-1])
    sources = quiz_sources()

    assert len(sources) > 20
    missing = [
        (file, heading) for file, heading in sorted(sources) if heading not in sections[file]
    ]
    assert missing == []


def test_sample_html_questions_with_question_marks_are_headings() -> None:
    headings = {c.section for c in sample_chunks() if c.path == "onboarding-faq.html"}

    assert "What is the activation stage?" in headings
    assert "How often is the course content updated?" in headings


def test_materials_path_is_relative_with_forward_slashes(tmp_path: Path) -> None:
    nested = tmp_path / "zh" / "ops"
    nested.mkdir(parents=True)
    (nested / "guide.md").write_text("# 指南\n\n## 原则\n\n先记录。\n", encoding="utf-8")

    documents, _ = load_materials(tmp_path, [nested / "guide.md"])

    assert chunk_document(documents[0])[0].id == "zh/ops/guide.md#0"
