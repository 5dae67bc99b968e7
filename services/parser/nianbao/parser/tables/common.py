"""What every table reader shares: splitting a token stream into labelled rows, placing a row's values
into columns (with the missing-cell rule of report-format §4.4), and recording values with provenance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from nianbao.parser.document import TEXT, Token
from nianbao.parser.normalize import bare_label, label_key, split_ordinal
from nianbao.parser.values import CellValue, parse_cell
from nianbao.shared.record import Number, ParseWarning


@dataclass
class Row:
    """A label and the non-label tokens that follow it up to the next label."""

    label: Token | None
    text: str  # the label's text (ordinal-only cells joined to the next label: "(三)" + "不予公开")
    values: list[Token]

    @property
    def ordinal(self) -> str | None:
        return split_ordinal(label_key(self.text))[0]

    @property
    def bare(self) -> str:
        """The label without ordinal and remarks (cached per text: readers ask for it several times)."""
        return bare_label(self.text)

    @property
    def numbers(self) -> list[Token]:
        return [t for t in self.values if t.is_value]


def _ordinal_only(token: Token) -> bool:
    return _is_ordinal_only(token.text)


@lru_cache(maxsize=16_384)
def _is_ordinal_only(text: str) -> bool:
    """The cell is an ordinal and nothing else (``(三)``): asked of every label cell of every table."""
    ordinal, rest = split_ordinal(label_key(text))
    return ordinal is not None and not rest


def split_rows(tokens: Sequence[Token], *, is_label: Callable[[Token], bool] | None = None) -> list[Row]:
    """Each label token starts a row; values before the first label form a row with ``label=None``."""
    rows: list[Row] = []
    current = Row(None, "", [])
    pending: Token | None = None
    for token in tokens:
        if (token.kind == TEXT) if is_label is None else is_label(token):
            if pending is not None:  # "(三)" then "不予公开": one label split over two cells
                rows.append(current)
                current = Row(pending, pending.text + token.text, [])
                pending = None
                continue
            if _ordinal_only(token):
                pending = token
                continue
            rows.append(current)
            current = Row(token, token.text, [])
        else:
            if pending is not None:
                rows.append(current)
                current = Row(pending, pending.text, [])
                pending = None
            current.values.append(token)
    if pending is not None:
        rows.append(current)
        current = Row(pending, pending.text, [])
    rows.append(current)
    return [r for r in rows if r.label is not None or r.values]


@dataclass
class Placement:
    """Tokens placed in the value columns; None where the cell is absent from the source."""

    slots: list[Token | None]
    overflow: list[Token]
    repaired: str | None = None  # which §4.4 repair was applied


def place_positional(values: list[Token], width: int) -> Placement:
    """Map a text row's value tokens onto ``width`` columns (report-format §4.4 missing-cell rule).

    The separators place empty cells where they show; with fewer cells than columns, exactly two equal
    numbers are 自然人 and 总计 (for the seven-column requests table); otherwise what can be placed is
    kept from the left and the rest is absent. Zeros are never invented."""
    if len(values) >= width:
        extra = [t for t in values[width:] if not t.empty]
        return Placement(list(values[:width]), extra)
    numbers = [t for t in values if not t.empty]
    if width == 7 and len(values) == 2 and len(numbers) == 2 and numbers[0].text.strip() == numbers[1].text.strip():
        return Placement([numbers[0], None, None, None, None, None, numbers[1]], [], "pair_natural_total")
    return Placement([*values, *([None] * (width - len(values)))], [], "short_row")


def place_by_column(values: list[Token], columns: dict[int, int], width: int) -> Placement:
    """Map HTML cells onto value columns by their grid column (``columns``: grid col → value index)."""
    slots: list[Token | None] = [None] * width
    overflow = []
    for token in values:
        col = token.col
        index = columns.get(col) if col is not None else None
        if index is None:
            if not token.empty:
                overflow.append(token)
            continue
        if slots[index] is None:
            slots[index] = token
    return Placement(slots, overflow, None if None not in slots else "short_row")


def from_grid(tokens: Sequence[Token]) -> bool:
    return bool(tokens) and tokens[0].table_index is not None


@dataclass
class TableResult:
    """One table's values (every template key), provenance and warnings."""

    name: str
    keys: tuple[str, ...]
    values: dict[str, Number | None] = field(default_factory=dict)
    cells: list[dict[str, Any]] = field(default_factory=list)  # canonical Cell fields
    warnings: list[ParseWarning] = field(default_factory=list)
    lines: set[int] = field(default_factory=set)  # text lines the table was read from
    rows_found: int = 0

    def warn(self, code: str, where: str | None, detail: str | None = None) -> None:
        self.warnings.append(ParseWarning(code=code, where=f"{self.name}.{where}" if where else self.name,
                                          detail=detail))

    def put(self, key: str, token: Token | None, *, money: bool = False, unit: str | None = None) -> None:
        """Record ``key`` from ``token`` (None: the cell is missing from the source)."""
        if key in self.values:
            return
        # Cells are kept as dicts: the record validates them all at once, far cheaper than one model each.
        if token is None:
            self.values[key] = None
            self.cells.append({"table": self.name, "key": key, "value": None, "status": "missing"})
            return
        text = token.text
        # Most cells are counts: their one-argument call takes lru_cache's fast path (keyword arguments
        # make it build and hash a key tuple, about three times the cost of the lookup itself).
        parsed: CellValue = parse_cell(text, money=money, default_unit=unit) if money or unit else parse_cell(text)
        value = parsed.value
        self.values[key] = value
        self.cells.append({"table": self.name, "key": key, "value": value, "status": parsed.status, "raw": text,
                           "unit": parsed.unit, "annotation": parsed.annotation, "at": token.location()})
        if token.line is not None:
            self.lines.add(token.line)
        if parsed.status == "unparseable":
            self.warn("cell_unparseable", key, text[:80])
        elif money and parsed.unit == "unknown" and value:
            self.warn("money_unit_unknown", key, text[:80])

    def note_label(self, token: Token | None) -> None:
        if token is not None and token.line is not None:
            self.lines.add(token.line)

    def finish(self) -> None:
        """Fill every template key not seen with a missing cell, and flag an empty table."""
        missing_rows: dict[str, int] = {}
        for key in self.keys:
            if key not in self.values:
                self.put(key, None)
                row = key.split(".")[0]
                missing_rows[row] = missing_rows.get(row, 0) + 1
        for row in missing_rows:
            self.warn("row_missing", row)
        if not any(c["status"] == "number" for c in self.cells):
            self.warn("table_empty", None, "no numeric cell")
        ordered = {k: self.values[k] for k in self.keys}
        ordered.update({k: v for k, v in self.values.items() if k not in ordered})
        self.values = ordered
