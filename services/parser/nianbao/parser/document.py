"""The intermediate document every front end (plain text, HTML, PDF, DOCX, spreadsheets) produces and the
analysis reads.

A document is a sequence of items in reading order: text :class:`Line`\\ s and :class:`Grid`\\ s
(tables after rowspan/colspan expansion). Tables are read as streams of :class:`Token`\\ s — one per
source cell, in reading order — whatever their origin: a flattened text table and an HTML grid give the
same stream, so the table readers have one implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from nianbao.parser.normalize import label_key
from nianbao.parser.values import looks_like_value


class Line(NamedTuple):
    """One line of text. ``number`` is the 1-based source line (text) or the flow position (HTML)."""

    text: str
    number: int
    in_body: bool = True
    piped: bool = False  # the line is a flattened table row ("a | b |")


Box = tuple[float, float, float, float]  # x0, y0 (top), x1, y1 (bottom) in PDF points from the top-left


@dataclass(slots=True)
class GridCell:
    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    page: int | None = None  # PDF: the 1-based page the cell is on
    bbox: Box | None = None  # PDF: the cell's box on that page


@dataclass
class Grid:
    """A table: origin cells by row (a spanned cell appears once, at its top-left position). HTML, DOCX,
    spreadsheet and PDF front ends all produce grids; a PDF grid's cells carry page and box."""

    index: int
    rows: list[list[GridCell]]
    n_cols: int
    in_body: bool = True
    skipped: str | None = None  # why the table was not expanded (limits), else None
    _text: str | None = field(default=None, repr=False, compare=False)

    def text(self) -> str:
        """All cell texts, space-separated (computed once: classification and marker search reuse it)."""
        if self._text is None:
            self._text = " ".join(c.text for row in self.rows for c in row)
        return self._text

    def row_lines(self) -> list[str]:
        """Each row flattened as ``a | b |`` (what a text extract of the table looks like)."""
        return [" | ".join(c.text for c in row) + " |" for row in self.rows if row]


Item = Line | Grid

EMPTY, VALUE, TEXT = 0, 1, 2


@lru_cache(maxsize=16_384)
def token_kind(text: str) -> int:
    """Whether a cell is empty, a value (number or placeholder) or text (a label, prose)."""
    if not text or text.isspace():
        return EMPTY
    return VALUE if looks_like_value(text) else TEXT


class _TokenFields(NamedTuple):
    text: str
    line: int | None = None
    col: int | None = None
    table_index: int | None = None
    grid_row: int | None = None
    group: tuple[int, int] | None = None
    kind: int = -1
    page: int | None = None
    bbox: Box | None = None


class Token(_TokenFields):
    """One table cell in reading order, with where it came from: an HTML grid position
    (``table_index``, ``grid_row``, ``col``) or a text ``line`` (and ``col``, the cell's index on a piped
    line). ``group`` identifies the source row (None: unknown, as in one-cell-per-line text). ``kind`` is
    EMPTY, VALUE or TEXT, computed from ``text`` when not given.

    A named tuple, not a frozen dataclass: a page has hundreds of tokens, and a frozen dataclass sets each
    field through ``object.__setattr__`` (about five times the cost of building the tuple)."""

    __slots__ = ()

    def __new__(
        cls,
        text: str,
        line: int | None = None,
        col: int | None = None,
        table_index: int | None = None,
        grid_row: int | None = None,
        group: tuple[int, int] | None = None,
        kind: int = -1,
        page: int | None = None,
        bbox: Box | None = None,
    ) -> Token:
        if kind < 0:
            kind = token_kind(text)
        return super().__new__(cls, text, line, col, table_index, grid_row, group, kind, page, bbox)

    @property
    def empty(self) -> bool:
        return self.kind == EMPTY

    @property
    def is_value(self) -> bool:
        return self.kind == VALUE

    @property
    def is_text(self) -> bool:
        return self.kind == TEXT

    @property
    def key(self) -> str:
        return label_key(self.text)

    def location(self) -> dict[str, object]:
        """``cells[].at`` of this cell (a :class:`~nianbao.shared.record.CellLocation` as a dict)."""
        if self.page is not None:
            return {"table_index": self.table_index or 0, "row": self.grid_row or 0, "col": self.col or 0,
                    "page": self.page, "bbox": self.bbox}  # fmt: skip
        if self.table_index is not None:
            return {"table_index": self.table_index, "row": self.grid_row or 0, "col": self.col or 0}
        out: dict[str, object] = {"line": self.line} if self.line is not None else {}
        if self.col is not None:
            out["col"] = self.col
        return out


@dataclass
class Document:
    """What a front end hands to the analysis."""

    items: list[Item]
    kind: str  # "text" | "html" | "pdf" | "docx" | "xlsx": the front end that built it
    meta: dict[str, str] = field(default_factory=dict)  # <meta name=...> and <title>
    attachments: list[tuple[str, str | None]] = field(default_factory=list)  # (url, link text)
    warnings: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    @property
    def lines(self) -> list[Line]:
        return [item for item in self.items if isinstance(item, Line)]

    @property
    def grids(self) -> list[Grid]:
        return [item for item in self.items if isinstance(item, Grid)]


def grid_tokens(grid: Grid) -> list[Token]:
    """The token stream of an HTML table."""
    index = grid.index
    new = tuple.__new__  # every field is given (kind too): Token.__new__ would only pass them on
    return [
        new(Token, (cell.text, None, cell.col, index, cell.row, (index, cell.row), token_kind(cell.text), cell.page,
                    cell.bbox))
        for row in grid.rows
        for cell in row
    ]
