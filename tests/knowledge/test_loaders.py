"""Loading materials: structure, titles and failures for every supported format."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from knowledge.loaders import load_document, load_materials
from knowledge.materials import list_materials
from knowledge.types import Block, Document, LoadError
from tests.conftest import SAMPLE_CONTENT
from tests.fixtures import make_fixtures

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "materials"
SAMPLE_MATERIALS = SAMPLE_CONTENT / "materials"


def load(name: str) -> Document:
    return load_document(FIXTURES / name, FIXTURES)


def blocks_of(document: Document, *path: str) -> list[Block]:
    for section in document.sections:
        if section.path == path:
            return list(section.blocks)
    raise AssertionError(f"no section {path!r} in {[s.path for s in document.sections]}")


def all_text(document: Document) -> str:
    parts = [document.title]
    for section in document.sections:
        parts.extend(section.path)
        parts.extend(block.text for block in section.blocks)
    return "\n".join(parts)


# --- Markdown -------------------------------------------------------------------------


def test_markdown_headings_lists_and_inline_markup() -> None:
    document = load("store-handbook.md")

    assert document.path == "store-handbook.md"
    assert document.title == "Store Opening Handbook"
    assert [s.path for s in document.sections] == [
        (),
        ("Before opening",),
        ("Cold chain", "Fridge checks"),
    ]
    intro = blocks_of(document)[0].text
    # Emphasis, code marks, links and images are gone; soft-wrapped lines are rejoined.
    assert intro.startswith("Welcome to the opening shift. This handbook is for new staff and")
    assert "See the staff portal for rotas." in intro
    for markup in ("**", "`", "](", "![", "https://", "images/front.png"):
        assert markup not in intro
    assert "owner: retail-training" not in all_text(document)  # front matter


def test_markdown_lead_in_and_list_items() -> None:
    blocks = blocks_of(load("store-handbook.md"), "Before opening")

    assert blocks == [
        Block("lead_in", "Walk the floor before the doors open. Check these points:"),
        Block("list_item", "Lights and music are on."),
        Block("list_item", "The tills show the ready screen."),
        Block("list_item", "Fire exits are clear and unlocked."),
    ]


def test_markdown_chinese_wrap_code_fence_and_table() -> None:
    blocks = blocks_of(load("store-handbook.md"), "Cold chain", "Fridge checks")

    # A Chinese paragraph wrapped over two lines joins without a space.
    assert blocks[0] == Block(
        "paragraph",
        "冷藏柜的温度要保持在零到四度之间，每两小时记录一次。发现温度异常时，先把商品移到备用冷柜，再通知店长。",
    )
    assert Block("lead_in", "Steps when a fridge fails:") in blocks
    assert Block("list_item", "Call the maintenance desk.") in blocks
    assert Block("paragraph", "temp_log --fridge 3 --reading 4.5") in blocks
    assert Block("paragraph", "Fridge temperature | Shift lead | Every 2 hours") in blocks
    assert not any(set(block.text) <= set("|- ") for block in blocks)  # separator row


def test_markdown_without_level_one_heading_takes_the_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "till-basics.md"
    path.write_text("## Opening the till\n\nCount the float first.\n", encoding="utf-8")

    document = load_document(path, tmp_path)

    assert document.title == "till-basics"
    assert document.sections[0].path == ("Opening the till",)


def test_markdown_several_level_one_headings_stay_in_the_path(tmp_path: Path) -> None:
    path = tmp_path / "two-parts.md"
    path.write_text("# Part one\n\nFirst part.\n\n# Part two\n\nSecond part.\n", encoding="utf-8")

    document = load_document(path, tmp_path)

    assert document.title == "Part one"
    assert [s.path for s in document.sections] == [("Part one",), ("Part two",)]


# --- plain text -----------------------------------------------------------------------


def test_text_numbering_gives_headings_and_lists() -> None:
    document = load("store-opening.txt")

    assert document.title == "门店开店作业指引"
    assert [s.path for s in document.sections] == [
        (),
        ("一、开店前准备", "（一）设备检查", "1. 收银设备"),
        ("一、开店前准备", "（一）设备检查", "2. 冷柜温度"),
        ("一、开店前准备", "（二）人员到岗"),
        ("二、营业中的注意事项",),
    ]
    staff = blocks_of(document, "一、开店前准备", "（二）人员到岗")
    assert staff[0] == Block("lead_in", "早班员工须在开店前三十分钟到岗：")
    assert [b.kind for b in staff[1:]] == ["list_item"] * 3
    assert staff[1].text == "换好工服并佩戴工牌；"
    # Numbered lines that are whole sentences are list items, not headings.
    rules = blocks_of(document, "二、营业中的注意事项")
    assert [b.kind for b in rules] == ["list_item"] * 3
    assert rules[0].text == "补货时不得堵塞通道，纸箱要及时压平回收。"


def test_text_line_wrapped_mid_sentence_is_rejoined() -> None:
    blocks = blocks_of(load("store-opening.txt"), "一、开店前准备", "（一）设备检查", "2. 冷柜温度")

    assert (
        Block(
            "paragraph",
            "店长每周检查一次消防通道和灭火器，检查结果记录在安全台账中，发现问题当天整改。",
        )
        in blocks
    )


def test_text_in_gbk_is_read_through_the_gb18030_fallback() -> None:
    document = load("warehouse-safety-gbk.txt")

    assert document.title == "仓库安全须知"
    assert [s.path for s in document.sections] == [("一、进入仓库",), ("二、叉车作业",)]
    assert "叉车只能由持证人员驾驶" in document.sections[1].blocks[0].text


def test_text_with_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeff巡店要点\n\n每天巡店两次，记录货架缺货情况。\n".encode())

    document = load_document(path, tmp_path)

    assert document.title == "巡店要点"
    assert document.sections[0].blocks[0].text == "每天巡店两次，记录货架缺货情况。"


def test_text_whose_first_line_is_prose_takes_the_stem_as_title(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("每天开店前检查冷柜温度，并记录在台账中。\n", encoding="utf-8")

    assert load_document(path, tmp_path).title == "notes"


# --- HTML -----------------------------------------------------------------------------


def test_html_keeps_the_article_and_drops_page_chrome() -> None:
    document = load("returns-faq.html")
    text = all_text(document)

    assert document.title == "Returns Desk FAQ"
    assert [s.path for s in document.sections] == [
        (),
        ("Which items can a customer return?",),
        ("How are refunds paid?",),
    ]
    for chrome in (
        "cookies",
        "Accept",
        "HR portal",
        "Sign in",
        "Share this",
        "Comments",
        "Great page",
        "Related articles",
        "Handling complaints",
        "All rights reserved",
        "Terms of use",
        "tracking code",
        "inline script",
        "font-family",
        "Example Retail Intranet",
    ):
        assert chrome not in text, chrome


def test_html_blocks_lists_line_breaks_and_tables() -> None:
    document = load("returns-faq.html")

    assert blocks_of(document)[0].text == (
        "Answers for staff working the returns desk. Read them before your first shift."
    )
    items = blocks_of(document, "Which items can a customer return?")
    assert items[1] == Block("lead_in", "Ask the customer for three things:")
    assert [b.text for b in items[2:]] == [
        "the receipt or the order number;",
        "the payment card used;",
        "a short reason for the return.",
    ]
    refunds = blocks_of(document, "How are refunds paid?")
    assert refunds[0] == Block(
        "paragraph", "Refunds go back to the original payment method within five working days."
    )
    assert Block("paragraph", "Card | 3 to 5 days") in refunds


def test_html_without_main_uses_body_and_skips_header_footer(tmp_path: Path) -> None:
    path = tmp_path / "plain.htm"
    path.write_text(
        "<html><head><title>Till Basics - Intranet</title></head><body>"
        "<header><h1>Intranet</h1><p>Welcome back</p></header>"
        "<div class='sidebar'><p>Popular pages</p></div>"
        "<h2>Opening</h2><div>Count the float before the first customer.<p>Then log in.</div>"
        "<ol><li>Unlock<li>Count<ul><li>coins</li></ul></ol>"
        "<footer>Contact IT</footer></body></html>",
        encoding="utf-8",
    )

    document = load_document(path, tmp_path)

    assert document.title == "Till Basics"
    assert document.sections[0].path == ("Opening",)
    assert [(b.kind, b.text) for b in document.sections[0].blocks] == [
        ("paragraph", "Count the float before the first customer."),
        ("paragraph", "Then log in."),
        ("list_item", "Unlock"),
        ("list_item", "Count"),
        ("list_item", "coins"),
    ]
    for chrome in ("Intranet", "Welcome back", "Popular pages", "Contact IT"):
        assert chrome not in all_text(document).replace("Till Basics", "")


# --- PDF ------------------------------------------------------------------------------


def test_pdf_bookmarks_give_headings_and_page_furniture_is_removed() -> None:
    document = load("parcel-handbook.pdf")
    text = all_text(document)

    assert document.title == "Parcel Handling Handbook"
    assert [s.path for s in document.sections] == [
        (),
        ("Receiving parcels",),
        ("Receiving parcels", "Damaged parcels"),
        ("Sorting",),
        ("Handing over",),
    ]
    assert "Courier Depot Manual" not in text
    assert "Page " not in text


def test_pdf_lines_wrapped_mid_sentence_are_rejoined_across_pages() -> None:
    document = load("parcel-handbook.pdf")

    receiving = blocks_of(document, "Receiving parcels")
    assert receiving == [
        Block(
            "paragraph",
            "Scan each parcel as soon as it comes off the van, before it is stacked with "
            "others. A parcel that is not scanned within ten minutes is flagged as missing "
            "and the shift lead is alerted.",
        )
    ]
    sorting = blocks_of(document, "Sorting")[0].text
    # The last sentence of page 2 ends on page 3, under the next page's header.
    assert sorting.endswith("so the limit is 3.5 kg per shelf and 120 kg per cage.")
    damaged = blocks_of(document, "Receiving parcels", "Damaged parcels")
    assert damaged[1:] == [
        Block("lead_in", "Check the label against the manifest:"),
        Block("list_item", "the tracking number matches the manifest line;"),
        Block("list_item", "the postcode is inside the depot's delivery area."),
    ]


def test_pdf_without_bookmarks_finds_headings_from_the_text() -> None:
    document = load("shift-notes.pdf")

    assert document.title == "Night Shift Notes"
    assert [s.path for s in document.sections] == [
        ("1. Before the shift",),
        ("2. During the shift",),
        ("3. After the shift",),
    ]
    assert blocks_of(document, "1. Before the shift")[0].text == (
        "Check that the scanners are charged and the cages are empty. Report a broken "
        "scanner to the shift lead before the first van arrives."
    )
    assert "Page " not in all_text(document)


def test_chinese_pdf_rejoins_wrapped_lines_and_reads_bullets() -> None:
    document = load_document(SAMPLE_MATERIALS / "evaluation-guide.pdf", SAMPLE_MATERIALS)

    assert document.title == "青禾生活培训效果评估指南"
    intro = blocks_of(document)[0].text
    # The PDF wraps this sentence after "城"; the break must not survive.
    assert "由培训负责人和城市经理共同使用。" in intro
    levels = blocks_of(document, "三级指标体系")
    assert levels[0].kind == "lead_in"
    assert [b.kind for b in levels[1:4]] == ["list_item"] * 3
    assert levels[1].text == "一级指标：直接产出，即培训覆盖率和考核通过率；"
    coverage = blocks_of(document, "一级指标：覆盖率与通过率", "培训覆盖率的计算")
    assert len(coverage) == 2
    assert "示例：一线轨道第二季度应参训 240 人" in coverage[1].text


def test_generated_fixtures_match_their_generator() -> None:
    for name, data in make_fixtures.build_all().items():
        assert (FIXTURES / name).read_bytes() == data, f"rerun make_fixtures.py for {name}"


# --- Word -----------------------------------------------------------------------------


def make_docx(path: Path) -> None:
    document = docx.Document()
    document.add_heading("Delivery Van Checklist", level=0)
    document.add_paragraph("Use this checklist at the start of every round.")
    document.add_heading("Before driving", level=1)
    document.add_paragraph("Walk around the van and check:")
    document.add_paragraph("Tyres are inflated.", style="List Bullet")
    document.add_paragraph("Lights work.", style="List Bullet")
    document.add_heading("Loading", level=2)
    document.add_paragraph("Load the last drop first.", style="List Number")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Item"
    table.cell(0, 1).text = "Limit"
    table.cell(1, 0).text = "Cage"
    table.cell(1, 1).text = "120 kg"
    document.add_paragraph("免责声明：本站文档均由用户上传，仅供学习交流。")
    document.save(str(path))


def test_docx_styles_give_title_headings_lists_and_table_rows(tmp_path: Path) -> None:
    make_docx(tmp_path / "van-checklist.docx")

    document = load_document(tmp_path / "van-checklist.docx", tmp_path)

    assert document.title == "Delivery Van Checklist"
    assert [s.path for s in document.sections] == [
        (),
        ("Before driving",),
        ("Before driving", "Loading"),
    ]
    assert blocks_of(document, "Before driving") == [
        Block("lead_in", "Walk around the van and check:"),
        Block("list_item", "Tyres are inflated."),
        Block("list_item", "Lights work."),
    ]
    assert blocks_of(document, "Before driving", "Loading") == [
        Block("list_item", "Load the last drop first."),
        Block("paragraph", "Item | Limit"),
        Block("paragraph", "Cage | 120 kg"),
    ]
    assert "免责声明" not in all_text(document)


def test_sample_docx_heading_levels() -> None:
    document = load_document(SAMPLE_MATERIALS / "training-norms.docx", SAMPLE_MATERIALS)

    assert document.title == "青禾生活用户运营培训管理规范"
    assert ("分层培训体系", "一线岗位轨道") in [s.path for s in document.sections]


# --- failures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "PDF"),
        ("broken.docx", b"PK\x03\x04 not a zip archive", "Word"),
        ("latin1.txt", "Café au lait, crème brûlée".encode("latin-1"), "UTF-8"),
        ("binary.md", b"\x00\x01\x02binary", "binary"),
        ("slides.pptx", b"whatever", "unsupported"),
        ("chrome-only.txt", "查看更多\n文档评论(0)\n".encode(), "no text"),
        ("empty.html", b"<html><body><nav>Home</nav></body></html>", "no text"),
    ],
)
def test_unreadable_files_raise_load_error_naming_the_file(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / name
    path.write_bytes(data)

    with pytest.raises(LoadError) as raised:
        load_document(path, tmp_path)

    assert raised.value.path == f"sub/{name}"
    assert reason in raised.value.reason
    assert str(raised.value).startswith(f"sub/{name}: ")


def test_missing_file_raises_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="cannot read file"):
        load_document(tmp_path / "gone.md", tmp_path)


def test_load_materials_keeps_going_past_bad_files(tmp_path: Path) -> None:
    (tmp_path / "a-good.md").write_text("# Good\n\nA fine paragraph.\n", encoding="utf-8")
    (tmp_path / "b-corrupt.pdf").write_bytes(b"%PDF-1.7 garbage")
    (tmp_path / "c-corrupt.docx").write_bytes(b"not a docx")
    (tmp_path / "d-latin1.txt").write_bytes("résumé".encode("latin-1"))
    (tmp_path / "e-good.txt").write_text("巡店要点\n\n每天巡店两次。\n", encoding="utf-8")
    paths = sorted(tmp_path.iterdir())

    documents, errors = load_materials(tmp_path, paths)

    assert [d.path for d in documents] == ["a-good.md", "e-good.txt"]
    assert [e.path for e in errors] == ["b-corrupt.pdf", "c-corrupt.docx", "d-latin1.txt"]


def test_every_sample_material_loads() -> None:
    paths = list_materials(SAMPLE_MATERIALS)  # not the review sidecars beside them
    assert len(paths) == 6

    documents, errors = load_materials(SAMPLE_MATERIALS, paths)

    assert errors == []
    assert {d.path for d in documents} == {p.name for p in paths}
    assert all(d.sections for d in documents)
