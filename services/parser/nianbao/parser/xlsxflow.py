"""Spreadsheet front end: an XLSX workbook → :class:`Document` (text rows as lines, table blocks as grids).

The package passes :mod:`nianbao.parser.zipguard` first; openpyxl then streams each visible worksheet
(``read_only``, cached formula results: what the sheet displays). Merged ranges, which a read-only sheet
does not report, are read from the sheet part's ``<mergeCells>`` and become row/column spans.

Cells are shown as a spreadsheet displays them: integers without ``.0``, other numbers with at most 15
significant digits, percentages as ``12.5%``, dates as ``2020-01-20``; text is folded like HTML text.

A sheet is cut into rows of two kinds. A row with one non-empty cell is a text line (a title, a part
heading, prose typed into column A) unless it sits inside a table: between two table rows (a label row
whose values are all blank; but an unmerged ``三、…`` part heading stays a line), or merged over several
columns right above one (a table's own caption or group row, ``第二十条第（一）项``). Runs of
the other rows are table blocks, each a :class:`Grid` holding every cell of its column range, blanks
included (a blank value is a cell). Grid positions are the sheet's own: ``table_index`` is the sheet's
position in the workbook, ``row``/``col`` the 0-based sheet row and column (``A1`` is 0, 0), so
``cells[].at`` names the spreadsheet cell.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from xml.etree.ElementTree import iterparse

from nianbao.parser.document import Document, Grid, GridCell, Item, Line
from nianbao.parser.errors import UnusableInput
from nianbao.parser.normalize import clean_line, fold
from nianbao.parser.settings import ParserSettings
from nianbao.parser.zipguard import check_package

_MERGE_TAG = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}mergeCell"
_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})$")
_PART_HEADING = re.compile(r"^[一二三四五六七八九十]{1,2}\s*[、.]")  # 三、收到和处理…: text, even between tables
MAX_SHEET_ROWS = 100_000  # rows read per sheet; a report's sheet has < 200
MAX_MERGES = 50_000

Warnings = list[tuple[str, str | None, str | None]]


@dataclass(frozen=True)
class _Merge:
    row: int
    col: int
    rowspan: int
    colspan: int


def xlsx_document(data: bytes, settings: ParserSettings) -> Document:
    """Read an XLSX into lines and grids; :class:`UnusableInput` when the package is unusable or hostile."""
    check_package(data, settings, main_part="xl/workbook.xml", what="XLSX")
    import openpyxl  # openpyxl only for documents that need it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, ParseError, … for damaged parts
        raise UnusableInput("corrupt", f"the XLSX cannot be opened: {type(exc).__name__}: {exc}") from exc
    items: list[Item] = []
    warnings: Warnings = []
    try:
        for index, sheet in enumerate(workbook.worksheets):
            if getattr(sheet, "sheet_state", "visible") != "visible":
                continue
            try:
                cells = _read_cells(sheet, index, settings, warnings)
                merges = _read_merges(workbook, sheet)
            except UnusableInput:
                raise
            except Exception as exc:  # a damaged sheet part
                raise UnusableInput("corrupt", f"sheet {index} cannot be read: {type(exc).__name__}: {exc}") from exc
            items.extend(_sheet_items(cells, merges, index, settings, warnings, first_line=len(items) + 1))
    finally:
        workbook.close()
    return Document(items=items, kind="xlsx", warnings=warnings)


def _read_cells(sheet: Any, index: int, settings: ParserSettings, warnings: Warnings) -> dict[tuple[int, int], str]:
    """Non-empty displayed cell texts by 0-based (row, col), within the column and row limits."""
    max_cols = settings.max_table_columns
    out: dict[tuple[int, int], str] = {}
    wide = False
    for r, row in enumerate(sheet.iter_rows(max_col=max_cols + 1)):
        if r >= MAX_SHEET_ROWS or len(out) > settings.max_table_cells:
            warnings.append(("table_too_large", f"xlsx.sheet[{index}]", f"sheet cut after row {r}"))
            break
        for c, cell in enumerate(row):
            value = getattr(cell, "value", None)
            if value is None:
                continue
            if c >= max_cols:
                wide = True
                continue
            text = display(value, getattr(cell, "number_format", None) or "General")
            if text:
                out[(r, c)] = text
    if wide:
        warnings.append(("table_too_large", f"xlsx.sheet[{index}]", f"columns beyond {max_cols} not read"))
    return out


def display(value: object, number_format: str = "General") -> str:
    """A cell value as the sheet shows it."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        if "%" in number_format:
            return f"{value * 100:.15g}%"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return clean_line(fold(str(value)))


def _cell_index(ref: str) -> tuple[int, int] | None:
    m = _REF.match(ref.strip().upper())
    if m is None:
        return None
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)) - 1, col - 1


def _read_merges(workbook: Any, sheet: Any) -> list[_Merge]:
    """The sheet's merged ranges, read from its part (a read-only sheet does not list them)."""
    path = getattr(sheet, "_worksheet_path", None)
    archive = getattr(workbook, "_archive", None)
    if path is None or archive is None:  # pragma: no cover - openpyxl internals changed
        return []
    merges = []
    with archive.open(path) as part:  # DTDs were refused by the zip guard; expat fetches nothing
        for _, element in iterparse(part):
            if element.tag == _MERGE_TAG:
                first, _, last = (element.get("ref") or "").partition(":")
                a, b = _cell_index(first), _cell_index(last or first)
                if a is not None and b is not None:
                    top, bottom = sorted((a[0], b[0]))
                    left, right = sorted((a[1], b[1]))
                    merges.append(_Merge(top, left, bottom - top + 1, right - left + 1))
                if len(merges) >= MAX_MERGES:
                    break
            element.clear()
    return merges


def _sheet_items(
    cells: dict[tuple[int, int], str],
    merges: list[_Merge],
    index: int,
    settings: ParserSettings,
    warnings: Warnings,
    *,
    first_line: int,
) -> list[Item]:
    max_cols = settings.max_table_columns
    origins: dict[tuple[int, int], _Merge] = {}
    covered: set[tuple[int, int]] = set()
    vertical: set[int] = set()  # rows a merge from a row above reaches into
    for m in merges:
        if m.col >= max_cols or (m.row, m.col) in origins:
            continue
        rowspan = min(m.rowspan, settings.max_rowspan)
        colspan = min(m.colspan, max_cols - m.col)
        if rowspan * colspan > settings.max_table_cells:
            continue  # a merge over the whole sheet: not a table's
        origins[(m.row, m.col)] = _Merge(m.row, m.col, rowspan, colspan)
        covered.update((m.row + dr, m.col + dc) for dr in range(rowspan) for dc in range(colspan))
        vertical.update(range(m.row + 1, m.row + rowspan))
    by_row: dict[int, list[int]] = {}
    for r, c in cells:
        by_row.setdefault(r, []).append(c)
    starts: dict[int, int] = {}  # merged ranges starting on each row
    for r, _ in origins:
        starts[r] = starts.get(r, 0) + 1
    rows = sorted(set(by_row) | vertical)
    kinds = {r: _row_kind(r in vertical, len(by_row.get(r, [])), starts.get(r, 0)) for r in rows}
    items: list[Item] = []
    block: list[int] = []

    def flush() -> None:
        if block:
            items.append(_grid(block, cells, origins, covered, index, settings, warnings))
            block.clear()

    for i, r in enumerate(rows):
        kind = kinds[r]
        if kind == "single":
            above = kinds.get(r - 1)
            below = kinds.get(r + 1)
            first = min(by_row[r]) if by_row[r] else None
            spans = origins.get((r, first)) if first is not None else None
            heading = spans is None and first is not None and _PART_HEADING.match(cells.get((r, first), ""))
            inside = below == "table" and (
                (above == "table" and not heading) or (spans is not None and spans.colspan > 1)
            )
            kind = "table" if inside else "line"
        if kind == "table":
            if block and block[-1] != r - 1:
                flush()
            block.append(r)
            continue
        flush()
        text = cells.get((r, min(by_row[r]))) if by_row[r] else None
        if text:
            items.append(Line(text, first_line + i, True, "|" in text and text != "|"))
    flush()
    return items


def _row_kind(reached: bool, filled: int, merges: int) -> str:
    """``table`` for a row of several cells or merged ranges (or one a merge from above reaches into),
    ``single`` for a row of one non-empty cell, ``empty`` otherwise."""
    if reached or filled > 1 or merges > 1:
        return "table"
    return "single" if filled == 1 else "empty"


def _grid(
    block: list[int],
    cells: dict[tuple[int, int], str],
    origins: dict[tuple[int, int], _Merge],
    covered: set[tuple[int, int]],
    index: int,
    settings: ParserSettings,
    warnings: Warnings,
) -> Grid:
    """A block of table rows as a grid: every cell of the block's column range that no merge covers,
    blanks included; merged ranges are spans (clipped to the block)."""
    rows_set = set(block)
    cols = [c for (r, c) in cells if r in rows_set] + [
        c + m.colspan - 1 for (r, c), m in origins.items() if r in rows_set
    ]
    left = min([c for (r, c) in cells if r in rows_set] + [c for (r, c) in origins if r in rows_set])
    right = max(cols)
    if len(block) * (right - left + 1) > settings.max_table_cells:
        warnings.append(("table_too_large", f"xlsx.sheet[{index}]", f"more than {settings.max_table_cells} cells"))
        return Grid(index, [], 0, skipped=f"more than {settings.max_table_cells} cells")
    last = block[-1]
    out = []
    for r in block:
        row = []
        for c in range(left, right + 1):
            merge = origins.get((r, c))
            if merge is None and (r, c) in covered:
                continue
            rowspan = min(merge.rowspan, last - r + 1) if merge else 1
            colspan = min(merge.colspan, right - c + 1) if merge else 1
            row.append(GridCell(cells.get((r, c), ""), r, c, rowspan, colspan))
        out.append(row)
    return Grid(index, out, right + 1)
