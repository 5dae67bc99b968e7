"""`nianbao show`: a stored report with every value and its source, failing findings on their cells."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from nianbao.app import cli
from nianbao.app.embedded import run_embedded
from nianbao.crawler.sites import SiteRegistry
from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.server import DevPortal
from nianbao.devportal.urls import article_path
from nianbao.shared.db import session_scope
from nianbao.shared.models import Report
from nianbao.shared.settings import CommonSettings


def _pipeline() -> dict[str, Report]:
    """Run the demo portal through the embedded pipeline; the stored reports by devportal id."""
    with DevPortal() as portal:
        run_embedded(SiteRegistry.from_dict(cli.demo_registry(portal.column_url)), ["demo"])
    with session_scope(CommonSettings().resolved_database_url()) as s:
        reports = list(s.exec(select(Report)))
    return {
        spec.id: next(r for r in reports if r.url.endswith(article_path(spec.publish_date, spec.doc_id)))
        for spec in REPORTS
    }


def _show(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["show", *args])
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_show_marks_the_failing_balance_cells_with_their_sources(capsys: pytest.CaptureFixture[str]) -> None:
    reports = _pipeline()
    for devportal_id, expect in (("transport-2020", "table "), ("water-2020", "p.")):
        report = reports[devportal_id]
        code, out, _ = _show(capsys, str(report.id), "--json")
        assert code == 0
        view = json.loads(out)
        assert (view["id"], view["url"], view["year"]) == (report.id, report.url, 2020)
        assert view["raw"]["key"] == report.raw_key and view["raw"]["stored"] is True
        failing = {(f["rule"], f["where"]): f for f in view["failing"]}
        assert set(failing) == {("requests.balance", "natural"), ("requests.balance", "total")}
        natural = failing["requests.balance", "natural"]
        assert [o["cell"] for o in natural["operands"]] == [
            "requests.new.natural", "requests.carried_in.natural",
            "requests.results_total.natural", "requests.carried_out.natural",
        ]  # fmt: skip
        assert all(o["source"].startswith(expect) for o in natural["operands"]), natural
        requests = next(t for t in view["tables"] if t["name"] == "requests")
        marked = {v["key"]: v for v in requests["values"] if v["failing"]}
        assert marked["new.natural"]["failing"] == ["requests.balance(natural)"]
        assert marked["new.natural"]["label"] == "本年新收 · 自然人"
        assert set(marked) == {f"{row}.{c}" for row in ("new", "carried_in", "results_total", "carried_out")
                               for c in ("natural", "total")}  # fmt: skip

    water = reports["water-2020"]
    code, out, _ = _show(capsys, water.url)  # by URL, as people read it
    assert code == 0
    pdf = next(a["url"] for a in water.record["attachments"] if a["url"].endswith(".pdf"))
    assert f"source: {water.url}" in out
    assert "FAIL requests.balance [error] where=natural" in out
    line = next(line for line in out.splitlines() if line.startswith("      requests.new.natural"))
    assert f" in {pdf}" in line and "@ p." in line
    value = next(line for line in out.splitlines() if line.startswith("  new.natural\t"))
    assert value.endswith("FAIL requests.balance(natural)")


def test_show_unknown_report_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    _pipeline()
    for ref in ("999999", "http://nosuch.gov.cn/[bold]x.html"):
        code, out, err = _show(capsys, ref)
        assert code == 2 and out == ""
        assert "no stored report" in err and ref in err.replace("\n", "")
