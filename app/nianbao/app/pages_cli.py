"""``nianbao pages``: the candidate pages the crawler fetched, by outcome (registered in cli.py).

The default lists the pages judged **not to be reports** (outcome ``not_a_report``: interpretations,
notices, graphics, prose without the report's tables; see ``nianbao.crawler.reportness``) with the reason
recorded on their ``fetch`` row. One line per URL: its latest fetch with that outcome. Exit 2 for an
unknown outcome or site, as everywhere.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any

import typer

# The outcomes a fetch row of a candidate page or listed document can have (fetching.Page.outcome, and
# not_a_report from crawl.py).
OUTCOMES = (
    "not_a_report", "ok", "unchanged", "not_modified", "http_error", "server_error", "throttled", "challenge",
    "network_error", "refused", "robots_denied", "robots_unavailable", "backed_off",
)  # fmt: skip
MAX_LIMIT = 1000


@dataclass(frozen=True)
class PageRow:
    id: int
    fetched_at: datetime
    site_id: str
    url: str
    outcome: str
    status_code: int | None
    reason: str


def list_pages(session: Any, *, outcome: str, site_id: str | None, limit: int) -> tuple[list[PageRow], int]:
    """The latest fetch row with ``outcome`` of each candidate URL (pages and listed documents, not
    attachments or listings), newest first, at most ``limit``; and how many URLs match in all."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from nianbao.shared.models import Fetch

    where: list[Any] = [
        col(Fetch.outcome) == outcome,
        col(Fetch.kind).in_(("page", "attachment")),
        col(Fetch.parent_url).is_(None),
    ]
    if site_id is not None:
        where.append(col(Fetch.site_id) == site_id)
    latest: Any = select(func.max(Fetch.id)).where(*where).group_by(col(Fetch.site_id), col(Fetch.url))
    total = session.exec(select(func.count()).select_from(latest.subquery())).one()
    rows = session.exec(
        select(Fetch).where(col(Fetch.id).in_(latest)).order_by(col(Fetch.id).desc()).limit(limit)
    ).all()
    out = [
        PageRow(row.id or 0, row.fetched_at, row.site_id, row.url, row.outcome, row.status_code, row.error or "")
        for row in rows
    ]
    return out, int(total)


def pages(
    site: Annotated[str | None, typer.Option("--site", help="Only this site.")] = None,
    outcome: Annotated[str, typer.Option("--outcome", help=f"One of: {', '.join(OUTCOMES)}.")] = "not_a_report",
    limit: Annotated[int, typer.Option(help=f"At most this many (1..{MAX_LIMIT}), newest first.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of tab-separated lines.")] = False,
) -> None:
    """List fetched candidate pages by outcome (default: not_a_report, the pages judged not to be reports)
    with the reason: when, site, URL, HTTP status, reason. One line per URL (its latest such fetch)."""
    from nianbao.app import cli
    from nianbao.app.summaries import known_site_ids

    if outcome not in OUTCOMES:
        raise cli._fail(f"--outcome must be one of {', '.join(OUTCOMES)}, not {cli._quote(outcome)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise cli._fail(f"--limit must be 1..{MAX_LIMIT}")
    with cli._session() as session:
        if site is not None and site not in known_site_ids(session, cli._known_sites(session)):
            raise cli._fail(f"unknown site {cli._quote(site)} (see `nianbao sites list` and `nianbao reports`)")
        rows, total = list_pages(session, outcome=outcome, site_id=site, limit=limit)
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(asdict(row), ensure_ascii=False, default=str) + "\n")
        return
    for row in rows:
        fields = (row.fetched_at.isoformat(timespec="seconds"), row.site_id, row.url, row.status_code or "-",
                  row.reason or "-")  # fmt: skip
        cli._say("\t".join(str(v).replace("\t", " ").replace("\n", " ") for v in fields))
    more = f" (newest {len(rows)} shown; --limit for more)" if total > len(rows) else ""
    cli.err.print(f"{total} page(s) with outcome {outcome}{more}", markup=False, highlight=False)
