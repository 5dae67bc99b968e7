"""The ground truth holds: each report's arithmetic, recomputed from its data, fails exactly where intended.

``rules.failing`` recomputes the single-report rules independently; the hand-typed figures below were
added up on paper from the data modules (the sums are spelled out in each module's docstring).
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from nianbao.devportal.catalogue import ENTRIES, REPORTS, report
from nianbao.devportal.model import Report
from nianbao.shared.record import table_keys

from .rules import failing, narrative

# (new, carried_in, results_total, carried_out) of the 总计 column, and (复议, 直接起诉, 复议后起诉) totals.
HAND_TOTALS = {
    "county-2019": ((54, 2, 55, 1), (4, 2, 1)),
    "city-2019": ((476, 10, 471, 15), (27, 17, 6)),
    "transport-2020": ((6, 1, 5, 1), (0, 0, 0)),
    "market-2021": ((56, 4, 57, 3), (5, 3, 1)),
    "district-2022": ((70, 5, 74, 1), (3, 1, 0)),
}


def test_catalogue_is_the_agreed_set() -> None:
    summary = {(r.id, r.agency, r.year, r.generation, r.encoding) for r in REPORTS}
    assert summary == {
        ("county-2018", "示例县人民政府", 2018, "legacy", "utf-8"),
        ("county-2019", "示例县人民政府", 2019, "gen2019", "utf-8"),
        ("city-2019", "示例市人民政府", 2019, "gen2019", "utf-8"),
        ("transport-2020", "示例市交通运输局", 2020, "gen2019", "utf-8"),
        ("market-2021", "示例市市场监督管理局", 2021, "gen2021", "utf-8"),
        ("district-2022", "示例市示范区人民政府", 2022, "gen2021", "gbk"),
        ("water-2020", "示例市水务局", 2020, "gen2019", "utf-8"),
        ("town-2019", "示例县东坝镇人民政府", 2019, "gen2019", "utf-8"),
        ("ecology-2021", "示例市生态环境局", 2021, "gen2021", "utf-8"),
    }
    assert {r.id: r.published_as for r in REPORTS if r.published_as != "html"} == {
        "water-2020": "pdf",
        "town-2019": "docx",
        "ecology-2021": "doc",
    }
    assert len({r.doc_id for r in REPORTS}) == len(REPORTS)
    assert len({r.index_no for r in REPORTS}) == len(REPORTS)
    assert len(ENTRIES) == 12


@pytest.mark.parametrize("rep", REPORTS, ids=lambda r: r.id)
def test_tables_use_exactly_the_canonical_keys(rep: Report) -> None:
    for table, values in rep.expected_tables().items():
        assert list(values) == list(table_keys(table, rep.generation))


@pytest.mark.parametrize("rep", REPORTS, ids=lambda r: r.id)
def test_recomputed_failures_match_the_declared_ones(rep: Report) -> None:
    assert failing(rep) == set(rep.expected_failing_rules())


def test_only_the_transport_report_and_its_pdf_twin_fail_and_only_on_balance() -> None:
    failures = {r.id: failing(r) for r in REPORTS}
    assert {rid for rid, found in failures.items() if found} == {"transport-2020", "water-2020"}
    assert failures["water-2020"] == failures["transport-2020"]
    assert failures["transport-2020"] == {("requests.balance", "natural"), ("requests.balance", "total")}
    assert report("transport-2020").expected_failing_rules() == [
        ("requests.balance", "natural"),
        ("requests.balance", "total"),
    ]


def test_the_broken_column_by_hand() -> None:
    r = report("transport-2020").tables["requests"]
    # 自然人: 5 new + 1 carried in = 6, but 4 handled + 1 carried out = 5.
    assert (r["new.natural"], r["carried_in.natural"], r["results_total.natural"], r["carried_out.natural"]) == (
        5,
        1,
        4,
        1,
    )
    # 商业企业 balances: 1 + 0 = 1 + 0; the other four applicant columns are all zero.
    assert (r["new.commercial"], r["carried_in.commercial"]) == (1, 0)
    assert (r["results_total.commercial"], r["carried_out.commercial"]) == (1, 0)
    for column in ("research", "social", "legal", "other_org"):
        assert all(v == 0 for k, v in r.items() if k.endswith(f".{column}"))


@pytest.mark.parametrize("rid", sorted(HAND_TOTALS))
def test_hand_totals(rid: str) -> None:
    rep = report(rid)
    r, t = rep.tables["requests"], rep.tables["review_litigation"]
    requests, reviews = HAND_TOTALS[rid]
    assert (r["new.total"], r["carried_in.total"], r["results_total.total"], r["carried_out.total"]) == requests
    assert (t["review.total"], t["direct.total"], t["after_review.total"]) == reviews


def test_legacy_by_hand() -> None:
    t = report("county-2018").tables["legacy"]
    assert t["requests_received"] == 12 == 3 + 8 + 1
    assert t["requests_fax"] is None
    assert t["answers_total"] == 12 == 2 + 5 + 1 + 1 + 2 + 1
    assert t["staff_total"] == 27 == 3 + 24
    assert t["budget_wan"] == 6.5
    assert t["litigation_total"] is None and t["fees_wan"] is None


def test_money_is_in_wan() -> None:
    assert report("city-2019").tables["active"]["procurement.amount_wan"] == pytest.approx(36.85 * 10000)
    assert report("transport-2020").tables["active"]["procurement.amount_wan"] == 1268.4375
    assert report("county-2019").tables["active"]["procurement.amount_wan"] == 12580.36
    assert report("market-2021").tables["active"]["fees.amount_wan"] == 35.62


@pytest.mark.parametrize("rep", [r for r in REPORTS if r.generation != "legacy"], ids=lambda r: r.id)
def test_narrative_states_the_table_figures(rep: Report) -> None:
    """The text rules are exercised, not vacuous: every modern report states its figures in prose."""
    text = narrative(rep)
    assert re.findall(r"共收到政府信息公开申请(\d+)件", text) == [str(rep.tables["requests"]["new.total"])]
    assert re.findall(r"办理答复(\d+)件", text) == [str(rep.tables["requests"]["results_total.total"])]
    assert "行政复议" in text and "行政诉讼" in text


@pytest.mark.parametrize("rep", REPORTS, ids=lambda r: r.id)
def test_the_oracle_catches_a_planted_error(rep: Report) -> None:
    """Guard against a vacuous oracle: bumping one cell must add a failure."""
    table = "legacy" if rep.generation == "legacy" else "requests"
    key = "requests_in_person" if table == "legacy" else "granted.legal"
    values = dict(rep.tables[table])
    old = values[key]
    values[key] = (old or 0) + 1
    broken = replace(rep, tables={**rep.tables, table: values})
    assert failing(broken) - failing(rep)
