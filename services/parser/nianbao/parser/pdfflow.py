"""PDF front end: a PDF → :class:`Document` (text lines and ruled-table grids in reading order).

One pdfplumber (pdfminer) pass per page: the ruled tables come from the line finder
(``find_tables`` with the ``lines`` strategies), their cells become a :class:`Grid` whose cells carry
page and box; every character outside them becomes text lines, ordered with the tables by position so
a part's heading precedes its table. Then, over the whole document:

* running headers and footers (page numbers ``- 3 -``, ``第3页``, ``3/12``, or a line repeated in the
  page margin on most pages) are dropped: they must never be read as values;
* a table that ends its page and one that starts the next with the same column boundaries are one table;
* a bordered box around prose (a one-cell "table") is text;
* the lines of one paragraph wrapped by the page width are joined into one line.

Input is checked first (:mod:`nianbao.parser.pdfguard`). Scanned pages (too few characters and an image)
are counted in a ``scanned_document`` warning; pages left when the time runs out in ``pages_skipped``.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from nianbao.parser.document import Document, Item, Line
from nianbao.parser.errors import UnusableInput
from nianbao.parser.normalize import clean_line, fold
from nianbao.parser.pdfgrid import Char, PdfTable, Warning, append_table, build_table, continues, line_text, text_lines
from nianbao.parser.pdfguard import check_pdf_bytes, close_pdf, open_pdf, page_list
from nianbao.parser.settings import ParserSettings

TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–－_~·•\s]*\d{1,4}[-—–－_~·•\s]*|第\s*\d+\s*页.{0,8}|共\s*\d+\s*页.{0,8}|\d+\s*/\s*\d+|"
    r"page\s*\d+(?:\s*of\s*\d+)?|p\.\s*\d+)$",
    re.IGNORECASE,
)
_MARGIN = 0.1  # the top and bottom tenth of a page is where running headers and footers sit
_DIGITS = re.compile(r"\d+")
_FRONT_END_SHARE = 0.8  # of the parser's time budget, when the caller gives no deadline


@dataclass
class _Text:
    """One line of text on a page."""

    text: str
    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    margin: bool  # in the page's header or footer band


Placed = _Text | PdfTable


def pdf_document(data: bytes, settings: ParserSettings, *, deadline: float | None = None) -> Document:
    """Read a PDF into a document. ``deadline`` (``time.monotonic()``): pages still unread then are
    skipped with a warning; by default most of ``settings.time_budget_s`` from now."""
    check_pdf_bytes(data, settings)
    if deadline is None:
        deadline = time.monotonic() + settings.time_budget_s * _FRONT_END_SHARE
    pdf = open_pdf(data, settings)
    try:
        pages = page_list(pdf, settings)
        placed, warnings, meta = _read_pages(pdf, pages, settings, deadline)
    finally:
        close_pdf(pdf)
    placed = _drop_running(placed, len(pages))
    placed = _join_tables(placed)
    items: list[Item] = []
    grid_index = 0
    for thing in _join_paragraphs(placed):
        if isinstance(thing, PdfTable):
            grid = thing.to_grid(grid_index, settings)
            grid_index += 1
            warnings.extend(thing.warnings(grid.index))
            if grid.skipped:
                warnings.append(("table_too_large", f"pdf.table[{grid.index}]", grid.skipped))
            items.append(grid)
        else:
            items.append(Line(thing.text, len(items) + 1))
    return Document(items=items, kind="pdf", meta=meta, warnings=warnings)


def _read_pages(
    pdf: Any, pages: list[Any], settings: ParserSettings, deadline: float
) -> tuple[list[Placed], list[Warning], dict[str, str]]:
    placed: list[Placed] = []
    warnings: list[Warning] = []
    scanned = unreadable = 0
    read = 0
    for page in pages:
        if time.monotonic() > deadline:
            warnings.append(("pages_skipped", None, f"pages {read + 1}–{len(pages)} of {len(pages)} not read: "
                             "the time budget ran out"))  # fmt: skip
            break
        read += 1
        try:
            found, is_scanned = _read_page(page, settings.scanned_min_chars_per_page)
        except UnusableInput:
            raise
        except Exception as exc:  # a damaged content stream spoils its page, not the document
            unreadable += 1
            warnings.append(("pages_skipped", f"pdf.page[{page.page_number}]", f"unreadable: {str(exc)[:120]}"))
            continue
        finally:
            page.close()
        scanned += is_scanned
        placed.extend(found)
    if unreadable and unreadable == read:
        raise UnusableInput("corrupt", f"none of the PDF's {read} pages could be read")
    if scanned:
        warnings.append(
            (
                "scanned_document",
                None,
                f"{scanned} of {len(pages)} pages have no text layer "
                f"(fewer than {settings.scanned_min_chars_per_page} characters and an image)",
            )
        )
    return placed, warnings, _meta(pdf)


def _read_page(page: Any, min_chars: int) -> tuple[list[Placed], bool]:
    number = page.page_number
    height = float(page.height)
    chars: list[Char] = page.chars
    found = page.find_tables(TABLE_SETTINGS)
    tables: list[PdfTable] = []
    boxes = []
    for table in found:
        inside = [ch for ch in chars if _in_box(ch, table.bbox)]
        pdf_table = build_table(table.cells, inside, number, table.bbox)
        if pdf_table.is_prose():
            continue  # a box around text: its characters are read as lines
        tables.append(pdf_table)
        boxes.append(table.bbox)
    outside = [ch for ch in chars if not any(_in_box(ch, box) for box in boxes)]
    texts: list[Placed] = []
    for line in text_lines(outside):
        text = clean_line(fold(line_text(line)))
        if not text:
            continue
        top, bottom = min(ch["top"] for ch in line), max(ch["bottom"] for ch in line)
        margin = bottom < height * _MARGIN or top > height * (1 - _MARGIN)
        texts.append(_Text(text, number, line[0]["x0"], line[-1]["x1"], top, bottom,
                           max(ch["size"] for ch in line), margin))  # fmt: skip
    placed: list[Placed] = sorted([*texts, *tables], key=lambda p: p.top if isinstance(p, _Text) else p.bbox[1])
    visible = sum(1 for ch in chars if not ch["text"].isspace())
    scanned = visible < min_chars and bool(page.images)
    return placed, scanned


def _in_box(ch: Char, box: tuple[float, float, float, float]) -> bool:
    x: float = (ch["x0"] + ch["x1"]) / 2
    y: float = (ch["top"] + ch["bottom"]) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _meta(pdf: Any) -> dict[str, str]:
    """The document's ``/Title``, when it has a readable one (a damaged one is left out, never an error)."""
    from pdfminer.pdftypes import resolve1

    meta: dict[str, str] = {}
    try:
        infos = list(pdf.doc.info or [])
    except Exception:
        return meta
    for info in infos:
        try:
            value = resolve1(info.get("Title")) if isinstance(info, dict) else None
        except Exception:
            continue
        if isinstance(value, bytes):
            utf16 = value[:2] in (b"\xfe\xff", b"\xff\xfe")
            value = value.decode("utf-16", errors="replace") if utf16 else value.decode("latin-1")
        if isinstance(value, str) and clean_line(fold(value)):
            meta["title"] = clean_line(fold(value))[:300]
    return meta


def _drop_running(placed: list[Placed], n_pages: int) -> list[Placed]:
    """Without page numbers and the lines repeated in the margin band of most pages."""
    margin_pages: Counter[str] = Counter()
    for thing in placed:
        if isinstance(thing, _Text) and thing.margin:
            margin_pages[_DIGITS.sub("#", thing.text)] += 1
    repeated = {text for text, n in margin_pages.items() if n >= 2 and n * 2 >= n_pages}
    return [
        thing for thing in placed
        if not (isinstance(thing, _Text) and thing.margin
                and (_PAGE_NUMBER.match(thing.text) or _DIGITS.sub("#", thing.text) in repeated))
    ]  # fmt: skip


def _join_tables(placed: list[Placed]) -> list[Placed]:
    """A table that ends its page followed by one that starts the next page, on the same columns: one."""
    out: list[Placed] = []
    for thing in placed:
        previous = out[-1] if out else None
        if isinstance(thing, PdfTable) and isinstance(previous, PdfTable):
            bounds = continues(previous, thing)
            if bounds is not None:
                append_table(previous, thing, bounds)
                continue
        out.append(thing)
    return out


def _join_paragraphs(placed: list[Placed]) -> list[Placed]:
    """Lines of one paragraph (the previous line reaches the right margin, the next is not indented and
    has the same size) joined into one."""
    texts = [t for t in placed if isinstance(t, _Text)]
    if not texts:
        return placed
    left = Counter(round(t.x0) for t in texts).most_common(1)[0][0]
    right = max(t.x1 for t in texts)
    out: list[Placed] = []
    for thing in placed:
        previous = out[-1] if out else None
        if (
            isinstance(thing, _Text)
            and isinstance(previous, _Text)
            and abs(thing.size - previous.size) < 0.5
            and previous.x1 >= right - 1.5 * previous.size
            and thing.x0 <= left + thing.size
            and (thing.page == previous.page + 1 or 0 <= thing.top - previous.bottom < thing.size * 1.2)
        ):
            out[-1] = _Text(
                previous.text + thing.text,
                thing.page,
                previous.x0,
                thing.x1,
                thing.top,
                thing.bottom,
                thing.size,
                False,
            )
            continue
        out.append(thing)
    return out
