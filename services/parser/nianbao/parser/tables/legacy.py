"""``legacy`` 统计表 (统计指标 | 单位 | 统计数; report-format §2.3, seed 002).

Rows are ``label | unit | value``; group rows carry ``——`` as unit and no value. Labels repeat across
groups (``(二)被依法纠错数`` under both 四、行政复议数量 and 五、行政诉讼数量), so the top-level ordinal in
force decides. Rows that fit no catalogue key go to ``legacy_other`` as ``{label: value}`` pairs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from nianbao.parser.document import Token
from nianbao.parser.normalize import label_key
from nianbao.parser.tables.common import Row, TableResult, split_rows
from nianbao.parser.values import parse_cell
from nianbao.parser.vocabulary import vocabulary
from nianbao.shared.record import LEGACY_KEYS, Number

_TOP_ORDINAL = re.compile(r"^([一二三四五六七八九十]+)[、.,]")
_OF_WHICH = re.compile(r"^其中[::]?")


@dataclass
class LegacyResult:
    table: TableResult
    other: dict[str, Number | None] = field(default_factory=dict)


def _is_label(token: Token) -> bool:
    return token.is_text and label_key(token.text) not in vocabulary().legacy_units


def read_legacy(tokens: Sequence[Token]) -> LegacyResult | None:
    """Read the 统计表; None when no catalogue row is found."""
    vocab = vocabulary()
    money_keys = set(vocab.section("legacy")["money_keys"])
    result = LegacyResult(TableResult("legacy", LEGACY_KEYS))
    table = result.table
    group: str | None = None
    seen: set[str] = set()
    for row in split_rows(tokens, is_label=_is_label):
        if row.label is None:
            continue
        top = _TOP_ORDINAL.match(label_key(row.text))
        if top:
            group = top.group(1)
        bare = _OF_WHICH.sub("", row.bare)
        match = vocab.legacy_index.match(bare)
        if match is None:
            if vocab.legacy_headers.match(bare) is None and vocab.legacy_groups.match(bare) is None:
                _other(result, row)
            continue
        candidates = vocab.legacy_rows[match.key]
        keys = [k for g, k in candidates if g == group] or ([candidates[0][1]] if len(candidates) == 1 else [])
        if not keys:
            table.warn("label_ambiguous", None, row.text[:60])
            continue
        key = keys[0]
        if key in seen:
            table.warn("row_duplicate", key, row.text[:60])
            continue
        seen.add(key)
        table.note_label(row.label)
        if match.how == "fuzzy":
            table.warn("label_fuzzy", key, row.text[:60])
        unit, value = _unit_and_value(row)
        if unit is not None:
            table.note_label(unit)
        table.put(key, value, money=key in money_keys, unit=_money_unit(unit))
        if value is None:
            table.warn("cell_missing", key, "no value cell")
    if not seen:
        return None
    table.rows_found = len(seen)
    table.finish()
    return result


def _unit_and_value(row: Row) -> tuple[Token | None, Token | None]:
    values = list(row.values)
    unit = None
    if values and label_key(values[0].text) in vocabulary().legacy_units and not values[0].text.strip().isdigit():
        unit = values.pop(0)
    return unit, values[0] if values else None


def _money_unit(unit: Token | None) -> str | None:
    text = label_key(unit.text) if unit is not None else ""
    return text if text in ("元", "万元", "亿元") else "万元"


def _other(result: LegacyResult, row: Row) -> None:
    """A row of an older provincial form: keep ``label: first number``."""
    _, value = _unit_and_value(row)
    if value is None or not value.is_value:
        return
    label = row.text.strip()[:120]
    if label and label not in result.other:
        result.other[label] = parse_cell(value.text).value
        result.table.warn("legacy_unmatched_label", None, label[:60])
