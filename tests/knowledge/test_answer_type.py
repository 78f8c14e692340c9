"""Question analysis: expected answer types and question focus, in Chinese and English."""

from __future__ import annotations

import pytest

from knowledge.answer_type import (
    AnswerType,
    expected_type,
    expresses,
    question_focus,
    type_found,
)


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("会员卡一张卖多少钱？", AnswerType.PRICE),
        ("How much does the premium plan cost?", AnswerType.PRICE),
        ("投诉处理的及时率是多少？", AnswerType.RATE),
        ("What percentage of orders arrive late?", AnswerType.RATE),
        ("退款申请多久能到账？", AnswerType.DURATION),
        ("How long is the probation period?", AnswerType.DURATION),
        ("How often are the dashboards refreshed?", AnswerType.DURATION),
        ("季度考核什么时候开始？", AnswerType.DATE),
        ("When is the next all-hands meeting?", AnswerType.DATE),
        ("门罗在哪一年被选入篮球名人堂？", AnswerType.DATE),
        ("In what year did the company open its first store?", AnswerType.DATE),
        ("售后的联系电话是多少？", AnswerType.CONTACT),
        ("What phone number do I call for IT support?", AnswerType.CONTACT),
        ("入职培训分几个阶段？", AnswerType.NUMBER),
        ("How many stores are in Shenzhen?", AnswerType.NUMBER),
        ("参赛队伍有多少支？", AnswerType.NUMBER),
        ("这座城市有几个机场？", AnswerType.NUMBER),
        ("How many moons does Mars have?", AnswerType.NUMBER),
        ("仓库在哪里？", AnswerType.PLACE),
        ("Who approves refunds?", AnswerType.PERSON),
    ],
)
def test_the_wording_says_what_kind_of_answer_is_wanted(
    question: str, answer_type: AnswerType
) -> None:
    assert expected_type(question) == answer_type


@pytest.mark.parametrize(
    "question",
    [
        "为什么要做用户分层？",
        "怎么给老客户发挽回消息？",
        "What is a churn model?",
        "Why do we keep a control group?",
        # The first question word decides: this asks for a method, not a number.
        "How do we estimate how many months a subscriber stays?",
        # 那几个月 is no question word.
        "新用户多的那几个月，留存率为什么变差了？",
    ],
)
def test_why_how_and_what_is_questions_expect_no_type(question: str) -> None:
    assert expected_type(question) is None


@pytest.mark.parametrize(
    ("text", "answer_type"),
    [
        ("获客成本约为 120 元。", AnswerType.PRICE),
        ("The plan costs ¥30 a month.", AnswerType.PRICE),
        ("次日留存约为 35%。", AnswerType.RATE),
        ("覆盖率不低于百分之八十。", AnswerType.RATE),
        ("反馈需在 24 小时内录入。", AnswerType.DURATION),
        ("风险分每周更新一次。", AnswerType.DURATION),
        ("Each lesson takes about five minutes.", AnswerType.DURATION),
        ("The review happens weekly.", AnswerType.DURATION),
        ("例会在每周二上午举行。", AnswerType.DATE),
        ("New lessons go out on Mondays and Thursdays.", AnswerType.DATE),
        ("工资在每月 10 号发放。", AnswerType.DATE),
        ("该公司成立于1883。", AnswerType.DATE),
        ("他于1955年出生。", AnswerType.DATE),
        ("The first store opened in 1972.", AnswerType.DATE),
        ("一九五五年，工厂迁到上海。", AnswerType.DATE),
        ("请拨打 400-820-1234。", AnswerType.CONTACT),
        ("Write to privacy@example.com.", AnswerType.CONTACT),
        ("体系分三个阶段推开。", AnswerType.NUMBER),
        # Bare numbers answer "多少 / 几个 / how many".
        ("共有十二支队伍参赛。", AnswerType.NUMBER),
        ("全市有三座机场。", AnswerType.NUMBER),
        ("The city has 23 schools.", AnswerType.NUMBER),
        ("Mars has two moons.", AnswerType.NUMBER),
        ("About a dozen volunteers came.", AnswerType.NUMBER),
        # "When" is also answered by a span from the event, a time of day or a counted day.
        ("A post-mortem is written within five working days.", AnswerType.DATE),
        ("Tell your manager before nine in the morning.", AnswerType.DATE),
        ("Tickets open at 9:30 and close at 5 p.m.", AnswerType.DATE),
        ("From the fourth day of illness a certificate is required.", AnswerType.DATE),
        ("Approved claims are paid with the next monthly salary.", AnswerType.DATE),
        ("请在下午3点前提交。", AnswerType.DATE),
        ("从第四天起需要病假条。", AnswerType.DATE),
        ("报销款随次月工资发放。", AnswerType.DATE),
        ("Customers hear within fifteen minutes.", AnswerType.DURATION),
        ("Give HR at least eighteen weeks' notice.", AnswerType.DURATION),
    ],
)
def test_passages_express_each_type(text: str, answer_type: AnswerType) -> None:
    assert expresses(text, answer_type)


@pytest.mark.parametrize(
    ("text", "answer_type"),
    [
        ("推荐好友双方都能拿到优惠券。", AnswerType.PRICE),
        ("The referral coupon is for new customers only.", AnswerType.PRICE),
        ("留存率是衡量用户粘性的指标。", AnswerType.RATE),
        ("优惠券可在下单时抵扣。", AnswerType.DURATION),
        ("Coupons can be used at checkout.", AnswerType.DURATION),
        ("客服热线由客服部负责。", AnswerType.CONTACT),
        ("一线员工负责日常回访。", AnswerType.NUMBER),
        ("队伍在球场上比赛。", AnswerType.NUMBER),
        # A number that is no year: an amount, a rate, a decimal, a long id.
        ("每单满 1999 元减 20 元。", AnswerType.DATE),
        ("合格率达到 1950% 是不可能的。", AnswerType.DATE),
        ("The ratio is 0.2024 on average.", AnswerType.DATE),
        ("Order 4001234 was late.", AnswerType.DATE),
        ("The amount is paid by the finance team.", AnswerType.DATE),
        ("Claims need a photo of the receipt.", AnswerType.DATE),
    ],
)
def test_passages_without_the_type_do_not_express_it(text: str, answer_type: AnswerType) -> None:
    assert not expresses(text, answer_type)


def test_a_question_without_a_type_is_always_satisfied() -> None:
    assert type_found("为什么要做用户分层？", "")
    assert type_found("Who approves refunds?", "Nothing about people here.")


def test_a_typed_question_needs_its_type_in_the_text() -> None:
    assert type_found("优惠券有效期多久？", "优惠券自领取之日起 7 天内有效。")
    assert not type_found("优惠券有效期多久？", "优惠券可在下单时抵扣。")
    assert type_found("How long is the coupon valid?", "It is valid for 7 days.")
    assert not type_found("How long is the coupon valid?", "It can be used at checkout.")


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("用户留存率的行业平均水平是多少？", ["行业", "平均水平"]),
        ("客服热线的电话号码是多少？", ["电话号码"]),
        # jieba splits the unknown compound 年假; its characters are joined again, and
        # 今年 says when, not what.
        ("今年的年假有几天？", ["年假"]),
        ("What's the company's share price today?", ["share", "price"]),
        ("When is the CEO's birthday?", ["birthday"]),
        ("How many days of annual leave do new hires get?", ["annual", "leave"]),
        ("Which neighbourhoods are inside our delivery area?", ["neighbourhood"]),
        # "who" is followed by the verb; the focus is what it acts on.
        ("Who receives the weekly summary?", ["weekly", "summary"]),
        ("多久更新一次风险评分？", ["风险", "评分"]),
        # The word after "how" asks how; it is no topic.
        ("How soon are customers informed about an outage?", ["customer", "inform"]),
        ("How large is the home office allowance?", ["home", "office"]),
        # So does a time noun after "what" / "which": it says what kind of answer.
        ("By what time must I tell my manager that I am ill?", ["manager"]),
        ("From which day of being ill do I need a note?", ["ill"]),
    ],
)
def test_the_focus_is_the_topic_nearest_the_question_word(question: str, focus: list[str]) -> None:
    assert question_focus(question) == focus


def test_how_early_asks_for_a_span() -> None:
    assert expected_type("How early should I ask for a three-week vacation?") is AnswerType.DURATION
    assert type_found(
        "How early should I ask for a three-week vacation?", "Ask at least a month in advance."
    )


@pytest.mark.parametrize(
    "question",
    ["我能把客户资料拷到 U 盘上吗？", "Do trainers have to be certified?"],
)
def test_yes_no_questions_have_no_focus(question: str) -> None:
    assert question_focus(question) == []
