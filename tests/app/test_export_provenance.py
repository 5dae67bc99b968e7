"""Every exported value traceable: values_long rows carry the document, raw key and cell position; the
README's data dictionary is the one the code declares."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sqlmodel import select

from nianbao.app import cli
from nianbao.app.embedded import run_embedded
from nianbao.app.export import FILES, VALUE_COLUMNS, cells_at, describe_markdown, export, value_unit
from nianbao.crawler.sites import SiteRegistry
from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.server import DevPortal
from nianbao.devportal.urls import article_path
from nianbao.shared.db import session_scope
from nianbao.shared.models import Report
from nianbao.shared.settings import CommonSettings

from support import REPO_ROOT


def _spec_url(devportal_id: str) -> str:
    spec = next(s for s in REPORTS if s.id == devportal_id)
    return article_path(spec.publish_date, spec.doc_id)


def test_values_long_carries_source_and_position(tmp_path: Path) -> None:
    with DevPortal() as portal:
        run_embedded(SiteRegistry.from_dict(cli.demo_registry(portal.column_url)), ["demo"])
    with session_scope(CommonSettings().resolved_database_url()) as session:
        water = next(r for r in session.exec(select(Report)) if r.url.endswith(_spec_url("water-2020")))
        transport = next(r for r in session.exec(select(Report)) if r.url.endswith(_spec_url("transport-2020")))
        result = export(session, tmp_path / "out", "parquet")
    pdf = next(a for a in water.record["attachments"] if a["url"].endswith(".pdf"))
    long = pd.read_parquet(result.files["values_long"])
    assert list(long.columns) == list(VALUE_COLUMNS)
    rows = long[long["report_id"] == water.id]
    new = rows[(rows["table"] == "requests") & (rows["key"] == "new.natural")].iloc[0]
    assert new["source_url"] == water.url
    assert new["cell_source"] == pdf["url"] and new["raw_key"] == pdf["raw_key"] != water.raw_key
    assert new["page"] == 3 and new["x0"] < new["x1"] and new["y0"] < new["y1"]
    assert new["text_as_written"] == "5" and new["value"] == 5 and new["value_unit"] == "count"
    assert new["row_label"] == "本年新收 · 自然人"
    assert rows["page"].notna().all() and rows["cell_source"].eq(pdf["url"]).all()
    html = long[(long["report_id"] == transport.id) & (long["key"] == "new.natural")].iloc[0]
    assert html["cell_source"] == transport.url and html["raw_key"] == transport.raw_key
    assert (html["table_index"], html["row"], html["col"]) == (2, 3, 3) and pd.isna(html["page"])
    schema = pq.read_schema(result.files["values_long"])
    assert str(schema.field("page").type) == "int64" and str(schema.field("x0").type) == "double"
    reports = pq.read_table(result.files["reports"]).to_pylist()
    assert all(isinstance(r["publish_date"], dt.date) for r in reports)
    assert str(pq.read_schema(result.files["reports"]).field("year").type) == "int64"


def test_value_unit_from_the_key_catalogue() -> None:
    assert value_unit("procurement.amount_wan") == value_unit("fees_wan") == value_unit("budget_wan") == "万元"
    assert value_unit("new.natural") == value_unit("staff_total") == "count"


def test_every_column_is_described() -> None:
    for name, spec in FILES.items():
        assert [c.name for c in spec if not c.description] == [], name
        assert len({c.name for c in spec}) == len(spec), name


def test_readme_data_dictionary_matches_the_code(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- export-columns:start -->\n(.*?)\n<!-- export-columns:end -->", readme, re.S)
    assert match, "README lost its export-columns markers"
    assert match.group(1) == describe_markdown(), "regenerate with: uv run nianbao export --describe"
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", "--describe"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == describe_markdown() + "\n"


def test_findings_carry_their_operands_with_sources(tmp_path: Path) -> None:
    """transport-2020 (HTML) and water-2020 (tables in a PDF) fail requests.balance for 自然人: 5 new +
    1 carried in against 4 handled + 1 carried out (the fixture's documented error)."""
    with DevPortal() as portal:
        run_embedded(SiteRegistry.from_dict(cli.demo_registry(portal.column_url)), ["demo"])
    with session_scope(CommonSettings().resolved_database_url()) as session:
        reports = list(session.exec(select(Report)))
        water = next(r for r in reports if r.url.endswith(_spec_url("water-2020")))
        transport = next(r for r in reports if r.url.endswith(_spec_url("transport-2020")))
        result = export(session, tmp_path / "csv", "csv")
        parquet = export(session, tmp_path / "parquet", "parquet")
    findings = pd.read_csv(result.files["findings"], keep_default_na=False)
    assert list(findings.columns) == [c.name for c in FILES["findings"]]
    names = ["requests.new.natural", "requests.carried_in.natural", "requests.results_total.natural",
             "requests.carried_out.natural"]  # fmt: skip
    pdf = next(a for a in water.record["attachments"] if a["url"].endswith(".pdf"))
    for report, source, raw_key in ((transport, transport.url, transport.raw_key), (water, pdf["url"], pdf["raw_key"])):
        row = findings[(findings["report_id"] == report.id) & (findings["rule"] == "requests.balance")
                       & (findings["where"] == "natural")].iloc[0]  # fmt: skip
        assert row["status"] == "fail" and row["source_url"] == report.url
        operands = json.loads(row["cells_at"])
        assert [o["cell"] for o in operands] == row["cells"].split(";") == names
        assert [o["value"] for o in operands] == [5, 1, 4, 1]
        assert [o["text_as_written"] for o in operands] == ["5", "1", "4", "1"]
        assert all(o["cell_source"] == source and o["raw_key"] == raw_key for o in operands)
        if report is transport:  # an HTML grid: the natural-person column of the requests table
            assert (operands[0]["table_index"], operands[0]["row"], operands[0]["col"]) == (2, 3, 3)
            assert {o["col"] for o in operands} == {3} and all(o["page"] is None for o in operands)
        else:  # the PDF: page and box; the long requests table runs from page 3 onto the next
            pages = [o["page"] for o in operands]
            assert pages[0] == 3 and pages == sorted(pages) and set(pages) <= {3, 4}
            assert all(o["bbox"][0] < o["bbox"][2] and o["bbox"][1] < o["bbox"][3] for o in operands)
            assert len({o["bbox"][0] for o in operands}) == 1  # one column: 自然人
    typed = pq.read_table(parquet.files["findings"]).to_pylist()
    assert all(isinstance(json.loads(r["cells_at"]), list) for r in typed)
    assert len(typed) == len(findings)


def test_cells_at_of_an_operand_the_report_lacks_is_named_with_nulls() -> None:
    report = Report(id=1, site_id="s", url="http://x.gov.cn/a.html", raw_key="k" * 64, content_sha256="k" * 64,
                    record={"cells": []})  # fmt: skip
    [operand] = cells_at(report, ["requests.new.total"], {}, {})
    assert operand["cell"] == "requests.new.total"
    assert {k for k, v in operand.items() if v is not None} == {"cell"}
