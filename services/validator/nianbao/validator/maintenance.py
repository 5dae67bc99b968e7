"""Re-running the rules over stored records (after a rule change), without refetching or reparsing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select as sa_select
from sqlmodel import col, select

from nianbao.shared.contracts import ReportParsed
from nianbao.shared.db import session_scope
from nianbao.shared.models import Report
from nianbao.validator.handlers import handle_report_parsed
from nianbao.validator.rules import RULES_VERSION
from nianbao.validator.settings import ValidatorSettings
from nianbao.validator.store import recount_site_gauges


@dataclass
class RevalidateStats:
    considered: int = 0
    revalidated: int = 0
    changed: int = 0
    errors: list[str] = field(default_factory=list)


def revalidate(
    settings: ValidatorSettings,
    *,
    site_id: str | None = None,
    only_stale: bool = True,
    progress: Callable[[str], None] = lambda _line: None,
) -> RevalidateStats:
    """Re-validate stored reports; ``only_stale`` skips those already checked by the current rules. The
    site gauges (``site_gauge``) of the sites concerned are re-counted at the end."""
    with session_scope(settings.resolved_database_url()) as session:
        # Only the identifying columns: the stored records are loaded one at a time below.
        query = sa_select(
            col(Report.id), col(Report.site_id), col(Report.url), col(Report.raw_key), col(Report.rules_version)
        )
        if site_id:
            query = query.where(col(Report.site_id) == site_id)
        targets = [tuple(row) for row in session.execute(query.order_by(col(Report.id))).all()]
    stats = RevalidateStats(considered=len(targets))
    for report_id, site, url, raw_key, rules_version in targets:
        if only_stale and rules_version == RULES_VERSION:
            continue
        with session_scope(settings.resolved_database_url()) as session:
            record = session.exec(select(Report.record).where(Report.id == report_id)).one()
        try:
            result = handle_report_parsed(ReportParsed(site_id=site, url=url, raw_key=raw_key, record=record), settings)
        except Exception as exc:  # one broken record must not stop the run; it is reported
            stats.errors.append(f"{url}: {type(exc).__name__}: {exc}")
            progress(f"failed {url}: {exc}")
            continue
        stats.revalidated += 1
        stats.changed += int(result.changed)
        progress(f"revalidated {url}{' (changed)' if result.changed else ''}")
    # The site gauges are kept by delta per report; a run over stored reports also re-counts them (one
    # aggregate per run), which repairs any drift.
    with session_scope(settings.resolved_database_url()) as session:
        recount_site_gauges(session, site_id)
    return stats
