"""Reading one table cell into a value (canonical-record §3, report-format §2.4 and §4.3).

``-3`` keeps its sign; ``8(含2018年 结转1件)`` is 8 with an annotation; ``552.94亿元`` is money with a
unit, converted to 万元 with decimal arithmetic (so 552.94 亿元 is exactly 5529400.0 万元); ``/ — - 无``
are placeholders (0); an empty cell is blank (null). Nothing here guesses a zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

from nianbao.shared.record import CellStatus

PLACEHOLDERS = frozenset({"/", "-", "--", "—", "——", "———", "–", "－", "─", "无", "\\", "×", "*"})
MONEY_UNITS = {"元": Decimal("0.0001"), "万元": Decimal(1), "亿元": Decimal(10000)}
COUNT_UNITS = frozenset({"件", "条", "项", "个", "次", "人", "人次", "篇", "家"})

_NUMBER = re.compile(
    r"^(?P<sign>[+-])?\s*(?P<int>\d{1,3}(?:[,，]\d{3})+|\d+)(?:\.(?P<frac>\d+))?\s*"
    r"(?P<unit>万元|亿元|元|人次|件|条|项|个|次|人|篇|家)?\s*"
    r"(?:[(（](?P<paren>[^()（）]*)[)）])?\s*$"
)
_HEADER_UNIT = re.compile(r"单位[:：]?\s*(万元|亿元|元)")


@dataclass(frozen=True)
class CellValue:
    value: int | float | None
    status: CellStatus
    raw: str
    unit: str | None = None
    annotation: str | None = None


@lru_cache(maxsize=16_384)
def looks_like_value(text: str) -> bool:
    """Whether a token is a cell value (number or placeholder) rather than a label or prose."""
    t = text.strip()
    return t in PLACEHOLDERS or bool(t and (t[0].isdigit() or t[0] in "+-") and _NUMBER.match(t))


def header_unit(header: str) -> str | None:
    """The money unit a column header declares: ``采购总金额(单位:万元)`` → ``万元``."""
    m = _HEADER_UNIT.search(header)
    return m.group(1) if m else None


@cache
def default_max_digits() -> int:
    """``max_number_digits`` of the environment's parser settings (read once)."""
    from nianbao.parser.settings import ParserSettings

    return ParserSettings().max_number_digits


@lru_cache(maxsize=16_384)
def parse_cell(
    raw: str, *, money: bool = False, default_unit: str | None = None, max_digits: int | None = None
) -> CellValue:
    """Parse a cell's text. ``money`` converts to 万元 using the cell's unit, else ``default_unit``.

    A number with more than ``max_digits`` integer digits (default: the ``max_number_digits`` setting)
    is unparseable: no report counts that high, and such a value would break integer storage and the
    arithmetic of the rules."""
    text = raw.strip()
    if not text:
        return CellValue(None, "blank", raw)
    if text in PLACEHOLDERS:
        return CellValue(0.0 if money else 0, "placeholder", raw, unit="万元" if money else None)
    m = _NUMBER.match(text)
    if not m:
        return CellValue(None, "unparseable", raw)
    digits = m.group("int").replace(",", "").replace("，", "")
    if len(digits.lstrip("0")) > (default_max_digits() if max_digits is None else max_digits):
        return CellValue(None, "unparseable", raw)
    frac = m.group("frac")
    unit = m.group("unit")
    annotation = m.group("paren")
    if annotation is not None and annotation.strip() in MONEY_UNITS and unit is None:
        unit, annotation = annotation.strip(), None  # 3168.0656(万元)
    if annotation is not None:
        annotation = annotation.strip() or None
    try:
        number = Decimal(f"{digits}.{frac}" if frac else digits)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return CellValue(None, "unparseable", raw)
    if m.group("sign") == "-":
        number = -number
    if money:
        unit = unit if unit in MONEY_UNITS else default_unit
        if unit in MONEY_UNITS:
            return CellValue(float(number * MONEY_UNITS[unit]), "number", raw, unit=unit, annotation=annotation)
        return CellValue(float(number), "number", raw, unit="unknown", annotation=annotation)
    value: int | float = int(number) if frac is None else float(number)
    return CellValue(value, "number", raw, unit=unit, annotation=annotation)
