"""Loading material files into cleaned, structured documents.

Each reader turns one format into a flat list of structural lines (headings with a level,
paragraphs, lead-ins, list items), cleaning away chrome on the way; ``_assemble`` then
builds the heading paths and sections the same way for every format.

Supported: Markdown (``.md``, ``.markdown``), plain text (``.txt``), HTML (``.html``,
``.htm``), PDF (``.pdf``, via pypdf) and Word (``.docx``, via python-docx).
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from knowledge.cleaning import chrome_mask, normalize_line, strip_list_marker, strip_repeated
from knowledge.types import Block, Document, LoadError, Section

logger = logging.getLogger(__name__)

TEXT_ENCODINGS = ("utf-8-sig", "gb18030")
"""Tried in order for text files; ``utf-8-sig`` also reads UTF-8 without a BOM."""

HEADING = "heading"
PARAGRAPH = "paragraph"
LIST_ITEM = "list_item"
LEAD_IN = "lead_in"

_SENTENCE_END = tuple("。！？；.!?;")
_COLONS = ("：", ":")
_CLOSERS = "”’」』）)】》\"'"
_TITLE_MAX = 40
"""A title or sub-heading is a short line; longer lines are prose."""


@dataclass(slots=True)
class _Line:
    """One structural line of a document before it is split into sections."""

    kind: str
    text: str
    level: int = 0
    protected: bool = False
    """Kept whatever cleaning says (code blocks)."""


@dataclass(slots=True)
class _Outline:
    """What a reader found: the title it is sure of (if any) and the lines."""

    lines: list[_Line]
    title: str | None = None


_Reader = Callable[[bytes, str], _Outline]


def load_document(path: Path, root: Path) -> Document:
    """Load, clean and structure one material file.

    Args:
        path: the file.
        root: the materials directory; the document's ``path`` is relative to it.

    Returns:
        The document, with its title and sections.

    Raises:
        LoadError: the suffix is not supported, the file cannot be read or parsed, text
            is in an unknown encoding, or nothing is left after cleaning.
    """
    relative = _relative(path, root)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise LoadError(relative, f"unsupported file type {path.suffix or '(no suffix)'!r}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(relative, f"cannot read file: {exc.strerror or exc}") from exc
    outline = reader(data, relative)
    return _assemble(relative, path.stem, outline)


def load_materials(root: Path, paths: list[Path]) -> tuple[list[Document], list[LoadError]]:
    """Load many files, carrying on past the ones that fail.

    Args:
        root: the materials directory.
        paths: the files to load (e.g. from ``knowledge.materials.list_materials``).

    Returns:
        The loaded documents and the errors, each in the order of ``paths``.
    """
    documents: list[Document] = []
    errors: list[LoadError] = []
    for path in paths:
        try:
            documents.append(load_document(path, root))
        except LoadError as exc:
            logger.warning("skipping material %s", exc)
            errors.append(exc)
    return documents, errors


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


# --- assembling sections -------------------------------------------------------------


def _assemble(relative: str, stem: str, outline: _Outline) -> Document:
    """Build heading paths and sections from a reader's lines."""
    lines = [line for line in outline.lines if line.text]
    if not any(line.kind != HEADING for line in lines):
        raise LoadError(relative, "no text left after cleaning")
    headings = [line for line in lines if line.kind == HEADING]
    title = outline.title
    if title is None:
        first_top = next((h for h in headings if h.level == 1), None)
        title = first_top.text if first_top else stem
    # The heading that names the whole document is its title, not a section: dropping it
    # keeps "Title > Title > Section" out of every chunk's context.
    title_heading: _Line | None = None
    if headings:
        top = min(h.level for h in headings)
        first = headings[0]
        if (
            first.level == top
            and sum(1 for h in headings if h.level == top) == 1
            and _same_text(first.text, title)
        ):
            title_heading = first

    sections: list[Section] = []
    stack: list[_Line] = []
    blocks: list[Block] = []

    def flush() -> None:
        if blocks:
            path = tuple(h.text for h in stack)
            sections.append(Section(path=path, blocks=tuple(_fix_lead_ins(blocks))))
            blocks.clear()

    for line in lines:
        if line.kind == HEADING:
            if line is title_heading:
                continue
            flush()
            while stack and stack[-1].level >= line.level:
                stack.pop()
            stack.append(line)
        else:
            blocks.append(Block(kind=line.kind, text=line.text))
    flush()
    return Document(path=relative, title=title, sections=tuple(sections))


def _same_text(left: str, right: str) -> bool:
    return re.sub(r"\s+", "", left).casefold() == re.sub(r"\s+", "", right).casefold()


def _fix_lead_ins(blocks: list[Block]) -> list[Block]:
    """A colon line directly before list items is their lead-in; otherwise a paragraph."""
    fixed = []
    for index, block in enumerate(blocks):
        followed_by_list = index + 1 < len(blocks) and blocks[index + 1].kind == LIST_ITEM
        if block.kind == PARAGRAPH and block.text.endswith(_COLONS) and followed_by_list:
            block = Block(kind=LEAD_IN, text=block.text)
        elif block.kind == LEAD_IN and not followed_by_list:
            block = Block(kind=PARAGRAPH, text=block.text)
        fixed.append(block)
    return fixed


def _clean(lines: list[_Line]) -> list[_Line]:
    """Drop chrome lines; list items are shown to the cleaner with their marker."""
    rendered = [f"- {line.text}" if line.kind == LIST_ITEM else line.text for line in lines]
    protected = {index for index, line in enumerate(lines) if line.protected}
    keep = chrome_mask(rendered, protected=protected)
    return [line for line, flag in zip(lines, keep, strict=True) if flag]


# --- shared text helpers -------------------------------------------------------------


def _decode(data: bytes, relative: str) -> str:
    if b"\x00" in data:
        raise LoadError(relative, "binary data, not a text file")
    for encoding in TEXT_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(unicodedata.category(char) == "Cc" and char not in "\t\n\r\f" for char in text):
            continue
        return text
    raise LoadError(relative, "not UTF-8 or GB18030 text")


def _ends_sentence(text: str) -> bool:
    return text.rstrip(_CLOSERS).endswith(_SENTENCE_END)


def _is_cjk(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _width(text: str) -> int:
    """Display width: CJK characters count twice (they are twice as wide on the page)."""
    return sum(2 if _is_cjk(char) else 1 for char in text)


def _join(left: str, right: str) -> str:
    """Join a wrapped line to the next; Chinese text joins without a space."""
    if not left or not right:
        return left + right
    if _is_cjk(left[-1]) or _is_cjk(right[0]):
        return left + right
    if left.endswith("-") and left[-2:-1].isalpha() and right[0].islower():
        return left[:-1] + right
    return f"{left} {right}"


def _looks_like_title(text: str) -> bool:
    return 0 < len(text) <= _TITLE_MAX and not _ends_sentence(text) and not text.endswith(_COLONS)


# Numbering that marks headings in Chinese course documents, with the level it gives.
_HEADING_NUMBERING: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^第[一二三四五六七八九十百零\d]+[章部篇]\s*\S"), 1),
    (re.compile(r"^[一二三四五六七八九十百]+[、.．]\s*\S"), 1),
    (re.compile(r"^第[一二三四五六七八九十百零\d]+节\s*\S"), 2),
    (re.compile(r"^[（(][一二三四五六七八九十]+[）)]\s*\S"), 2),
)
_NUMBERED = re.compile(r"^(\d{1,2})\s*(?:[.．](?!\d)|[、)）])\s*(\S.*)$")
_SUB_NUMBERED = re.compile(r"^\d{1,2}\.\d{1,2}\.?\s+\S")
_BULLET = re.compile(r"^(?:[-*+]\s+|[•·●▪◦]\s*)(\S.*)$")
_PAREN_NUMBERED = re.compile(r"^(?:[（(]\d{1,2}[）)]|[①-⑳])\s*(\S.*)$")


def _numbered_heading_level(text: str) -> int | None:
    """The level of a line numbered like a heading (一、 / （一） / 第一章), if short."""
    if not _looks_like_title(text):
        return None
    for pattern, level in _HEADING_NUMBERING:
        if pattern.match(text):
            return level
    return None


def _list_marker_text(text: str) -> str | None:
    """The item text when the line starts with a bullet or a list number."""
    for pattern in (_BULLET, _PAREN_NUMBERED):
        match = pattern.match(text)
        if match:
            return match.group(1).strip()
    match = _NUMBERED.match(text)
    if match:
        return match.group(2).strip()
    return None


# --- Markdown ------------------------------------------------------------------------

_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
_MD_LIST = re.compile(r"^(\s*)(?:[-*+]|\d{1,9}[.)])\s+(.*)$")
_MD_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_MD_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_MD_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_MD_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_MD_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_MD_INLINE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"<!--.*?-->"), ""),
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),
    (re.compile(r"!\[[^\]]*\]\[[^\]]*\]"), ""),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),
    (re.compile(r"</?[A-Za-z][^>]*>"), ""),
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![*\w])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![*\w])"), r"\1"),
    (re.compile(r"~~(.+?)~~"), r"\1"),
    (re.compile(r"`+([^`]*)`+"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])"), r"\1"),
)
_MD_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+")


def _markdown_inline(text: str) -> str:
    for pattern, replacement in _MD_INLINE:
        text = pattern.sub(replacement, text)
    return normalize_line(text)


def _strip_front_matter(lines: list[str]) -> list[str]:
    if lines and lines[0].strip() == "---":
        for index in range(1, len(lines)):
            if lines[index].strip() in ("---", "..."):
                return lines[index + 1 :]
    return lines


def _read_markdown(data: bytes, relative: str) -> _Outline:
    raw = _strip_front_matter(_decode(data, relative).splitlines())
    lines: list[_Line] = []
    paragraph: list[str] = []
    item: list[str] | None = None

    def flush() -> None:
        nonlocal item
        if paragraph:
            lines.append(_Line(PARAGRAPH, _markdown_inline(_join_all(paragraph))))
            paragraph.clear()
        if item is not None:
            lines.append(_Line(LIST_ITEM, _markdown_inline(_join_all(item))))
            item = None

    index = 0
    while index < len(raw):
        text = raw[index]
        index += 1
        fence = _MD_FENCE.match(text)
        if fence:
            flush()
            code: list[str] = []
            while index < len(raw) and not raw[index].strip().startswith(fence.group(1)):
                code.append(raw[index].rstrip())
                index += 1
            index += 1
            if any(code):
                lines.append(_Line(PARAGRAPH, "\n".join(code).strip("\n"), protected=True))
            continue
        if not text.strip():
            flush()
            continue
        heading = _MD_HEADING.match(text)
        if heading:
            flush()
            lines.append(_Line(HEADING, _markdown_inline(heading.group(2)), len(heading.group(1))))
            continue
        setext = _MD_SETEXT.match(text)
        if setext and len(paragraph) == 1 and item is None:
            level = 1 if setext.group(1).startswith("=") else 2
            lines.append(_Line(HEADING, _markdown_inline(paragraph[0]), level))
            paragraph.clear()
            continue
        if _MD_RULE.match(text) or _MD_REFERENCE.match(text):
            flush()
            continue
        if _MD_TABLE_ROW.match(text):
            flush()
            if not _MD_TABLE_SEPARATOR.match(text):
                cells = [_markdown_inline(cell) for cell in text.strip().strip("|").split("|")]
                lines.append(_Line(PARAGRAPH, " | ".join(cell for cell in cells if cell)))
            continue
        listed = _MD_LIST.match(text)
        if listed:
            flush()
            item = [listed.group(2)]
            continue
        text = re.sub(r"^\s{0,3}>\s?", "", text)
        if item is not None:
            # An indented or "lazy" line right after an item continues it.
            item.append(text.strip())
        else:
            paragraph.append(text.strip())
    flush()
    return _Outline(lines=_clean(lines))


def _join_all(parts: list[str]) -> str:
    joined = ""
    for part in parts:
        joined = _join(joined, part.strip())
    return joined


# --- plain text ----------------------------------------------------------------------


def _read_text(data: bytes, relative: str) -> _Outline:
    text = _decode(data, relative).replace("\r\n", "\n").replace("\r", "\n")
    if "\f" in text:
        # pdftotext and some exporters separate pages with form feeds.
        pages = strip_repeated([page.split("\n") for page in text.split("\f")])
        raw = [line for page in pages for line in [*page, ""]]
    else:
        raw = [normalize_line(line) for line in text.split("\n")]
    keep = chrome_mask(raw)
    raw = [line for line, flag in zip(raw, keep, strict=True) if flag]

    title: str | None = None
    first = next((i for i, line in enumerate(raw) if line), None)
    if first is not None and _is_title_line(raw[first]):
        title = raw[first]
        raw = raw[first + 1 :]
    return _Outline(lines=_structure_text_lines(raw), title=title)


def _is_title_line(text: str) -> bool:
    """A short first line that is neither a sentence, a numbered heading nor a list item."""
    return (
        _looks_like_title(text)
        and _numbered_heading_level(text) is None
        and _list_marker_text(text) is None
    )


def _structure_text_lines(raw: list[str]) -> list[_Line]:
    """Classify plain-text lines (blank lines separate paragraphs) and rejoin wrapped ones."""
    nonblank = [i for i, line in enumerate(raw) if line]
    position = {line_index: order for order, line_index in enumerate(nonblank)}

    def neighbour(index: int, step: int) -> str:
        order = position[index] + step
        return raw[nonblank[order]] if 0 <= order < len(nonblank) else ""

    lines: list[_Line] = []
    joinable = False
    # Number styles ("#.", "(#)") whose latest line under this heading was a lead-in or
    # a numbered paragraph: the next line numbered alike is its sibling, not a list item.
    lead_in_styles: set[str] = set()
    for index, text in enumerate(raw):
        if not text:
            joinable = False
            continue
        line = _classify_text_line(text, neighbour(index, -1), neighbour(index, 1), lead_in_styles)
        style = _number_style(text)
        if line.kind == HEADING:
            lead_in_styles.clear()
        elif style is not None:
            if line.kind == LIST_ITEM:
                lead_in_styles.discard(style)
            else:
                lead_in_styles.add(style)
        if (
            joinable
            and line.kind == PARAGRAPH
            and lines
            and lines[-1].kind in (PARAGRAPH, LIST_ITEM)
        ):
            lines[-1].text = _join(lines[-1].text, line.text)
        else:
            lines.append(line)
        last = lines[-1]
        # A long line that stops mid-sentence was wrapped by the author's editor.
        joinable = (
            last.kind in (PARAGRAPH, LIST_ITEM)
            and not _ends_sentence(text)
            and not text.endswith(_COLONS)
            and _width(text) >= 40
        )
    return lines


def _classify_text_line(
    text: str, previous: str, following: str, lead_in_styles: set[str]
) -> _Line:
    level = _numbered_heading_level(text)
    if level is not None:
        return _Line(HEADING, text, level)
    if _is_numbered_subheading(text, previous, following):
        return _Line(HEADING, text, 4 if _SUB_NUMBERED.match(text) else 3)
    bullet = _BULLET.match(text)
    if bullet:
        return _Line(LIST_ITEM, bullet.group(1).strip())
    item = _list_marker_text(text)
    if item is not None:
        if text.endswith(_COLONS):
            return _Line(LEAD_IN, text)
        # A numbered point after a numbered lead-in ("2. 分级：" + bullets, then "3. 示例：…")
        # or a lone one keeps its number: without it, it would read as one more bullet of
        # the list above it.
        if _number_style(text) not in lead_in_styles and _in_numbered_list(
            text, previous, following
        ):
            return _Line(LIST_ITEM, item)
    return _Line(PARAGRAPH, text)


def _in_numbered_list(text: str, previous: str, following: str) -> bool:
    """Whether a numbered line is one of a run of items (or follows a colon line)."""
    style = _number_style(text)
    return (
        previous.endswith(_COLONS)
        or _number_style(previous) == style
        or _number_style(following) == style
    )


def _number_style(text: str) -> str | None:
    """The shape of a line's list number ("1.", "1、", "(1)", "①"), digits masked."""
    match = re.match(r"^(?:\d{1,2}\s*(?:[.．](?!\d)|[、)）])|[（(]\d{1,2}[）)]|[①-⑳])", text)
    if match is None:
        return None
    return re.sub(r"\d+", "#", re.sub(r"[①-⑳]", "①", match.group()))


def _is_numbered_subheading(text: str, previous: str, following: str) -> bool:
    """ "1. 标题" is a sub-heading when short, not a sentence, and followed by content.

    A run of short numbered lines, or one introduced by a colon line, is a list.
    """
    if not (_NUMBERED.match(text) or _SUB_NUMBERED.match(text)) or not _looks_like_title(text):
        return False
    if not following or _numbered_heading_level(following) is not None:
        return False
    if _NUMBERED.match(following) and _looks_like_title(following):
        return False
    return not (previous and (previous.endswith(_COLONS) or _NUMBERED.match(previous)))


# --- HTML ----------------------------------------------------------------------------

_SKIPPED_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "nav",
        "footer",
        "aside",
        "form",
        "button",
        "iframe",
        "svg",
        "template",
        "select",
        "dialog",
        "head",
        "canvas",
        "object",
        "embed",
    }
)
_VOID_TAGS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)
_INLINE_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "ins",
        "kbd",
        "label",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
        "img",
        "wbr",
        "br",
    }
)
_HEADING_TAGS = {f"h{level}": level for level in range(1, 7)}
_CHROME_ATTR = re.compile(
    r"(?:^|[\s_-])(?:cookies?|consent|banner|nav|navbar|navigation|menu|menubar|footer|sidebar"
    r"|related|comments?|share|sharing|social|advert\w*|ads?|breadcrumbs?|login|signin|signup"
    r"|subscribe|subscription|newsletter|author|byline|popup|modal|promo|sponsored|toolbar"
    r"|pagination|pager)(?:$|[\s_-])",
    re.IGNORECASE,
)
_CHROME_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar", "dialog"}
)
_TITLE_SEPARATOR = re.compile(r"\s+[|–—-]\s+|\s*_\s*")


@dataclass(slots=True)
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)

    def find_all(self, tag: str) -> Iterator[_Node]:
        """Descendants with this tag, outermost first, not descending into matches."""
        for child in self.children:
            if isinstance(child, _Node):
                if child.tag == tag:
                    yield child
                else:
                    yield from child.find_all(tag)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class _TreeBuilder(HTMLParser):
    """A forgiving element tree: closes ``p``/``li``/cells implicitly, ignores strays."""

    _CLOSED_BY_BLOCK: ClassVar[frozenset[str]] = frozenset({"p"})
    _SIBLING_CLOSE: ClassVar[dict[str, frozenset[str]]] = {
        "li": frozenset({"li"}),
        "dt": frozenset({"dt", "dd"}),
        "dd": frozenset({"dt", "dd"}),
        "tr": frozenset({"tr"}),
    }
    _CELL: ClassVar[frozenset[str]] = frozenset({"td", "th"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {})
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _INLINE_TAGS and self._stack[-1].tag in self._CLOSED_BY_BLOCK:
            self._stack.pop()
        if tag in self._SIBLING_CLOSE:
            self._close_sibling(self._SIBLING_CLOSE[tag], {"ul", "ol", "dl", "table"})
        if tag in self._CELL:
            self._close_sibling(self._CELL, {"tr", "table"})
        node = _Node(tag, {name: value or "" for name, value in attrs})
        self._stack[-1].children.append(node)
        if tag not in _VOID_TAGS:
            self._stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].children.append(_Node(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            if self._stack[depth].tag == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._stack[-1].children.append(data)

    def _close_sibling(self, siblings: frozenset[str], barriers: set[str]) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            tag = self._stack[depth].tag
            if tag in barriers:
                return
            if tag in siblings:
                del self._stack[depth:]
                return


def _is_chrome_element(node: _Node, *, in_content: bool) -> bool:
    if node.tag in _SKIPPED_TAGS:
        return True
    if node.tag == "header":
        # Inside an article, <header> holds the article's own heading; elsewhere it is the
        # site's masthead.
        return not (in_content and _has_heading(node))
    attrs = node.attrs
    if "hidden" in attrs or attrs.get("aria-hidden", "").lower() == "true":
        return True
    if re.search(r"display\s*:\s*none", attrs.get("style", ""), re.IGNORECASE):
        return True
    if attrs.get("role", "").lower() in _CHROME_ROLES:
        return True
    names = f"{attrs.get('id', '')} {attrs.get('class', '')}"
    return bool(_CHROME_ATTR.search(names))


def _has_heading(node: _Node) -> bool:
    return any(next(node.find_all(tag), None) is not None for tag in _HEADING_TAGS)


class _HtmlBlocks:
    """Walks the content element and emits structural lines."""

    def __init__(self, *, in_content: bool) -> None:
        self.lines: list[_Line] = []
        self._inline: list[str] = []
        self._in_content = in_content

    def walk(self, node: _Node, kind: str = PARAGRAPH) -> None:
        for child in node.children:
            if isinstance(child, str):
                self._inline.append(child)
                continue
            if _is_chrome_element(child, in_content=self._in_content):
                continue
            tag = child.tag
            if tag == "br":
                self._inline.append("\n")
            elif tag in _INLINE_TAGS:
                self.walk(child, kind)
            elif tag in _HEADING_TAGS:
                self.flush(kind)
                self._emit(HEADING, child.text(), _HEADING_TAGS[tag])
            elif tag == "li":
                self.flush(kind)
                self.walk(child, LIST_ITEM)
                self.flush(LIST_ITEM)
            elif tag == "tr":
                self.flush(kind)
                cells = [normalize_line(cell.text()) for cell in _cells(child)]
                self._emit(PARAGRAPH, " | ".join(cell for cell in cells if cell))
            elif tag == "pre":
                self.flush(kind)
                code = child.text().strip("\n")
                if code.strip():
                    self.lines.append(_Line(PARAGRAPH, code, protected=True))
            else:
                self.flush(kind)
                self.walk(child, PARAGRAPH)
                self.flush(PARAGRAPH)

    def flush(self, kind: str) -> None:
        text = "".join(self._inline)
        self._inline.clear()
        for part in text.split("\n\n") if kind == PARAGRAPH else [text]:
            self._emit(kind, part)

    def _emit(self, kind: str, text: str, level: int = 0) -> None:
        text = normalize_line(text)
        if text:
            self.lines.append(_Line(kind, text, level))


def _cells(row: _Node) -> Iterator[_Node]:
    for child in row.children:
        if isinstance(child, _Node) and child.tag in ("td", "th"):
            yield child


def _content_roots(root: _Node) -> tuple[list[_Node], bool]:
    """The page's main content: ``<main>``, else its ``<article>``s, else the body.

    Returns:
        The content elements, and whether they are marked as content (not the body).
    """
    for tag in ("main", "article"):
        found = [
            node for node in root.find_all(tag) if not _is_chrome_element(node, in_content=False)
        ]
        if found:
            return found, True
    role_main = _find_role_main(root)
    if role_main is not None:
        return [role_main], True
    body = next(root.find_all("body"), None)
    return [body or root], False


def _find_role_main(node: _Node) -> _Node | None:
    for child in node.children:
        if isinstance(child, _Node):
            if child.attrs.get("role", "").lower() == "main":
                return child
            found = _find_role_main(child)
            if found is not None:
                return found
    return None


def _page_title(root: _Node) -> str | None:
    element = next(root.find_all("title"), None)
    if element is None:
        return None
    title = normalize_line(element.text())
    # "Page name | Site name": the page's own name comes first.
    parts = [part for part in _TITLE_SEPARATOR.split(title) if part.strip()]
    return parts[0].strip() if parts else None


def _read_html(data: bytes, relative: str) -> _Outline:
    text = _decode_html(data, relative)
    builder = _TreeBuilder()
    try:
        builder.feed(text)
        builder.close()
    except Exception as exc:  # html.parser rarely raises, but never let a page stop ingest
        raise LoadError(relative, f"cannot parse HTML: {exc}") from exc
    roots, in_content = _content_roots(builder.root)
    blocks = _HtmlBlocks(in_content=in_content)
    for root in roots:
        blocks.walk(root)
        blocks.flush(PARAGRAPH)
    lines = _clean(blocks.lines)
    first_h1 = next((line.text for line in lines if line.kind == HEADING and line.level == 1), None)
    return _Outline(lines=lines, title=first_h1 or _page_title(builder.root))


def _decode_html(data: bytes, relative: str) -> str:
    declared = re.search(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_-]+)", data[:2048], re.IGNORECASE)
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    return _decode(data, relative)


# --- PDF -----------------------------------------------------------------------------

_PDF_MARKER = re.compile(r"^(?:[•·●▪◦\-–]|\d{1,2}[.)]?)$")
"""A bullet or list number alone on its line; its text follows on the next line."""


def _read_pdf(data: bytes, relative: str) -> _Outline:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(relative, "the PDF is password-protected")
        pages = [(page.extract_text() or "").split("\n") for page in reader.pages]
        outline = _pdf_outline(reader)
        metadata_title = (reader.metadata.title if reader.metadata else None) or None
    except LoadError:
        raise
    except Exception as exc:  # a damaged PDF can fail anywhere in pypdf (zlib, struct, ...)
        raise LoadError(relative, f"cannot read PDF: {exc}") from exc
    if not any(line.strip() for page in pages for line in page):
        raise LoadError(relative, "the PDF has no extractable text (a scan?)")
    raw = [line for page in strip_repeated(pages) for line in page]
    keep = chrome_mask(raw)
    raw = [line for line, flag in zip(raw, keep, strict=True) if flag]
    lines = _structure_pdf_lines(raw, outline)
    title = None
    if not outline and raw and _is_title_line(raw[0]):
        title = raw[0]
        lines = lines[1:] if lines and lines[0].text == raw[0] else lines
    elif (
        not outline
        and metadata_title
        and not re.search(r"\.\w{2,4}$|microsoft", metadata_title, re.I)
    ):
        title = normalize_line(str(metadata_title))
    return _Outline(lines=lines, title=title)


def _pdf_outline(reader: object) -> list[tuple[str, int]]:
    """The bookmarks as (normalised title, level) in document order."""
    entries: list[tuple[str, int]] = []

    def walk(items: list[object], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                title = normalize_line(str(getattr(item, "title", "") or ""))
                if title:
                    entries.append((title, depth + 1))

    walk(list(getattr(reader, "outline", []) or []), 0)
    return entries


def _structure_pdf_lines(raw: list[str], outline: list[tuple[str, int]]) -> list[_Line]:
    """Find headings, list items and paragraphs in PDF text lines; rejoin wrapped lines."""
    widths = sorted(_width(line) for line in raw if _width(line) > 20)
    # A line nearly as wide as the text column was wrapped by the layout, not the author.
    full_width = widths[int(len(widths) * 0.9)] * 0.85 if widths else float("inf")
    pending_outline = list(outline)
    lines: list[_Line] = []
    marker_pending = False
    joinable = False
    index = 0
    while index < len(raw):
        text = raw[index]
        index += 1
        heading_level, consumed = _pdf_heading(raw, index - 1, pending_outline, lines)
        if heading_level is not None:
            text = _join_all(raw[index - 1 : index - 1 + consumed])
            index += consumed - 1
            lines.append(_Line(HEADING, text, heading_level))
            marker_pending = joinable = False
            continue
        if _PDF_MARKER.match(text):
            marker_pending = True
            joinable = False
            continue
        if marker_pending:
            lines.append(_Line(LIST_ITEM, text))
            marker_pending = False
        elif joinable and _list_marker_text(text) is None:
            lines[-1].text = _join(lines[-1].text, text)
        else:
            item = _list_marker_text(text)
            if item is not None and not text.endswith(_COLONS):
                lines.append(_Line(LIST_ITEM, item))
            else:
                lines.append(_Line(PARAGRAPH, text))
        joinable = _width(text) >= full_width or not (
            _ends_sentence(text) or text.endswith(_COLONS)
        )
    return lines


def _pdf_heading(
    raw: list[str], index: int, pending: list[tuple[str, int]], lines: list[_Line]
) -> tuple[int | None, int]:
    """The heading level of the line at ``index`` and how many lines the heading spans."""
    text = raw[index]
    if pending:
        for position, (title, level) in enumerate(pending[:8]):
            target = title.replace(" ", "")
            for span in (1, 2):
                candidate = "".join(raw[index : index + span]).replace(" ", "")
                if candidate == target:
                    del pending[: position + 1]
                    return level, span
        return None, 1
    # No bookmarks: a short line that is not a sentence, after a finished paragraph.
    previous_done = not lines or lines[-1].kind == HEADING or _ends_sentence(lines[-1].text)
    if not (_looks_like_title(text) and previous_done and index + 1 < len(raw)):
        return None, 1
    if _PDF_MARKER.match(text) or text.endswith(("，", ",", "、")):
        return None, 1
    numbered = _numbered_heading_level(text)
    if numbered is not None:
        return numbered, 1
    if _NUMBERED.match(text):
        return 3, 1
    if _list_marker_text(text) is not None:
        return None, 1
    return 1, 1


# --- Word ----------------------------------------------------------------------------

_DOCX_HEADING = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)


def _read_docx(data: bytes, relative: str) -> _Outline:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[_Line] = []
        title: str | None = None
        for element in document.element.body.iterchildren():
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "p":
                paragraph = Paragraph(element, document)
                line = _docx_paragraph(paragraph)
                if line is None:
                    continue
                if line.kind == HEADING and line.level == 0:
                    if title is None:
                        title = line.text
                        continue
                    line.level = 1
                lines.append(line)
            elif tag == "tbl":
                lines.extend(_docx_table(Table(element, document)))
    except Exception as exc:  # python-docx raises many types (zip, XML, KeyError) on bad files
        raise LoadError(relative, f"cannot read Word document: {exc}") from exc
    return _Outline(lines=_clean(lines), title=title)


def _docx_paragraph(paragraph: object) -> _Line | None:
    text = normalize_line(str(getattr(paragraph, "text", "")))
    if not text:
        return None
    style = getattr(paragraph, "style", None)
    name = str(getattr(style, "name", "") or "")
    if name.casefold() in ("title", "标题"):
        return _Line(HEADING, text, 0)
    heading = _DOCX_HEADING.match(name)
    if heading:
        return _Line(HEADING, text, max(1, int(heading.group(1))))
    p_pr = getattr(getattr(paragraph, "_p", None), "pPr", None)
    numbered = p_pr is not None and getattr(p_pr, "numPr", None) is not None
    if numbered or name.casefold().startswith("list") or "列表" in name:
        return _Line(LIST_ITEM, strip_list_marker(text) or text)
    return _Line(PARAGRAPH, text)


def _docx_table(table: object) -> list[_Line]:
    lines = []
    for row in getattr(table, "rows", []):
        cells: list[str] = []
        for cell in row.cells:
            text = normalize_line(cell.text)
            # A merged cell is reported once per grid column it spans.
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            lines.append(_Line(PARAGRAPH, " | ".join(cells)))
    return lines


_READERS: dict[str, _Reader] = {
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".txt": _read_text,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
}
