"""The out-of-course reference sentences behind the ``background`` abstention signal."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from knowledge import background
from knowledge.answer import Answerer, signals
from knowledge.embeddings import LocalE5Embeddings
from knowledge.search import Retriever
from tests.knowledge.conftest import LOCAL_ID

COURSE_WORDS = {
    "zh": (
        "用户",
        "客户",
        "留存",
        "流失",
        "激活",
        "培训",
        "课程",
        "测验",
        "优惠券",
        "菜篮",
        "青禾",
    ),
    "en": ("customer", "user", "retention", "churn", "training", "course", "quiz", "coupon"),
}


def test_the_sentences_stay_clear_of_the_course() -> None:
    texts = background.sentences()
    assert {language: len(items) for language, items in texts.items()} == {"zh": 240, "en": 240}
    for language, words in COURSE_WORDS.items():
        for text in texts[language]:
            lowered = text.lower()
            assert not any(word in lowered for word in words), text


def test_shipped_vectors_belong_to_these_sentences_and_the_bundled_model(
    tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    # Fails when background.yaml changed without scripts/compute_background_vectors.py.
    shipped = background.vectors(e5, LOCAL_ID, tmp_path)
    assert not (tmp_path / "background.npz").exists()  # nothing had to be embedded
    assert {language: matrix.shape for language, matrix in shipped.items()} == {
        "zh": (240, 384),
        "en": (240, 384),
    }
    sample = background.sentences()["en"][7]
    fresh = np.asarray(e5.embed_documents([sample])[0], dtype=np.float32)
    assert float(shipped["en"][7] @ fresh) > 0.999


def test_other_sentences_or_models_are_embedded_once_and_cached(
    tmp_path: Path, e5: LocalE5Embeddings
) -> None:
    sentences = tmp_path / "background.yaml"
    sentences.write_text(
        'sentences:\n  zh: [明天会下雨吗？, 周末去爬山。]\n  en: ["Is it going to rain?", Pass the salt.]\n',
        encoding="utf-8",
    )
    cache = tmp_path / "index"
    first = background.vectors(e5, LOCAL_ID, cache, sentences)
    assert first["zh"].shape == (2, 384)
    written = (cache / "background.npz").stat().st_mtime_ns
    again = background.vectors(e5, LOCAL_ID, cache, sentences)
    assert (cache / "background.npz").stat().st_mtime_ns == written
    assert np.array_equal(first["en"], again["en"])

    sentences.write_text(
        "sentences:\n  zh: [今天很冷。]\n  en: [It is cold today.]\n", encoding="utf-8"
    )
    changed = background.vectors(e5, LOCAL_ID, cache, sentences)
    assert changed["en"].shape == (1, 384)


def test_everyday_questions_sit_closer_to_the_background_than_course_questions(
    sample_retriever: Retriever,
) -> None:
    index = sample_retriever.index

    def signal(question: str) -> float:
        return signals(question, sample_retriever.evidence(question, 5), index)["background"]

    on_topic = [signal("如何提高用户留存？"), signal("How is the churn risk score used?")]
    everyday = [signal("打印机卡纸了找谁修？"), signal("Which gym near the office is cheapest?")]
    assert min(on_topic) > max(everyday)

    answerer = Answerer(sample_retriever)
    for question in ("打印机卡纸了找谁修？", "Which gym near the office is cheapest?"):
        answer = answerer.answer(question)
        assert not answer.answered, (question, answer.confidence)
