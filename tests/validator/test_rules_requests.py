"""requests.* (T3) and review/litigation (T4) rules on small hand-written tables."""

from __future__ import annotations

import pytest
from validator.fixtures_rules import (
    cell,
    failing,
    findings_of,
    make_record,
    modern_tables,
    requests_table,
    review_table,
    run,
    verdicts,
    with_values,
)

from nianbao.shared.record import REQUEST_COLUMNS, REQUEST_OTHER_ROWS_2021, Generation, Number, request_rows

T3_T4_RULES = (
    "requests.balance",
    "requests.row_total",
    "requests.results_sum",
    "requests.nonneg_int",
    "requests.shape",
    "review.total",
    "litigation.direct_total",
    "litigation.after_review_total",
    "reviewlit.nonneg_int",
)


def _with_requests(generation: Generation = "gen2019", **changes: Number | None) -> dict[str, dict[str, Number | None]]:
    tables = modern_tables(generation)
    tables["requests"] = with_values(tables["requests"], **changes)
    return tables


@pytest.mark.parametrize("generation", ["gen2019", "gen2021"])
def test_consistent_tables_pass_every_instance(generation: Generation) -> None:
    evaluation = run(make_record(generation=generation, year=2019 if generation == "gen2019" else 2021))
    for rule in T3_T4_RULES:
        assert set(verdicts(evaluation, rule).values()) == {"pass"}, rule
    assert set(verdicts(evaluation, "requests.balance")) == set(REQUEST_COLUMNS)
    assert set(verdicts(evaluation, "requests.row_total")) == set(request_rows(generation))
    assert set(verdicts(evaluation, "review.total")) == {"review"}
    assert set(verdicts(evaluation, "reviewlit.nonneg_int")) == {"review", "direct", "after_review"}


def test_balance_fails_per_column_and_reports_sums() -> None:
    # One more 自然人 application received (row total kept consistent): 6+1 ≠ 5+1, and 8+1 ≠ 6+2 in 总计.
    evaluation = run(make_record(tables=_with_requests(new__natural=6, new__total=8)))
    balance = findings_of(evaluation, "requests.balance")
    assert {w for w, f in balance.items() if f.status == "fail"} == {"natural", "total"}
    natural = balance["natural"]
    assert (natural.lhs, natural.rhs, natural.delta, natural.severity) == (7, 6, 1, "error")
    assert natural.cells == [
        "requests.new.natural",
        "requests.carried_in.natural",
        "requests.results_total.natural",
        "requests.carried_out.natural",
    ]
    assert "自然人" in natural.message
    assert failing(evaluation) == {("requests.balance", "natural"), ("requests.balance", "total")}


def test_row_total_fails_on_the_row_only() -> None:
    evaluation = run(make_record(tables=_with_requests(granted__total=5)))
    granted = findings_of(evaluation, "requests.row_total")["granted"]
    assert (granted.status, granted.lhs, granted.rhs) == ("fail", 4, 5)
    # the 总计 column's result rows now add up to 7 against (七)总计 6
    assert failing(evaluation) == {("requests.row_total", "granted"), ("requests.results_sum", "total")}


def test_results_sum_localises_the_column() -> None:
    evaluation = run(make_record(tables=_with_requests(granted__natural=4, granted__total=5)))
    results = findings_of(evaluation, "requests.results_sum")
    assert (results["natural"].status, results["natural"].lhs, results["natural"].rhs) == ("fail", 6, 5)
    assert results["commercial"].status == "pass"
    assert failing(evaluation) == {("requests.results_sum", "natural"), ("requests.results_sum", "total")}


def test_missing_operand_is_not_assessable_never_pass_or_fail() -> None:
    tables = _with_requests(carried_out__natural=None)
    record = make_record(tables=tables, cells=[cell("requests", "carried_out.natural", None, "missing")])
    evaluation = run(record)
    assert verdicts(evaluation, "requests.balance")["natural"] == "not_assessable"
    assert verdicts(evaluation, "requests.row_total")["carried_out"] == "not_assessable"
    assert verdicts(evaluation, "requests.balance")["total"] == "pass"  # the 总计 column is still checked
    na = findings_of(evaluation, "requests.balance")["natural"]
    assert (na.lhs, na.rhs, na.delta) == (None, None, None)
    assert "requests.carried_out.natural is missing" in na.message


def test_only_total_column_reliable_still_checks_total() -> None:
    # A damaged row: only 自然人 and 总计 survived for 本年新收 (岳阳南湖 2019); the rest is missing.
    missing = {f"new__{c}": None for c in REQUEST_COLUMNS if c not in ("natural", "total")}
    cells = [cell("requests", f"new.{c}", None, "missing") for c in REQUEST_COLUMNS if c not in ("natural", "total")]
    evaluation = run(make_record(tables=_with_requests(**missing), cells=cells))
    balance = verdicts(evaluation, "requests.balance")
    assert (balance["total"], balance["natural"], balance["commercial"]) == ("pass", "pass", "not_assessable")
    assert verdicts(evaluation, "requests.row_total")["new"] == "not_assessable"


def test_nonneg_int_fails_on_negative_and_fraction() -> None:
    evaluation = run(make_record(tables=_with_requests(partial__legal=-1, refused_repeat__research=2.5)))
    nonneg = findings_of(evaluation, "requests.nonneg_int")
    assert (nonneg["partial"].status, nonneg["partial"].lhs) == ("fail", -1)
    assert nonneg["refused_repeat"].status == "fail"
    assert nonneg["granted"].status == "pass"


def test_nonneg_int_not_assessable_with_a_missing_cell() -> None:
    record = make_record(
        tables=_with_requests(other__legal=None), cells=[cell("requests", "other.legal", None, "missing")]
    )
    assert verdicts(run(record), "requests.nonneg_int")["other"] == "not_assessable"


def test_shape_fails_for_an_absent_row() -> None:
    tables = modern_tables("gen2019")
    tables["requests"] = {k: v for k, v in requests_table().items() if not k.startswith("refused_mass.")}
    evaluation = run(make_record(tables=tables))
    shape = verdicts(evaluation, "requests.shape")
    assert shape["refused_mass"] == "fail"
    assert len(shape) == 23 and list(shape.values()).count("fail") == 1
    # the absent row makes the column sums not assessable rather than wrong
    assert set(verdicts(evaluation, "requests.results_sum").values()) == {"not_assessable"}
    assert "refused_mass" not in verdicts(evaluation, "requests.row_total")


def test_shape_row_of_missing_cells_is_absent_but_blank_cells_are_present() -> None:
    tables = _with_requests(**{f"refused_mass__{c}": None for c in REQUEST_COLUMNS})
    missing = [cell("requests", f"refused_mass.{c}", None, "missing") for c in REQUEST_COLUMNS]
    assert verdicts(run(make_record(tables=tables, cells=missing)), "requests.shape")["refused_mass"] == "fail"
    blank = [cell("requests", f"refused_mass.{c}", None, "blank") for c in REQUEST_COLUMNS]
    assert verdicts(run(make_record(tables=tables, cells=blank)), "requests.shape")["refused_mass"] == "pass"


def test_shape_fails_for_an_overfull_row() -> None:
    warning = {"code": "cell_overflow", "where": "requests.granted", "detail": "3"}
    elsewhere = {"code": "cell_overflow", "where": "active.fees", "detail": "7"}
    evaluation = run(make_record(warnings=[warning, elsewhere]))
    assert verdicts(evaluation, "requests.shape")["granted"] == "fail"
    assert failing(evaluation) == {("requests.shape", "granted")}


def test_other_split_passes_with_three_sub_rows() -> None:
    evaluation = run(make_record(generation="gen2021", year=2021))
    assert verdicts(evaluation, "requests.other_split") == {"other": "pass"}


def test_other_split_single_row_in_gen2021_is_reported_and_used_as_sum() -> None:
    table = {k: v for k, v in requests_table("gen2021").items() if not k.startswith("other_")}
    # The single (六) row holds 1 自然人 request; (七)总计 and 结转 absorb it so every sum still holds.
    table.update({f"other.{c}": 0 for c in REQUEST_COLUMNS})
    table.update({"other.natural": 1, "other.total": 1, "results_total.natural": 6, "results_total.total": 7})
    table.update({"carried_out.natural": 0, "carried_out.total": 1})
    tables = modern_tables("gen2021")
    tables["requests"] = table
    evaluation = run(make_record(generation="gen2021", year=2021, tables=tables))
    split = findings_of(evaluation, "requests.other_split")["other"]
    assert (split.status, split.lhs, split.rhs) == ("fail", 0, 3)
    assert set(verdicts(evaluation, "requests.results_sum").values()) == {"pass"}
    assert verdicts(evaluation, "requests.row_total")["other"] == "pass"
    shape_fails = {w for w, s in verdicts(evaluation, "requests.shape").items() if s == "fail"}
    assert shape_fails == set(REQUEST_OTHER_ROWS_2021)


def test_other_split_fails_when_sub_rows_are_absent() -> None:
    table = {k: v for k, v in requests_table("gen2021").items() if not k.startswith("other_fee_unpaid.")}
    tables = modern_tables("gen2021")
    tables["requests"] = table
    split = findings_of(run(make_record(generation="gen2021", year=2021, tables=tables)), "requests.other_split")
    assert (split["other"].status, split["other"].lhs) == ("fail", 2)


@pytest.mark.parametrize(
    ("rule", "group", "key"),
    [
        ("review.total", "review", "review__pending"),
        ("litigation.direct_total", "direct", "direct__corrected"),
        ("litigation.after_review_total", "after_review", "after_review__other"),
    ],
)
def test_review_litigation_totals(rule: str, group: str, key: str) -> None:
    tables = modern_tables()
    tables["review_litigation"] = with_values(review_table(), **{key: 3})
    finding = findings_of(run(make_record(tables=tables)), rule)[group]
    assert finding.status == "fail" and finding.severity == "error"
    assert finding.cells[-1] == f"review_litigation.{group}.total"
    tables["review_litigation"] = with_values(review_table(), **{key: None})
    missing = cell("review_litigation", key.replace("__", "."), None, "unparseable", raw="l")
    assert verdicts(run(make_record(tables=tables, cells=[missing])), rule)[group] == "not_assessable"


def test_reviewlit_nonneg_int() -> None:
    tables = modern_tables()
    tables["review_litigation"] = with_values(review_table(), after_review__upheld=-1, after_review__total=-1)
    evaluation = run(make_record(tables=tables))
    assert verdicts(evaluation, "reviewlit.nonneg_int") == {"review": "pass", "direct": "pass", "after_review": "fail"}
    assert verdicts(evaluation, "litigation.after_review_total")["after_review"] == "pass"


def test_no_requests_table_no_requests_findings() -> None:
    tables = modern_tables()
    del tables["requests"]
    evaluation = run(make_record(tables=tables))
    assert not [f for f in evaluation.findings if f.rule.startswith("requests.")]
