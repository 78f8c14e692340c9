"""The extractive answer is built around its best sentence and reads on its own."""

from __future__ import annotations

import re

import pytest

from knowledge.extract import (
    ANSWER_CHARS,
    LIST_CHARS,
    extract,
    leans_back,
    list_marker,
    split_sentences,
)
from knowledge.search import Retriever
from knowledge.types import Chunk, Hit

PRACTICES = (
    "提高留存没有一招制胜的办法，下面几类做法在青禾生活被反复验证过：\n"
    "- 稳定的品质：新鲜度是用户留下的第一理由。坏果、少件要在 2 小时内处理完补发或退款。\n"
    "- 固定的节奏：帮用户设定固定配送日，比如每周六上午。\n"
    "- 个性化推荐：根据过去的购买记录推荐菜品和菜谱。\n"
    "- 会员权益：订阅会员免配送费、优先选配送时段。\n"
    "- 主动关怀：发现用户连续跳过配送时，由一线同事主动联系。\n"
    "- 持续听取反馈：把用户的意见记录下来、转给相关部门。\n"
    "留存工作的细节见《用户留存作业手册》。"
)
FORMULA = (
    "N 日留存率 = 某一批新用户中，第 N 天仍然活跃的人数 ÷ 这批用户的总人数 × 100%。"
    "青禾生活重点看 7 日、30 日和 90 日留存。"
)


def hits(*texts: str) -> list[Hit]:
    return [
        Hit(Chunk(f"doc{n}.md#0", f"doc{n}.md", f"Doc {n}", "S", text, 0), 1.0)
        for n, text in enumerate(texts, start=1)
    ]


def shown_lines(answer: str) -> list[str]:
    return [re.sub(r" \[\d\]$", "", line) for line in answer.splitlines()]


def test_a_lead_in_comes_with_its_whole_list_and_nothing_unrelated_after_it() -> None:
    answer = extract("如何提高用户留存？", hits(PRACTICES, FORMULA))
    lines = shown_lines(answer)
    assert lines[0].startswith("提高留存没有一招制胜的办法")
    assert [line for line in lines if line.startswith("- ")] == [
        line for line in PRACTICES.splitlines() if line.startswith("- ")
    ]
    assert "留存率 =" not in answer  # the list is the answer: no formula tacked on
    assert answer.count("[1]") == 1 and answer.rstrip().endswith("[1]")


def test_a_list_item_brings_its_lead_in_and_the_rest_of_the_list() -> None:
    answer = extract("会员权益有哪些？", hits(PRACTICES))
    assert answer.startswith("提高留存没有一招制胜的办法")
    assert "- 稳定的品质" in answer and "- 持续听取反馈" in answer


def test_a_long_list_is_cut_to_first_sentences_and_the_items_near_the_best() -> None:
    items = "\n".join(
        f"{n}. 第{n}项做法的说明写得很长，"
        + "要点需要逐条说清楚，" * 6
        + f"编号{n}。后面还有补充。"
        for n in range(1, 13)
    )
    text = f"门店开业前要做下面这些事：\n{items}"
    answer = extract("编号9的做法是什么？", hits(text))
    assert answer.startswith("门店开业前要做下面这些事：")
    assert "编号9" in answer
    assert "后面还有补充" not in answer
    assert len(answer) <= LIST_CHARS + 10


def test_a_numbered_lead_in_keeps_its_own_items_only() -> None:
    text = (
        "1. 每天要看的数字：\n- 昨日 DAU；\n- 投诉工单数量。\n"
        "2. 每周要看的数字：\n- 7 日留存率；\n- 平均下单间隔。"
    )
    lines = shown_lines(extract("每天要看的数字有哪些？", hits(text)))
    assert lines[:3] == ["1. 每天要看的数字：", "- 昨日 DAU；", "- 投诉工单数量。"]


@pytest.mark.parametrize(
    ("sentence", "leans"),
    [
        ("它每天早上更新一次。", True),
        ("这说明培训起了作用。", True),
        ("此外，还要看流失率。", True),
        ("因此要先分群。", True),
        ("- 但不能强迫用户授权。", True),
        ("It is updated every morning.", True),
        ("However, coupons come last.", True),
        ("Therefore we call first.", True),
        ("流失率要和留存率一起看。", False),
        ("Itinerary changes are free.", False),
        ("The risk model runs nightly.", False),
    ],
)
def test_which_sentences_lean_on_the_one_before(sentence: str, leans: bool) -> None:
    assert leans_back(sentence) is leans


def test_a_sentence_that_leans_back_brings_the_sentences_it_leans_on() -> None:
    text = (
        "开场白一。开场白二。流失预警模型给每位用户打一个风险分。"
        "它综合了下单间隔和投诉记录。这个分数每天早上更新一次。结尾一。结尾二。结尾三。"
    )
    answer = extract("这个分数多久更新一次？", hits(text))
    # The best sentence ("这个分数…") leans on "它…" beside it, which leans on the model
    # sentence; the sentence after the best comes too, nothing further.
    assert answer.startswith("流失预警模型给每位用户打一个风险分。它综合了下单间隔和投诉记录。")
    assert "开场白" not in answer and "结尾二" not in answer


def test_a_table_row_comes_with_the_header_row() -> None:
    text = (
        "阶段 | 目标 | 主要看哪个数字\n"
        "获取 | 让家庭注册 | 新增注册数\n"
        "流失 | 弄清原因，能挽回的挽回 | 流失率、召回率"
    )
    lines = shown_lines(extract("流失阶段主要看哪两个数字？", hits(text)))
    assert lines[0] == "阶段 | 目标 | 主要看哪个数字"
    assert "流失 | 弄清原因，能挽回的挽回 | 流失率、召回率" in lines


def test_the_answer_keeps_to_the_question_language_when_it_answers_as_well() -> None:
    english = "A user counts as churned after 30 days without an order. Warning signs come earlier."
    chinese = "用户 30 天没有下单就算流失（churned）。预警信号出现得更早。"
    answer = extract(
        "When does a user count as churned?", hits(chinese, english), translations=["流失"]
    )
    assert "A user counts as churned after 30 days without an order." in answer
    assert "用户" not in answer


def test_other_language_material_is_shown_when_only_it_answers() -> None:
    chinese = "培训覆盖率 = 完成全部必修课的人数 ÷ 应参训人数 × 100%。示例：覆盖率 95%。"
    english = "Training materials are reviewed every six months."
    ranked = hits(chinese, english)
    ranked[1] = Hit(ranked[1].chunk, 0.4)  # the English passage is ranked well below
    answer = extract(
        "How is training coverage calculated?", ranked, translations=["培训", "覆盖率", "计算"]
    )
    assert answer.startswith("培训覆盖率 =")
    assert "six months" not in answer  # a weaker English line is not mixed in


def test_sentences_read_in_source_order_best_source_first() -> None:
    first = "无关一。无关二。无关三。退货要在 7 天内申请。无关四。无关五。"
    second = "资料二开头。退货申请在 App 里提交，7 天内处理，退货运费由我们承担。资料二结尾。"
    answer = extract("退货运费谁承担？退货多久处理？", hits(first, second))
    lines = answer.splitlines()
    assert lines[0].endswith("[2]")  # the best sentence's source leads
    assert "退货要在 7 天内申请。" in answer
    assert answer.index("退货要在 7 天内申请") > answer.index("退货运费由我们承担")


def test_the_answer_stays_within_its_room() -> None:
    sentences = "".join(f"第{n}句讲了留存和流失的一个细节，内容不少。" for n in range(60))
    answer = extract("留存和流失有什么细节？", hits(sentences, sentences, sentences))
    assert len(answer) <= ANSWER_CHARS + 120


def test_list_markers() -> None:
    assert list_marker("- 项") == "-"
    assert list_marker("1. 项") == "1"
    assert list_marker("（2）项") == "1"
    assert list_marker("三、项") == "一"
    assert list_marker("普通句子。") is None


def test_neighbours_too_long_to_show_leave_the_best_sentence_alone() -> None:
    long = "这是一段很长的背景介绍，" * 40 + "结束。"
    answer = extract("退货运费谁承担？", hits(f"{long}退货运费由我们承担。{long}"))
    assert answer == "退货运费由我们承担。 [1]"


def test_the_best_ranked_passage_in_the_question_language_answers() -> None:
    english = Hit(
        Chunk(
            "faq.html#10",
            "faq.html",
            "FAQ",
            "What do I do if I think data has leaked?",
            "Report it to the data security team within 1 hour.",
            10,
        ),
        5.2,
    )
    chinese = Hit(
        Chunk(
            "privacy.md#6",
            "privacy.md",
            "数据隐私",
            "泄露上报",
            "发现数据泄露后，1 小时内报告数据安全小组，说明泄露了哪些数据。",
            6,
        ),
        2.9,
    )
    answer = extract(
        "What should I do if data leaked?",
        [english, chinese],
        translations=["数据", "泄露", "报告", "数据安全"],
    )
    assert answer == "Report it to the data security team within 1 hour. [1]"


def test_a_sentence_that_says_it_in_other_words_is_found_by_its_closeness() -> None:
    text = "开场白一句。开场白二句。开场白三句。中间一句。用户七天没下单就要联系。结尾一句。结尾二句。结尾三句。"
    closeness = [
        {sentence: 0.80 for sentence in text.replace("。", "。\n").split()}
        | {"用户七天没下单就要联系。": 0.95}
    ]
    # No word of the question is in the passage; the closest sentence leads.
    answer = extract("多久不买菜算流失？", hits(text), closeness=closeness)
    assert answer == "中间一句。用户七天没下单就要联系。结尾一句。 [1]"


def test_stored_sentence_vectors_give_each_sentence_its_closeness(
    sample_retriever: Retriever,
) -> None:
    evidence = sample_retriever.evidence("流失率怎么计算？", 3)
    assert evidence.vector is not None
    chunks = [hit.chunk for hit in evidence.hits]
    closeness = sample_retriever.index.sentence_similarities(chunks, evidence.vector)
    assert len(closeness) == 3
    for chunk, similar in zip(chunks, closeness, strict=True):
        assert similar and set(similar) <= set(split_sentences(chunk.text))
        assert all(-1.0 <= value <= 1.0 for value in similar.values())


def test_a_sentence_split_at_semicolons_is_shown_whole() -> None:
    # Chinese ends a sentence at ；, but the clauses after it answer the same question.
    text = (
        "乡里制是古代农村的基层组织体系。"
        "其职能有四个方面：一是进行教化活动；二是管理户籍，征敛赋税；"
        "三是维护社会治安；四是向朝廷推荐官吏。"
        "秦汉至隋唐，各朝的具体形式不尽相同。"
        "乡里制历经千余年，在历史变迁中有继承又有发展。"
    )
    answer = extract("乡里制的职能有哪些？", hits(text), max_chars=120)
    assert "一是进行教化活动；二是管理户籍" in answer
    assert "三是维护社会治安；四是向朝廷推荐官吏。" in answer
    # Asked about a middle clause, the whole sentence around it is shown too.
    answer = extract("谁来管理户籍？", hits(text), max_chars=120)
    assert "其职能有四个方面：一是进行教化活动；" in answer and "四是向朝廷推荐官吏。" in answer
