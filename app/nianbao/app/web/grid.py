"""The three report tables laid out as on the source: one row per row key, one column per column key, each
with the template's Chinese label beside the English key (canonical-record.md §2)."""

from __future__ import annotations

from dataclasses import dataclass

from nianbao.app.show import ShownTable, ShownValue

TABLE_TITLES = {
    "active": ("Active disclosure", "二、主动公开政府信息情况"),
    "requests": ("Requests received and handled", "三、收到和处理政府信息公开申请情况"),
    "review_litigation": ("Administrative review and litigation", "四、政府信息公开行政复议、行政诉讼情况"),
    "legacy": ("Statistics table (before 2019)", "政府信息公开情况统计表"),
}

ACTIVE_COLUMNS = {
    "new_made": "本年新制作数量", "new_published": "本年新公开数量", "total_published": "对外公开总数量",
    "issued": "本年制发件数", "repealed": "本年废止件数", "in_force": "现行有效件数", "prev_items": "上一年项目数量",
    "delta": "本年增/减", "decisions": "处理决定数量", "projects": "采购项目数量", "amount_wan": "金额（万元）",
}  # fmt: skip
REVIEW_COLUMNS = {"upheld": "结果维持", "corrected": "结果纠正", "other": "其他结果", "pending": "尚未审结",
                  "total": "总计"}  # fmt: skip
VALUE_COLUMN = "value"  # the one column of a table keyed by indicator alone (legacy)


@dataclass(frozen=True)
class Header:
    key: str
    label: str | None  # Chinese, from the template; None for a key outside it


@dataclass(frozen=True)
class GridRow:
    header: Header
    cells: list[ShownValue | None]  # one per column; None where the report has no such value


@dataclass(frozen=True)
class Grid:
    name: str
    title: tuple[str, str]  # English, Chinese
    read_from: str
    columns: list[Header]
    rows: list[GridRow]


def _labels(table: str) -> tuple[dict[str, str], dict[str, str]]:
    from nianbao.validator.rules.labels import (
        ACTIVE_ROW_LABELS,
        LEGACY_LABELS,
        REQUEST_COLUMN_LABELS,
        REQUEST_ROW_LABELS,
        REVIEW_GROUP_LABELS,
    )

    return {
        "active": (ACTIVE_ROW_LABELS, ACTIVE_COLUMNS),
        "requests": (REQUEST_ROW_LABELS, REQUEST_COLUMN_LABELS),
        "review_litigation": (REVIEW_GROUP_LABELS, REVIEW_COLUMNS),
        "legacy": (LEGACY_LABELS, {VALUE_COLUMN: "数值"}),
    }.get(table, ({}, {}))


def split_key(key: str) -> tuple[str, str]:
    """(row, column) of a value key: ``new.natural`` → (new, natural), ``extra.1.issued`` → (extra.1,
    issued); a key without a dot (legacy indicators) is its own row in the one value column."""
    row, dot, column = key.rpartition(".")
    return (row, column) if dot else (key, VALUE_COLUMN)


def build_grid(table: ShownTable) -> Grid:
    """Rows and columns in the order the report's values come in (the parser's reading order)."""
    row_labels, column_labels = _labels(table.name)
    rows: dict[str, dict[str, ShownValue]] = {}
    columns: dict[str, None] = {}
    for value in table.values:
        row, column = split_key(value.key)
        rows.setdefault(row, {})[column] = value
        columns.setdefault(column, None)
    return Grid(
        name=table.name,
        title=TABLE_TITLES.get(table.name, (table.name, "")),
        read_from=table.read_from,
        columns=[Header(c, column_labels.get(c)) for c in columns],
        rows=[
            GridRow(Header(row, row_labels.get(row)), [cells.get(c) for c in columns]) for row, cells in rows.items()
        ],
    )
