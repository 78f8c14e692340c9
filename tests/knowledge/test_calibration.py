"""Abstention calibrated per index at ingest (knowledge/calibration.py, knowledge/probes.py)."""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path

import pytest

from knowledge.answer import CONFIDENCE, Answerer, signals
from knowledge.calibration import MAX_STRICTNESS, Calibration, separation
from knowledge.embeddings import LocalE5Embeddings
from knowledge.index import KnowledgeIndex
from knowledge.probes import PROBE_SENTENCES, everyday_questions, probes
from knowledge.search import Retriever
from tests.conftest import LOCAL_ID, SAMPLE_CONTENT

# A small English course nobody tuned anything on: four topics, one file each.
COURSE = {
    "bees.md": (
        "# Honeybees\n\nA honeybee colony has one queen, a few hundred drones and tens of "
        "thousands of workers. Workers that find flowers return to the hive and dance: the "
        "angle of the waggle run tells the others the direction of the food, and its length "
        "tells the distance. Bees turn nectar into honey by evaporating its water in the comb.\n"
    ),
    "volcanoes.md": (
        "# Volcanoes\n\nA volcano forms where molten rock reaches the surface through a vent. "
        "Shield volcanoes have gentle slopes built by runny lava, while stratovolcanoes are "
        "steep cones of alternating ash and lava layers. Volcanic ash can ground aircraft "
        "because it melts inside jet engines.\n"
    ),
    "tides.md": (
        "# Tides\n\nTides are caused mainly by the pull of the Moon on the oceans. Most coasts "
        "see two high tides and two low tides a day. Spring tides, with the largest range, "
        "happen at new and full moon when the Sun and Moon pull in line.\n"
    ),
    "bread.md": (
        "# Bread\n\nYeast ferments the sugars in dough and releases carbon dioxide, which makes "
        "the dough rise. Kneading develops gluten, the elastic network that traps the gas. A "
        "sourdough starter keeps wild yeast and lactic bacteria alive between bakes.\n"
    ),
}


def write_course(directory: Path, files: dict[str, str]) -> Path:
    """The materials folder of a course made of ``files``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def english_course(tmp_path_factory: pytest.TempPathFactory, e5: LocalE5Embeddings) -> Path:
    """The small English course, ingested once for this module."""
    root = tmp_path_factory.mktemp("english-course")
    materials = write_course(root / "materials", COURSE)
    KnowledgeIndex(root / "index", e5, LOCAL_ID).ingest(materials, progress=False)
    return root


def test_ingest_stores_a_calibration_fitted_on_the_course(sample_index_dir: Path) -> None:
    stored = json.loads((sample_index_dir / "calibration.json").read_text(encoding="utf-8"))
    calibration = Calibration.from_json(stored)
    assert calibration.counts["probes"] >= 40
    assert calibration.counts["near_misses"] == calibration.counts["probes"]
    assert calibration.counts["everyday"] > 0
    assert calibration.course_weight > 0 and calibration.weights


def test_probes_are_made_from_the_materials_the_same_way_every_time(
    private_index_dir: Path, e5: LocalE5Embeddings
) -> None:
    index = KnowledgeIndex(private_index_dir, e5, LOCAL_ID)
    first, second = probes(index), probes(index)
    assert first == second
    assert len(first) <= 3 * PROBE_SENTENCES
    assert {probe.path for probe in first} == set(index.files)  # every file is probed
    # The sample course has parallel texts, so some probes ask in the other language.
    assert any(probe.text.startswith("What about") for probe in first)
    assert any(probe.text.endswith("是什么？") for probe in first)


def test_a_file_left_out_is_invisible_to_the_search_and_the_word_statistics(
    english_course: Path, e5: LocalE5Embeddings
) -> None:
    index = KnowledgeIndex(english_course / "index", e5, LOCAL_ID)
    retriever = Retriever(index)
    question = "How do bees tell each other where the flowers are?"
    assert retriever.evidence(question).hits[0].chunk.path == "bees.md"
    evidence = retriever.evidence(question, exclude="bees.md")
    paths = {hit.chunk.path for hit in evidence.hits}
    assert paths and "bees.md" not in paths
    assert index.knows("waggle") and not index.knows("waggle", exclude="bees.md")
    assert index.idf("waggle", exclude="bees.md") > index.idf("waggle")


def test_on_a_new_course_everyday_questions_are_declined_and_its_own_answered(
    english_course: Path, e5: LocalE5Embeddings
) -> None:
    answerer = Answerer(Retriever(KnowledgeIndex(english_course / "index", e5, LOCAL_ID)))
    for question in (
        "How do bees tell each other where the flowers are?",
        "Why does dough rise?",
        "What causes the tides?",
    ):
        assert answerer.answer(question).answered, question
    # Not among the everyday questions the calibration asks itself.
    for question in (
        "What is the guest wifi password?",
        "Who won the cup final?",
        "明天天气怎么样？",
    ):
        assert not answerer.answer(question).answered, question


def test_an_index_built_before_calibration_still_answers_and_says_to_ingest(
    sample_index_dir: Path, e5: LocalE5Embeddings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = tmp_path / "index"
    shutil.copytree(sample_index_dir, old)
    (old / "calibration.json").unlink()
    with caplog.at_level(logging.WARNING, logger="knowledge.index"):
        index = KnowledgeIndex(old, e5, LOCAL_ID)
    assert index.calibration is None
    assert "trainbot ingest" in caplog.text
    answerer = Answerer(Retriever(index))
    answer = answerer.answer("培训覆盖率怎么计算?")
    assert answer.answered and answer.confidence >= CONFIDENCE.threshold
    assert not answerer.answer("食堂今天中午吃什么？").answered
    # An ingest with no changed file calibrates it.
    report = index.ingest(SAMPLE_CONTENT / "materials", progress=False)
    assert not report.changed and report.calibrated
    assert "abstention calibrated on" in report.summary()
    assert (old / "calibration.json").is_file()
    assert KnowledgeIndex(old, e5, LOCAL_ID).calibration == index.calibration


def test_an_incremental_ingest_calibrates_again(tmp_path: Path, e5: LocalE5Embeddings) -> None:
    materials = write_course(
        tmp_path / "materials", {name: COURSE[name] for name in ("bees.md", "tides.md")}
    )
    index = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)
    index.ingest(materials, progress=False)
    before = index.calibration
    assert before is not None
    assert index.ingest(materials, progress=False).calibrated is None  # nothing changed
    write_course(materials, {"volcanoes.md": COURSE["volcanoes.md"]})
    report = index.ingest(materials, progress=False)
    assert report.calibrated is not None
    assert index.calibration is not None and index.calibration != before
    stored = json.loads((tmp_path / "index" / "calibration.json").read_text(encoding="utf-8"))
    assert Calibration.from_json(stored) == index.calibration


def test_a_one_file_course_keeps_the_general_threshold(
    tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    materials = write_course(tmp_path / "materials", {"bees.md": COURSE["bees.md"]})
    index = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)
    report = index.ingest(materials, progress=False)
    assert "too few materials to calibrate" in report.summary()
    assert index.calibration is not None and index.calibration.course_weight == 0
    assert index.calibration.threshold() == pytest.approx(CONFIDENCE.threshold)


def test_a_stricter_setting_never_lowers_the_threshold(
    private_index_dir: Path, e5: LocalE5Embeddings
) -> None:
    calibration = KnowledgeIndex(private_index_dir, e5, LOCAL_ID).calibration
    assert calibration is not None
    thresholds = [calibration.threshold(step / 2) for step in range(2 * MAX_STRICTNESS + 1)]
    assert thresholds == sorted(thresholds)
    assert thresholds[0] < thresholds[-1]


def test_the_everyday_questions_are_not_the_background_sentences() -> None:
    # The background signal compares a question with those sentences: asking them would
    # measure nothing.
    from knowledge.background import sentences

    for language, questions in everyday_questions().items():
        assert len(questions) >= 40
        assert not set(questions) & set(sentences()[language])


def test_an_unreadable_calibration_is_not_damage(
    english_course: Path, e5: LocalE5Embeddings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    copy = tmp_path / "index"
    shutil.copytree(english_course / "index", copy)
    (copy / "calibration.json").write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        index = KnowledgeIndex(copy, e5, LOCAL_ID)
    assert index.calibration is None and "trainbot ingest" in caplog.text
    assert Answerer(Retriever(index)).answer("Why does dough rise?").answered


def _calibration(separation: float, negatives: float) -> Calibration:
    """A calibration whose probe questions' mixed logit runs from -1 (0%) to 1 (20%)."""
    scale = [-1.0 + step / 10 for step in range(MAX_STRICTNESS + 1)]
    return Calibration({}, 0.0, 0.0, scale, negatives, separation=separation)


def test_a_course_whose_near_misses_separate_declines_what_they_look_like() -> None:
    # Near misses well apart from the course's own questions: the line is theirs (97th
    # percentile), above or below the probes' low percentile alike.
    for negatives in (0.4, -1.5):
        clean = _calibration(0.99, negatives)
        assert clean.threshold() == pytest.approx(1 / (1 + math.exp(-negatives)))
        # The strictness still moves it, by as much as it moves the probe percentile.
        assert clean.threshold(3) == pytest.approx(1 / (1 + math.exp(-(negatives + 0.2))))
    # Files that repeat each other: "near misses" still answered by another file are no
    # picture of what to decline, so the probe percentile (or halfway) places the line.
    repeated = _calibration(0.88, 0.4)
    assert repeated.threshold() == pytest.approx(1 / (1 + math.exp(0.9)))
    assert _calibration(0.88, -1.5).threshold() == pytest.approx(1 / (1 + math.exp(1.2)))


def test_the_separation_is_measured_at_ingest_and_stored(
    english_course: Path, e5: LocalE5Embeddings
) -> None:
    calibration = KnowledgeIndex(english_course / "index", e5, LOCAL_ID).calibration
    assert calibration is not None and 0.5 < calibration.separation <= 1.0
    stored = json.loads((english_course / "index" / "calibration.json").read_text("utf-8"))
    assert stored["separation"] == calibration.separation
    # A calibration written before the separation was measured reads as not separated.
    del stored["separation"]
    assert Calibration.from_json(stored).separation == 0.0


def test_separation_is_the_chance_a_course_question_outscores_a_negative() -> None:
    assert separation([3.0, 2.0], [1.0, 0.0]) == 1.0
    assert separation([1.0], [1.0]) == 0.5
    assert separation([0.0, 2.0], [1.0]) == 0.5
    assert separation([], [1.0]) == 0.0


def test_a_name_the_segmenter_glued_to_a_word_is_found_as_the_materials_write_it(
    tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    # jieba reads 刘七是 / 魏舒史 as words: names it does not know, glued to what follows.
    materials = write_course(
        tmp_path / "materials",
        {
            "liu.md": "# 刘七\n\n明朝正德年间，刘七在狼山兵败战死。",
            "wei.md": "# 魏舒\n\n魏舒，字阳元，史称其为人宽厚。",
        },
    )
    index = KnowledgeIndex(tmp_path / "index", e5, LOCAL_ID)
    index.ingest(materials, progress=False)
    retriever = Retriever(index)
    for question in ("刘七是怎么死的？", "魏舒史称什么？"):
        features = signals(question, retriever.evidence(question, 5), index)
        assert features["coverage"] == 1.0 and features["unknown"] == 0.0, question
