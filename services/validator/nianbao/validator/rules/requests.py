"""Rules on table T3, 三、收到和处理政府信息公开申请情况 (report-format.md §3.2, ``requests.*``).

``where`` is the column key for per-column rules and the row key for per-row rules.
"""

from __future__ import annotations

from collections.abc import Iterator

from nianbao.shared.record import (
    REQUEST_APPLICANT_COLUMNS,
    REQUEST_COLUMNS,
    REQUEST_OTHER_ROWS_2021,
    Generation,
    request_result_rows,
    request_rows,
)
from nianbao.validator.rules.compare import compare, sign_check
from nianbao.validator.rules.context import Context
from nianbao.validator.rules.labels import REQUEST_COLUMN_LABELS, REQUEST_ROW_LABELS
from nianbao.validator.rules.model import Verdict
from nianbao.validator.rules.views import TableView

TABLE = "requests"
# The parser's warning for a row with more values than columns (it keeps the first 7), with
# ``where`` = "requests.<row>" (parser warning_codes.py; the services share no code, only the code string).
OVERFULL_WARNING = "cell_overflow"


def _keys(columns: tuple[str, ...], prefix: str = "") -> dict[str, tuple[str, ...]]:
    return {row: tuple(f"{prefix}{row}.{col}" for col in columns) for row in REQUEST_ROW_LABELS}


# Each row's keys and refs, built once per process: the rules below go through every row of the table
# several times per report.
_ROW_KEYS = _keys(REQUEST_COLUMNS)
_APPLICANT_KEYS = _keys(REQUEST_APPLICANT_COLUMNS)
_ROW_REFS = _keys(REQUEST_COLUMNS, prefix=f"{TABLE}.")
_TEMPLATE_KEYS = frozenset(key for keys in _ROW_KEYS.values() for key in keys)


def row_present(view: TableView, row: str) -> bool:
    """A row is in the document when at least one of its cells is (a blank cell counts, a missing one not)."""
    return not view.present_keys.isdisjoint(_ROW_KEYS[row])


def single_other_row(view: TableView, generation: Generation) -> bool:
    """A gen2021 table printed with gen2019's one-row (六)其他处理 instead of its three sub-rows."""
    return (
        generation == "gen2021"
        and row_present(view, "other")
        and not any(row_present(view, r) for r in REQUEST_OTHER_ROWS_2021)
    )


def result_rows(view: TableView, generation: Generation) -> tuple[str, ...]:
    """The rows summed into (七)总计; a gen2021 single (六) row stands in for its sub-rows (§3.2 other_split)."""
    rows = request_result_rows(generation)
    if single_other_row(view, generation):
        return (*rows[: -len(REQUEST_OTHER_ROWS_2021)], "other")
    return rows


def data_rows(view: TableView, generation: Generation) -> tuple[str, ...]:
    """The template's data rows that are present, plus a gen2021 single (六) row if that is what was printed."""
    rows = request_rows(generation)
    if single_other_row(view, generation):
        rows = (*rows, "other")
    return tuple(row for row in rows if row_present(view, row))


def _setup(ctx: Context) -> tuple[TableView, Generation] | None:
    view = ctx.table(TABLE)
    if view is None or ctx.generation not in ("gen2019", "gen2021"):
        return None
    return view, ctx.generation


def balance(ctx: Context) -> Iterator[Verdict]:
    """The official 勾稽关系, per column: 新收 + 上年结转 = (七)总计 + 结转下年度."""
    if (setup := _setup(ctx)) is None:
        return
    view, _ = setup
    for col in REQUEST_COLUMNS:
        yield compare(
            where=col,
            left=view.operands([f"new.{col}", f"carried_in.{col}"]),
            right=view.operands([f"results_total.{col}", f"carried_out.{col}"]),
            relation="eq",
            text=f"本年新收+上年结转 = 办理结果总计+结转下年度 ({REQUEST_COLUMN_LABELS[col]})",
        )


def row_total(ctx: Context) -> Iterator[Verdict]:
    """Per data row present: the six applicant columns add up to 总计."""
    if (setup := _setup(ctx)) is None:
        return
    view, generation = setup
    # An absent row is requests.shape's finding, not an arithmetic one.
    for row in data_rows(view, generation):
        yield compare(
            where=row,
            left=view.operands(_APPLICANT_KEYS[row]),
            right=[view.operand(f"{row}.total")],
            relation="eq",
            text=f"Σ申请人 = 总计 ({REQUEST_ROW_LABELS[row]})",
        )


def results_sum(ctx: Context) -> Iterator[Verdict]:
    """Per column: the result rows (一)…(六) add up to (七)总计."""
    if (setup := _setup(ctx)) is None:
        return
    view, generation = setup
    rows = result_rows(view, generation)
    for col in REQUEST_COLUMNS:
        yield compare(
            where=col,
            left=view.operands([f"{row}.{col}" for row in rows]),
            right=[view.operand(f"results_total.{col}")],
            relation="eq",
            text=f"(一)至(六)之和 = (七)总计 ({REQUEST_COLUMN_LABELS[col]})",
        )


def other_split(ctx: Context) -> Iterator[Verdict]:
    """gen2021: (六)其他处理 has its three sub-rows; a single (六) row is a template mix-up."""
    view = ctx.table(TABLE)
    if view is None or ctx.generation != "gen2021":
        return
    found = [r for r in REQUEST_OTHER_ROWS_2021 if row_present(view, r)]
    cells = tuple(view.ref(f"{r}.total") for r in ("other", *REQUEST_OTHER_ROWS_2021) if view.present(f"{r}.total"))
    if single_other_row(view, "gen2021"):
        message = "(六)其他处理 is a single gen2019-style row in a gen2021 report (used as Σ(六))"
    elif len(found) == len(REQUEST_OTHER_ROWS_2021) and not row_present(view, "other"):
        yield Verdict("other", "pass", lhs=3, rhs=3, cells=cells, message="(六)其他处理 has its 3 sub-rows")
        return
    elif row_present(view, "other"):
        message = "(六)其他处理 has both a single row and sub-rows"
    else:
        message = f"(六)其他处理 has {len(found)} of its 3 sub-rows"
    yield Verdict("other", "fail", lhs=len(found), rhs=3, cells=cells, message=message)


def nonneg_int(ctx: Context) -> Iterator[Verdict]:
    """Per row present: every value is a non-negative integer."""
    if (setup := _setup(ctx)) is None:
        return
    view, generation = setup
    for row in data_rows(view, generation):
        yield sign_check(
            where=row,
            operands=view.operands(_ROW_KEYS[row]),
            text=f"申请数为非负整数 ({REQUEST_ROW_LABELS[row]})",
            integer=True,
        )


def _overfull_rows(ctx: Context, view: TableView) -> set[str]:
    rows = {
        w.where.removeprefix(f"{TABLE}.").split(".", 1)[0]
        for w in ctx.record.warnings
        if w.code == OVERFULL_WARNING and w.where is not None and w.where.startswith(f"{TABLE}.")
    }
    # A key with a column the template does not have is a value cell beyond the seventh. (The template's
    # own keys, nearly all of them, are set aside first: far cheaper than splitting each.)
    keys = (set(view.values) | set(view.cells)) - _TEMPLATE_KEYS
    rows |= {k.split(".", 1)[0] for k in keys if "." in k and k.split(".", 1)[1] not in REQUEST_COLUMNS}
    return rows


def shape(ctx: Context) -> Iterator[Verdict]:
    """Every template row is present (23 in gen2019, 25 in gen2021) and none has more than 7 value cells."""
    if (setup := _setup(ctx)) is None:
        return
    view, generation = setup
    overfull = _overfull_rows(ctx, view)
    for row in request_rows(generation):
        label = REQUEST_ROW_LABELS[row]
        cells = _ROW_REFS[row]  # (the view of TABLE is named TABLE)
        if not row_present(view, row):
            yield Verdict(row, "fail", cells=cells, message=f"row {label} is absent from the table")
        elif row in overfull:
            yield Verdict(row, "fail", cells=cells, message=f"row {label} has more than 7 value cells")
        else:
            yield Verdict(row, "pass", cells=cells, message=f"row {label} present with at most 7 value cells")
