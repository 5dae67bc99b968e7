"""PDF ruled tables → grids: cells from the rectangles pdfplumber's line finder reports, spans from where
their edges fall on the table's column and row boundaries, text from the characters inside each cell.

* Cell text joins the cell's lines without a space (CJK); characters stacked one per line (vertical
  writing) therefore read as the normal string.
* A number printed over two lines is joined only when the break is a wrap (the first line fills the
  cell, or the decimal point sits at the break); otherwise its parts stay apart (the value is then
  unparseable, never ten times too large). Either way a ``number_split`` warning names the cell.
* A table continued on the next page is appended to the one it continues when their column boundaries
  agree, or one side's are among the other's (a table that starts at the foot of a page with only its
  header rows, whose merged cells draw fewer boundaries); a merged label cut by the page break
  (``（四）无`` | ``法提供``) becomes one cell again, and so does a row cut by it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from nianbao.parser.document import Box, Grid, GridCell
from nianbao.parser.normalize import clean_line, fold
from nianbao.parser.settings import ParserSettings

Char = dict[str, Any]
Warning = tuple[str, str | None, str | None]
_TOL = 1.5  # points: edges closer than this are one boundary
_NUMBER_PART = re.compile(r"^[-+]?[\d.,]+$")
_NUMBER = re.compile(r"^[-+]?\d[\d,]*(?:\.\d+)?$")
_ORDINAL = re.compile(r"^\s*(?:[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、|\d+[.．、]|其中)")
_ASCII_WORD = re.compile(r"[A-Za-z]")


@dataclass
class PdfCell:
    text: str
    row: int
    col: int
    rowspan: int
    colspan: int
    page: int
    bbox: Box
    filled: bool = False  # the last line of its text fills the cell's width (the text wrapped)


@dataclass
class PdfTable:
    """One ruled table (or several joined across page breaks); ``xs`` are its column boundaries."""

    page: int
    bbox: Box
    xs: list[float]
    n_rows: int
    cells: list[PdfCell]
    split_numbers: list[tuple[PdfCell, str]] = field(default_factory=list)  # cells and their number_split note
    last_page: int = 0

    def is_prose(self) -> bool:
        """A bordered box around text (one cell, or at most two cells of prose): not a data table."""
        texts = [c.text for c in self.cells if c.text]
        if len(self.cells) <= 1:
            return True
        return len(self.cells) <= 2 and not any(_NUMBER.match(t) for t in texts)

    def to_grid(self, index: int, settings: ParserSettings) -> Grid:
        n_cols = len(self.xs) - 1
        if n_cols > settings.max_table_columns:
            return Grid(index, [], 0, skipped=f"{n_cols} columns (limit {settings.max_table_columns})")
        if n_cols * self.n_rows > settings.max_table_cells:
            return Grid(index, [], 0, skipped=f"more than {settings.max_table_cells} cells")
        rows: list[list[GridCell]] = [[] for _ in range(self.n_rows)]
        for c in sorted(self.cells, key=lambda c: (c.row, c.col)):
            rows[c.row].append(GridCell(c.text, c.row, c.col, c.rowspan, c.colspan, c.page, c.bbox))
        return Grid(index, rows, n_cols)

    def warnings(self, index: int) -> list[Warning]:
        """``number_split`` warnings, where = the cell's grid position in table ``index``."""
        return [("number_split", f"pdf.table[{index}].cell[{c.row},{c.col}]", f"page {c.page}: {note}")
                for c, note in self.split_numbers]  # fmt: skip


def _boundaries(values: Iterable[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > _TOL:
            out.append(v)
    return out


def _index(bounds: Sequence[float], v: float) -> int:
    """The boundary nearest to ``v``."""
    i = bisect_right(bounds, v)
    if i == 0:
        return 0
    if i == len(bounds) or v - bounds[i - 1] <= bounds[i] - v:
        return i - 1
    return i


def _round(box: Sequence[float]) -> Box:
    return (round(box[0], 1), round(box[1], 1), round(box[2], 1), round(box[3], 1))


def build_table(rects: Sequence[Sequence[float]], chars: Sequence[Char], page: int, bbox: Box) -> PdfTable:
    """A table from its cell rectangles (x0, top, x1, bottom) and the characters inside it."""
    xs = _boundaries(v for r in rects for v in (r[0], r[2]))
    ys = _boundaries(v for r in rects for v in (r[1], r[3]))
    cells: list[PdfCell] = []
    cover: dict[tuple[int, int], int] = {}
    for rect in sorted(rects, key=lambda r: (r[1], r[0])):
        c0, c1, r0, r1 = _index(xs, rect[0]), _index(xs, rect[2]), _index(ys, rect[1]), _index(ys, rect[3])
        if c1 <= c0 or r1 <= r0 or (r0, c0) in cover:
            continue
        for r in range(r0, r1):
            for c in range(c0, c1):
                cover.setdefault((r, c), len(cells))
        cells.append(PdfCell("", r0, c0, r1 - r0, c1 - c0, page, _round(rect)))
    inside: list[list[Char]] = [[] for _ in cells]
    for ch in chars:
        c = bisect_right(xs, (ch["x0"] + ch["x1"]) / 2) - 1
        r = bisect_right(ys, (ch["top"] + ch["bottom"]) / 2) - 1
        owner = cover.get((r, c))
        if owner is not None:
            inside[owner].append(ch)
    table = PdfTable(page, _round(bbox), xs, max(len(ys) - 1, 0), cells, last_page=page)
    for cell, found in zip(cells, inside, strict=True):
        cell.text, note = cell_text(found, cell.bbox)
        last = text_lines(found)[-1] if found else None
        # Filled: one more character would not have fitted (cell padding is unknown: allow a quarter).
        cell.filled = last is not None and (
            last[-1]["x1"] - last[0]["x0"] + last[-1]["size"] >= 0.75 * (cell.bbox[2] - cell.bbox[0])
        )
        if note is not None:
            table.split_numbers.append((cell, note))
    return table


def text_lines(chars: Sequence[Char]) -> list[list[Char]]:
    """Characters grouped into lines (top to bottom), each line ordered left to right."""
    if not chars:
        return []
    if sum(1 for ch in chars if not ch.get("upright", True)) * 2 > len(chars):
        return [[ch] for ch in sorted(chars, key=lambda ch: (ch["top"], ch["x0"]))]  # rotated writing
    lines: list[list[Char]] = []
    top = -1e9
    for ch in sorted(chars, key=lambda ch: (ch["top"], ch["x0"])):
        if lines and ch["top"] - top <= 0.5 * ch["size"]:
            lines[-1].append(ch)
        else:
            lines.append([ch])
            top = ch["top"]
    for line in lines:
        line.sort(key=lambda ch: ch["x0"])
    return lines


def line_text(line: Sequence[Char]) -> str:
    out: list[str] = []
    previous: Char | None = None
    for ch in line:
        if previous is not None and ch["x0"] - previous["x1"] > 0.6 * ch["size"] and out[-1] != " " \
                and ch["text"] != " ":  # fmt: skip
            out.append(" ")
        out.append(ch["text"])
        previous = ch
    return "".join(out)


def _join(parts: Sequence[str]) -> str:
    text = ""
    for part in parts:
        if text and _ASCII_WORD.match(text[-1]) and _ASCII_WORD.match(part[:1]):
            text += " "
        text += part
    return text


def cell_text(chars: Sequence[Char], box: Box) -> tuple[str, str | None]:
    """A cell's text, and a ``number_split`` note when it is a number printed over several lines."""
    lines = text_lines(chars)
    parts = [clean_line(fold(line_text(line))) for line in lines]
    parts = [p for p in parts if p]
    if len(parts) < 2 or not all(_NUMBER_PART.match(p) for p in parts):
        return clean_line(_join(parts)), None
    width = box[2] - box[0]
    wrapped = all(
        line[-1]["x1"] - line[0]["x0"] >= 0.6 * width or a.endswith(".") or b.startswith(".")
        for line, a, b in zip(lines, parts, parts[1:], strict=False)
    )
    joined = "".join(parts)
    shown = " + ".join(repr(p) for p in parts)
    if wrapped and _NUMBER.match(joined):
        return joined, f"{shown} joined as {joined} (a wrapped number); check the cell"
    return " ".join(parts), f"{shown} not joined: the lines may be separate numbers"


def continues(upper: PdfTable, lower: PdfTable) -> list[float] | None:
    """The column boundaries of the joined table when ``lower`` (on the next page) can continue ``upper``,
    else None. The two share their outer edges and one's boundaries are among the other's: equal, or the
    rows on one side of the break draw fewer of them (a page that holds only the header rows, whose
    merged cells span the value columns, or only a total row)."""
    if lower.page != upper.last_page + 1 or not upper.xs or not lower.xs:
        return None
    if _among(lower.xs, upper.xs):
        return upper.xs
    if _among(upper.xs, lower.xs) and _among([lower.xs[0], lower.xs[-1]], upper.xs):
        return lower.xs
    return None


def _among(some: Sequence[float], bounds: Sequence[float]) -> bool:
    """Whether each of ``some`` (ascending) is one of ``bounds``, no two the same one."""
    found = [_index(bounds, x) for x in some]
    return all(abs(bounds[i] - x) <= 2 * _TOL for i, x in zip(found, some, strict=True)) and all(
        a < b for a, b in pairwise(found)
    )


def _refine(table: PdfTable, bounds: list[float]) -> None:
    """``table``'s cells on ``bounds`` (a superset of its column boundaries)."""
    to = [_index(bounds, x) for x in table.xs]
    for cell in table.cells:
        col = to[cell.col]
        cell.colspan = to[cell.col + cell.colspan] - col
        cell.col = col
    table.xs = list(bounds)


def append_table(upper: PdfTable, lower: PdfTable, bounds: list[float]) -> None:
    """Append ``lower``'s rows to ``upper`` (both first put on the joint column ``bounds``). A row the page
    break cut (Word lets rows break across pages: ``5.要求行政机关确`` | ``认或重新出具…``) becomes one row
    again; otherwise merged label cells cut by the break (``（四）无`` | ``法提供``) become one cell again."""
    _refine(upper, bounds)
    _refine(lower, bounds)
    offset = upper.n_rows
    for cell in lower.cells:
        cell.row += offset
    bottom = {(c.col, c.colspan): c for c in upper.cells if c.row + c.rowspan == offset}
    seam = [c for c in lower.cells if c.row == offset]
    pairs = [(bottom.get((c.col, c.colspan)), c) for c in seam]
    if seam and _row_cut(pairs):
        for above, cell in pairs:
            assert above is not None
            above.text = clean_line(_join([above.text, cell.text]))
            above.rowspan += cell.rowspan - 1
        rest = [c for c in lower.cells if c.row != offset]
        for cell in rest:
            cell.row -= 1
        upper.cells.extend(rest)
        upper.n_rows += lower.n_rows - 1
    else:
        spanning = {(c.col, c.colspan) for t in (upper, lower) for c in t.cells if c.rowspan > 1}
        kept = []
        for above, cell in pairs:
            if above is not None and (cell.col, cell.colspan) in spanning and _cut_label(above.text, cell.text):
                above.text = clean_line(_join([above.text, cell.text]))
                above.rowspan += cell.rowspan
            else:
                kept.append(cell)
        upper.cells.extend([*kept, *(c for c in lower.cells if c.row != offset)])
        upper.n_rows += lower.n_rows
    upper.last_page = lower.page
    upper.split_numbers.extend(lower.split_numbers)


def _row_cut(pairs: list[tuple[PdfCell | None, PdfCell]]) -> bool:
    """Whether the first row below the break continues the last row above it: every cell lines up with
    one above, none starts a new numbered label, and where both sides have text the text above fills its
    cell (it wrapped into the next page) and is not a number."""
    both = 0
    for above, cell in pairs:
        if above is None or (cell.text and _ORDINAL.match(cell.text)):
            return False
        if above.text and cell.text:
            if not above.filled or _NUMBER.match(above.text) or _NUMBER.match(cell.text):
                return False
            both += 1
    return both > 0


def _cut_label(above: str, below: str) -> bool:
    """Whether two label pieces on either side of a page break are one merged cell: neither is a number
    and the lower piece does not start a new numbered label."""
    if _NUMBER.match(above) or _NUMBER.match(below):
        return False
    return not (below and _ORDINAL.match(below))
