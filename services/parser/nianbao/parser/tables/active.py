"""T2 ``active`` (二、主动公开政府信息情况): five blocks of rows under 第二十条第(X)项 captions.

Each template row belongs to one block, whose columns depend on the generation (report-format §2.1,
§2.2). A row the template does not have (``其他主动公开文件``) is kept as ``extra.<n>.<column>`` of its
block with a warning, never in a template key. Money (采购总金额, 本年收费金额) is converted to 万元 with the
unit of the cell, else of the block's header (``采购总金额(单位:万元)``); gen2021 fees are 万元 by template.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from nianbao.parser.document import Token
from nianbao.parser.normalize import label_key
from nianbao.parser.tables.common import Row, TableResult, place_positional, split_rows
from nianbao.parser.values import header_unit
from nianbao.parser.vocabulary import vocabulary
from nianbao.shared.record import Generation, table_keys

_NEXT_TABLE = "申请人情况"
_CAPTION = re.compile(r"第二十条第\(?([一二三四五六七八九十]+)\)?项")


def read_active(tokens: Sequence[Token], generation: Generation) -> TableResult | None:
    """Read the active table from ``tokens``; None when no template row is found."""
    vocab = vocabulary()
    money_columns = set(vocab.section("active")["money_columns"])
    gen = "gen2021" if generation == "gen2021" else "gen2019"
    columns_of = vocab.active_columns[gen]
    result = TableResult("active", table_keys("active", generation))
    block: str | None = None
    units: dict[str, str] = {"八": "万元"} if gen == "gen2021" else {}
    extra = 0
    seen: set[str] = set()
    for row in split_rows(tokens):
        if row.label is None:
            continue
        key = label_key(row.text)
        if seen and (key.startswith(_NEXT_TABLE) or "本列数据的勾稽关系" in key):
            break  # the requests table follows in the same grid
        caption = _CAPTION.search(key)
        if caption:
            block = caption.group(1)
            result.note_label(row.label)
            continue
        if vocab.active_headers.match(row.bare) is not None:
            unit = header_unit(row.text)
            if unit and block:
                units[block] = unit
            result.note_label(row.label)
            continue
        match = vocab.active_rows.match(row.bare)
        if match is None:
            if row.numbers and block in columns_of:
                extra += 1
                _read_row(result, row, f"extra.{extra}", columns_of[block], money_columns, units.get(block))
                result.warn("extra_row", f"extra.{extra}", f"row not in the template: {row.text[:60]}")
            continue
        row_key = match.key
        row_block = vocab.active_blocks[row_key]
        if row_block not in columns_of or f"{row_key}.{columns_of[row_block][0]}" not in result.keys:
            result.warn("row_not_in_generation", row_key, f"{row.text[:60]} is not a {generation} row")
            continue
        if row_key in seen:
            result.warn("row_duplicate", row_key, row.text[:60])
            continue
        seen.add(row_key)
        block = row_block
        if match.how == "fuzzy":
            result.warn("label_fuzzy", row_key, row.text[:60])
        _read_row(result, row, row_key, columns_of[row_block], money_columns, units.get(row_block))
    if not seen:
        return None
    result.rows_found = len(seen)
    result.finish()
    return result


def _read_row(
    result: TableResult,
    row: Row,
    row_key: str,
    columns: tuple[str, ...],
    money_columns: set[str],
    unit: str | None,
) -> None:
    result.note_label(row.label)
    placement = place_positional(row.values, len(columns))
    for column, token in zip(columns, placement.slots, strict=True):
        result.put(f"{row_key}.{column}", token, money=column in money_columns, unit=unit)
    if any(slot is None for slot in placement.slots):
        result.warn("cell_missing", row_key, f"{sum(s is None for s in placement.slots)} of {len(columns)} "
                    "cells absent")
    if placement.overflow:
        result.warn("cell_overflow", row_key, " | ".join(t.text for t in placement.overflow)[:80])
