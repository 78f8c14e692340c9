"""The bilingual lexicon: mined from parallel course texts, used for cross-lingual search."""

from __future__ import annotations

from pathlib import Path

from knowledge.answer import question_terms, signals
from knowledge.embeddings import LocalE5Embeddings
from knowledge.index import KnowledgeIndex
from knowledge.lexicon import Lexicon, mine, parallel_pairs
from knowledge.search import Retriever
from tests.knowledge.conftest import LOCAL_ID

QUIZ = """
questions:
  - id: q1
    language: zh
    prompt: 谁负责召回流失用户？
    options: {A: 运营专员, B: 客服专员}
    explanation: 召回流失用户由运营专员负责。
  - id: q1
    language: en
    prompt: Who is responsible for winning back churned users?
    options: {A: Operations specialist, B: Customer service}
    explanation: Winning back churned users is the operations specialist's job.
  - id: q2
    language: zh
    prompt: 流失用户多久召回一次？
    options: {A: 每周, B: 每月}
  - id: q2
    language: en
    prompt: How often are churned users contacted?
    options: {A: Weekly, B: Monthly}
  - id: q3
    language: zh
    prompt: 客服专员处理什么？
  - id: q4
    language: en
    prompt: An item without its Chinese version.
tracks:
  - title: {zh: 一线运营, en: Frontline operations}
"""

LESSON_ZH = """---
id: l1
title: 流失预警
---
流失用户需要召回。

运营专员每周检查流失预警。
"""

LESSON_EN = """---
id: l1
title: Churn warnings
---
Churned users need to be won back.

The operations specialist checks churn warnings every week.
"""

MATERIAL = """# 留存手册

## 召回

连续三十天没有下单的用户算作流失用户，由运营专员在周三联系，每月最多两次。

## 配送

菜篮在上午十点前送达，冷链车负责叶菜保鲜。
"""


def course(folder: Path) -> Path:
    """A tiny bilingual course: one quiz bank, one lesson pair, one Chinese material."""
    (folder / "quizzes").mkdir(parents=True)
    (folder / "lessons").mkdir()
    (folder / "materials").mkdir()
    (folder / "quizzes" / "bank.yaml").write_text(QUIZ, encoding="utf-8")
    (folder / "lessons" / "l1.zh.md").write_text(LESSON_ZH, encoding="utf-8")
    (folder / "lessons" / "l1.en.md").write_text(LESSON_EN, encoding="utf-8")
    (folder / "materials" / "retention.md").write_text(MATERIAL, encoding="utf-8")
    return folder


def test_parallel_pairs_align_items_by_id_and_lessons_by_line(tmp_path: Path) -> None:
    pairs = set(parallel_pairs(course(tmp_path)))
    assert ("运营专员", "Operations specialist") in pairs
    assert ("谁负责召回流失用户？", "Who is responsible for winning back churned users?") in pairs
    assert ("一线运营", "Frontline operations") in pairs
    assert ("流失预警", "Churn warnings") in pairs
    assert (
        "运营专员每周检查流失预警。",
        "The operations specialist checks churn warnings every week.",
    ) in pairs
    # Items with one language only, and the materials, pair with nothing.
    assert not any("客服专员处理" in zh or "without its Chinese" in en for zh, en in pairs)
    assert not any("冷链" in zh for zh, _ in pairs)


def test_regional_variants_are_not_mined(tmp_path: Path) -> None:
    """A regional variant repeats most of its core: its pairs would count twice and its
    local case pull words toward it (the Kuala Lumpur case's risk "score 45" once made
    "score" translate to 评分 alone, and the managers' pass mark was no longer found)."""
    folder = course(tmp_path)
    before = list(parallel_pairs(folder))
    regional = "region: kuala-lumpur\n"
    (folder / "lessons" / "l1.kl.zh.md").write_text(
        LESSON_ZH.replace("---\nid: l1\n", "---\nid: l1\n" + regional) + "评分 45。\n",
        encoding="utf-8",
    )
    (folder / "lessons" / "l1.kl.en.md").write_text(
        LESSON_EN.replace("---\nid: l1\n", "---\nid: l1\n" + regional) + "Score 45.\n",
        encoding="utf-8",
    )
    bank = folder / "quizzes" / "bank.yaml"
    bank.write_text(
        bank.read_text(encoding="utf-8").replace(
            "tracks:",
            "  - id: q1\n    region: kuala-lumpur\n    language: zh\n    prompt: 斋月评分？\n"
            "  - id: q1\n    region: kuala-lumpur\n    language: en\n"
            "    prompt: Ramadan score?\ntracks:",
        ),
        encoding="utf-8",
    )
    assert sorted(parallel_pairs(folder)) == sorted(before)


def test_mined_lexicon_translates_both_ways(tmp_path: Path) -> None:
    lexicon = mine(course(tmp_path))
    assert "流失" in lexicon.translate(["churn"], "en")
    assert "召回" in lexicon.translate(["back"], "en") or "召回" in lexicon.translate(["won"], "en")
    assert lexicon.translate(["流失"], "zh") == ["churn"]
    # A word seen together with its partner in one pair only is too weak to trust.
    assert lexicon.translate(["每周"], "zh") == []
    assert lexicon.translate(["kubernetes"], "en") == []
    assert Lexicon.from_json(lexicon.to_json()) == lexicon


def test_a_word_does_not_also_translate_to_a_compound_of_its_translation() -> None:
    # In the sample course "pass rate" is frequent, so "rate" was aligned with 通过率 as
    # well as 率, and every English question about a rate was searched as the pass rate.
    lexicon = mine(Path(__file__).resolve().parents[2] / "content")
    assert "率" in lexicon.translate(["rate"], "en", general=False)
    assert not any(len(word) > 1 and "率" in word for word in lexicon.translate(["rate"], "en"))
    assert "流失" in lexicon.translate(["churn"], "en", general=False)


def test_a_folder_without_parallel_texts_gives_an_empty_lexicon(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\n\nOnly English here.\n", encoding="utf-8")
    lexicon = mine(tmp_path)
    assert len(lexicon) == 0 and lexicon.pairs == 0


def test_english_questions_find_chinese_passages_by_translated_terms(
    tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    root = course(tmp_path / "course")
    index = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)
    index.ingest(root / "materials", parallel_dir=root, progress=False)
    assert index.lexicon_path.is_file() and len(index.lexicon) > 0

    retriever = Retriever(index)
    evidence = retriever.evidence("Who wins back churned users?", 2)
    assert "流失" in evidence.translations
    assert evidence.translated and index.chunks[evidence.translated[0][0]].section == "召回"
    # Without the lexicon's help BM25 cannot see the Chinese passage at all.
    assert index.keyword("Who wins back churned users?", 5) == []

    reopened = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)
    assert reopened.lexicon == index.lexicon


def test_the_lexicon_is_mined_again_only_when_the_course_changes(
    tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    root = course(tmp_path / "course")
    index = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)
    index.ingest(root / "materials", parallel_dir=root, progress=False)
    written = index.lexicon_path.stat().st_mtime_ns

    index.ingest(root / "materials", parallel_dir=root, progress=False)
    assert index.lexicon_path.stat().st_mtime_ns == written

    (root / "lessons" / "l2.zh.md").write_text("---\ntitle: 冷链配送\n---\n", encoding="utf-8")
    (root / "lessons" / "l2.en.md").write_text(
        "---\ntitle: Cold-chain delivery\n---\n", encoding="utf-8"
    )
    index.ingest(root / "materials", parallel_dir=root, progress=False)
    assert "lessons/l2.zh.md" in index.lexicon.sources

    index.reset()
    assert not index.lexicon_path.exists() and len(index.lexicon) == 0


def test_translated_words_count_as_present_in_the_abstention_signals(
    tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    root = course(tmp_path / "course")
    index = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)
    index.ingest(root / "materials", parallel_dir=root, progress=False)
    question = "Who wins back churned users?"
    evidence = Retriever(index).evidence(question, 2)
    with_lexicon = signals(question, evidence, index)

    index.lexicon = Lexicon()
    without = signals(question, evidence, index)
    assert with_lexicon["coverage"] > without["coverage"] == 0.0
    assert with_lexicon["unknown"] < without["unknown"]


def test_question_words_are_not_topic_words() -> None:
    assert question_terms("推荐邻居拿到的券有效期多久？") == ["推荐", "邻居", "拿到", "有效期"]
    assert "often" not in question_terms("How often is the churn risk score updated?")
    assert "churn" in question_terms("How often is the churn risk score updated?")
    # The word after "how" asks how (soon, large): no topic word.
    assert question_terms("How soon are customers informed?") == ["customer", "inform"]
    assert question_terms("How large is the allowance?") == ["allowance"]
    # So does a time noun after "what" / "which"; "am" and "before" are no topic either.
    assert question_terms("By what time must I tell my manager that I am ill?") == [
        "manager",
        "ill",
    ]
    assert question_terms("How much notice must HR get before leave starts?") == [
        "notice",
        "hr",
        "leave",
        "start",
    ]
