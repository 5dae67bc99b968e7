"""Test oracle: read the tables inside ``div.TRS_Editor`` back into rowspan/colspan-expanded grids.

Written independently of the renderers (stdlib ``html.parser`` only), so the table tests check the
served HTML against report-format.md's layout rather than against the code that produced it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

Number = int | float


@dataclass(eq=False)
class Cell:
    text: str
    rowspan: int
    colspan: int
    row: int = -1
    col: int = -1

    @property
    def label(self) -> str:
        """The text with all whitespace removed (NBSP, U+3000 and the spaces of spaced labels included)."""
        return "".join(self.text.split())


@dataclass
class _Table:
    rows: list[list[Cell]] = field(default_factory=list)


class _EditorTables(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[_Table] = []
        self._div_depth = 0
        self._editor_depth: int | None = None
        self._cell: Cell | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div":
            self._div_depth += 1
            if self._editor_depth is None and "TRS_Editor" in (a.get("class") or "").split():
                self._editor_depth = self._div_depth
        if self._editor_depth is None:
            return
        if tag == "table":
            self.tables.append(_Table())
        elif tag == "tr":
            self.tables[-1].rows.append([])
        elif tag in ("td", "th"):
            self._cell = Cell("", int(a.get("rowspan") or 1), int(a.get("colspan") or 1))
            self.tables[-1].rows[-1].append(self._cell)

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            if self._editor_depth == self._div_depth:
                self._editor_depth = None
            self._div_depth -= 1
        elif tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.text += data


def editor_tables(html: str) -> list[list[list[Cell]]]:
    """Every table inside the TRS_Editor body, each as an expanded grid: ``grid[r][c]`` is the cell
    covering that position, so a spanning cell appears at every position it covers (same object)."""
    parser = _EditorTables()
    parser.feed(html)
    parser.close()
    return [_expand(t.rows) for t in parser.tables]


def _expand(rows: list[list[Cell]]) -> list[list[Cell]]:
    grid: dict[tuple[int, int], Cell] = {}
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in grid:
                c += 1
            cell.row, cell.col = r, c
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    grid[(r + dr, c + dc)] = cell
            c += cell.colspan
    height = max(r for r, _ in grid) + 1
    width = max(c for _, c in grid) + 1
    missing = [(r, c) for r in range(height) for c in range(width) if (r, c) not in grid]
    if missing:
        raise AssertionError(f"ragged table, uncovered positions {missing[:5]}")
    return [[grid[(r, c)] for c in range(width)] for r in range(height)]


def own_cells(grid: list[list[Cell]], r: int) -> list[Cell]:
    """The cells that start in row ``r``, left to right."""
    seen: list[Cell] = []
    for cell in grid[r]:
        if cell.row == r and cell not in seen:
            seen.append(cell)
    return seen


_NUMBER = re.compile(r"^([+-]?\d[\d,]*(?:\.\d+)?)(.*)$")
_MONEY_UNITS = {"亿元": 10000, "万元": 1, "元": 0.0001}


def parse_cell(text: str, *, header_unit: str | None = None) -> Number | None:
    """What a parser must read from a cell: None for blank, money converted to 万元, remarks dropped."""
    t = "".join(text.split())
    if not t:
        return None
    match = _NUMBER.match(t)
    if match is None:
        raise AssertionError(f"not a number cell: {text!r}")
    digits, rest = match.group(1).replace(",", ""), match.group(2)
    value: Number = float(digits) if "." in digits else int(digits)
    unit = next((u for u in _MONEY_UNITS if u in rest), header_unit)
    if unit is not None:
        value = value * _MONEY_UNITS[unit]
    return value
