"""Builders that turn the compact row notation of the report data modules into canonical-key dicts.

The data modules write the requests table as one 7-tuple per row (自然人 … 其他, 总计) because that is how
a person reads and checks it; these helpers spell the tuples out under the canonical keys and refuse any
row that is missing, unknown or of the wrong width. They never compute a value: every total is data.
"""

from __future__ import annotations

from collections.abc import Mapping

from nianbao.shared.record import (
    REQUEST_COLUMNS,
    REVIEW_COLUMNS,
    REVIEW_GROUPS,
    Generation,
    Number,
    request_rows,
)

Row7 = tuple[int, int, int, int, int, int, int]
Row5 = tuple[int, int, int, int, int]
ZERO7: Row7 = (0, 0, 0, 0, 0, 0, 0)


def requests_table(generation: Generation, rows: Mapping[str, Row7]) -> dict[str, Number | None]:
    """``{row: (natural, commercial, research, social, legal, other_org, total)}`` → ``{"row.col": n}``.

    Every template row of ``generation`` must be given, in template order, and nothing else.
    """
    template = request_rows(generation)
    if tuple(rows) != template:
        raise ValueError(f"requests rows {tuple(rows)} are not the {generation} template rows {template}")
    table: dict[str, Number | None] = {}
    for row in template:
        values = rows[row]
        if len(values) != len(REQUEST_COLUMNS):
            raise ValueError(f"requests row {row!r} has {len(values)} values, not {len(REQUEST_COLUMNS)}")
        for column, value in zip(REQUEST_COLUMNS, values, strict=True):
            table[f"{row}.{column}"] = value
    return table


def review_table(*, review: Row5, direct: Row5, after_review: Row5) -> dict[str, Number | None]:
    """The 15 values of 四、行政复议、行政诉讼 as (结果维持, 结果纠正, 其他结果, 尚未审结, 总计) per group."""
    groups = {"review": review, "direct": direct, "after_review": after_review}
    table: dict[str, Number | None] = {}
    for group in REVIEW_GROUPS:
        for column, value in zip(REVIEW_COLUMNS, groups[group], strict=True):
            table[f"{group}.{column}"] = value
    return table
