"""active.* / active19.* / active21.* (T2) rules on small hand-written tables."""

from __future__ import annotations

import pytest
from validator.fixtures_rules import active_table, cell, findings_of, make_record, modern_tables, run, verdicts

from nianbao.shared.record import Cell, Generation, Number, Record

ACTIVE_RULES_2019 = ("active.nonneg", "active19.delta_floor", "active19.new_le_total")


def _record(generation: Generation = "gen2019", cells: list[Cell] | None = None, **changes: Number | None) -> Record:
    tables = modern_tables(generation)
    table = active_table(generation)
    for name, value in changes.items():
        key = name.replace("__", ".")
        assert key in table, key
        table[key] = value
    tables["active"] = table
    return make_record(
        generation=generation, year=2021 if generation == "gen2021" else 2019, tables=tables, cells=cells or []
    )


def _money_cell(key: str, value: Number | None, raw: str, unit: str | None) -> Cell:
    return cell("active", key, value, raw=raw, unit=unit)


def test_consistent_gen2019_table_passes() -> None:
    evaluation = run(_record(cells=[_money_cell("procurement.amount_wan", 3168.0656, "3168.0656(万元)", "万元")]))
    for rule in (*ACTIVE_RULES_2019, "active19.money_unit"):
        assert set(verdicts(evaluation, rule).values()) == {"pass"}, rule
    assert set(verdicts(evaluation, "active.nonneg")) == {
        "regulations", "normative_docs", "licensing", "other_services", "penalty", "coercion", "fees", "procurement",
    }  # fmt: skip
    assert not [f for f in evaluation.findings if f.rule.startswith("active21.")]


def test_nonneg_allows_negative_delta_only() -> None:
    evaluation = run(_record(penalty__delta=-105, penalty__decisions=-1))
    nonneg = findings_of(evaluation, "active.nonneg")["penalty"]
    assert (nonneg.status, nonneg.lhs, nonneg.rhs) == ("fail", -1, 0)
    assert "active.penalty.decisions = -1" in nonneg.message
    assert verdicts(run(_record(penalty__delta=-105, penalty__prev_items=200)), "active.nonneg")["penalty"] == "pass"


def test_nonneg_negative_money_fails() -> None:
    assert verdicts(run(_record(procurement__amount_wan=-0.5)), "active.nonneg")["procurement"] == "fail"


def test_nonneg_missing_cell_not_assessable() -> None:
    record = _record(
        cells=[cell("active", "coercion.decisions", None, "unparseable", raw="见附件")], coercion__decisions=None
    )
    assert verdicts(run(record), "active.nonneg")["coercion"] == "not_assessable"


def test_delta_floor() -> None:
    evaluation = run(_record(fees__prev_items=2, fees__delta=-3))
    fees = findings_of(evaluation, "active19.delta_floor")["fees"]
    assert (fees.status, fees.lhs, fees.rhs, fees.severity) == ("fail", -1, 0, "error")
    record = _record(cells=[cell("active", "fees.prev_items", None, "missing")], fees__prev_items=None)
    assert verdicts(run(record), "active19.delta_floor")["fees"] == "not_assessable"


def test_new_le_total() -> None:
    evaluation = run(_record(normative_docs__new_published=31))
    found = findings_of(evaluation, "active19.new_le_total")["normative_docs"]
    assert (found.status, found.lhs, found.rhs, found.severity) == ("fail", 31, 30, "warn")
    record = _record(
        cells=[cell("active", "regulations.total_published", None, "missing")], regulations__total_published=None
    )
    assert verdicts(run(record), "active19.new_le_total")["regulations"] == "not_assessable"
    # one comparison failing is enough even when the other cannot be made
    record = _record(
        cells=[cell("active", "regulations.new_made", None, "missing")],
        regulations__new_made=None,
        regulations__new_published=11,
    )
    assert verdicts(run(record), "active19.new_le_total")["regulations"] == "fail"


@pytest.mark.parametrize(
    ("value", "cells", "expected"),
    [
        (5529400.0, [_money_cell("procurement.amount_wan", 5529400.0, "552.94亿元", "亿元")], "pass"),
        (2830.17, [_money_cell("procurement.amount_wan", 2830.17, "2830.17", "万元")], "pass"),  # unit from header
        (2830.17, [_money_cell("procurement.amount_wan", 2830.17, "2830.17", None)], "fail"),
        (2830.17, [_money_cell("procurement.amount_wan", 2830.17, "2830.17", "unknown")], "fail"),
        (0.0, [_money_cell("procurement.amount_wan", 0.0, "0", None)], "pass"),  # zero needs no unit
        (2830.17, [], "not_assessable"),  # no provenance: the unit cannot be read
        (None, [cell("active", "procurement.amount_wan", None, "unparseable", raw="详见附件")], "not_assessable"),
    ],
)
def test_money_unit(value: Number | None, cells: list[Cell], expected: str) -> None:
    evaluation = run(_record(cells=cells, procurement__amount_wan=value))
    found = findings_of(evaluation, "active19.money_unit")["procurement.amount_wan"]
    assert (found.status, found.severity) == (expected, "warn")
    assert found.cells == ["active.procurement.amount_wan"]


def test_consistent_gen2021_table_passes() -> None:
    evaluation = run(_record("gen2021", cells=[_money_cell("fees.amount_wan", 0.038, "380元", "元")]))
    assert set(verdicts(evaluation, "active.nonneg")) == {
        "regulations", "normative_docs", "licensing", "penalty", "coercion", "fees",
    }  # fmt: skip
    for rule in ("active.nonneg", "active21.fee_unit", "active21.valid_plausible"):
        assert set(verdicts(evaluation, rule).values()) == {"pass"}, rule
    assert not [f for f in evaluation.findings if f.rule.startswith("active19.")]


@pytest.mark.parametrize(
    ("value", "raw", "unit", "expected"),
    [
        (0.038, "380元", "元", "pass"),  # 380 元 = 0.038 万元
        (380, "380元", "元", "fail"),  # read raw, not converted
        (12000.0, "1.2亿元", "亿元", "pass"),
        (1.2, "1.2", None, "pass"),  # the header fixes 万元
        (0.0, "0", "元", "pass"),
        (3.0, "3千元", "千元", "not_assessable"),  # a unit the rule cannot convert
    ],
)
def test_fee_unit(value: Number, raw: str, unit: str | None, expected: str) -> None:
    record = _record("gen2021", cells=[_money_cell("fees.amount_wan", value, raw, unit)], fees__amount_wan=value)
    found = findings_of(run(record), "active21.fee_unit")["fees.amount_wan"]
    assert (found.status, found.severity) == (expected, "info")


def test_fee_unit_without_provenance_is_not_assessable() -> None:
    assert verdicts(run(_record("gen2021")), "active21.fee_unit") == {"fees.amount_wan": "not_assessable"}


def test_valid_plausible() -> None:
    evaluation = run(_record("gen2021", normative_docs__in_force=0))
    found = findings_of(evaluation, "active21.valid_plausible")["normative_docs"]
    assert (found.status, found.lhs, found.rhs, found.severity) == ("fail", 0, 5, "warn")
    # nothing issued this year: a zero stock is plausible
    quiet = run(_record("gen2021", regulations__issued=0, regulations__in_force=0))
    assert verdicts(quiet, "active21.valid_plausible")["regulations"] == "pass"
    record = _record(
        "gen2021",
        cells=[cell("active", "regulations.issued", None, "missing")],
        regulations__issued=None,
        regulations__in_force=0,
    )
    assert verdicts(run(record), "active21.valid_plausible")["regulations"] == "not_assessable"


def test_extra_rows_are_not_checked() -> None:
    tables = modern_tables()
    tables["active"] = {**active_table(), "extra.1.new_made": -4}
    assert set(verdicts(run(make_record(tables=tables)), "active.nonneg").values()) == {"pass"}
