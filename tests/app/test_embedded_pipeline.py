"""The embedded default: one process, SQLite, no broker; the same handlers the workers run."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import func, select

from nianbao.app.cli import demo_registry
from nianbao.app.embedded import run_embedded
from nianbao.crawler.sites import SiteRegistry
from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.server import DevPortal
from nianbao.devportal.urls import article_path
from nianbao.shared.db import session_scope
from nianbao.shared.models import FINDING_ALL, Fetch, FindingRow, Report, ReportValue, TaskFailure
from nianbao.shared.settings import CommonSettings


def _db() -> str:
    return CommonSettings().resolved_database_url()


def test_embedded_run_stores_every_report_with_values_and_findings(tmp_path: Path) -> None:
    with DevPortal() as portal:
        registry = SiteRegistry.from_dict(demo_registry(portal.column_url))
        stats = run_embedded(registry, ["demo"])
    assert stats.failures == []
    assert _db().startswith("sqlite:///") and str(tmp_path) in _db()
    with session_scope(_db()) as s:
        reports = s.exec(select(Report)).all()
        assert len(reports) == len(REPORTS)
        assert s.exec(select(TaskFailure)).all() == []
        for spec in REPORTS:
            report = next(r for r in reports if r.url.endswith(article_path(spec.publish_date, spec.doc_id)))
            assert (report.agency, report.year, report.generation) == (spec.agency, spec.year, spec.generation)
            values = {
                (v.table_name, v.key): v.value
                for v in s.exec(select(ReportValue).where(ReportValue.report_id == report.id))
            }
            requests = spec.expected_tables().get("requests", {})
            for key, value in requests.items():
                assert values[("requests", key)] == (None if value is None else float(value)), (spec.id, key)
            failing = {
                (f.rule, f.location or None)
                for f in s.exec(
                    select(FindingRow).where(FindingRow.report_id == report.id, FindingRow.status == "fail")
                )
            }
            for expected in spec.expected_failing_rules():
                assert expected in failing, (spec.id, failing)


def test_second_run_is_incremental_and_idempotent() -> None:
    with DevPortal() as portal:
        registry = SiteRegistry.from_dict(demo_registry(portal.column_url))
        run_embedded(registry, ["demo"])
        with session_scope(_db()) as s:
            findings_before = s.exec(select(func.count()).select_from(FINDING_ALL)).one()
        stats = run_embedded(registry, ["demo"])
    # Nothing changed on the portal: no page is handed to the parser again.
    assert stats.handled.get("nianbao.parser.parse_page", 0) == 0
    with session_scope(_db()) as s:
        assert s.exec(select(func.count()).select_from(Report)).one() == len(REPORTS)
        assert s.exec(select(func.count()).select_from(FINDING_ALL)).one() == findings_before
        outcomes = {f.outcome for f in s.exec(select(Fetch))}
    assert outcomes & {"not_modified", "unchanged"}


def test_forced_run_reprocesses_without_duplicates() -> None:
    with DevPortal() as portal:
        registry = SiteRegistry.from_dict(demo_registry(portal.column_url))
        run_embedded(registry, ["demo"])
        stats = run_embedded(registry, ["demo"], force=True)
    assert stats.handled.get("nianbao.validator.validate_report", 0) == len(REPORTS)
    with session_scope(_db()) as s:
        assert s.exec(select(func.count()).select_from(Report)).one() == len(REPORTS)


def test_changed_page_updates_the_stored_report() -> None:
    with DevPortal() as portal:
        registry = SiteRegistry.from_dict(demo_registry(portal.column_url))
        run_embedded(registry, ["demo"])
        with session_scope(_db()) as s:
            before = {r.url: r.content_sha256 for r in s.exec(select(Report))}
        spec = REPORTS[0]
        portal.revise(spec.id)
        stats = run_embedded(registry, ["demo"])
    assert stats.handled.get("nianbao.parser.parse_page", 0) == 1
    with session_scope(_db()) as s:
        after = {r.url: r.content_sha256 for r in s.exec(select(Report))}
    assert len(after) == len(before)
    changed = [url for url in after if after[url] != before[url]]
    assert len(changed) == 1 and changed[0].endswith(article_path(spec.publish_date, spec.doc_id))
