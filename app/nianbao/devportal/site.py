"""What the portal answers for each path, independent of HTTP plumbing (see ``urls`` for the layout).

``Site`` renders pages from the catalogue on demand and keeps one mutable piece of state: the revision
of each report, which ``revise`` bumps so that the article's bytes, ETag and Last-Modified change.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from nianbao.devportal.catalogue import ENTRIES, Entry
from nianbao.devportal.documents import DocumentUnavailable, attachment_document
from nianbao.devportal.model import Notice, Report
from nianbao.devportal.render.article import notice_page, report_page
from nianbao.devportal.render.listing import column_page, home_page, not_found_page
from nianbao.devportal.urls import PAGE_SIZE, attachment_path, page_count, page_number

CHINA = timezone(timedelta(hours=8))
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"
HTML_UTF8 = "text/html; charset=utf-8"
# The GBK pages declare their charset only in <meta charset="gbk">: the header names no charset.
HTML_UNDECLARED = "text/html"


@dataclass(frozen=True)
class Resource:
    """One response: status, media type and bytes, plus validators for cacheable resources."""

    status: int
    content_type: str
    body: bytes
    etag: str | None = None
    last_modified: datetime | None = None


class Site:
    """The portal's content by path. Thread-safe: handler threads resolve while a test revises."""

    def __init__(self, entries: tuple[Entry, ...] = ENTRIES) -> None:
        self.entries = entries
        self.pages = page_count(len(entries))
        self._articles: dict[str, Report | Notice] = {e.path: e.item for e in entries}
        self._attachments: dict[str, Report] = {
            attachment_path(e.item.publish_date, e.item.attachment.filename): e.item
            for e in entries
            if isinstance(e.item, Report) and e.item.attachment is not None
        }
        self._lock = threading.Lock()
        self._revisions: dict[str, int] = {}
        self._revised_at: dict[str, datetime] = {}

    def revise(self, report_id: str) -> int:
        """Bump ``report_id``'s revision (its body gains a correction note); returns the new revision."""
        if not any(isinstance(e.item, Report) and e.item.id == report_id for e in self.entries):
            raise KeyError(f"no report {report_id!r} on this portal")
        with self._lock:
            revision = self._revisions.get(report_id, 0) + 1
            now = datetime.now(UTC).replace(microsecond=0)
            previous = self._revised_at.get(report_id)
            # Last-Modified has one-second resolution; keep it strictly increasing across quick revisions.
            if previous is not None and now <= previous:
                now = previous + timedelta(seconds=1)
            self._revisions[report_id] = revision
            self._revised_at[report_id] = now
            return revision

    def revision(self, report_id: str) -> int:
        with self._lock:
            return self._revisions.get(report_id, 0)

    def resolve(self, path: str) -> Resource:
        """The resource at ``path`` (no query string); unknown paths give the 404 page."""
        if path == "/robots.txt":
            return Resource(200, "text/plain; charset=utf-8", ROBOTS_TXT)
        if path in ("/", "/index.html"):
            return Resource(200, HTML_UTF8, home_page().encode("utf-8"))
        page = page_number(path)
        if page is not None and page < self.pages:
            chunk = self.entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
            html = column_page(chunk, page=page, pages=self.pages)
            return Resource(200, HTML_UTF8, html.encode("utf-8"))
        item = self._articles.get(path)
        if isinstance(item, Report):
            return self._report(item)
        if isinstance(item, Notice):
            body = notice_page(item).encode("utf-8")
            return _validated(HTML_UTF8, body, _published_at(item.publish_date, item.publish_time))
        report = self._attachments.get(path)
        if report is not None:
            try:
                media_type, body = attachment_document(report)
            except DocumentUnavailable as exc:
                return Resource(503, "text/plain; charset=utf-8", str(exc).encode("utf-8"))
            return _validated(media_type, body, _published_at(report.publish_date, report.publish_time))
        return Resource(404, HTML_UTF8, not_found_page().encode("utf-8"))

    def _report(self, report: Report) -> Resource:
        with self._lock:
            revision = self._revisions.get(report.id, 0)
            revised_at = self._revised_at.get(report.id)
        body = report_page(report, revision=revision).encode(report.encoding)
        content_type = HTML_UTF8 if report.encoding == "utf-8" else HTML_UNDECLARED
        modified = revised_at or _published_at(report.publish_date, report.publish_time)
        return _validated(content_type, body, modified)


def _validated(content_type: str, body: bytes, modified: datetime) -> Resource:
    etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
    return Resource(200, content_type, body, etag=etag, last_modified=modified)


def _published_at(day: date, time: str) -> datetime:
    hour, minute = (int(part) for part in time.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA).astimezone(UTC)
