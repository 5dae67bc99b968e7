"""Exports open in pandas with the documented columns, in CSV and Parquet alike."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nianbao.app.export import FINDING_COLUMNS, REPORT_COLUMNS, VALUE_COLUMNS, export
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.record import Cell, Finding, Record, request_keys
from nianbao.validator.store import store_validated


def _store(url: str) -> None:
    values: dict[str, int | float | None] = dict.fromkeys(request_keys("gen2019"), 0)
    values["new.natural"] = 12
    values["granted.total"] = None
    record = Record(
        title="示例县2019年政府信息公开工作年度报告",
        agency={"name": "示例县人民政府"},
        year={"value": 2019},
        generation={"value": "gen2019"},
        tables={"requests": values, "active": {"procurement.amount_wan": 3168.0656}},
        cells=[Cell(table="active", key="procurement.amount_wan", value=3168.0656, status="number",
                    raw="3168.0656(万元)", unit="万元")],
    )  # fmt: skip
    finding = Finding(rule="requests.balance", severity="error", status="fail", where="natural", lhs=12, rhs=0,
                      delta=12, cells=["requests.new.natural", "requests.carried_in.natural"], message="m")  # fmt: skip
    with session_scope(url) as session:
        store_validated(session, site_id="demo", url="http://x.gov.cn/t.html", raw_key="d" * 64, record=record,
                        findings=[finding], rules_version="r", blank_policy={})  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_columns_and_values(fmt: str, sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    _store(sqlite_url)
    with session_scope(sqlite_url) as session:
        result = export(session, tmp_path / "out", fmt)  # type: ignore[arg-type]
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    reports = read(result.files["reports"])
    assert list(reports.columns) == list(REPORT_COLUMNS)
    assert reports.loc[0, "agency"] == "示例县人民政府" and reports.loc[0, "failing_errors"] == 1
    long = read(result.files["values_long"])
    assert list(long.columns) == list(VALUE_COLUMNS)
    assert len(long) == 161 + 1
    money = long[long["key"] == "procurement.amount_wan"].iloc[0]
    assert money["value"] == pytest.approx(3168.0656) and money["unit"] == "万元"
    wide = read(result.files["values_wide"])
    assert list(wide.columns[:5]) == ["report_id", "site_id", "agency", "year", "generation"]
    assert wide.loc[0, "requests.new.natural"] == 12
    assert pd.isna(wide.loc[0, "requests.granted.total"])  # blank stays missing, never 0
    assert list(wide.columns).index("active.procurement.amount_wan") < list(wide.columns).index("requests.new.natural")
    findings = read(result.files["findings"])
    assert list(findings.columns) == list(FINDING_COLUMNS)
    assert findings.loc[0, "cells"] == "requests.new.natural;requests.carried_in.natural"
