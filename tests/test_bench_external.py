"""The external benchmark harness: loading, splitting and scoring (no index, no shared data)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from benchmarks.external import (
    ENGLISH_FILE,
    CorpusResult,
    Outcome,
    auc,
    chitchat_lines,
    contains_evidence,
    file_name,
    load_squad,
    off_topic_questions,
    pipeline_answer,
    run_corpus,
    sample,
    score,
    split,
    write_materials,
)
from benchmarks.machine import describe_machine
from benchmarks.qa_eval import HOLDOUT_FILES, TUNING_FILES, Metrics, load_questions
from benchmarks.report import BenchmarkRun, render


def _squad(path: Path, paragraphs: int = 10) -> Path:
    """A tiny SQuAD-style file: paragraph n says the colour of box n."""
    data = {
        "version": "test",
        "data": [
            {
                "id": f"T_{n}",
                "title": f"Box {n}",
                "paragraphs": [
                    {
                        "id": f"T_{n}",
                        "context": f"Box {n} is painted colour{n}. It stands in room {n}.",
                        "qas": [
                            {
                                "id": f"T_{n}_Q0",
                                "question": f"What colour is box {n}?",
                                "answers": [{"text": f"colour{n}", "answer_start": 0}],
                            },
                            {"id": f"T_{n}_Q1", "question": "Unanswerable?", "answers": []},
                        ],
                    }
                ],
            }
            for n in range(paragraphs)
        ],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_load_squad_keeps_paragraphs_and_questions_with_an_answer(tmp_path: Path) -> None:
    paragraphs = load_squad(_squad(tmp_path / "set.json", 3))
    assert [p.id for p in paragraphs] == ["T_0", "T_1", "T_2"]
    assert paragraphs[1].title == "Box 1"
    assert [(q.text, q.answers, q.paragraph) for q in paragraphs[1].questions] == [
        ("What colour is box 1?", ("colour1",), "T_1")
    ]


def test_split_is_seeded_disjoint_and_independent_of_file_order(tmp_path: Path) -> None:
    paragraphs = load_squad(_squad(tmp_path / "set.json", 10))
    first = split(paragraphs, 0.8, seed=3)
    again = split(list(reversed(paragraphs)), 0.8, seed=3)
    other = split(paragraphs, 0.8, seed=4)
    assert first == again
    assert len(first.materials) == 8 and len(first.held_out) == 2
    assert {p.id for p in first.materials} | {p.id for p in first.held_out} == {
        p.id for p in paragraphs
    }
    assert not {p.id for p in first.materials} & {p.id for p in first.held_out}
    assert first != other  # the seed, not the order, decides
    # Even an extreme share leaves something on both sides.
    assert len(split(paragraphs[:2], 1.0).held_out) == 1


def test_materials_are_one_markdown_file_per_paragraph(tmp_path: Path) -> None:
    paragraphs = load_squad(_squad(tmp_path / "set.json", 2))
    write_materials(paragraphs, tmp_path / "materials")
    text = (tmp_path / "materials" / file_name(paragraphs[0])).read_text(encoding="utf-8")
    assert text == "# Box 0\n\nBox 0 is painted colour0. It stands in room 0.\n"
    assert sorted(p.name for p in (tmp_path / "materials").iterdir()) == ["T_0.md", "T_1.md"]


def test_sample_is_seeded_and_keeps_order() -> None:
    items = list(range(100))
    chosen = sample(items, 10, seed=1)  # type: ignore[arg-type]
    assert chosen == sorted(chosen) and len(chosen) == 10
    assert chosen == sample(items, 10, seed=1)  # type: ignore[arg-type]
    assert sample(items[:5], 10) == items[:5]  # type: ignore[arg-type]


def test_score_counts_answers_declines_and_evidence() -> None:
    outcomes = [
        # answerable, answered, the evidence both cited and shown
        Outcome(True, True, 0.9, ["Box 1 is red ."], "Box 1 is red [1]", ("red",)),
        # answerable, answered, evidence cited but cut from the shown text
        Outcome(True, True, 0.8, ["Box 2 is blue."], "Box 2 [1]", ("blue",)),
        # answerable but declined: not part of the evidence shares
        Outcome(True, False, 0.2, [], "", ("green",)),
        # answerable, answered from the wrong source
        Outcome(True, True, 0.7, ["Box 9 is grey."], "Box 9 is grey [1]", ("white",)),
        Outcome(False, False, 0.1),
        Outcome(False, True, 0.75),
        # everyday off-topic questions: their own share, not part of the near misses or AUC
        Outcome(False, False, 0.05, off_topic=True),
        Outcome(False, False, 0.3, off_topic=True),
        Outcome(False, True, 0.95, off_topic=True),
    ]
    rates = score(outcomes)
    assert rates["answered"] == pytest.approx(3 / 4)
    assert rates["declined"] == pytest.approx(1 / 2)
    assert rates["declined_off_topic"] == pytest.approx(2 / 3)
    assert rates["evidence_cited"] == pytest.approx(2 / 3)
    assert rates["evidence_shown"] == pytest.approx(1 / 3)
    # 0.9, 0.8 beat both negatives; 0.7 and 0.2 beat only 0.1: (2+2+1+1) / 8
    assert rates["auc"] == pytest.approx(6 / 8)


def test_evidence_ignores_whitespace_and_auc_ties() -> None:
    assert contains_evidence("门罗 在 1983 年", ["1983年"])
    assert not contains_evidence("anything", ["", "   "])
    assert auc([0.5], [0.5]) == 0.5


def test_missing_corpus_is_skipped_with_a_reason(tmp_path: Path) -> None:
    result = run_corpus("absent", tmp_path / "nowhere.json")
    assert result.skipped is not None and "not found" in result.skipped
    assert result.metrics == [] and result.rates == {}


def test_english_set_is_well_formed() -> None:
    data = json.loads(ENGLISH_FILE.read_text(encoding="utf-8"))
    paragraphs = load_squad(ENGLISH_FILE)
    assert len(paragraphs) >= 30
    assert all(2 <= len(p.questions) <= 3 for p in paragraphs)
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                for answer in qa["answers"]:
                    start = answer["answer_start"]
                    assert (
                        paragraph["context"][start : start + len(answer["text"])] == answer["text"]
                    )


def test_report_shows_each_corpus_beside_the_baselines_or_why_it_was_skipped() -> None:
    ran = CorpusResult(
        "tiny (en)",
        "benchmarks/eval/tiny.json",
        paragraphs=(8, 2),
        questions=(16, 4),
        available=(16, 4),
        metrics=[
            Metrics("hybrid (ours)", 0.5, 0.75, 0.6, {}),
            Metrics("bm25 only", 0.25, 0.5, 0.4, {}),
        ],
        rates={
            "answered": 1.0,
            "declined": 0.25,
            "declined_off_topic": 0.95,
            "evidence_cited": 0.9,
            "evidence_shown": 0.8,
            "auc": 0.7,
            "chitchat": 1.0,
        },
        off_topic=80,
        chitchat=77,
    )
    course = CorpusResult(
        "Sample course",
        "content/materials",
        paragraphs=(12, 0),
        questions=(300, 40),
        available=(300, 40),
        metrics=[Metrics("hybrid (ours)", 0.8, 0.9, 0.85, {})],
        rates={
            "answered": 0.96,
            "declined": 0.5,
            "declined_off_topic": 1.0,
            "evidence_cited": 0.97,
            "evidence_shown": 0.92,
            "auc": 0.9,
            "chitchat": 0.99,
        },
        off_topic=80,
        chitchat=77,
        external=False,
    )
    absent = CorpusResult("absent (zh)", "../x.json", skipped="../x.json not found")
    run = BenchmarkRun(machine=describe_machine(), started=datetime.now().astimezone())
    run.external = [course, ran, absent]
    text = render(run)
    assert "## Q&A as a person meets it: the sample course and external corpora" in text
    assert (
        "| hybrid (ours) | 0.500 | 0.750 | 0.600 | 90.0% | 80.0% | 100.0% | 25.0% | 95.0% "
        "| 100.0% |" in text
    )
    assert "| bm25 only | 0.250 | 0.500 | 0.400 | – | – | – | – | – | – |" in text
    assert "12 material files; 300 answerable questions and 40 unanswerable ones" in text
    assert "Skipped: ../x.json not found." in text
    assert (
        "| External, tiny (en): out-of-corpus questions (near misses) declined | ≥ 90.0% "
        "| 25.0% |" in text
    )
    assert "absent (zh): out-of-corpus" not in text
    assert "Sample course: out-of-corpus" not in text  # its targets are the Q&A section's
    # the small-talk target counts the worst course: one line missed is not 100%
    assert "| Chit-chat and noise (77 lines) take the small-talk path | 100% | 99.0% | ❌" in text


def test_the_off_topic_set_is_bilingual_and_apart_from_the_labelled_questions() -> None:
    questions = off_topic_questions()
    assert len(questions) >= 60
    assert sum(bool(re.search(r"[\u4e00-\u9fff]", q)) for q in questions) >= 30
    labelled = {q["question"] for q in load_questions((*TUNING_FILES, *HOLDOUT_FILES))}
    assert not labelled & set(questions)
    assert len(chitchat_lines()) >= 60


def test_small_talk_takes_the_small_talk_path_before_any_search() -> None:
    # the answerer is never reached for small talk, so none is needed here
    assert all(pipeline_answer(None, line) is None for line in chitchat_lines())  # type: ignore[arg-type]
