"""T3 ``requests`` (三、收到和处理政府信息公开申请情况): 23 (gen2019) or 25 (gen2021) rows × 7 columns.

Group labels (三、本年度办理结果, (三)不予公开, …) are context, also when a page break repeats them
(seeds 000, 004). ``其他`` and ``总计`` are column headers unless an ordinal or numbers make them rows.
In a grid (HTML, PDF, Word) the value columns come from the header cells (自然人 … 总计), and the values
of a 法人或其他组织 ``小计`` column some tools add are dropped (report-format §3.4); in text they are
positional (§4.4).
"""

from __future__ import annotations

from collections.abc import Sequence

from nianbao.parser.document import Token
from nianbao.parser.tables.common import (
    Placement,
    Row,
    TableResult,
    from_grid,
    place_by_column,
    place_positional,
    split_rows,
)
from nianbao.parser.vocabulary import vocabulary
from nianbao.shared.record import REQUEST_COLUMNS, Generation, request_keys

_OTHER_2021 = ("other_no_correction", "other_fee_unpaid", "other_misc")
_NEXT_TABLE = "行政复议"  # the first header cell of T4
_SUBTOTAL = "小计"


def _grid_columns(tokens: Sequence[Token]) -> dict[int, dict[int, int | None]]:
    """Per HTML table with a header: grid column → value index, from the header cells naming the seven
    value columns. A ``小计`` column some tools add to the 法人或其他组织 group (report-format §3.4) maps to
    None: its values are dropped, not surplus. A continuation table without a header is read positionally,
    like text."""
    index = vocabulary().request_column_headers
    found: dict[int, dict[str, int]] = {}
    subtotal: dict[int, set[int]] = {}
    for token in tokens:
        table, col = token.table_index, token.col
        if table is None or col is None:
            continue
        if token.is_text:
            match = index.match(token.key)
            if match is not None and match.how == "exact":
                found.setdefault(table, {}).setdefault(match.key, col)
            elif token.key == _SUBTOTAL:
                subtotal.setdefault(table, set()).add(col)
    out: dict[int, dict[int, int | None]] = {}
    for table, named in found.items():
        if len(named) == len(REQUEST_COLUMNS):
            columns: dict[int, int | None] = {named[col]: i for i, col in enumerate(REQUEST_COLUMNS)}
            for col in subtotal.get(table, set()) - set(columns):
                columns[col] = None
            out[table] = columns
    return out


def read_requests(tokens: Sequence[Token], generation: Generation) -> TableResult | None:
    """Read the requests table from ``tokens``; None when no template row is found."""
    vocab = vocabulary()
    result = TableResult("requests", request_keys(generation))
    columns = _grid_columns(tokens) if from_grid(tokens) else None
    note = vocab.section("requests")["note"]
    other_group = set(vocab.section("requests")["other_group"])
    group: str | None = None
    seen: set[str] = set()
    extra = 0
    for row in split_rows(tokens):
        if row.label is None:
            continue
        bare = row.bare
        if seen and bare == _NEXT_TABLE:
            break  # the review/litigation table follows in the same grid
        if bare.startswith(note) or (row.text.startswith("(") and note in bare):
            result.note_label(row.label)
            continue
        match = vocab.request_rows.match(bare)
        key = match.key if match else None
        if (
            key == "other_misc"
            and not (row.ordinal and group in other_group)
            and not (row.numbers and group in other_group)
        ):
            key = None
        if key == "results_total" and not (row.ordinal or row.numbers):
            key = None
        if key == "other" and not row.numbers and (generation == "gen2021" or not row.values):
            group = bare  # (六)其他处理 heading its three sub-rows
            result.note_label(row.label)
            continue
        if key is None:
            if vocab.request_groups.match(bare) is not None:
                group = bare
                result.note_label(row.label)
            elif row.numbers and vocab.request_headers.match(bare) is None and seen:
                extra += 1
                _read_row(result, row, f"extra.{extra}", columns)
                result.warn("extra_row", f"extra.{extra}", f"row not in the template: {row.text[:60]}")
            continue
        if generation != "gen2021" and key in _OTHER_2021:
            result.warn("row_not_in_generation", key, row.text[:60])
            continue
        if key in seen:
            result.warn("row_duplicate", key, row.text[:60])
            continue
        seen.add(key)
        if generation == "gen2021" and key == "other":
            result.warn("requests_other_not_split", key, "gen2021 report with one (六)其他处理 row")
        if match is not None and match.how == "fuzzy":
            result.warn("label_fuzzy", key, row.text[:60])
        _read_row(result, row, key, columns)
    if not seen:
        return None
    result.rows_found = len(seen)
    result.finish()
    return result


def _read_row(result: TableResult, row: Row, key: str, columns: dict[int, dict[int, int | None]] | None) -> None:
    result.note_label(row.label)
    width = len(REQUEST_COLUMNS)
    table = row.label.table_index if row.label is not None else None
    if columns is not None and table in columns:
        named = columns[table]
        kept = {col: i for col, i in named.items() if i is not None}
        values = row.values
        if len(kept) < len(named):  # a 小计 column: its cells are dropped, not surplus
            values = [t for t in values if t.col is None or t.col not in named or named[t.col] is not None]
        placement: Placement = place_by_column(values, kept, width)
    else:
        placement = place_positional(row.values, width)
    for column, token in zip(REQUEST_COLUMNS, placement.slots, strict=True):
        result.put(f"{key}.{column}", token)
    absent = placement.slots.count(None)
    if absent:
        detail = f"{absent} of {width} cells absent"
        if placement.repaired == "pair_natural_total":
            detail += "; two equal numbers taken as 自然人 and 总计"
        result.warn("cell_missing", key, detail)
    if placement.overflow:
        result.warn("cell_overflow", key, " | ".join(t.text for t in placement.overflow)[:80])
