"""Re-parsing stored raw bytes (after a parser change) and re-validating, with no refetch."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import col, select

from nianbao.app.embedded import InProcessBus, RunStats
from nianbao.parser.handlers import handle_page_fetched
from nianbao.parser.settings import ParserSettings
from nianbao.shared.contracts import PageFetched, ReportParsed
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.models import Report
from nianbao.shared.rawstore import RawStore
from nianbao.validator.handlers import handle_report_parsed
from nianbao.validator.settings import ValidatorSettings


def reparse(site_id: str | None = None, progress: Callable[[str], None] | None = None) -> RunStats:
    parser_settings = ParserSettings()
    validator_settings = ValidatorSettings()
    url = validator_settings.resolved_database_url()
    upgrade(url)
    store = RawStore(parser_settings.resolved_raw_store_dir())
    bus = InProcessBus(validator_settings, progress)
    bus.register(PageFetched, lambda m: handle_page_fetched(m, store, bus, parser_settings))
    bus.register(ReportParsed, lambda m: handle_report_parsed(m, validator_settings))
    with session_scope(url) as session:
        query = select(Report).order_by(col(Report.id))
        if site_id:
            query = query.where(Report.site_id == site_id)
        for report in session.exec(query):
            source = report.record.get("source") or {}
            bus.publish(
                PageFetched(
                    site_id=report.site_id,
                    url=report.url,
                    final_url=source.get("final_url") or report.url,
                    raw_key=report.raw_key,
                    content_sha256=report.content_sha256,
                    media_type=source.get("media_type") or "text/html",
                    http_charset=None,
                    title_hint=report.title,
                )
            )
    return bus.drain()
