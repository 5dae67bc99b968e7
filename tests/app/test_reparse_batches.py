"""``reparse`` stores its reports in batches (one transaction per ``batch_size`` reports), in one process or
several; a report that cannot be stored costs only itself: its batch is stored again one report per
transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import func, select

from nianbao.app import maintenance
from nianbao.shared.contracts import PageFetched, ReportParsed
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.models import Report, SiteGauge, TaskFailure
from nianbao.validator.handlers import handle_report_parsed
from nianbao.validator.settings import ValidatorSettings
from nianbao.validator.store import site_summary

from support.reports import HTML_PAGES, parse_page

SITE = "demo"


def _store_pages(count: int) -> list[str]:
    """``count`` devportal report pages stored (raw bytes and report rows) as an older nianbao left them."""
    urls = []
    for i in range(count):
        parsed = parse_page(HTML_PAGES[i % len(HTML_PAGES)], i, SITE)
        handle_report_parsed(parsed, ValidatorSettings())
        urls.append(parsed.url)
    with session_scope(ValidatorSettings().resolved_database_url()) as session:
        # An older parser: every report must be written again by the reparse.
        session.execute(text("UPDATE report SET parser_version = 'old'"))
    return urls


@pytest.mark.parametrize(("backend", "processes"), [("sqlite", 1), ("postgres_url", 1), ("postgres_url", 2)])
def test_one_unstorable_report_costs_only_itself(
    backend: str, processes: int, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if backend != "sqlite":
        monkeypatch.setenv("NIANBAO_DATABASE_URL", request.getfixturevalue(backend))
    url = ValidatorSettings().resolved_database_url()
    upgrade(url)
    urls = _store_pages(7)
    broken = urls[4]  # in the second batch of three

    real = maintenance.handle_report_parsed

    def failing_for_one(message: ReportParsed, settings: ValidatorSettings, session: Any = None) -> Any:
        if session is None:  # its own transaction, as the real handler: fails inside it, before the commit
            with session_scope(settings.resolved_database_url()) as own:
                return failing_for_one(message, settings, own)
        result = real(message, settings, session=session)  # written first: the rollback must undo it
        if message.url == broken:
            raise RuntimeError("disk full")
        return result

    monkeypatch.setattr(maintenance, "handle_report_parsed", failing_for_one)
    lines: list[str] = []
    # With two processes the batches are stored by forked children (which inherit the patched handler).
    stats = maintenance.reparse(SITE, progress=lines.append, batch_size=3, processes=processes)

    assert stats.handled == {PageFetched.TASK: 7, ReportParsed.TASK: 6}
    assert len(stats.failures) == 1 and "disk full" in stats.failures[0]
    assert sum(line.startswith("parsed ") for line in lines) == 7
    assert sum(line.startswith("validated and stored ") for line in lines) == 6
    with session_scope(url) as session:
        versions = dict(session.exec(select(Report.url, Report.parser_version)).all())
        failure = session.exec(select(TaskFailure)).one()
        gauge = session.get(SiteGauge, SITE)
        reference = site_summary(session, SITE)
        assert session.exec(select(func.count()).select_from(Report)).one() == 7
    assert versions[broken] == "old"  # its batch's transaction and its own were rolled back
    assert all(v != "old" for u, v in versions.items() if u != broken)  # its batch neighbours were kept
    assert failure.payload["url"] == broken and failure.reason == "embedded_error"
    assert gauge is not None and (gauge.reports, gauge.reports_with_errors, gauge.newest_year) == (7, *reference)
