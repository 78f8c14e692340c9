"""The question-analysis signals (answer type, focus) on hand-built evidence."""

from __future__ import annotations

from knowledge.answer import CONFIDENCE, FEATURE_SIGNS, FEATURES, signals
from knowledge.search import Evidence
from knowledge.types import Chunk, Hit

COUPON = (
    "推荐邻居注册并下单后，邀请人和被邀请人各得一张 20 元券。"
    "优惠券在下单时自动抵扣，不能与其他活动叠加。"
)
COUPON_WITH_VALIDITY = COUPON + "优惠券的有效期为 30 天，过期作废。"


def _evidence(*texts: str) -> Evidence:
    hits = [
        Hit(Chunk(f"referral.md#{i}", "referral.md", "推荐有礼", "规则", text, i), 1.0, i + 1, 0.9)
        for i, text in enumerate(texts)
    ]
    return Evidence(hits, [(hit.chunk.id, 0.9) for hit in hits], [])


def test_a_near_miss_lacks_the_expected_type_and_the_focus() -> None:
    features = signals("推荐邻居拿到的 20 元券有效期多久？", _evidence(COUPON))
    assert features["answer_type"] == 0.0
    assert features["focus"] == 0.0


def test_the_answering_passage_has_both() -> None:
    features = signals("推荐邻居拿到的 20 元券有效期多久？", _evidence(COUPON_WITH_VALIDITY))
    assert features["answer_type"] == 1.0
    assert features["focus"] == 1.0


def test_the_type_must_be_near_the_focus() -> None:
    # A duration elsewhere in the passages does not answer how long the coupon is valid.
    other = "新用户注册后 7 天内下单可享首单立减。"
    features = signals("优惠券有效期多久？", _evidence(COUPON, other))
    assert features["answer_type"] == 0.0


def test_english_questions_are_analysed_too() -> None:
    evidence = _evidence("Each lesson takes about five minutes and ends with one question.")
    assert signals("How long does each lesson take?", evidence)["answer_type"] == 1.0
    missing = signals("How much does each lesson cost?", evidence)
    assert missing["answer_type"] == 0.0


def test_questions_without_a_type_or_focus_are_not_penalised() -> None:
    features = signals("Can I practise on real customer records?", _evidence(COUPON))
    assert features["answer_type"] == 1.0
    assert features["focus"] == 1.0


def test_the_shipped_model_weighs_the_new_signals_on_their_expected_side() -> None:
    weights = dict(zip(FEATURES, CONFIDENCE.weights, strict=True))
    for name in ("answer_type", "focus"):
        assert FEATURE_SIGNS[name] == 1
        assert weights[name] > 0


def test_a_chinese_focus_is_found_through_a_dictionary_word_inside_it() -> None:
    # The question says 目标值, the passage says 目标: the same thing, written shorter.
    features = signals("策略应用率的目标值是多少？", _evidence("门店的策略应用率目标是 60%。"))
    assert features["focus"] == 1.0
    assert features["answer_type"] == 1.0


def test_a_chinese_focus_with_no_part_in_the_passage_stays_missing() -> None:
    features = signals("策略应用率的目标值是多少？", _evidence("门店的策略应用率每月复盘一次。"))
    assert features["focus"] == 0.0
    assert features["answer_type"] == 0.0


def test_an_english_focus_is_matched_by_its_stem() -> None:
    question = "What is the target for the adoption rate?"
    found = signals(question, _evidence("Stores set targets for the adoption rate: 60%."))
    assert found["focus"] == 1.0
    assert found["answer_type"] == 1.0
    missing = signals(question, _evidence("Stores review the adoption rate every month."))
    assert missing["focus"] == 0.0
