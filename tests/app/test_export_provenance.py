"""Every exported value traceable: values_long rows carry the document, raw key and cell position; the
README's data dictionary is the one the code declares."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sqlmodel import select

from nianbao.app import cli
from nianbao.app.embedded import run_embedded
from nianbao.app.export import FILES, VALUE_COLUMNS, describe_markdown, export, value_unit
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
