"""One crawl of one site: discover candidate report pages, fetch each once, hand on what is new.

A report page is handed on together with its attachments (one ``PageFetched`` listing every document
held for it), when the page or any attachment is new or changed, or the crawl is forced: many bodies
publish the report's tables only in a PDF/Word attachment of an article page. A document listed directly
is a report of its own, unless a report page already holds the same bytes.

A page counts as handled only when its hand-off is durable: a candidate's fetch rows, its outbox row
(the ``PageFetched`` to publish, if any) and its checkpoint mark are committed in one transaction, and
the message is published after that commit (see :mod:`nianbao.crawler.outbox`).

A crawl is a *run* (``run_id``: the crawl task's id, the same for each delivery and retry of it): its
candidates are stored at discovery, in crawl order, and each is marked done with its commit. A delivery
of a run that has candidates stored continues after the last one done, without discovering again; so a
killed crawler loses at most the candidate in flight. With ``slice_s`` a delivery stops after that long
and hands the rest of the run to a ``CrawlContinued`` message, so that no crawl task is held unacked
anywhere near the broker's visibility timeout (which would deliver it a second time while it runs).

The loop is plain code over injected collaborators (fetcher, raw store, publisher), so it runs the same
under a Celery task, in embedded mode and in tests.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nianbao.crawler import metrics, reportness, runs
from nianbao.crawler.attachments import attachment_links, document_media_type, is_document_url
from nianbao.crawler.completeness import Verdict, announced_text, judge
from nianbao.crawler.discovery import Candidate, DiscoveryContext, discover
from nianbao.crawler.discovery.base import Link
from nianbao.crawler.fetching import Page, SiteFetcher
from nianbao.crawler.outbox import hand_on, publish_pending, publish_stalled
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.siteschema import SiteConfig
from nianbao.crawler.state import SUCCESS_OUTCOMES, CrawlState, RunItem
from nianbao.crawler.titles import fingerprint_hits
from nianbao.shared.bus import Publisher
from nianbao.shared.contracts import CrawlContinued, FetchedDocument, PageFetched
from nianbao.shared.errors import PermanentError, TransientError
from nianbao.shared.models import Fetch

log = logging.getLogger(__name__)


@dataclass
class CrawlSummary:
    """Counts of one delivery of a site crawl (what the task logs and the CLI prints). A crawl that ran
    whole in one delivery (embedded mode, or a site that fits one slice) is counted whole; otherwise each
    slice counts its own candidates, and ``resumed`` those an earlier delivery or slice had handled."""

    site_id: str
    pages_listed: int = 0  # listing/API pages read (0 when the run's candidates were discovered earlier)
    reports_found: int = 0  # candidates kept by the title filters (of the whole run)
    resumed: int = 0  # candidates an earlier delivery or slice of this run had handled: skipped
    remaining: int = 0  # candidates left to a continuation task (the slice ended)
    republished: int = 0  # hand-offs left unpublished before, published at the start
    rehanded: int = 0  # pages handed on long ago that have no report, handed on once more at the start
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
    incomplete: list[str] = field(default_factory=list)  # listings short of their announced total, and why
    # fetched pages judged not to be reports (reportness.py): (url, title, reason), not handed on
    not_a_report: list[tuple[str, str, str]] = field(default_factory=list)
    announced: int | None = None  # records the columns announce (sum of sure minimums); None: none states one
    announced_max: int | None = None  # sum of the stated counts (above ``announced`` for page-count statements)
    found: int = 0  # distinct article links discovery found (report-titled or not)
    verdict: str = ""  # the run's completeness verdict with its numbers ("" when unknown to this delivery)

    def discovery_line(self) -> str:
        """``announced N, found F, kept K: VERDICT`` (empty when this delivery knows no verdict)."""
        if not self.verdict:
            return ""
        announced = announced_text(self.announced, self.announced_max).removesuffix(" announced")
        return f"announced {announced}, found {self.found}, kept {self.reports_found}: {self.verdict}"

    def not_a_report_line(self, examples: int = 3) -> str:
        """``; N not a report (e.g. URL 「title」: reason; …)``, or '' when every page was a report."""
        if not self.not_a_report:
            return ""
        shown = "; ".join(f"{url} 「{title}」: {reason}" for url, title, reason in self.not_a_report[:examples])
        more = ", …" if len(self.not_a_report) > examples else ""
        return f"; {len(self.not_a_report)} not a report (e.g. {shown}{more})"

    def __str__(self) -> str:
        return (
            f"{self.pages_listed} listing page(s), {self.reports_found} report(s) found: "
            f"{self.fetched} fetched, {self.not_modified} not modified, {self.unchanged} unchanged, "
            f"{self.duplicates} duplicate(s), {self.published} published"
            + (f" ({self.attachment_updates} for changed attachments only)" if self.attachment_updates else "")
            + f", {self.attachments} attachment(s) ({self.attachments_changed} new or changed), "
            f"{self.errors} error(s)"
            + (f", {self.challenges} challenge(s)" if self.challenges else "")
            + (f"; {self.resumed} done by an earlier delivery" if self.resumed else "")
            + (f"; {self.remaining} left to a continuation" if self.remaining else "")
            + (f"; {self.republished} earlier hand-off(s) published" if self.republished else "")
            + (f"; {self.rehanded} page(s) without a report handed on again" if self.rehanded else "")
            + "".join(f"; INCOMPLETE {line}" for line in self.incomplete)
            + self.not_a_report_line()
            + (f"; discovery {self.discovery_line()}" if self.verdict else "")
        )


def run_crawl(
    *,
    fetcher: SiteFetcher,
    force: bool,
    settings: CrawlerSettings,
    publisher: Publisher,
    run_id: str,
    slice_s: float | None = None,
    discover_if_new: bool = True,
) -> CrawlSummary:
    """Crawl ``fetcher.site`` as run ``run_id``, or continue it if its candidates are stored already.

    First publishes the site's hand-offs left unpublished. A run that is new is discovered (unless
    ``discover_if_new`` is False: a continuation never starts a run). Raises TransientError when no
    listing page could be read for a reason that may pass (network, 5xx, back-off, robots.txt
    unreachable) or a hand-off could not be published, PermanentError when no listing page could be read
    for a reason that will not (404, robots disallow, challenge, refused)."""
    started = time.monotonic()
    started_at = datetime.now(UTC)
    site = fetcher.site
    state = fetcher.state
    if state is None:
        raise ValueError("a crawl records its fetches: the fetcher needs a CrawlState")
    summary = CrawlSummary(site.id)
    summary.republished = publish_pending(state, publisher, site_id=site.id, settings=settings)
    summary.rehanded = publish_stalled(state, publisher, site_id=site.id, settings=settings)
    items = state.run_items(run_id)
    if items and discover_if_new:  # a crawl_site delivery whose run was started: redelivered or retried
        metrics.CHECKPOINTS.labels(site.id, "resumed").inc()
        log.info("%s: crawl run %s continues where an earlier delivery of it stopped", site.id, run_id)
    elif not items and discover_if_new:
        state.prune(site.id, run_retention_days=settings.crawl_run_retention_days)
        candidates = _discover(fetcher, settings, summary, run_id=run_id, started_at=started_at)
        state.start_run(
            run_id=run_id,
            site_id=site.id,
            candidates=[(c.url, c.original_url, c.title) for c in candidates],
            force=force,
        )
        items = state.run_items(run_id)
    elif not items:
        log.info("%s: crawl run %s is unknown or pruned; nothing to continue", site.id, run_id)
        return summary
    summary.reports_found = len(items)
    handled = 0
    for index, item in enumerate(items):
        if item.done:
            summary.resumed += 1
            continue
        if slice_s is not None and handled and time.monotonic() - started >= slice_s:
            summary.remaining = sum(1 for later in items[index:] if not later.done)
            publisher.publish(CrawlContinued(site_id=site.id, run_id=run_id, force=force))
            metrics.CHECKPOINTS.labels(site.id, "continued").inc()
            log.info("crawled %s (slice of run %s, continued): %s", site.id, run_id, summary)
            return summary
        if state.is_done(item.id):  # another delivery of this run handled it meanwhile
            summary.resumed += 1
            continue
        _handle_item(item, state=state, fetcher=fetcher, force=force, settings=settings, publisher=publisher,
                     summary=summary)  # fmt: skip
        handled += 1
    metrics.LAST_SUCCESS.labels(site.id).set(time.time())
    record = runs.finish_run(state.database_url, run_id)
    if record is not None and not summary.verdict:  # discovered by an earlier delivery: its verdict
        summary.announced, summary.found, summary.verdict = record.announced, record.found, record.verdict
    log.info("crawled %s: %s", site.id, summary)
    return summary


def _discover(
    fetcher: SiteFetcher, settings: CrawlerSettings, summary: CrawlSummary, *, run_id: str, started_at: datetime
) -> list[Candidate]:
    """The candidates in crawl order: pages before listed documents, so that a document that is also a
    page's attachment goes on with the page. The run's ``crawl_run`` row and discovery gauges are written
    here, also for a run that could read no listing page (``blocked``) before it raises."""
    site = fetcher.site
    max_pages = site.politeness.max_pages_per_run or settings.max_pages_per_run
    ctx = DiscoveryContext(
        site, lambda url, kind, form=None: fetcher.get(url, kind=kind, form=form), fetcher.host_ok, max_pages=max_pages
    )
    candidates = discover(ctx)
    summary.pages_listed = sum(1 for v in ctx.log.visits if v.outcome in ("ok", "unchanged", "not_modified"))
    summary.challenges = len(ctx.log.challenges)
    verdict = judge(ctx.log, found=ctx.found, columns=len(site.start_urls))
    _record_verdict(fetcher, verdict, summary, run_id=run_id, started_at=started_at)
    if summary.pages_listed == 0:
        outcomes = [(v.url, v.outcome, v.status) for v in ctx.log.visits]
        detail = "; ".join(f"{u}: {o}" + (f" (HTTP {s})" if s else "") for u, o, s in outcomes) or "nothing fetched"
        transient = {"network_error", "server_error", "throttled", "backed_off", "robots_unavailable", "budget"}
        if any(o in transient for _, o, _ in outcomes):
            raise TransientError(f"site {site.id}: no listing page could be read: {detail}")
        raise PermanentError(f"site {site.id}: no listing page could be read: {detail}")
    for short in ctx.log.incomplete:
        summary.incomplete.append(f"{short.start_url}: found {short.found} of {short.expected} ({short.reason})")
        metrics.LISTING_INCOMPLETE.labels(site.id, site.family).inc()
        log.warning("%s: listing %s incomplete: found %d of %d announced (%s)",
                    site.id, short.start_url, short.found, short.expected, short.reason)  # fmt: skip
    metrics.REPORTS.labels(site.id, site.family, "discovered").inc(len(candidates))
    documents = site.attachments.extensions
    return sorted(candidates, key=lambda c: is_document_url(c.url, documents))


def _record_verdict(
    fetcher: SiteFetcher, verdict: Verdict, summary: CrawlSummary, *, run_id: str, started_at: datetime
) -> None:
    """The discovery's verdict into the summary, the ``crawl_run`` row and the discovery gauges."""
    site = fetcher.site
    summary.announced, summary.found, summary.verdict = verdict.announced, verdict.found, str(verdict)
    summary.announced_max = verdict.announced_max
    if fetcher.state is not None:
        runs.record_discovery(fetcher.state.database_url, run_id=run_id, site_id=site.id, family=site.family,
                              verdict=verdict, started_at=started_at, finished=verdict.kind == "blocked")  # fmt: skip
    metrics.DISCOVERY_ANNOUNCED.labels(site.id).set(math.nan if verdict.announced is None else verdict.announced)
    metrics.DISCOVERY_FOUND.labels(site.id).set(verdict.found)
    metrics.DISCOVERY_KEPT.labels(site.id).set(verdict.kept)
    metrics.DISCOVERY_COMPLETE.labels(site.id).set(1 if verdict.ok else 0)
    metrics.DISCOVERY_TIMESTAMP.labels(site.id).set(time.time())
    if not verdict.ok:
        log.warning("%s: discovery %s", site.id, verdict)


def _handle_item(
    item: RunItem,
    *,
    state: CrawlState,
    fetcher: SiteFetcher,
    force: bool,
    settings: CrawlerSettings,
    publisher: Publisher,
    summary: CrawlSummary,
) -> None:
    """One candidate: fetched (rows held back), then its rows, hand-off and checkpoint mark committed
    together, then the hand-off published."""
    site_id = fetcher.site.id
    candidate = Candidate(item.url, item.original_url, item.title, None, None, "")
    with fetcher.held_back() as rows:
        outcome, message = _crawl_report(candidate, fetcher=fetcher, force=force, settings=settings, summary=summary)
    if outcome == "not_a_report":
        _mark_not_a_report(rows, reason=summary.not_a_report[-1][2])
    outbox_id = state.commit_candidate(
        site_id=site_id, url=item.url, item_id=item.id, outcome=outcome, fetches=rows, handoff=message
    )
    if message is not None and outbox_id is not None:
        hand_on(state, publisher, outbox_id=outbox_id, message=message, site_id=site_id)
        summary.published += 1


def _mark_not_a_report(rows: list[Fetch], *, reason: str) -> None:
    """The candidate's fetch rows that hold its bytes say ``not_a_report`` and why (in ``error``). They
    then give no conditional-GET state (only ok/unchanged/not_modified rows do), so the page is fetched
    and judged again at the next crawl: a page that becomes a report is handed on then."""
    for row in rows:
        if row.parent_url is None and row.outcome in SUCCESS_OUTCOMES:
            row.outcome = "not_a_report"
            row.error = reason[:1000]


def page_attachment_links(page: Page, site: SiteConfig, settings: CrawlerSettings) -> list[Link]:
    """The attachment links of a fetched page (at most ``max_attachments_per_page``)."""
    return attachment_links(
        page.text(site.http.encoding), page.final_url or page.url, site.attachments,
        limit=settings.max_attachments_per_page,
    )  # fmt: skip


def judge_fetched(
    page: Page, title: str, site: SiteConfig, settings: CrawlerSettings, *, links: list[Link] | None = None
) -> reportness.Verdict:
    """Whether the fetched ``page``, listed as ``title``, is a report (see :mod:`nianbao.crawler.reportness`).
    The crawl and ``sites check`` both decide with this; ``links``: the page's attachment links when the
    caller has them already (:func:`page_attachment_links`)."""
    media_type = (page.media_type or "text/html").lower()
    if not any(kind in media_type for kind in ("html", "xml", "text")):  # a document served for a page URL
        return reportness.judge_document(listing_title=title)
    if links is None:
        links = page_attachment_links(page, site, settings)
    names = [link.title or link.url.rsplit("/", 1)[-1] for link in links]
    return reportness.judge_page(page.text(site.http.encoding), listing_title=title, attachment_names=names)


def _not_a_report(page: Page, verdict: reportness.Verdict, summary: CrawlSummary, *, site_id: str) -> Handled:
    summary.not_a_report.append((page.url, verdict.title, verdict.reason))
    metrics.NOT_A_REPORT.labels(site_id).inc()
    log.info("%s: %s is not a report: %s", site_id, page.url, verdict.reason)
    return "not_a_report", None


def _fetch_candidate(fetcher: SiteFetcher, candidate: Candidate, kind: str) -> Page:
    page = fetcher.get(candidate.url, kind=kind)
    if page.outcome == "http_error" and page.status in (404, 410) and candidate.original_url != candidate.url:
        # The canonical twin (no _wap, www. host) does not exist here; the listed URL is the real one.
        page = fetcher.get(candidate.original_url, kind=kind)
    return page


def _held(page: Page, summary: CrawlSummary) -> bool:
    """Count the answer for a report URL; True when its bytes are held (fetched now, or stored before
    and confirmed by a 304). New or changed reports are counted once judged (:func:`_count_report`)."""
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
    return True


def _count_report(page: Page, *, site_id: str, family: str) -> None:
    """``nianbao_crawler_reports_total{state=new|changed}`` for a page judged a report, fetched now."""
    if page.outcome == "ok":
        metrics.REPORTS.labels(site_id, family, "new" if page.is_new else "changed").inc()


Handled = tuple[str, PageFetched | None]  # (outcome for the checkpoint, the hand-off if any)


def _crawl_report(
    candidate: Candidate, *, fetcher: SiteFetcher, force: bool, settings: CrawlerSettings, summary: CrawlSummary
) -> Handled:
    if is_document_url(candidate.url, fetcher.site.attachments.extensions):
        return _crawl_document(candidate, fetcher=fetcher, force=force, summary=summary)
    return _crawl_page(candidate, fetcher=fetcher, force=force, settings=settings, summary=summary)


def _crawl_document(candidate: Candidate, *, fetcher: SiteFetcher, force: bool, summary: CrawlSummary) -> Handled:
    """A document listed directly: a report of its own, unless a report page already holds its bytes."""
    site = fetcher.site
    page = _fetch_candidate(fetcher, candidate, "attachment")
    if not _held(page, summary):
        return page.outcome, None
    verdict = reportness.judge_document(listing_title=candidate.title)
    if not verdict.is_report:
        return _not_a_report(page, verdict, summary, site_id=site.id)
    _count_report(page, site_id=site.id, family=site.family)
    if not (page.outcome == "ok" or force):
        return page.outcome, None
    assert page.content_sha256 is not None  # checked by _held
    if fetcher.state is not None:
        holder = fetcher.state.stored_elsewhere(site.id, page.content_sha256, page.url, document=True)
        if holder is not None:
            summary.duplicates += 1
            log.info("%s: %s has the same bytes as %s, already stored; not handed on", site.id, page.url, holder)
            return "duplicate", None
    return "handed_on", _handoff(page, candidate.title, site_id=site.id)


def _crawl_page(
    candidate: Candidate, *, fetcher: SiteFetcher, force: bool, settings: CrawlerSettings, summary: CrawlSummary
) -> Handled:
    """A report page: fetched, then its attachments, then handed on with them when anything changed."""
    site = fetcher.site
    page = _fetch_candidate(fetcher, candidate, "page")
    if not _held(page, summary):
        return page.outcome, None
    assert page.content_sha256 is not None  # checked by _held
    title = candidate.title
    links = page_attachment_links(page, site, settings) if page.has_body else []
    if page.has_body:  # a 304 whose bytes left the raw store cannot be judged (and is not handed on)
        verdict = judge_fetched(page, candidate.title, fetcher.site, settings, links=links)
        if not verdict.is_report:
            return _not_a_report(page, verdict, summary, site_id=site.id)
        title = verdict.title  # as listed, else the page's own: a report is never handed on untitled
        if not title:
            log.warning("%s: %s has no title in the listing or on the page", site.id, page.url)
    _count_report(page, site_id=site.id, family=site.family)
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
            return "duplicate", None
    documents: tuple[FetchedDocument, ...] = ()
    attachment_changed = False
    if settings.fetch_attachments and site.attachments.fetch and page.has_body:
        documents, attachment_changed = _crawl_attachments(page, links, fetcher=fetcher, summary=summary)
    if page.outcome == "ok" or attachment_changed or force:
        if page.outcome != "ok" and attachment_changed:
            # The page is the same, the report is not: it is handed on again as a changed report.
            summary.attachment_updates += 1
            metrics.REPORTS.labels(site.id, site.family, "changed").inc()
        return "handed_on", _handoff(page, title or None, site_id=site.id, attachments=documents)
    return page.outcome, None


def _crawl_attachments(
    page: Page, links: list[Link], *, fetcher: SiteFetcher, summary: CrawlSummary
) -> tuple[tuple[FetchedDocument, ...], bool]:
    """Fetch (conditionally) every attachment in ``links`` (those of ``page``). Returns the documents held
    for it, one per distinct content, and whether any is new or changed since the page was last handed on."""
    site = fetcher.site
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


def _handoff(
    page: Page, title: str | None, *, site_id: str, attachments: tuple[FetchedDocument, ...] = ()
) -> PageFetched:
    assert page.raw_key is not None and page.content_sha256 is not None  # checked by the callers
    final_url = page.final_url or page.url
    if page.kind == "attachment":
        media_type = document_media_type(page.media_type, page.filename, final_url, page.url)
    else:
        media_type = page.media_type or "text/html"
    return PageFetched(
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
