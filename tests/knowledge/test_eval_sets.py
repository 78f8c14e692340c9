"""The labelled Q&A questions in benchmarks/eval stay valid for the materials they label.

A label that no longer matches its passage (after an edit of the materials or of the
chunker) would silently count as a retrieval miss in the benchmark, and a held-out
question that also sits in the tuning files would no longer be held out.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from benchmarks.qa_eval import HOLDOUT_FILES, TUNING_FILES, load_questions, without_spaces
from knowledge.chunking import chunk_document
from knowledge.loaders import load_document
from knowledge.materials import list_materials

MATERIALS = Path(__file__).resolve().parents[2] / "content" / "materials"
KINDS = {"direct", "paraphrase", "cross_lingual", "unanswerable"}


@pytest.fixture(scope="module")
def passages() -> dict[tuple[str, str], list[str]]:
    """Chunk texts of the sample course by (material path, deepest section heading)."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in list_materials(MATERIALS):
        for chunk in chunk_document(load_document(path, MATERIALS)):
            section = chunk.section.rsplit(" > ", 1)[-1]
            found.setdefault((chunk.path, section), []).append(without_spaces(chunk.text))
    return found


@pytest.mark.parametrize("eval_file", [*TUNING_FILES, *HOLDOUT_FILES], ids=lambda p: p.name)
def test_every_expected_passage_exists_in_the_materials(
    eval_file: Path, passages: dict[tuple[str, str], list[str]]
) -> None:
    questions = load_questions([eval_file])
    assert questions
    broken = []
    for question in questions:
        assert question["kind"] in KINDS, question["id"]
        assert (question["kind"] == "unanswerable") == (not question["expected"]), question["id"]
        for item in question["expected"]:
            texts = passages.get((item["path"], item["section"]), [])
            if not any(without_spaces(item["contains"]) in text for text in texts):
                broken.append((question["id"], item["path"], item["section"], item["contains"]))
    assert broken == []


def test_held_out_questions_are_apart_from_the_tuning_ones() -> None:
    tuning = load_questions()
    held_out = load_questions(HOLDOUT_FILES)
    assert not set(TUNING_FILES) & set(HOLDOUT_FILES)
    ids = Counter(question["id"] for question in [*tuning, *held_out])
    assert [question_id for question_id, count in ids.items() if count > 1] == []
    tuning_texts = {without_spaces(question["question"]).casefold() for question in tuning}
    repeated = [
        q["id"] for q in held_out if without_spaces(q["question"]).casefold() in tuning_texts
    ]
    assert repeated == []
    # Enough of both kinds to measure abstention on new questions at all.
    assert sum(1 for q in held_out if q["expected"]) >= 40
    assert sum(1 for q in held_out if not q["expected"]) >= 8
