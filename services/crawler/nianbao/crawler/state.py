"""The crawler's database writes and reads: ``site`` rows, ``fetch`` rows, conditional-GET state.

Conditional-GET state of a URL is its latest successful fetch (outcome ok, unchanged or
not_modified); a 304 row copies the validators and hash it confirmed, so the latest row is always
self-contained.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import col, select

from nianbao.crawler.siteschema import SiteConfig
from nianbao.shared.db import session_scope, upsert
from nianbao.shared.models import Fetch, Site

SUCCESS_OUTCOMES = ("ok", "unchanged", "not_modified")


@dataclass(frozen=True)
class Validators:
    """What the last successful fetch of a URL left behind."""

    etag: str | None
    last_modified: str | None
    content_sha256: str | None
    raw_key: str | None
    media_type: str | None
    final_url: str | None = None


class CrawlState:
    """Reads and writes through short transactions on ``database_url``."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def upsert_site(self, site: SiteConfig) -> None:
        row = {
            "id": site.id,
            "name": site.name,
            "family": site.family,
            "config": site.model_dump(mode="json"),
            "updated_at": datetime.now(UTC),
        }
        with session_scope(self.database_url) as session:
            upsert(session, Site, [row], conflict=["id"], update=["name", "family", "config", "updated_at"])

    def validators(self, url: str) -> Validators | None:
        with session_scope(self.database_url) as session:
            row = session.exec(
                select(Fetch)
                .where(Fetch.url == url, col(Fetch.outcome).in_(SUCCESS_OUTCOMES))
                .order_by(col(Fetch.fetched_at).desc(), col(Fetch.id).desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            return Validators(
                row.etag, row.last_modified, row.content_sha256, row.raw_key, row.media_type, row.final_url
            )

    def stored_elsewhere(self, site_id: str, content_sha256: str, url: str, *, document: bool = False) -> str | None:
        """Where else the site's bytes ``content_sha256`` are held, or None.

        For a report page (``document`` False): another page URL that fetched exactly these bytes (a
        mirror path, a moved page), so the report is already stored from there. For a document reached
        directly from a listing (``document`` True) also any URL that fetched them as a document, and any
        attachment of a report page, this URL included: the page hands them on with itself. The answer
        is the page URL for an attachment of a page, else the other URL."""
        with session_scope(self.database_url) as session:
            same_bytes = (
                Fetch.site_id == site_id,
                Fetch.content_sha256 == content_sha256,
                col(Fetch.outcome).in_(SUCCESS_OUTCOMES),
            )
            if document:
                attached = session.exec(
                    select(Fetch.parent_url).where(*same_bytes, col(Fetch.parent_url).is_not(None)).limit(1)
                ).first()
                if attached is not None:
                    return attached
                kinds: tuple[str, ...] = ("page", "attachment")
            else:
                kinds = ("page",)
            return session.exec(
                select(Fetch.url).where(*same_bytes, Fetch.url != url, col(Fetch.kind).in_(kinds)).limit(1)
            ).first()

    def attachment_hashes(self, site_id: str, parent_url: str) -> frozenset[str]:
        """Content hashes of every attachment held so far for the report page ``parent_url``."""
        with session_scope(self.database_url) as session:
            rows = session.exec(
                select(Fetch.content_sha256)
                .where(
                    Fetch.site_id == site_id,
                    Fetch.parent_url == parent_url,
                    col(Fetch.outcome).in_(SUCCESS_OUTCOMES),
                    col(Fetch.content_sha256).is_not(None),
                )
                .distinct()
            ).all()
            return frozenset(row for row in rows if row is not None)

    def record(self, row: Fetch) -> None:
        with session_scope(self.database_url) as session:
            session.add(row)
