"""One crawl of one site: discover candidate report pages, fetch each once, hand on what is new.

The loop is plain code over injected collaborators (fetcher, raw store, publisher), so it runs the same
under a Celery task, in embedded mode and in tests.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from nianbao.crawler import metrics
from nianbao.crawler.attachments import attachment_links, is_document_url
from nianbao.crawler.discovery import Candidate, DiscoveryContext, discover
from nianbao.crawler.fetching import Page, SiteFetcher
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.titles import fingerprint_hits
from nianbao.shared.bus import Publisher
from nianbao.shared.contracts import PageFetched
from nianbao.shared.errors import PermanentError, TransientError

log = logging.getLogger(__name__)


@dataclass
class CrawlSummary:
    """Counts of one site crawl (what the task logs and the CLI prints)."""

    site_id: str
    pages_listed: int = 0  # listing/API pages read
    reports_found: int = 0  # candidates kept by the title filters
    fetched: int = 0  # report pages with new or changed content
    not_modified: int = 0  # 304 answers
    unchanged: int = 0  # 200 with the same content hash as last time
    duplicates: int = 0  # new URL whose bytes are already stored from another URL of the site
    published: int = 0  # PageFetched messages handed on
    errors: int = 0  # report pages or attachments that could not be fetched
    attachments: int = 0  # attachments stored
    challenges: int = 0  # anti-bot challenge pages met
    without_fingerprint: int = 0  # report pages lacking the template markers (kept; listed for review)

    def __str__(self) -> str:
        return (
            f"{self.pages_listed} listing page(s), {self.reports_found} report(s) found: "
            f"{self.fetched} fetched, {self.not_modified} not modified, {self.unchanged} unchanged, "
            f"{self.duplicates} duplicate(s), "
            f"{self.published} published, {self.attachments} attachment(s), {self.errors} error(s)"
            + (f", {self.challenges} challenge(s)" if self.challenges else "")
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
    for candidate in candidates:
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


def _crawl_report(
    candidate: Candidate,
    *,
    fetcher: SiteFetcher,
    force: bool,
    settings: CrawlerSettings,
    publisher: Publisher,
    summary: CrawlSummary,
) -> None:
    site = fetcher.site
    kind = "attachment" if is_document_url(candidate.url, site.attachments.extensions) else "page"
    page = _fetch_candidate(fetcher, candidate, kind)
    if page.outcome == "not_modified":
        summary.not_modified += 1
        return
    if page.outcome == "challenge":
        summary.challenges += 1
    if page.outcome not in ("ok", "unchanged") or page.raw_key is None or page.content_sha256 is None:
        summary.errors += 1
        return
    if page.outcome == "unchanged":
        summary.unchanged += 1
    else:
        summary.fetched += 1
        metrics.REPORTS.labels(site.id, site.family, "new" if page.is_new else "changed").inc()
    if kind == "page":
        text = page.text(site.http.encoding)
        fp = site.filters.content_fingerprint
        if fingerprint_hits(text, fp.any_of) < fp.min_hits:
            summary.without_fingerprint += 1
            log.info("%s: %s lacks the template fingerprint (kept for review)", site.id, page.url)
    if kind == "page" and page.is_new and fetcher.state is not None:
        original = fetcher.state.stored_elsewhere(site.id, page.content_sha256, page.url)
        if original is not None:
            summary.duplicates += 1
            log.info("%s: %s has the same bytes as %s, already stored; not handed on", site.id, page.url, original)
            return
    if page.outcome == "ok" or force:
        _publish(page, candidate.title, site_id=site.id, publisher=publisher)
        summary.published += 1
        if kind == "page" and settings.fetch_attachments and site.attachments.fetch:
            _crawl_attachments(
                page, fetcher=fetcher, settings=settings, publisher=publisher, summary=summary, force=force
            )


def _crawl_attachments(
    page: Page,
    *,
    fetcher: SiteFetcher,
    settings: CrawlerSettings,
    publisher: Publisher,
    summary: CrawlSummary,
    force: bool,
) -> None:
    site = fetcher.site
    links = attachment_links(
        page.text(site.http.encoding),
        page.final_url or page.url,
        site.attachments,
        limit=settings.max_attachments_per_page,
    )
    for link in links:
        if not fetcher.host_ok(link.url):
            continue
        attachment = fetcher.get(link.url, kind="attachment")
        if attachment.outcome in ("ok", "unchanged"):
            summary.attachments += 1
            if settings.publish_attachments and (attachment.outcome == "ok" or force):
                _publish(attachment, link.title or None, site_id=site.id, publisher=publisher)
                summary.published += 1
        elif attachment.outcome != "not_modified":
            summary.errors += 1


def _publish(page: Page, title: str | None, *, site_id: str, publisher: Publisher) -> None:
    assert page.raw_key is not None and page.content_sha256 is not None  # checked by the callers
    publisher.publish(
        PageFetched(
            site_id=site_id,
            url=page.url,
            final_url=page.final_url or page.url,
            raw_key=page.raw_key,
            content_sha256=page.content_sha256,
            media_type=page.media_type or "text/html",
            http_charset=page.http_charset,
            title_hint=title,
        )
    )
