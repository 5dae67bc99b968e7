"""HTML table → :class:`Grid`: rowspan/colspan expanded, malformed spans repaired, size bounded.

Spans are read leniently (``rowspan="2px"`` is 2, ``colspan="0"`` or garbage is 1, ``rowspan="0"`` runs
to the end of the table, a huge span is clamped), and a cell goes to the first column of its row that no
span from above covers, as browsers place it. Each source cell keeps its top-left grid position, which
is what ``cells[].at`` reports.
"""

from __future__ import annotations

import re
from typing import Any

from nianbao.parser.document import Grid, GridCell
from nianbao.parser.normalize import clean_line, fold
from nianbao.parser.settings import ParserSettings

_LEADING_INT = re.compile(r"\s*(\d{1,6})")
_CELL_SEP = "\ue001"


def span(value: str | None, *, default: int = 1) -> int:
    """A span attribute's value; ``default`` when absent or unreadable."""
    if not value:
        return default
    m = _LEADING_INT.match(value)
    return int(m.group(1)) if m else default


def read_rows(table: Any) -> list[list[tuple[str, int, int]]]:
    """``(text, rowspan, colspan)`` per cell per row of a selectolax table that holds no other table."""
    rows: list[list[tuple[str, int, int]]] = []
    texts: list[str] = []
    for node in table.css("tr, td, th"):  # one query, in document order: a tr opens a row
        if node.tag == "tr":
            rows.append([])
            continue
        if not rows:
            rows.append([])
        attrs = node.attributes
        rowspan = attrs.get("rowspan")
        colspan = attrs.get("colspan")
        rows[-1].append(("", span(rowspan) if rowspan is not None else 1, span(colspan) if colspan else 1))
        texts.append(node.text(deep=True))
    # Folding and space runs are done once for the whole table, not once per cell (a run of spaces never
    # crosses the separator, which is not a space); each cell is then only stripped.
    clean = clean_line(fold(_CELL_SEP.join(texts))).split(_CELL_SEP)
    if len(clean) != len(texts):  # pragma: no cover - the separator is removed from input pages
        clean = [clean_line(fold(t)) for t in texts]
    it = iter(clean)
    return [[(next(it).strip(), rs, cs) for _, rs, cs in cells] for cells in rows]


def build_grid(
    rows: list[list[tuple[str, int, int]]], *, index: int, settings: ParserSettings, in_body: bool = True
) -> Grid:
    """Place cells on the grid. A table over the column or cell limits comes back empty, ``skipped`` set."""
    max_cols, max_rowspan = settings.max_table_columns, settings.max_rowspan
    n_rows = len(rows)
    covered_to: list[int] = []  # per column: the last row a span from above covers (-1: none)
    out: list[list[GridCell]] = []
    total = 0
    width = 0  # len(covered_to); c never exceeds it
    for r, cells in enumerate(rows):
        if len(cells) > max_cols:
            return Grid(index, [], 0, in_body, skipped=f"a row has {len(cells)} cells (limit {max_cols})")
        c = 0
        placed: list[GridCell] = []
        for text, rowspan, colspan in cells:
            while c < width and covered_to[c] >= r:
                c += 1
            if c >= max_cols:
                return Grid(index, [], 0, in_body, skipped=f"more than {max_cols} columns")
            if rowspan == 1 and colspan == 1:  # most cells: no clamping, one column covered
                placed.append(GridCell(text, r, c, 1, 1))
                if c < width:
                    covered_to[c] = r
                else:
                    covered_to.append(r)
                    width += 1
                c += 1
                continue
            rs = n_rows - r if rowspan == 0 else min(max(rowspan, 1), max_rowspan, n_rows - r)
            cs = min(max(colspan, 1), max_cols - c)
            placed.append(GridCell(text, r, c, rs, cs))
            end = c + cs
            if end > width:
                covered_to.extend([-1] * (end - width))
                width = end
            covered_to[c:end] = [r + rs - 1] * cs
            c = end
        total += width
        if total > settings.max_table_cells:
            return Grid(index, [], 0, in_body, skipped=f"more than {settings.max_table_cells} cells")
        out.append(placed)
    return Grid(index, out, len(covered_to), in_body)
