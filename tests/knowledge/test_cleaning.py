"""Chrome removal: notices, widgets and page furniture go; the course text stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.cleaning import (
    chrome_mask,
    clean_lines,
    is_chrome,
    is_page_number,
    normalize_line,
    strip_repeated,
)
from knowledge.loaders import load_document

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "materials"


@pytest.mark.parametrize(
    "line",
    [
        "本站长期收购原创文档，联系QQ：10000001",
        "网站大量收购独家精品文档",
        "课程资料汇编.docxVIP",
        "1、本文档共12页，可阅读全部内容。",
        "2、该文档为VIP文档，如果想要下载，请开通会员。",
        "3、开通会员后，下载本文档将扣除1次下载权益。",
        "4、文档内容仅供参考，付费前请自行鉴别。",
        "5、本站不对文档的完整性、权威性做任何保证。",
        "如文档侵犯您的权益，请点击“版权申诉”。",
        "未经授权，严禁复制，侵权必究。",
        "免责声明：本站内容均来源于网友上传，仅供学习交流使用。",
        "文档评论(0)",
        "张三 + 关注",
        "实名认证",
        "文档贡献者",
        "该用户于2024年05月20日上传了本文档",
        "2亿VIP精品文档",
        "查看更多",
        "相关文档",
        "第 3 页",
        "第3页 共9页",
        "- 3 -",
        "Page 3 of 9",
        "© 2026 Example Ltd.",
        "Copyright 2026 Example Ltd. All rights reserved.",
        "Cookie settings",
        "We use cookies to improve your experience on this site and for analytics purposes.",
        "Subscribe to our newsletter",
        "Share this article",
        "Sign in",
        "Download PDF",
        "Related articles",
    ],
)
def test_chrome_lines_are_recognised(line: str) -> None:
    assert is_chrome(line)


@pytest.mark.parametrize(
    "line",
    [
        # Real course prose that merely mentions the words chrome uses.
        "门店播放的背景音乐必须来自已取得版权的曲库，店长要指定专人检查播放设备。",
        "员工的手机号和家庭住址属于个人隐私，排班表只显示姓名和岗位。",
        "如需下载排班表模板，请在门店系统的“文件”栏目中查找。",
        "查阅相关文档后再回复用户。",
        "一、排班的基本原则",
        "Cookies left on the counter must be thrown away at closing time.",
        "Ask new customers to sign in with their loyalty card at the till.",
        "Privacy notice",
        "相关文档的版本以系统中最新发布的为准，打印件仅供参考，请大家在每次培训前核对一遍。",
        "- 新用户注册后须完成实名认证。",
        "3",
        "",
    ],
)
def test_course_text_is_not_chrome(line: str) -> None:
    assert not is_chrome(line)


def test_doc_site_page_loses_its_chrome_and_keeps_the_prose() -> None:
    document = load_document(FIXTURES / "doc-site-page.txt", FIXTURES)
    text = "\n".join(
        [document.title]
        + [part for section in document.sections for part in section.path]
        + [block.text for section in document.sections for block in section.blocks]
    )

    assert document.title == "门店排班管理办法"
    for chrome in (
        "QQ",
        "docx",
        "本文档共",
        "一经付费",
        "付费前请自行鉴别",
        "版权申诉",
        "VIP",
        "开通会员后",  # a notice item without a tell-tale phrase, dropped with its list
        "查看更多",
        "文档评论",
        "王小明",
        "实名认证",
        "文档贡献者",
        "连锁零售从业十年",  # the author card's credentials and motto
        "点滴经验",
        "该用户于",
        "相关文档",
        "门店排班表模板",
        "店长手册",
        "免责声明",
    ):
        assert chrome not in text, chrome
    # The prose that mentions 版权, 隐私 and 下载 survives whole.
    assert "门店播放的背景音乐必须来自已取得版权的曲库" in text
    assert "员工的手机号和家庭住址属于个人隐私" in text
    assert "如需下载排班表模板，请在门店系统的“文件”栏目中查找。" in text
    assert [s.path for s in document.sections] == [("一、排班的基本原则",), ("二、调班流程",)]
    assert [b.kind for b in document.sections[1].blocks] == [
        "lead_in",
        "list_item",
        "list_item",
        "list_item",
        "paragraph",
    ]


def test_notice_list_is_dropped_whole_but_a_course_list_is_not() -> None:
    lines = [
        "1、本文档共5页。",
        "2、下载本文档将扣除1次下载权益。",
        "3、请勿传播。",
        "",
        "检查要点：",
        "1、核对收货单。",
        "2、清点箱数。",
    ]

    assert clean_lines(lines) == ["", "检查要点：", "1、核对收货单。", "2、清点箱数。"]


def test_repeated_short_lines_are_running_headers() -> None:
    lines = []
    for number in range(1, 6):
        lines += ["青禾内部资料·请勿外传", f"第{number}章 Overview", f"正文第 {number} 段。"]

    kept = clean_lines(lines)

    assert "青禾内部资料·请勿外传" not in kept
    assert "第1章 Overview" in kept  # numbered headings differ, so they are not "repeated"
    assert len(kept) == 10


def test_consecutive_duplicate_lines_collapse() -> None:
    assert clean_lines(["门店排班管理办法", "", "门店排班管理办法", "正文。"]) == [
        "门店排班管理办法",
        "",
        "正文。",
    ]


def test_related_heading_mid_document_drops_only_its_links() -> None:
    lines = [
        "第一段正文，讲排班的原则。" * 3,
        "相关推荐",
        "排班表模板",
        "店长手册",
        "第二段正文，讲调班的流程，内容很长很长。" * 5,
    ]

    kept = clean_lines(lines)

    assert kept == [lines[0], lines[4]]


def test_trailing_related_section_is_cut_off() -> None:
    body = [f"第{number}段正文讲的是排班和调班的规则。" * 5 for number in range(5)]
    lines = [*body, "Related articles", "A long teaser paragraph of another page. " * 3]

    assert clean_lines(lines) == body


def test_author_card_takes_its_short_lines_but_a_prose_mention_does_not() -> None:
    card = [
        "",
        "李四 + 关注",
        "实名认证",
        "门店运营顾问",
        "专注零售十年。",
        "正文继续讲排班：周末和节假日前一天多排一名收银员，篇幅超过了名片里短行的长度限制，所以保留。",
    ]
    prose = ["注册要求：", "- 用户须完成实名认证。", "- 绑定手机号。", "- 设置支付密码。"]

    assert clean_lines(card) == ["", card[-1]]
    assert clean_lines(prose) == prose


def test_protected_lines_survive() -> None:
    assert chrome_mask(["Sign in", "查看更多"], protected={0}) == [True, False]


def test_strip_repeated_removes_headers_footers_and_page_numbers() -> None:
    pages = [
        ["Depot Manual v2 - internal", "Heading", "Body text of page one.", "1"],
        ["Depot Manual v2 - internal", "More body text.", "2"],
        ["Depot Manual v2 - internal", "Last page body.", "Page 3 of 3"],
    ]

    assert strip_repeated(pages) == [
        ["Heading", "Body text of page one."],
        ["More body text."],
        ["Last page body."],
    ]


def test_strip_repeated_keeps_a_lone_list_number_mid_page() -> None:
    pages = [
        ["第 1 页", "步骤如下：", "1", "打开收银机。", "2", "清点零钱。", "Chapter 1 overview"],
        ["- 2 -", "正文继续。", "Chapter 2 overview"],
    ]

    assert strip_repeated(pages) == [
        ["步骤如下：", "1", "打开收银机。", "2", "清点零钱。"],
        ["正文继续。"],
    ]


def test_strip_repeated_on_one_page_drops_its_page_number_only() -> None:
    assert strip_repeated([["Title", "Body.", "1"]]) == [["Title", "Body."]]
    assert strip_repeated([]) == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [("第 12 页", True), ("共9页 第2页", True), ("— 4 —", True), ("page 2", True), ("12", False)],
)
def test_page_numbers(line: str, expected: bool) -> None:
    assert is_page_number(line) is expected


def test_normalize_line() -> None:
    assert normalize_line("  用户\u3000留存\u200b  is\u00a0key \n") == "用户留存 is key"
