"""DOCX front end: a Word package → :class:`Document` (paragraphs and table grids in body order).

The package is checked first (:mod:`nianbao.parser.zipguard`: size, zip damage, bombs, DTDs), then
python-docx opens it; its lxml parser does not resolve entities, and external relationships (an attached
template, a linked image URL) are only recorded by python-docx, never fetched. The body's children are
read in order:

* ``w:p`` → one :class:`Line` per line of the paragraph (``w:br`` breaks it, as ``<br>`` does in HTML);
* ``w:tbl`` → a :class:`Grid`; ``w:gridSpan`` is a colspan, ``w:vMerge`` restart/continue a rowspan,
  ``w:gridBefore`` leaves grid columns empty; each source cell keeps its top-left grid position, which
  is what ``cells[].at`` reports (``table_index`` counts the body's top-level tables from 0);
* ``w:sdt`` (content controls) and ``w:customXml`` are looked into; everything else (section
  properties, bookmarks) is skipped. Headers, footers, footnotes and comments are not read.

A table nested in a cell is flattened into the cell's text, rows one after the other; nesting deeper than
:data:`MAX_NESTING` is dropped with a ``table_too_large`` warning.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from nianbao.parser.document import Document, Grid, GridCell, Item, Line
from nianbao.parser.errors import UnusableInput
from nianbao.parser.normalize import clean_line, fold
from nianbao.parser.settings import ParserSettings
from nianbao.parser.zipguard import check_package

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_P, _TBL, _TR, _TC = f"{{{W}}}p", f"{{{W}}}tbl", f"{{{W}}}tr", f"{{{W}}}tc"
_SDT, _SDT_CONTENT, _CUSTOM_XML = f"{{{W}}}sdt", f"{{{W}}}sdtContent", f"{{{W}}}customXml"
_T, _TAB, _BR, _CR = f"{{{W}}}t", f"{{{W}}}tab", f"{{{W}}}br", f"{{{W}}}cr"
_VAL, _W_ATTR = f"{{{W}}}val", f"{{{W}}}w"
_RUN_PARTS = etree.XPath(
    "./descendant::w:r[not(ancestor::mc:Fallback)]/*[self::w:t or self::w:tab or self::w:br or self::w:cr]",
    namespaces={"w": W, "mc": MC},
)
_BREAK = "\n"
MAX_NESTING = 3  # tables in tables in tables; deeper ones are layout gone wrong (or an attack)
SLIVER_TWIPS = 20  # 1 pt: a grid column narrower than this holds no text
MAX_CELL_CHARS = 20_000  # a cell's text is cut here: no real cell is near it
_CONTAINERS = (_SDT, _SDT_CONTENT, _CUSTOM_XML)


def docx_document(data: bytes, settings: ParserSettings) -> Document:
    """Read a DOCX into lines and grids; :class:`UnusableInput` when the package is unusable or hostile."""
    check_package(data, settings, main_part="word/document.xml", what="DOCX")
    body = _open_body(data)
    items: list[Item] = []
    warnings: list[tuple[str, str | None, str | None]] = []
    tables = 0
    for element in _body_children(body):
        if element.tag == _P:
            start = len(items) + 1
            texts = [t for t in (clean_line(part) for part in _paragraph_text(element).split(_BREAK)) if t]
            items.extend(Line(t, start + i, True, "|" in t and t != "|") for i, t in enumerate(texts))
        elif element.tag == _TBL:
            grid = _table_grid(element, index=tables, settings=settings, warnings=warnings)
            if grid.skipped:
                warnings.append(("table_too_large", f"docx.table[{tables}]", grid.skipped))
            items.append(grid)
            tables += 1
    return Document(items=items, kind="docx", warnings=warnings)


def _open_body(data: bytes) -> Any:
    import docx  # python-docx only for documents that need it
    from docx.opc.exceptions import PackageNotFoundError

    try:
        word = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise UnusableInput("corrupt", f"the DOCX cannot be opened: {exc}") from exc
    except Exception as exc:  # lxml's XMLSyntaxError and python-docx's own errors on a damaged part
        if type(exc).__module__.startswith(("lxml", "docx")):
            raise UnusableInput("corrupt", f"the DOCX cannot be opened: {exc}") from exc
        raise
    body = word.element.body
    if body is None:  # pragma: no cover - python-docx adds a body when the part has none
        raise UnusableInput("corrupt", "the DOCX has no body")
    return body


def _body_children(parent: Any) -> Iterator[Any]:
    """Paragraphs and tables in body order, looking into content controls."""
    for child in parent.iterchildren():
        tag = child.tag
        if tag in (_P, _TBL):
            yield child
        elif tag in _CONTAINERS:
            yield from _body_children(child)


def _paragraph_text(p: Any) -> str:
    """The paragraph's text, folded; ``w:br``/``w:cr`` become line breaks, tabs spaces. Field codes
    (``w:instrText``), deleted text and the fallback copy of a text box are not text."""
    parts = []
    for node in _RUN_PARTS(p):
        tag = node.tag
        if tag == _T:
            parts.append(node.text or "")
        elif tag == _TAB:
            parts.append(" ")
        else:
            parts.append(_BREAK)
    return fold("".join(parts))


def _cell_text(tc: Any, depth: int, warnings: list[tuple[str, str | None, str | None]]) -> str:
    """A cell's paragraphs joined by a space (as a browser shows ``<p>``\\ s in a ``<td>``, folded into
    one line); a nested table's cells follow in reading order."""
    pieces: list[str] = []
    size = 0
    for child in _body_children(tc):
        if child.tag == _P:
            text = clean_line(_paragraph_text(child))
        elif depth >= MAX_NESTING:
            warnings.append(("table_too_large", "docx.nested_table", f"a table nested deeper than {MAX_NESTING}"))
            continue
        else:
            text = " ".join(
                _cell_text(inner, depth + 1, warnings) for tr in child.iterchildren(_TR) for inner in _row_cells(tr)
            )
            text = clean_line(text)
        if text:
            pieces.append(text)
            size += len(text)
            if size > MAX_CELL_CHARS:
                break
    return clean_line(" ".join(pieces))[:MAX_CELL_CHARS]


def _row_cells(tr: Any) -> Iterator[Any]:
    """A row's cells, looking into content controls around them."""
    for child in tr.iterchildren():
        if child.tag == _TC:
            yield child
        elif child.tag in _CONTAINERS:
            yield from _row_cells(child)


def _int_val(element: Any, default: int, *, attr: str = "") -> int:
    if element is None:
        return default
    value = element.get(attr or _VAL) or ""
    digits = value[:6]
    return int(digits) if digits.isdigit() else default


def _table_grid(
    tbl: Any, *, index: int, settings: ParserSettings, warnings: list[tuple[str, str | None, str | None]]
) -> Grid:
    """Place a ``w:tbl``'s cells on a grid, honouring gridBefore, gridSpan and vMerge, within the limits
    an HTML table has (columns, cells, row spans)."""
    max_cols = settings.max_table_columns
    # Per row: (start column, colspan, merge state, tc); merge state None, "restart" or "continue".
    layout: list[list[tuple[int, int, str | None, Any]]] = []
    total = 0
    for tr in tbl.iterchildren(_TR):
        col = _int_val(tr.find(f"{{{W}}}trPr/{{{W}}}gridBefore"), 0)
        row: list[tuple[int, int, str | None, Any]] = []
        for tc in _row_cells(tr):
            pr = tc.find(f"{{{W}}}tcPr")
            span = min(max(_int_val(pr.find(f"{{{W}}}gridSpan") if pr is not None else None, 1), 1), max_cols)
            vmerge = pr.find(f"{{{W}}}vMerge") if pr is not None else None
            state = None if vmerge is None else ("restart" if vmerge.get(_VAL) == "restart" else "continue")
            if col + span > max_cols:
                return Grid(index, [], 0, skipped=f"more than {max_cols} columns")
            row.append((col, span, state, tc))
            col += span
        total += max(col, 1)
        if total > settings.max_table_cells:
            return Grid(index, [], 0, skipped=f"more than {settings.max_table_cells} cells")
        layout.append(row)
    states = [{col: state for col, _, state, _ in row} for row in layout]  # per row: start column → merge
    columns = _column_map(tbl)
    n_cols = 0
    out: list[list[GridCell]] = []
    for r, row in enumerate(layout):
        placed = []
        for col, span, state, tc in row:
            if state == "continue" and r > 0 and states[r - 1].get(col) is not None:
                continue  # covered by the restart cell above (a continue without one starts a merge)
            rowspan = 1
            if state is not None:
                while (r + rowspan < len(layout) and rowspan < settings.max_rowspan
                       and states[r + rowspan].get(col) == "continue"):  # fmt: skip
                    rowspan += 1
            start, colspan = columns(col, span)
            n_cols = max(n_cols, start + colspan)
            placed.append(GridCell(_cell_text(tc, 1, warnings), r, start, rowspan, colspan))
        out.append(placed)
    return Grid(index, out, n_cols)


def _column_map(tbl: Any) -> Callable[[int, int], tuple[int, int]]:
    """``(grid column, span) → (column, span)`` with sliver columns removed.

    Word places cells by their edges; where two rows' edges miss each other by a hair (a DOC converted by
    LibreOffice: a 1-twip ``w:gridCol``), the table grid gets a column no text fits in, and every cell
    right of it shifts by one in some rows only. A column narrower than :data:`SLIVER_TWIPS` is dropped: a
    cell starting on it starts at the next real column, a cell ending on it ends at the previous one."""
    widths = [_int_val(col, -1, attr=_W_ATTR) for col in tbl.iterfind(f"{{{W}}}tblGrid/{{{W}}}gridCol")]
    slivers = [0 <= w < SLIVER_TWIPS for w in widths]
    if not any(slivers) or all(slivers):
        return lambda col, span: (col, span)
    first_real: list[int] = []  # per grid column: the new index of the first real column at or after it
    last_real: list[int] = []  # per grid column: the new index of the last real column at or before it
    count = 0
    for sliver in slivers:
        last_real.append(count - 1 if sliver else count)
        count += not sliver
    ahead = count
    for sliver in reversed(slivers):
        ahead -= not sliver
        first_real.append(ahead)
    first_real.reverse()
    before = [0]  # slivers left of each grid column
    for sliver in slivers:
        before.append(before[-1] + sliver)

    def remap(col: int, span: int) -> tuple[int, int]:
        end = col + span - 1
        if end >= len(widths):  # a row wider than the declared grid: shift by the slivers left of it
            return col - before[min(col, len(widths))], span
        start = min(first_real[col], count - 1)
        return start, max(last_real[end] - start + 1, 1)

    return remap
