"""Removing web-page and export chrome from material text.

Course materials often arrive as pages saved from document-sharing sites, exported PDFs
or intranet HTML. Around the real text they carry download and VIP notices, copyright
disclaimers, author cards, comment widgets, "related documents" lists, cookie banners
and page furniture (running headers, footers, page numbers). None of that may be
retrieved or quoted, so it is removed before the text is structured and chunked.

The rules are deliberately narrow: a line is chrome when it carries a phrase that only
such boilerplate uses, or when it is a *short* line made of a widget label. A sentence of
real prose that merely mentions 版权 or privacy keeps its place.

Typical use::

    kept = clean_lines(lines)             # lines of one document, in reading order
    pages = strip_repeated(page_lines)    # per-page lines of a PDF, before joining them
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter

logger = logging.getLogger(__name__)

SHORT_LINE = 40
"""Lines up to this many characters can be widget labels (查看更多, Sign in, ...)."""

REPEATED_LINE_MIN_COUNT = 5
"""A short line seen this often in one document is a running header or footer."""

TRAILING_SECTION_SHARE = 0.3
"""A "related documents" heading this close to the end cuts off everything after it."""

_CJK = (
    r"\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
)
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))

# A list marker in front of a line: "- ", "• ", "1. ", "1、", "(1)", "①" (possibly two of
# them, as in a saved page's "1. 1、本文档共10页").
_LIST_MARKER = re.compile(
    r"^\s*(?:(?:[-*+•·●▪◦]|\d{1,3}\s*(?:[.．](?!\d)|[、)）])|[（(]\d{1,3}[)）]|[①-⑳])\s*){1,2}"
)

# Phrases that only download / VIP / copyright / author-card boilerplate uses; a line
# carrying one is chrome whatever its length.
_NOTICE_PHRASES = re.compile(
    "|".join(
        (
            r"本文档共\s*\d+\s*页",
            r"VIP\S{0,4}文档",
            r"下载本文档",
            r"下载权益",
            r"二次下载",
            r"一经付费",
            r"付费前请自行鉴别",
            r"本站不对文档",
            r"本站所有内容均由",
            r"版权申诉",
            r"侵权必究",
            r"举报电话",
            r"联系\s*QQ",
            r"QQ\s*[:：]\s*\d{5,}",
            r"网站大量收购",
            r"文档评论\s*[(（]\s*\d+\s*[)）]",
            r"该用户于.{0,30}上传",
            r"\ball rights reserved\b",
        )
    ),
    re.IGNORECASE,
)

# Lines that start with these are notices (免责声明：本站所提供的内容…), however long.
_NOTICE_START = re.compile(
    r"^(?:免责声明|版权声明|特别声明|声明：本站|disclaimer\s*[:：]|we use cookies|this (?:site|website) uses cookies)",
    re.IGNORECASE,
)

# Widget labels: chrome only on a short line that is not a sentence. Most must open the
# line ("相关文档…", "Sign in"), so a short sentence that uses the same words survives.
_WIDGET_START = re.compile(
    r"^(?:查看更多|相关文档|上传文档|相关推荐|猜你喜欢|阅读全文|展开全文|版权所有|立即下载|分享到|扫码"
    r"|返回顶部|(?:登录|注册|登录\s*/\s*注册|首页|收藏|分享|举报|打印|下载|点赞|评论|关注"
    r"|实名认证|文档贡献者|领域认证|机构认证)$"
    r"|cookies?\b|cookie settings|manage cookies|accept (?:all|cookies)|reject (?:all|optional)"
    r"|subscribe\b|newsletter\b|share (?:this|on)\b|sign (?:in|up|out)$|log ?(?:in|out)$"
    r"|download (?:pdf|now)\b|related (?:articles?|posts?|documents?|reading)\b|read more\b"
    r"|back to top\b|skip to (?:main )?content\b|terms of (?:use|service)$|follow us\b)",
    re.IGNORECASE,
)
# Labels that never occur in course prose, wherever they sit in a short line.
_WIDGET_ANYWHERE = re.compile(r"[+＋]\s*关注$|精品文档|下载券|原创力文档|©|\(c\)\s*\d{4}", re.I)

# A saved file name as page heading, e.g. "用户规模管理培训规范.docxVIP".
_FILE_NAME_LINE = re.compile(r"^\S.{0,80}\.(?:docx?|pdf|pptx?|xlsx?|txt|wps)\s*(?:VIP)?$", re.I)

# The heading of a trailing "related documents" block.
_RELATED_HEADING = re.compile(
    r"^(?:相关文档|相关推荐|相关阅读|猜你喜欢|更多相关|related (?:articles?|posts?|documents?|reading)"
    r"|you may also like)",
    re.IGNORECASE,
)

# Author-card labels; the few short lines after one (the author's name, credentials,
# motto) belong to the card too.
_AUTHOR_CARD = re.compile(
    r"[+＋]\s*关注$|^(?:实名认证|文档贡献者)$|该用户于.{0,30}上传|^about the author$", re.I
)
_AUTHOR_CARD_REACH = 6
_HEADING_NUMBER = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）]|第\S{1,4}[章节部篇])"
)

_PAGE_NUMBER = re.compile(
    r"^(?:第\s*\d+\s*页(?:\s*[/／,，]?\s*共\s*\d+\s*页)?"
    r"|共\s*\d+\s*页\s*第\s*\d+\s*页"
    r"|[-–—]\s*\d+\s*[-–—]"
    r"|page\s+\d+(?:\s*(?:of|/)\s*\d+)?"
    r"|p\.\s*\d+"
    r"|\d+\s*/\s*\d+)$",
    re.IGNORECASE,
)
_BARE_NUMBER = re.compile(r"^\d{1,4}$")
_LETTERS = re.compile(rf"[A-Za-z{_CJK}]")
_SENTENCE_END = tuple("。！？；.!?;")
_PAGE_EDGE = 3
_REPEATED_PAGE_SHARE = 0.6


def normalize_line(text: str) -> str:
    """Normalise one line's whitespace and invisible characters.

    Non-breaking and ideographic spaces become plain spaces, zero-width characters go,
    runs of whitespace shrink to one space, and a space between two CJK characters (left
    by line wrapping in HTML or PDF) is dropped.

    Args:
        text: a line of extracted text.

    Returns:
        The line, stripped.
    """
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = " ".join(text.replace("\u00a0", " ").replace("\u3000", " ").split())
    return _SPACE_BETWEEN_CJK.sub("", text)


def strip_list_marker(line: str) -> str:
    """The line without a leading bullet or number (``1、``, ``- ``, ``(2)``, ``①``)."""
    return _LIST_MARKER.sub("", line, count=1).strip()


def is_page_number(line: str) -> bool:
    """Whether a line is a page counter such as ``第 3 页``, ``- 3 -`` or ``Page 3 of 9``.

    A bare number is not counted here: it can be a list marker in extracted PDF text, so
    ``strip_repeated`` only removes bare numbers that sit at the same place on most pages.
    """
    return bool(_PAGE_NUMBER.match(normalize_line(line)))


def is_chrome(line: str) -> bool:
    """Whether one line, on its own, is web-page or export chrome.

    Args:
        line: a line of text; a leading list marker is ignored.

    Returns:
        ``True`` for notices (download, VIP, payment, copyright, disclaimer), contact and
        marketing lines, comment widgets, author-card labels, page counters, and short
        widget labels (``查看更多``, ``Sign in``, ``Cookie settings``, ...).
    """
    text = normalize_line(line)
    if not text:
        return False
    body = strip_list_marker(text) or text
    if _NOTICE_PHRASES.search(body) or _NOTICE_START.match(body):
        return True
    if is_page_number(text) or is_page_number(body) or _FILE_NAME_LINE.match(body):
        return True
    if len(body) > SHORT_LINE:
        return False
    if _WIDGET_ANYWHERE.search(body):
        return True
    return not body.endswith(_SENTENCE_END) and bool(_WIDGET_START.match(body))


def chrome_mask(lines: list[str], *, protected: set[int] | None = None) -> list[bool]:
    """Decide, for each line of one document, whether to keep it.

    Beyond ``is_chrome`` line by line, this looks at the lines' neighbourhood: a run of
    list items that is mostly notices is dropped whole (the site's numbered notice list),
    the short lines after an author-card label go with it, a "related documents" heading
    near the end cuts off the rest of the document, a short line repeated throughout the
    document is a running header, and a line repeating the one before it is dropped.

    Args:
        lines: the document's lines in reading order; blank lines are allowed (they are
            kept, so callers that rely on paragraph breaks can pass raw text lines).
        protected: indexes that must be kept whatever they say (e.g. code blocks).

    Returns:
        One flag per line, ``True`` to keep it.
    """
    protected = protected or set()
    texts = [normalize_line(line) for line in lines]
    keep = [not (text and is_chrome(text)) for text in texts]
    _drop_notice_runs(texts, keep)
    _drop_author_cards(texts, keep)
    _drop_trailing_related(texts, keep)
    _drop_repeated(texts, keep)
    _drop_consecutive_duplicates(texts, keep)
    for index in protected:
        keep[index] = True
    dropped = sum(1 for text, flag in zip(texts, keep, strict=True) if text and not flag)
    if dropped:
        logger.debug("cleaning dropped %d of %d lines", dropped, len(lines))
    return keep


def clean_lines(lines: list[str]) -> list[str]:
    """The document's lines without chrome, normalised (blank lines are kept).

    Args:
        lines: the document's lines in reading order.

    Returns:
        The kept lines, each passed through ``normalize_line``.
    """
    keep = chrome_mask(lines)
    return [normalize_line(line) for line, flag in zip(lines, keep, strict=True) if flag]


def strip_repeated(pages: list[list[str]]) -> list[list[str]]:
    """Remove running headers, footers and page numbers from per-page lines.

    Only the first and last few lines of each page are candidates. A line (compared with
    its digits masked, so "Chapter 2 · page 7" matches "Chapter 2 · page 8") that appears
    there on most pages is page furniture, as is a page counter (``第 3 页``, ``- 3 -``,
    ``Page 3 of 9``). A bare number is removed only when most pages have one in the same
    place, since a lone digit can also be a list marker.

    Args:
        pages: each page's lines, in order.

    Returns:
        The pages with those lines removed (the input is not modified).
    """
    pages = [[normalize_line(line) for line in page if normalize_line(line)] for page in pages]
    if not pages:
        return []
    needed = max(2, math.ceil(_REPEATED_PAGE_SHARE * len(pages)))
    edge_counts: Counter[str] = Counter()
    for page in pages:
        edge_counts.update({_furniture_key(line) for line in _edges(page)})
    repeated = {
        key
        for key, count in edge_counts.items()
        if count >= needed and len(_LETTERS.findall(key)) >= 2
    }
    first_numbered = sum(1 for page in pages if page and _BARE_NUMBER.match(page[0]))
    last_numbered = sum(1 for page in pages if page and _BARE_NUMBER.match(page[-1]))
    # One page: a lone number under the text is its page number.
    bare_needed = needed if len(pages) > 1 else 1
    result = []
    for page in pages:
        edge = set(range(min(_PAGE_EDGE, len(page)))) | set(
            range(max(0, len(page) - _PAGE_EDGE), len(page))
        )
        kept = []
        for index, line in enumerate(page):
            if index in edge and (_furniture_key(line) in repeated or is_page_number(line)):
                continue
            if _BARE_NUMBER.match(line) and (
                (index == 0 and first_numbered >= bare_needed and len(pages) > 1)
                or (index == len(page) - 1 and last_numbered >= bare_needed)
            ):
                continue
            kept.append(line)
        result.append(kept)
    return result


def _edges(page: list[str]) -> list[str]:
    if len(page) <= 2 * _PAGE_EDGE:
        return page
    return page[:_PAGE_EDGE] + page[-_PAGE_EDGE:]


def _furniture_key(line: str) -> str:
    return re.sub(r"\d+", "#", line.replace(" ", ""))


def _drop_notice_runs(texts: list[str], keep: list[bool]) -> None:
    """Drop a run of list items when most of it is notices (the items in between too)."""
    start = 0
    while start < len(texts):
        if not _LIST_MARKER.match(texts[start]) or not texts[start]:
            start += 1
            continue
        end = start
        while end < len(texts) and texts[end] and _LIST_MARKER.match(texts[end]):
            end += 1
        run = range(start, end)
        chrome = sum(1 for index in run if not keep[index])
        if chrome >= 2 and chrome * 2 >= len(run):
            for index in run:
                keep[index] = False
        start = end


def _drop_author_cards(texts: list[str], keep: list[bool]) -> None:
    index = 0
    while index < len(texts):
        if texts[index] and _AUTHOR_CARD.search(texts[index]) and len(texts[index]) <= SHORT_LINE:
            keep[index] = False
            reach = 0
            follow = index + 1
            while follow < len(texts) and reach < _AUTHOR_CARD_REACH:
                text = texts[follow]
                if text:
                    if len(text) > SHORT_LINE or _HEADING_NUMBER.match(text):
                        break
                    keep[follow] = False
                    reach += 1
                follow += 1
            index = follow
        else:
            index += 1


def _drop_trailing_related(texts: list[str], keep: list[bool]) -> None:
    total = sum(len(text) for text in texts) or 1
    seen = 0
    for index, text in enumerate(texts):
        if text and len(text) <= SHORT_LINE and _RELATED_HEADING.match(text):
            if seen / total >= 1 - TRAILING_SECTION_SHARE:
                for rest in range(index, len(texts)):
                    keep[rest] = False
                return
            # Mid-document: drop the heading and the link titles listed under it.
            keep[index] = False
            for follow in range(index + 1, len(texts)):
                link = texts[follow]
                if not link or len(link) > SHORT_LINE or link.endswith(_SENTENCE_END):
                    break
                keep[follow] = False
        seen += len(text)


def _drop_repeated(texts: list[str], keep: list[bool]) -> None:
    # Compared exactly (digits not masked): "第1章 概述" … "第5章 概述" are headings.
    counts = Counter(
        text for text in texts if len(text) <= SHORT_LINE and len(_LETTERS.findall(text)) >= 2
    )
    repeated = {text for text, count in counts.items() if count >= REPEATED_LINE_MIN_COUNT}
    for index, text in enumerate(texts):
        if text in repeated:
            keep[index] = False


def _drop_consecutive_duplicates(texts: list[str], keep: list[bool]) -> None:
    previous = None
    for index, text in enumerate(texts):
        if not text or not keep[index]:
            continue
        if text == previous:
            keep[index] = False
        previous = text
