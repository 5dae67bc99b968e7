"""xyear.* rules: this year's report against the same agency's previous one."""

from __future__ import annotations

from validator.fixtures_rules import (
    active_table,
    cell,
    findings_of,
    make_record,
    modern_tables,
    run,
    verdicts,
    with_values,
)

from nianbao.shared.record import REQUEST_COLUMNS, Generation, Number, Record


def _pair(
    generation: Generation, year: int, *, requests: dict[str, Number | None] | None = None, **active: Number | None
) -> Record:
    tables = modern_tables(generation)
    tables["active"] = with_values(active_table(generation), **active)
    if requests:
        tables["requests"] = with_values(tables["requests"], **requests)
    return make_record(generation=generation, year=year, tables=tables)


def test_no_previous_no_finding() -> None:
    evaluation = run(_pair("gen2019", 2020))
    assert not [f for f in evaluation.findings if f.rule.startswith("xyear.")]


def test_carry_per_column() -> None:
    # The fixture carries out 1 自然人 + 1 商业企业 (total 2) and carries in 1 自然人 (total 1).
    previous = _pair("gen2019", 2019, requests={"carried_out__commercial": 0, "carried_out__total": 1})
    evaluation = run(_pair("gen2019", 2020), previous=previous)
    assert verdicts(evaluation, "xyear.carry") == dict.fromkeys(REQUEST_COLUMNS, "pass")
    mismatch = run(_pair("gen2019", 2020), previous=_pair("gen2019", 2019))
    carry = findings_of(mismatch, "xyear.carry")
    assert {w for w, f in carry.items() if f.status == "fail"} == {"commercial", "total"}
    assert (carry["total"].lhs, carry["total"].rhs, carry["total"].severity) == (1, 2, "warn")
    assert carry["total"].cells == ["requests.carried_in.total"]  # the previous report's cell is not ours
    assert "2019:requests.carried_out.total" not in carry["total"].cells


def test_carry_across_the_2021_format_change() -> None:
    previous = _pair("gen2019", 2020, requests={"carried_out__commercial": 0, "carried_out__total": 1})
    evaluation = run(_pair("gen2021", 2021), previous=previous)
    assert set(verdicts(evaluation, "xyear.carry").values()) == {"pass"}


def test_carry_not_assessable_on_a_blank_previous_cell() -> None:
    previous_tables = modern_tables("gen2019")
    previous_tables["requests"]["carried_out.natural"] = None  # a blank among explicit zeros: not filled
    previous = make_record(generation="gen2019", year=2019, tables=previous_tables)
    carry = findings_of(run(_pair("gen2019", 2020), previous=previous), "xyear.carry")
    assert carry["natural"].status == "not_assessable"
    assert "2019:requests.carried_out.natural is blank" in carry["natural"].message


def test_previous_of_another_year_is_not_assessable() -> None:
    evaluation = run(_pair("gen2019", 2020), previous=_pair("gen2019", 2018))
    assert set(verdicts(evaluation, "xyear.carry").values()) == {"not_assessable"}


def test_previous_legacy_report_has_nothing_to_carry() -> None:
    previous = make_record(generation="legacy", year=2018)
    evaluation = run(_pair("gen2019", 2019), previous=previous)
    assert not [f for f in evaluation.findings if f.rule.startswith("xyear.")]


def test_items19() -> None:
    # 2019: licensing 20 − 2 = 18, fees 4 − 3 = 1; 2020 must start from those.
    previous = _pair("gen2019", 2019)
    evaluation = run(_pair("gen2019", 2020, licensing__prev_items=18, fees__prev_items=1), previous=previous)
    assert set(verdicts(evaluation, "xyear.items19").values()) == {"pass"}
    assert set(verdicts(evaluation, "xyear.items19")) == {"licensing", "other_services", "penalty", "coercion", "fees"}
    evaluation = run(_pair("gen2019", 2020, licensing__prev_items=20, fees__prev_items=1), previous=previous)
    licensing = findings_of(evaluation, "xyear.items19")["licensing"]
    assert (licensing.status, licensing.lhs, licensing.rhs) == ("fail", 20, 18)
    assert verdicts(run(_pair("gen2021", 2021), previous=_pair("gen2019", 2020)), "xyear.items19") == {}


def test_valid21() -> None:
    # 2021: 规范性文件 in force 40; 2022 issues 5 and repeals 2 → about 43.
    previous = _pair("gen2021", 2021)
    close = run(_pair("gen2021", 2022, normative_docs__in_force=44), previous=previous)
    assert verdicts(close, "xyear.valid21")["normative_docs"] == "pass"  # within max(2, 10 %)
    far = run(_pair("gen2021", 2022, normative_docs__in_force=80), previous=previous)
    found = findings_of(far, "xyear.valid21")["normative_docs"]
    assert (found.status, found.lhs, found.rhs, found.severity) == ("fail", 80, 43, "warn")
    # 规章: 12 in force + 1 issued − 0 repealed = 13; 16 is off by 3 > 2
    assert (
        verdicts(run(_pair("gen2021", 2022, regulations__in_force=16), previous=previous), "xyear.valid21")[
            "regulations"
        ]
        == "fail"
    )
    gap = make_record(
        generation="gen2021",
        year=2022,
        tables={**modern_tables("gen2021"), "active": with_values(active_table("gen2021"), regulations__issued=None)},
        cells=[cell("active", "regulations.issued", None, "missing")],
    )
    assert verdicts(run(gap, previous=previous), "xyear.valid21")["regulations"] == "not_assessable"


def test_an_unreadable_previous_report_makes_each_cross_year_rule_not_assessable() -> None:
    # A stored N−1 report that no longer validates is not "no previous report": each cross-year rule of this
    # generation says, once, that it could not run and why; the other rules run as usual.
    reason = "the 2019 report stored for this agency does not match the canonical record"
    evaluation = run(_pair("gen2019", 2020), previous_unreadable=reason)
    xyear = [f for f in evaluation.findings if f.rule.startswith("xyear.")]
    assert sorted(f.rule for f in xyear) == [
        "xyear.carry", "xyear.copied_tables", "xyear.copied_text", "xyear.items19",
    ]  # fmt: skip
    assert {(f.status, f.where) for f in xyear} == {("not_assessable", None)}
    assert all(f.message.endswith(f": not assessable ({reason})") for f in xyear)
    assert run(_pair("gen2019", 2020)).findings == [f for f in evaluation.findings if not f.rule.startswith("xyear.")]
    gen2021 = run(_pair("gen2021", 2021), previous_unreadable=reason)
    assert sorted(f.rule for f in gen2021.findings if f.rule.startswith("xyear.")) == [
        "xyear.carry", "xyear.copied_tables", "xyear.copied_text", "xyear.valid21",
    ]  # fmt: skip
