"""The per-table blank policy (report-format.md §3.5) and what it does to the rules."""

from __future__ import annotations

from validator.fixtures_rules import (
    cell,
    findings_of,
    legacy_table,
    make_record,
    modern_tables,
    requests_table,
    run,
    verdicts,
)

from nianbao.shared.record import LEGACY_KEYS, REQUEST_COLUMNS, Number


def _zeros_as_blanks(table: dict[str, Number | None]) -> dict[str, Number | None]:
    """The table as 上海 2019 prints it: every 0 left blank."""
    return {k: (None if v == 0 else v) for k, v in table.items()}


def test_no_blanks() -> None:
    assert run(make_record()).blank_policy == {
        "active": "no_blanks",
        "requests": "no_blanks",
        "review_litigation": "no_blanks",
    }


def test_explicit_zero_makes_blanks_missing() -> None:
    # seed 000's situation: one blank 总计 among explicit zeros
    tables = modern_tables()
    tables["requests"]["other.total"] = None
    evaluation = run(make_record(tables=tables))
    assert evaluation.blank_policy["requests"] == "blank_is_missing"
    assert verdicts(evaluation, "requests.row_total")["other"] == "not_assessable"
    assert verdicts(evaluation, "requests.results_sum")["total"] == "not_assessable"
    assert verdicts(evaluation, "requests.results_sum")["natural"] == "pass"


def test_placeholder_counts_as_an_explicit_zero() -> None:
    tables = modern_tables()
    tables["requests"] = _zeros_as_blanks(tables["requests"])
    tables["requests"]["refused_repeat.legal"] = 0
    record = make_record(tables=tables, cells=[cell("requests", "refused_repeat.legal", 0, "placeholder", raw="/")])
    assert run(record).blank_policy["requests"] == "blank_is_missing"


def test_blanks_read_as_zero_when_consistent() -> None:
    tables = modern_tables()
    tables["requests"] = _zeros_as_blanks(tables["requests"])
    evaluation = run(make_record(tables=tables))
    assert evaluation.blank_policy["requests"] == "blank_as_zero"
    for rule in ("requests.balance", "requests.row_total", "requests.results_sum", "requests.nonneg_int"):
        assert set(verdicts(evaluation, rule).values()) == {"pass"}, rule


def test_blanks_inconsistent_with_zero_are_missing_and_never_fail() -> None:
    # 上海 2019: zeros left blank *and* the 总计 cell of result rows left blank, e.g. 予以公开 3|1|…|blank.
    table = _zeros_as_blanks(requests_table())
    table["granted.total"] = None
    table["partial.total"] = None
    tables = modern_tables()
    tables["requests"] = table
    evaluation = run(make_record(tables=tables))
    assert evaluation.blank_policy["requests"] == "blank_is_missing"
    row_total = findings_of(evaluation, "requests.row_total")
    assert row_total["granted"].status == "not_assessable"
    assert "requests.granted.total is blank" in row_total["granted"].message  # "total missing", not "mismatch"
    assert not [f for f in evaluation.findings if f.status == "fail"]


def test_legacy_blanks_like_seed_002() -> None:
    # No explicit 0, but 申请办结数 blank while 按时办结数 = 4: blanks are not filled.
    table: dict[str, Number | None] = {k: (None if v == 0 else v) for k, v in legacy_table().items()}
    table["requests_completed"] = None
    evaluation = run(make_record(generation="legacy", year=2018, tables={"legacy": table}))
    assert evaluation.blank_policy == {"legacy": "blank_is_missing"}
    assert verdicts(evaluation, "legacy.completed_split") == {"requests_completed": "not_assessable"}
    assert verdicts(evaluation, "legacy.received_channels") == {"requests_received": "not_assessable"}
    assert verdicts(evaluation, "legacy.staff_sum") == {"staff_total": "pass"}


def test_legacy_blanks_consistent_with_zero() -> None:
    table: dict[str, Number | None] = {k: (None if v == 0 else v) for k, v in legacy_table().items()}
    evaluation = run(make_record(generation="legacy", year=2018, tables={"legacy": table}))
    assert evaluation.blank_policy == {"legacy": "blank_as_zero"}
    assert verdicts(evaluation, "legacy.received_channels") == {"requests_received": "pass"}
    assert verdicts(evaluation, "legacy.review_sum") == {"review_total": "pass"}


def test_empty_template_asserts_nothing() -> None:
    tables = modern_tables()
    tables["review_litigation"] = dict.fromkeys(tables["review_litigation"])
    evaluation = run(make_record(tables=tables))
    assert evaluation.blank_policy["review_litigation"] == "blank_is_missing"
    assert set(verdicts(evaluation, "review.total").values()) == {"not_assessable"}


def test_missing_cells_are_never_zero() -> None:
    # No explicit zero anywhere, but the null cells are *missing*, not blank: nothing to decide, nothing read as 0.
    tables = modern_tables()
    zero_keys = [k for k, v in tables["requests"].items() if v == 0]
    tables["requests"] = _zeros_as_blanks(tables["requests"])
    cells = [cell("requests", k, None, "missing") for k in zero_keys]
    evaluation = run(make_record(tables=tables, cells=cells))
    assert evaluation.blank_policy["requests"] == "no_blanks"
    assert verdicts(evaluation, "requests.balance")["social"] == "not_assessable"
    assert set(REQUEST_COLUMNS) == set(verdicts(evaluation, "requests.balance"))


def test_legacy_keys_cover_the_fixture() -> None:
    assert set(legacy_table()) == set(LEGACY_KEYS)
