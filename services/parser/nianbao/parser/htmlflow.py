"""HTML front end: a page → :class:`Document` (lines and table grids in reading order).

Work is pushed into C code (lexbor, the ``re`` engine); no Python code visits every node:

* chrome elements (scripts, styles, nav, …) are removed with one selector;
* each data table (one that holds no other table) is read cell by cell into a grid and replaced in the
  tree by a marker; a table that contains another table is layout, read as text;
* the report body is serialised once and turned into lines by regular expressions: block tags become
  line breaks, other tags vanish, entities are decoded, text is folded (NFKC);
* around the body only the page lines near it are kept, one text node per line: the metadata block and
  the title sit there; navigation far from the body is not rendered at all.

The body is the first known content container of the portal families (``#UCAP-CONTENT``,
``.TRS_Editor``, ``#zoom``, …) that holds all of the page's report tables; lines outside it are marked
``in_body=False``. Without such a container the whole page is the body and the analysis trims chrome by
lines.
"""

from __future__ import annotations

import html
import re
from functools import cache
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from nianbao.parser.document import Document, Grid, Item, Line
from nianbao.parser.htmlgrid import build_grid, read_rows
from nianbao.parser.normalize import clean_line, fold
from nianbao.parser.settings import ParserSettings
from nianbao.parser.vocabulary import vocabulary

BREAK = "\ue000"
TABLE_OPEN, TABLE_CLOSE = "\ue010", "\ue011"
BODY_OPEN, BODY_CLOSE = "\ue020", "\ue021"
_STRUCTURE = re.compile(f"({TABLE_OPEN}\\d+{TABLE_CLOSE}|{BODY_OPEN}|{BODY_CLOSE})")
_PRIVATE = re.compile("[\ue000-\ue0ff]")
_OUTSIDE_BEFORE = 100  # page lines kept before the body: the metadata block and the title are there
_OUTSIDE_AFTER = 40
_OUTSIDE_CHARS = 30_000
_UTF8_PRIVATE = b"\xee\x80"  # UTF-8 lead bytes of U+E000–U+E03F, where the markers are
_OUR_MARKERS = (BREAK, TABLE_OPEN, TABLE_CLOSE, BODY_OPEN, BODY_CLOSE, "\ue001")
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|li|dt|dd|h[1-6]|tr|td|th|table|tbody|thead|tfoot|caption|section|article|header|footer|"
    r"blockquote|pre|ul|ol|dl|center|address|form|fieldset|hr|br|main|aside|figure|figcaption)\b[^>]*>"
)  # lexbor serialises tag names in lower case
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_ATTACHMENT_EXT = re.compile(r"\.(?:pdf|docx?|wps|xlsx?|et|ofd|zip|rar|7z|pptx?|csv)\b", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_HREF_EXT = re.compile(r"\.(?:pdf|docx?|wps|xlsx?|et|ofd|zip|rar|7z|pptx?|csv)", re.IGNORECASE)
_LINK_END = re.compile(r"</a\s*>|<a\b", re.IGNORECASE)
_LINK_TAG = re.compile(r"<[^<>]*>")  # stops at the next "<": linear however many are unclosed
_MAX_TAG_CHARS = 4000  # an <a ...> tag longer than this is not a link
_MAX_LINK_TEXT = 2000
_REPORT_WORDS = ("第二十条", "申请人情况", "统计指标", "结果维持", "本列数据")
_METADATA_WORDS = re.compile(r"索\s*引\s*号|发布机构|成文日期|发布日期|发文字号|主题分类|信息来源")
_META_NAMES = {"articletitle", "pubdate", "contentsource", "columnname", "sitename", "keywords", "description"}


def _meta(tree: Any) -> dict[str, str]:
    """``<meta name>`` contents, and the text of the first ``<title>`` and ``<h1>``: one walk of the tree
    (a selector list matches in document order) instead of one per selector."""
    meta: dict[str, str] = {}
    first: dict[str, Any] = {}
    for node in tree.css("meta[name], title, h1"):
        tag = node.tag
        if tag != "meta":
            first.setdefault(tag, node)
            continue
        attrs = node.attrs
        name = (attrs.get("name") or "").strip().lower()
        content = attrs.get("content")
        if name in _META_NAMES and content and name not in meta:
            meta[name] = clean_line(fold(content))
    for tag in ("title", "h1"):
        node = first.get(tag)
        if node is not None:
            text = clean_line(fold(node.text(deep=True)))
            if text:
                meta[tag] = text[:300]
    return meta


def _attachments(text: str) -> list[tuple[str, str | None]]:
    """Links to documents (pdf, doc, ofd, …) with their link text, found in the page source: look for
    the file extensions first (rare), then for the ``<a`` tag around each.

    Linear in the page: the ``<`` before each extension is found by scanning only the stretch since the
    previous extension, a tag is examined once and only up to the next ``<``, and a link's text ends at
    its ``</a>`` or the next ``<a`` (never more than ``_MAX_LINK_TEXT`` characters)."""
    out: list[tuple[str, str | None]] = []
    tried: set[int] = set()
    lt, scanned = -1, 0  # the last "<" before the current extension; text[:scanned] was searched
    for ext in _ATTACHMENT_EXT.finditer(text):
        found = text.rfind("<", scanned, ext.start())
        scanned = ext.start()
        if found >= 0:
            lt = found
        start = lt
        if start < 0 or start in tried or ext.start() - start > _MAX_TAG_CHARS:
            continue
        tried.add(start)
        if text[start + 1 : start + 2] not in ("a", "A") or not text[start + 2 : start + 3].isspace():
            continue
        stop = text.find("<", start + 1, start + _MAX_TAG_CHARS)
        gt = text.find(">", start, stop if stop >= 0 else start + _MAX_TAG_CHARS)
        if gt < 0:
            continue
        href = _attachment_href(text[start:gt])
        if href is None:
            continue
        end = _LINK_END.search(text, gt + 1, gt + 1 + _MAX_LINK_TEXT)
        link_text = text[gt + 1 : end.start()] if end is not None else ""
        name = clean_line(fold(html.unescape(_LINK_TAG.sub("", link_text))))[:200]
        out.append((href, name or None))
    return out


def _attachment_href(tag: str) -> str | None:
    """The document link of one ``<a ...`` tag: its href up to the last document extension (and the query
    or fragment right after it), unescaped; None for other links and script or mail links."""
    m = _HREF.search(tag)
    if m is None:
        return None
    value = m.group(1)
    ends = [m.end() for m in _HREF_EXT.finditer(value)]
    if not ends:
        return None
    cut = ends[-1]
    href = value if value[cut : cut + 1] in ("?", "#") else value[:cut]
    href = html.unescape(href).strip()
    if not href or href.lower().startswith(("javascript:", "mailto:")):
        return None
    return href


@cache
def _selector_hints() -> list[tuple[str, str]]:
    """Per content selector, a word its element must leave in the source (``zoom`` for ``#zoom``)."""
    return [(selector, re.split(r"[.#]", selector)[-1]) for selector in vocabulary().section("html")["content"]]


def _body_root(tree: Any, source: str, report_tables: set[int]) -> Any | None:
    """The portal's content container holding every report table (by ``mem_id``), if there is one.

    Selectors whose id or class the page source does not even mention are not run (each costs a walk)."""
    for selector, hint in _selector_hints():  # in the catalogue's order of preference
        if hint not in source:  # a substring test is far cheaper than a walk of the tree
            continue
        for node in tree.css(selector)[:3]:
            if len(node.text(deep=True)) >= 200 and report_tables <= {t.mem_id for t in node.css("table")}:
                return node
    return None


def _data_tables(top: Any) -> list[tuple[int, Any]]:
    """``(index, table)`` of the tables that hold no other table (the others are layout), by index among
    all tables in document order.

    Linear in the tree: each table walks up to its nearest table ancestor, and a walk stops at the
    first node already walked (whose nearest table ancestor is known), so no node is climbed twice,
    however deeply tables nest (asking each table for the tables inside it is quadratic)."""
    all_tables = top.css("table")
    nearest: dict[int, int | None] = {}  # mem_id of a walked node → mem_id of its nearest table ancestor
    holders: set[int] = set()
    top_id = top.mem_id
    for table in all_tables:
        path: list[int] = []
        node = table.parent
        found: int | None = None
        while node is not None and node.mem_id != top_id:
            mem_id = node.mem_id
            if node.tag == "table":
                found = mem_id
                break
            if mem_id in nearest:
                found = nearest[mem_id]
                break
            path.append(mem_id)
            node = node.parent
        for mem_id in path:
            nearest[mem_id] = found
        if found is not None:
            holders.add(found)
    return [(index, table) for index, table in enumerate(all_tables) if table.mem_id not in holders]


def _drop_chrome(tree: Any) -> None:
    # Children before parents: a freed parent must not be touched again.
    for node in reversed(tree.css(", ".join(vocabulary().section("html")["drop"]))):
        node.decompose()


def html_document(text: str, *, settings: ParserSettings, utf8: bytes | None = None) -> Document:
    """Render a page into lines and grids. ``utf8``: the page's bytes when they are UTF-8 (lexbor reads
    UTF-8 bytes directly, which spares encoding ``text`` again)."""
    source: str | bytes = text
    if utf8 is not None and _UTF8_PRIVATE not in utf8:
        source = utf8
    elif any(marker in text for marker in _OUR_MARKERS):  # a page must not forge the flow's markers
        text = source = _PRIVATE.sub("", text)
    tree = LexborHTMLParser(source)
    meta = _meta(tree)
    attachments = _attachments(text)
    _drop_chrome(tree)
    top = tree.body or tree.root
    if top is None:
        return Document(items=[], kind="html", meta=meta, attachments=attachments)
    tables = [(index, table, table.text(deep=True)) for index, table in _data_tables(top)]
    root = _body_root(tree, text, {t.mem_id for _, t, words in tables if any(w in words for w in _REPORT_WORDS)})
    grids: dict[int, Grid] = {}
    warnings: list[tuple[str, str | None, str | None]] = []
    root_tables = {t.mem_id for t in root.css("table")} if root is not None else None
    for index, table, words in tables:
        in_body = root_tables is None or table.mem_id in root_tables
        if not in_body and not _METADATA_WORDS.search(words):
            continue  # page chrome laid out as a table
        grid = build_grid(read_rows(table), index=index, settings=settings, in_body=in_body)
        if grid.skipped:
            warnings.append(("table_too_large", f"html.table[{index}]", grid.skipped))
        grids[index] = grid
        table.replace_with(f"{TABLE_OPEN}{index}{TABLE_CLOSE}")
    flow = _flow_text(top.html or "") if root is None else _outside_and_body(top, root)
    items = _split_flow(flow, grids, has_root=root is not None)
    return Document(items=items, kind="html", meta=meta, attachments=attachments, warnings=warnings)


def _outside_and_body(top: Any, root: Any) -> str:
    """The body rendered block by block; around it only the page lines near it (where the metadata block
    and the title sit), one text node per line: navigation far from the body is not worth rendering."""
    body = _flow_text(root.html or "")
    root.replace_with(BODY_OPEN)
    before, _, after = top.text(deep=True, separator=BREAK).partition(BODY_OPEN)
    # Fold only what may be kept: the text near the body.
    before = clean_line(fold(before[-_OUTSIDE_CHARS:]))  # (lines are stripped again in _split_flow)
    after = clean_line(fold(after[:_OUTSIDE_CHARS]))
    # Whitespace-only pieces are common between text nodes: look a few times further than we keep.
    head = [t for t in before.rsplit(BREAK, 4 * _OUTSIDE_BEFORE) if t.strip()][-_OUTSIDE_BEFORE:]
    tail = [t for t in after.split(BREAK, 4 * _OUTSIDE_AFTER) if t.strip()][:_OUTSIDE_AFTER]
    return BREAK.join(head) + BODY_OPEN + body + BODY_CLOSE + BREAK.join(tail)


def _flow_text(serialised: str) -> str:
    """Text of serialised HTML with a break at every block boundary; tags dropped, entities decoded,
    whitespace runs collapsed (breaks are not whitespace) and the ends stripped (_split_flow strips every
    line anyway)."""
    flow = _BLOCK_TAG.sub(BREAK, _COMMENT.sub("", serialised))
    return clean_line(fold(html.unescape(_TAG.sub("", flow))))


def _split_flow(flow: str, grids: dict[int, Grid], *, has_root: bool) -> list[Item]:
    items: list[Item] = []
    in_body = not has_root
    for piece in _STRUCTURE.split(flow):  # table and body markers are few; breaks are many
        if piece == BODY_OPEN:
            in_body = True
        elif piece == BODY_CLOSE:
            in_body = False
        elif piece.startswith(TABLE_OPEN) and piece.endswith(TABLE_CLOSE):
            grid = grids.get(int(piece[1:-1]))
            if grid is not None:
                grid.in_body = in_body
                items.append(grid)
        else:
            start = len(items) + 1
            texts = [t for t in (c.strip() for c in piece.split(BREAK)) if t]
            items.extend(
                Line(t, start + i, in_body, "|" in t and t != "|") for i, t in enumerate(texts)
            )
    return items
