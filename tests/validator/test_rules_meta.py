"""meta.* rules: generation vs year, title/统计期限 year, publication window, 索引号 year."""

from __future__ import annotations

from typing import Any

import pytest
from validator.fixtures_rules import findings_of, make_record, run, verdicts

from nianbao.shared.record import Generation


def _meta(**metadata: Any) -> dict[str, Any]:
    return {"metadata": metadata}


@pytest.mark.parametrize(
    ("generation", "year", "expected"),
    [
        ("gen2019", 2019, "pass"),
        ("gen2019", 2020, "pass"),
        ("gen2021", 2021, "pass"),
        ("legacy", 2018, "pass"),
        ("gen2019", 2022, "fail"),
        ("gen2021", 2020, "fail"),
        ("legacy", 2019, "fail"),
    ],
)
def test_generation_year(generation: Generation, year: int, expected: str) -> None:
    found = findings_of(run(make_record(generation=generation, year=year)), "meta.generation_year")[None]
    assert (found.status, found.severity, found.where) == (expected, "warn", None)


def test_generation_year_not_assessable_without_year_or_generation() -> None:
    assert verdicts(run(make_record(year=None)), "meta.generation_year") == {None: "not_assessable"}
    # an unknown generation is inferred from the year for the table rules, but is not "detected"
    evaluation = run(make_record(generation=None, year=2019))
    assert verdicts(evaluation, "meta.generation_year") == {None: "not_assessable"}
    assert verdicts(evaluation, "requests.balance")["total"] == "pass"


@pytest.mark.parametrize(
    ("title", "preamble", "expected"),
    [
        ("重庆市2019年政府信息公开工作年度报告", "统计期限自2019年1月1日起至2019年12月31日止。", "pass"),
        (None, "政府信息公开数据统计期限为2019年1月1日至2019年12月31日。", "pass"),
        ("昆明市政务服务管理局2019年政府信息公开年度报告", "", "pass"),
        ("某局2018年政府信息公开工作年度报告", "", "fail"),
        (None, "统计期限从2018年1月1日到12月31日止。", "fail"),
        ("某局2019年度报告", "统计期限为2019年1月1日至2020年12月31日。", "fail"),
        (None, "编制本报告。", "not_assessable"),
    ],
)
def test_period_year(title: str | None, preamble: str, expected: str) -> None:
    record = make_record(year=2019, title=title, sections={"preamble": preamble})
    assert verdicts(run(record), "meta.period_year") == {None: expected}


@pytest.mark.parametrize(
    ("agency", "publish_date", "signature_date", "expected"),
    [
        ("昆明市政务服务管理局", None, "2020-01-17", "pass"),  # seed 000: department by 31 Jan
        ("重庆市人民政府", "2020-03-31", None, "pass"),  # seed 004: government by 31 Mar
        ("某市交通运输局", "2020-03-15", None, "fail"),  # department, late
        ("某市人民政府", "2020-03-15", None, "pass"),
        ("某市人民政府", "2020-04-01", None, "fail"),
        (None, "2020-03-15", None, "pass"),  # unknown agency: the later deadline
        ("银川市市政管理局", None, "2019-12-31", "fail"),  # signed before N+1 (seed 001's pattern)
        ("某市交通运输局", "2020-01-20 09:30", "2019-12-30", "fail"),  # any date outside fails
        ("某市交通运输局", None, None, "not_assessable"),
        ("某市交通运输局", "2020-1-7", None, "not_assessable"),  # not an ISO date
    ],
)
def test_publish_window(
    agency: str | None, publish_date: str | None, signature_date: str | None, expected: str
) -> None:
    record = make_record(
        year=2019,
        agency={"name": agency},
        **_meta(publish_date=publish_date, signature={"date": signature_date}),
    )
    assert verdicts(run(record), "meta.publish_window") == {None: expected}


def test_publish_window_does_not_apply_to_legacy() -> None:
    record = make_record(generation="legacy", year=2018, **_meta(publish_date="2017-05-01"))
    assert verdicts(run(record), "meta.publish_window") == {}


def test_index_year() -> None:
    parts = {"issuer": "11500000009275780L", "org_code": "009275780", "period": "2020", "seq": "11304"}
    ok = make_record(year=2019, **_meta(index_no="11500000009275780L/2020-11304", index_no_parts=parts))
    found = findings_of(run(ok), "meta.index_year")[None]
    assert (found.status, found.severity, found.lhs, found.rhs) == ("pass", "info", 2020, 2020)
    same_year = make_record(year=2020, **_meta(index_no="11500000009275780L/2020-11304", index_no_parts=parts))
    assert verdicts(run(same_year), "meta.index_year") == {None: "fail"}
    unparsed = make_record(year=2019, **_meta(index_no="SZ-2020-001"))
    assert verdicts(run(unparsed), "meta.index_year") == {None: "not_assessable"}
    assert verdicts(run(make_record(year=2019)), "meta.index_year") == {}
