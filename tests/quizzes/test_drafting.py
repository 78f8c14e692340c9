"""Drafting questions from passages: key-sentence cloze and true/false, and with a chat model."""

from __future__ import annotations

import json
import re

from langchain_core.language_models import FakeListChatModel

from quizzes.content import Question
from quizzes.drafting import (
    BLANK,
    DraftQuestion,
    Passage,
    draft_from_key_sentences,
    draft_questions,
    model_prompt,
)

ZH = [
    Passage(
        text=(
            "流失预警模型给每位用户打分。高风险用户要在 48 小时内由一线主动联系。"
            "预警信号包括下单间隔变长和投诉未解决。"
        ),
        source="retention-playbook.txt#流失预警模型",
        title="留存手册",
    ),
    Passage(
        text="新用户注册后要尽快完成首单。首单优惠券在注册后七天内有效，激活率是关键指标。",
        source="lifecycle-basics.md#用户激活",
        title="生命周期",
    ),
    Passage(
        text="会员权益包括免配送费和生日礼包。会员续费率每月复盘一次，复盘由运营经理主持。",
        source="lifecycle-basics.md#用户留存",
        title="生命周期",
    ),
]

EN = [
    Passage(
        text=(
            "A user counts as activated after placing the first order within seven days. "
            "The welcome message explains the coupon and the delivery schedule."
        ),
        source="onboarding-faq.html#What is the activation stage?",
    ),
    Passage(
        text=(
            "Churn warnings rely on the ordering interval and unresolved complaints. "
            "Frontline staff call every high-risk subscriber within 48 hours."
        ),
        source="onboarding-faq.html#How can I help keep users?",
    ),
    Passage(
        text="Trainers review the quiz bank every quarter. Managers read the weekly summary.",
        source="onboarding-faq.html#How will my training work?",
    ),
]


def words(text: str) -> list[str]:
    """A small stand-in tokenizer: two-character Chinese words, English words, numbers."""
    found = re.findall(r"[A-Za-z]{4,}|\d+", text)
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        found.extend(run[i : i + 2] for i in range(0, len(run) - 1, 2))
    return found


def as_bank_question(draft: DraftQuestion, number: int) -> Question:
    """The draft as the loader would read it (raises when it breaks a bank rule)."""
    return Question.model_validate(
        {
            "id": f"d{number}",
            "language": draft.language,
            "track": "t",
            "lesson": "l",
            "type": draft.type,
            "prompt": draft.prompt,
            "options": draft.options,
            "answer": draft.answer == "true" if draft.type == "true_false" else draft.answer,
            "explanation": draft.explanation,
            "source": draft.source,
            "draft": True,
        }
    )


def test_chinese_drafts_are_valid_cloze_and_true_false_questions() -> None:
    drafts = draft_from_key_sentences(ZH, count=5, terms=words)
    assert len(drafts) == 5
    for number, draft in enumerate(drafts):
        question = as_bank_question(draft, number)
        assert question.language == "zh"
        assert draft.source in {passage.source for passage in ZH}
        assert draft.explanation.startswith("原文：")
    cloze = [draft for draft in drafts if draft.method == "cloze"]
    true_false = [draft for draft in drafts if draft.type == "true_false"]
    assert cloze and true_false
    for draft in cloze:
        assert BLANK in draft.prompt and draft.prompt.startswith("填空：")
        right = draft.options[draft.answer]
        # Putting the right option back into the blank gives the material's sentence.
        assert draft.prompt.removeprefix("填空：").replace(BLANK, right) in draft.explanation
        assert len(set(draft.options.values())) == len(draft.options) >= 3


def test_the_first_drafts_cite_different_passages_most_relevant_first() -> None:
    drafts = draft_from_key_sentences(ZH, count=3, terms=words)
    assert [draft.source for draft in drafts] == [passage.source for passage in ZH]


def test_a_false_statement_swaps_the_key_term_and_the_explanation_keeps_the_truth() -> None:
    drafts = draft_from_key_sentences(ZH + EN, count=12, terms=words)
    false = [d for d in drafts if d.type == "true_false" and d.answer == "false"]
    assert false
    for draft in false:
        statement = draft.prompt.split("：", 1)[-1].split(": ", 1)[-1]
        assert statement not in draft.explanation


def test_english_drafts_and_number_distractors() -> None:
    drafts = draft_from_key_sentences(EN, count=6, terms=words)
    assert drafts and all(d.language == "en" for d in drafts)
    for number, draft in enumerate(drafts):
        as_bank_question(draft, number)
    numeric = [d for d in drafts if d.method == "cloze" and d.options[d.answer].isdigit()]
    for draft in numeric:
        assert all(text.isdigit() for text in draft.options.values())
        assert draft.options[draft.answer] == "48"


def test_drafting_is_deterministic_and_respects_count() -> None:
    first = draft_from_key_sentences(ZH + EN, count=4, terms=words)
    assert first == draft_from_key_sentences(ZH + EN, count=4, terms=words)
    assert len(first) == 4
    assert draft_questions([], count=3, terms=words) == []
    assert draft_questions(ZH, count=0, terms=words) == []


def test_the_requested_language_is_drafted_first() -> None:
    drafts = draft_from_key_sentences(ZH + EN, count=3, terms=words, language="en")
    assert [draft.language for draft in drafts] == ["en", "en", "en"]


def test_sentences_too_short_or_from_tables_give_no_draft() -> None:
    passages = [Passage(text="短句。\n获取 | 注册 | 推广渠道和获客成本的说明", source="a.md")]
    assert draft_from_key_sentences(passages, count=3, terms=words) == []


def test_a_chat_model_writes_the_questions() -> None:
    reply = json.dumps(
        [
            {
                "type": "single",
                "prompt": "高风险用户要在多长时间内联系？",
                "options": {"A": "24 小时", "B": "48 小时", "C": "一周"},
                "answer": "B",
                "explanation": "手册规定 48 小时内主动联系。",
                "passage": 1,
            },
            {
                "type": "true_false",
                "prompt": "首单优惠券在注册后七天内有效。",
                "answer": True,
                "explanation": "优惠券七天内有效。",
                "passage": 2,
            },
            {
                "type": "single",
                "prompt": "broken",
                "options": {"A": "x"},
                "answer": "Z",
                "explanation": "no",
                "passage": 1,
            },
            {"type": "essay", "prompt": "?", "explanation": "?", "passage": 1},
        ],
        ensure_ascii=False,
    )
    model = FakeListChatModel(responses=[f"Here you go:\n```json\n{reply}\n```"])
    drafts = draft_questions(ZH, count=3, terms=words, language="zh", llm=model)
    assert [(d.type, d.answer, d.source, d.method) for d in drafts] == [
        ("single", "B", ZH[0].source, "model"),
        ("true_false", "true", ZH[1].source, "model"),
    ]
    for number, draft in enumerate(drafts):
        as_bank_question(draft, number)


def test_unusable_model_output_falls_back_to_key_sentences() -> None:
    model = FakeListChatModel(responses=["I cannot help with that."])
    drafts = draft_questions(ZH, count=2, terms=words, llm=model)
    assert len(drafts) == 2 and all(d.method != "model" for d in drafts)


def test_the_model_prompt_numbers_the_passages_and_names_the_language() -> None:
    prompt = model_prompt(EN, count=2, language="zh")
    assert "[1] " in prompt and "[3] " in prompt and EN[2].text in prompt
    assert "Simplified Chinese" in prompt and "JSON" in prompt
