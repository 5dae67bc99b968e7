"""One crawl of one site: discover candidate report pages, fetch each once, hand on what is new.

A report page is handed on together with its attachments (one ``PageFetched`` listing every document
held for it), when the page or any attachment is new or changed, or the crawl is forced: many bodies
publish the report's tables only in a PDF/Word attachment of an article page. A document listed directly
is a report of its own, unless a report page already holds the same bytes.

The loop is plain code over injected collaborators (fetcher, raw store, publisher), so it runs the same
under a Celery task, in embedded mode and in tests.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from nianbao.crawler import metrics
from nianbao.crawler.attachments import attachment_links, document_media_type, is_document_url
from nianbao.crawler.discovery import Candidate, DiscoveryContext, discover
from nianbao.crawler.fetching import Page, SiteFetcher
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.titles import fingerprint_hits
from nianbao.shared.bus import Publisher
from nianbao.shared.contracts import FetchedDocument, PageFetched
from nianbao.shared.errors import PermanentError, TransientError

log = logging.getLogger(__name__)


@dataclass
class CrawlSummary:
    """Counts of one site crawl (what the task logs and the CLI prints)."""

    site_id: str
    pages_listed: int = 0  # listing/API pages read
    reports_found: int = 0  # candidates kept by the title filters
    fetched: int = 0  # report pages or listed documents with new or changed content
    not_modified: int = 0  # 304 answers
    unchanged: int = 0  # 200 with the same content hash as last time
    duplicates: int = 0  # new URL whose bytes are already stored from another URL of the site
    published: int = 0  # PageFetched messages handed on
    attachment_updates: int = 0  # of those, pages that are the same but whose attachments are new or changed
    errors: int = 0  # report pages or attachments that could not be fetched
    attachments: int = 0  # attachments held for their pages (fetched now, or stored before and confirmed)
    attachments_changed: int = 0  # of those, new or changed since their page was last handed on
    challenges: int = 0  # anti-bot challenge pages met
    without_fingerprint: int = 0  # report pages lacking the template markers (kept; listed for review)

    def __str__(self) -> str:
        return (
            f"{self.pages_listed} listing page(s), {self.reports_found} report(s) found: "
            f"{self.fetched} fetched, {self.not_modified} not modified, {self.unchanged} unchanged, "
            f"{self.duplicates} duplicate(s), {self.published} published"
            + (f" ({self.attachment_updates} for changed attachments only)" if self.attachment_updates else "")
            + f", {self.attachments} attachment(s) ({self.attachments_changed} new or changed), "
            f"{self.errors} error(s)" + (f", {self.challenges} challenge(s)" if self.challenges else "")
        )


def run_crawl(*, fetcher: SiteFetcher, force: bool, settings: CrawlerSettings, publisher: Publisher) -> CrawlSummary:
    """Crawl ``fetcher.site``. Raises TransientError when no listing page could be read for a reason
    that may pass (network, 5xx, back-off, robots.txt unreachable), PermanentError when none could be
    read for a reason that will not (404, robots disallow, challenge, refused)."""
    site = fetcher.site
    summary = CrawlSummary(site.id)
    max_pages = site.politeness.max_pages_per_run or settings.max_pages_per_run
    ctx = DiscoveryContext(site, lambda url, kind: fetcher.get(url, kind=kind), fetcher.host_ok, max_pages=max_pages)
    candidates = discover(ctx)
    summary.pages_listed = sum(1 for v in ctx.log.visits if v.outcome in ("ok", "unchanged", "not_modified"))
    summary.challenges = len(ctx.log.challenges)
    if summary.pages_listed == 0:
        outcomes = [(v.url, v.outcome, v.status) for v in ctx.log.visits]
        detail = "; ".join(f"{u}: {o}" + (f" (HTTP {s})" if s else "") for u, o, s in outcomes) or "nothing fetched"
        transient = {"network_error", "server_error", "throttled", "backed_off", "robots_unavailable", "budget"}
        if any(o in transient for _, o, _ in outcomes):
            raise TransientError(f"site {site.id}: no listing page could be read: {detail}")
        raise PermanentError(f"site {site.id}: no listing page could be read: {detail}")
    summary.reports_found = len(candidates)
    metrics.REPORTS.labels(site.id, site.family, "discovered").inc(len(candidates))
    # Pages before listed documents: a document that is also a page's attachment goes on with the page.
    documents = site.attachments.extensions
    for candidate in sorted(candidates, key=lambda c: is_document_url(c.url, documents)):
        _crawl_report(candidate, fetcher=fetcher, force=force, settings=settings, publisher=publisher, summary=summary)
    metrics.LAST_SUCCESS.labels(site.id).set(time.time())
    log.info("crawled %s: %s", site.id, summary)
    return summary


def _fetch_candidate(fetcher: SiteFetcher, candidate: Candidate, kind: str) -> Page:
    page = fetcher.get(candidate.url, kind=kind)
    if page.outcome == "http_error" and page.status in (404, 410) and candidate.original_url != candidate.url:
        # The canonical twin (no _wap, www. host) does not exist here; the listed URL is the real one.
        page = fetcher.get(candidate.original_url, kind=kind)
    return page


def _held(page: Page, summary: CrawlSummary, *, family: str) -> bool:
    """Count the answer for a report URL; True when its bytes are held (fetched now, or stored before
    and confirmed by a 304)."""
    site_id = summary.site_id
    if page.outcome == "not_modified":
        summary.not_modified += 1
        return page.raw_key is not None and page.content_sha256 is not None
    if page.outcome == "challenge":
        summary.challenges += 1
    if page.outcome not in ("ok", "unchanged") or page.raw_key is None or page.content_sha256 is None:
        summary.errors += 1
        return False
    if page.outcome == "unchanged":
        summary.unchanged += 1
    else:
        summary.fetched += 1
        metrics.REPORTS.labels(site_id, family, "new" if page.is_new else "changed").inc()
    return True


def _crawl_report(
    candidate: Candidate,
    *,
    fetcher: SiteFetcher,
    force: bool,
    settings: CrawlerSettings,
    publisher: Publisher,
    summary: CrawlSummary,
) -> None:
    if is_document_url(candidate.url, fetcher.site.attachments.extensions):
        _crawl_document(candidate, fetcher=fetcher, force=force, publisher=publisher, summary=summary)
    else:
        _crawl_page(candidate, fetcher=fetcher, force=force, settings=settings, publisher=publisher, summary=summary)


def _crawl_document(
    candidate: Candidate, *, fetcher: SiteFetcher, force: bool, publisher: Publisher, summary: CrawlSummary
) -> None:
    """A document listed directly: a report of its own, unless a report page already holds its bytes."""
    site = fetcher.site
    page = _fetch_candidate(fetcher, candidate, "attachment")
    if not _held(page, summary, family=site.family) or not (page.outcome == "ok" or force):
        return
    assert page.content_sha256 is not None  # checked by _held
    if fetcher.state is not None:
        holder = fetcher.state.stored_elsewhere(site.id, page.content_sha256, page.url, document=True)
        if holder is not None:
            summary.duplicates += 1
            log.info("%s: %s has the same bytes as %s, already stored; not handed on", site.id, page.url, holder)
            return
    _publish(page, candidate.title, site_id=site.id, publisher=publisher)
    summary.published += 1


def _crawl_page(
    candidate: Candidate,
    *,
    fetcher: SiteFetcher,
    force: bool,
    settings: CrawlerSettings,
    publisher: Publisher,
    summary: CrawlSummary,
) -> None:
    """A report page: fetched, then its attachments, then handed on with them when anything changed."""
    site = fetcher.site
    page = _fetch_candidate(fetcher, candidate, "page")
    if not _held(page, summary, family=site.family):
        return
    assert page.content_sha256 is not None  # checked by _held
    if page.outcome != "not_modified":
        fp = site.filters.content_fingerprint
        if fingerprint_hits(page.text(site.http.encoding), fp.any_of) < fp.min_hits:
            summary.without_fingerprint += 1
            log.info("%s: %s lacks the template fingerprint (kept for review)", site.id, page.url)
    if page.is_new and fetcher.state is not None:
        original = fetcher.state.stored_elsewhere(site.id, page.content_sha256, page.url)
        if original is not None:
            summary.duplicates += 1
            log.info("%s: %s has the same bytes as %s, already stored; not handed on", site.id, page.url, original)
            return
    documents: tuple[FetchedDocument, ...] = ()
    attachment_changed = False
    if settings.fetch_attachments and site.attachments.fetch and page.has_body:
        documents, attachment_changed = _crawl_attachments(page, fetcher=fetcher, settings=settings, summary=summary)
    if page.outcome == "ok" or attachment_changed or force:
        if page.outcome != "ok" and attachment_changed:
            # The page is the same, the report is not: it is handed on again as a changed report.
            summary.attachment_updates += 1
            metrics.REPORTS.labels(site.id, site.family, "changed").inc()
        _publish(page, candidate.title, site_id=site.id, publisher=publisher, attachments=documents)
        summary.published += 1


def _crawl_attachments(
    page: Page, *, fetcher: SiteFetcher, settings: CrawlerSettings, summary: CrawlSummary
) -> tuple[tuple[FetchedDocument, ...], bool]:
    """Fetch (conditionally) every attachment ``page`` links to. Returns the documents held for it, one
    per distinct content, and whether any is new or changed since the page was last handed on."""
    site = fetcher.site
    links = attachment_links(
        page.text(site.http.encoding),
        page.final_url or page.url,
        site.attachments,
        limit=settings.max_attachments_per_page,
    )
    state = fetcher.state
    known = state.attachment_hashes(site.id, page.url) if state is not None else frozenset()
    held: dict[str, FetchedDocument] = {}  # by content hash: the same bytes under two URLs are one document
    changed = False
    for link in links:
        if not fetcher.host_ok(link.url):
            continue
        attachment = fetcher.get(link.url, kind="attachment", parent_url=page.url)
        title = link.title or attachment.filename or None
        if (
            attachment.outcome in ("ok", "unchanged", "not_modified")
            and attachment.content_sha256
            and attachment.raw_key
        ):
            summary.attachments += 1
            # New or changed: new bytes at a URL fetched before, or bytes this page never held (a new
            # link; a link renamed to bytes the page already had is no change).
            if (attachment.outcome == "ok" and not attachment.is_new) or attachment.content_sha256 not in known:
                summary.attachments_changed += 1
                changed = True
            held.setdefault(attachment.content_sha256, _document(attachment, title))
            continue
        if attachment.outcome == "not_modified":
            continue  # a 304 for bytes no longer in the raw store: nothing to hand on, nothing wrong here
        summary.errors += 1
        log.info("%s: attachment %s of %s: %s", site.id, link.url, page.url, attachment.error or attachment.outcome)
        if (attachment.transient or attachment.outcome == "budget") and state is not None:
            # The server may recover: the page keeps the version stored before, if any.
            before = state.validators(link.url)
            if before is not None and before.raw_key and before.content_sha256:
                held.setdefault(
                    before.content_sha256,
                    FetchedDocument(
                        url=link.url,
                        final_url=before.final_url or link.url,
                        raw_key=before.raw_key,
                        content_sha256=before.content_sha256,
                        media_type=document_media_type(before.media_type, before.final_url, link.url),
                        title_hint=title,
                    ),
                )
    return tuple(held.values()), changed


def _document(attachment: Page, title: str | None) -> FetchedDocument:
    assert attachment.raw_key is not None and attachment.content_sha256 is not None  # checked by the caller
    final_url = attachment.final_url or attachment.url
    return FetchedDocument(
        url=attachment.url,
        final_url=final_url,
        raw_key=attachment.raw_key,
        content_sha256=attachment.content_sha256,
        media_type=document_media_type(attachment.media_type, attachment.filename, final_url, attachment.url),
        title_hint=title,
    )


def _publish(
    page: Page,
    title: str | None,
    *,
    site_id: str,
    publisher: Publisher,
    attachments: tuple[FetchedDocument, ...] = (),
) -> None:
    assert page.raw_key is not None and page.content_sha256 is not None  # checked by the callers
    final_url = page.final_url or page.url
    if page.kind == "attachment":
        media_type = document_media_type(page.media_type, page.filename, final_url, page.url)
    else:
        media_type = page.media_type or "text/html"
    publisher.publish(
        PageFetched(
            site_id=site_id,
            url=page.url,
            final_url=final_url,
            raw_key=page.raw_key,
            content_sha256=page.content_sha256,
            media_type=media_type,
            http_charset=page.http_charset,
            title_hint=title,
            attachments=attachments,
        )
    )
