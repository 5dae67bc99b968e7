"""Dry run of one site entry (``nianbao sites check SITE_ID``): what the crawler would see, nothing saved.

It fetches the first listing pages under the same politeness, robots and safety rules as a crawl, and
reports the sniffed family, page-1/page-2 samples and the page-2 numbering it detected, every title it
kept or rejected (with the rule), charset decisions, challenges, and one sample report page with its
content-fingerprint hits, and for up to :data:`SAMPLE_REPORTS` kept pages the crawl's report-or-not
decision with its evidence (``NOT A REPORT: … (interpretation or graphic: …)``). No database row is
written and raw bytes go to a throwaway store.

Its last line is the completeness verdict (:mod:`nianbao.crawler.completeness`) and whether the site looks
crawlable: ``complete``, ``incomplete (found X of Y announced; …)``, ``blocked (reason)``, ``empty`` or
``unknown (…)``. A sample (the default, :data:`SAMPLE_PAGES` listing pages per walk) that stops at its
page cap before the announced total is ``unknown``, not incomplete; ``full`` walks every listing page up
to the site's page cap, as a crawl does, and so can say ``complete``. The site looks crawlable only when
the verdict is ``complete`` or ``unknown`` and nothing else is wrong (family, challenge, no title kept).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from nianbao.crawler.client import build_client, shared_limiter, shared_robots
from nianbao.crawler.completeness import Verdict, judge
from nianbao.crawler.crawl import judge_fetched
from nianbao.crawler.discovery import DiscoveryContext, discover
from nianbao.crawler.discovery.base import ListingVisit, html_links
from nianbao.crawler.fetching import Page, SiteFetcher
from nianbao.crawler.politeness import HostLimiter
from nianbao.crawler.robots import RobotsCache
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.siteschema import SiteConfig
from nianbao.crawler.sniff import sniff_family
from nianbao.crawler.titles import fingerprint_hits
from nianbao.shared.rawstore import RawStore

SAMPLE_PAGES = 2
SAMPLE_REPORTS = 3  # kept candidates fetched and judged report-or-not, as the crawl would


@dataclass
class SiteCheckReport:
    site_id: str
    family: str
    sniffed_family: str | None = None
    sniff_evidence: str = ""
    visits: list[ListingVisit] = field(default_factory=list)
    samples: list[tuple[str, list[str]]] = field(default_factory=list)  # (listing URL, titles seen)
    notes: list[str] = field(default_factory=list)
    kept: list[tuple[str, int | None, str]] = field(default_factory=list)  # (title, year, url)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (title, url, reason)
    challenges: list[tuple[str, str]] = field(default_factory=list)
    sample_report: str | None = None  # URL, outcome, charset and fingerprint of one kept report
    problems: list[str] = field(default_factory=list)
    incomplete: list[tuple[str, int, int, str]] = field(default_factory=list)  # (listing, found, announced, why)
    verdict: Verdict | None = None  # completeness of what the check walked
    judged: list[tuple[str, bool, str]] = field(default_factory=list)  # (url, is a report, evidence) per sample

    @property
    def ok(self) -> bool:
        return not self.problems and self.verdict is not None and self.verdict.ok

    def render(self) -> str:
        lines = [
            f"site {self.site_id}: family {self.family}"
            + (f", sniffed {self.sniffed_family} ({self.sniff_evidence})" if self.sniffed_family else "")
        ]
        lines.append("listing pages:")
        for v in self.visits:
            status = f" HTTP {v.status}" if v.status else ""
            charset = f", charset {v.charset} ({v.charset_source})" if v.charset else ""
            note = f" [{v.note}]" if v.note else ""
            lines.append(f"  {v.url}: {v.outcome}{status}, {v.links} article link(s), {v.new_links} new{charset}{note}")
        for url, titles in self.samples:
            lines.append(f"sample {url}:")
            lines.extend(f"    {t}" for t in titles[:5])
        lines.extend(f"note: {n}" for n in self.notes)
        lines.append(f"kept {len(self.kept)} title(s):")
        lines.extend(f"  + [{y or '?'}] {t}  {u}" for t, y, u in self.kept)
        lines.append(f"rejected {len(self.rejected)} title(s):")
        lines.extend(f"  - {t or '(no title)'}  ({r})  {u}" for t, u, r in self.rejected)
        lines.extend(f"challenge: {kind} at {url}" for url, kind in self.challenges)
        if self.sample_report:
            lines.append(f"sample report: {self.sample_report}")
        for url, is_report, evidence in self.judged:
            lines.append(f"  {'report' if is_report else 'NOT A REPORT'}: {url} ({evidence})")
        lines.extend(f"PROBLEM: {p}" for p in self.problems)
        if self.verdict is not None:
            verdict = self.verdict
            announced = "nothing" if verdict.announced is None else verdict.announced_text.removesuffix(" announced")
            lines.append(f"discovery: announced {announced}, found {verdict.found}, kept {verdict.kept}")
        lines.append(
            f"verdict: {self.verdict or 'not judged'}; " + ("looks crawlable" if self.ok else "needs attention")
        )
        return "\n".join(lines)


def check_site(
    site: SiteConfig,
    settings: CrawlerSettings,
    *,
    client: httpx.Client | None = None,
    limiter: HostLimiter | None = None,
    robots: RobotsCache | None = None,
    full: bool = False,
) -> SiteCheckReport:
    """Dry-run ``site``: a sample of :data:`SAMPLE_PAGES` listing pages per walk, or with ``full`` every
    listing page up to the site's page cap (``politeness.max_pages_per_run``, else the setting)."""
    report = SiteCheckReport(site.id, site.family)
    max_pages = (site.politeness.max_pages_per_run or settings.max_pages_per_run) if full else SAMPLE_PAGES
    http = client if client is not None else build_client(site, settings)
    with tempfile.TemporaryDirectory(prefix="nianbao-check-") as scratch:
        fetcher = SiteFetcher(
            site=site,
            settings=settings,
            client=http,
            store=RawStore(Path(scratch)),
            state=None,
            limiter=limiter or shared_limiter(settings),
            robots=robots or shared_robots(settings),
        )
        try:
            ctx = DiscoveryContext(
                site,
                lambda url, kind, form=None: _sampled(fetcher, url, kind, report, form),
                fetcher.host_ok,
                max_pages=max_pages,
            )
            kept = discover(ctx)
            log = ctx.log
            report.verdict = judge(log, found=ctx.found, columns=len(site.start_urls), sampled=not full)
            report.visits, report.notes, report.challenges = log.visits, log.notes, log.challenges
            # A sample reads SAMPLE_PAGES listing pages: stopping at that cap is the sample, not a fault.
            report.incomplete = [
                (i.start_url, i.found, i.expected, i.reason) for i in log.incomplete if full or not i.capped
            ]
            report.kept = [(c.title, c.year, c.url) for c in kept]
            report.rejected = list(log.rejected)
            for n, candidate in enumerate(kept[:SAMPLE_REPORTS]):
                page = fetcher.get(candidate.url, kind="page")
                detail = f"{candidate.url}: {page.outcome}"
                if page.body is not None:
                    decoded = page.decoded(site.http.encoding)
                    if n == 0:
                        fp = site.filters.content_fingerprint
                        hits = fingerprint_hits(decoded.text, fp.any_of)
                        detail += (
                            f", charset {decoded.charset} ({decoded.source}), "
                            f"fingerprint {hits}/{len(fp.any_of)} markers (need {fp.min_hits})"
                        )
                        report.sample_report = detail
                    verdict = judge_fetched(page, candidate.title, site, settings)
                    report.judged.append((candidate.url, verdict.is_report, verdict.reason))
                elif n == 0:
                    report.sample_report = detail
        finally:
            if client is None:
                http.close()
    _judge(report)
    return report


def _sampled(
    fetcher: SiteFetcher, url: str, kind: str, report: SiteCheckReport, form: Mapping[str, str] | None = None
) -> Page:
    """Fetch a listing page (POST ``form`` when given) and remember its titles as a sample; sniff the family
    from the first."""
    page = fetcher.get(url, kind=kind, form=form)
    if page.body is not None and page.outcome in ("ok", "unchanged", "not_modified"):
        text = page.text(fetcher.site.http.encoding)
        if report.sniffed_family is None:
            report.sniffed_family, report.sniff_evidence = sniff_family(url, text)
        if len(report.samples) < SAMPLE_PAGES:
            titles = [link.title for link in html_links(text, page.final_url or url) if len(link.title) >= 8]
            report.samples.append((url, titles))
    return page


def _judge(report: SiteCheckReport) -> None:
    if not any(v.outcome in ("ok", "unchanged", "not_modified") for v in report.visits):
        report.problems.append("no listing page could be read")
    if report.sniffed_family and report.sniffed_family not in (report.family, "static_generic"):
        report.problems.append(f"configured family {report.family} but the page looks like {report.sniffed_family}")
    if report.challenges:
        report.problems.append("anti-bot challenge met; set http.challenge or use another vantage point")
    for url, found, expected, why in report.incomplete:
        report.problems.append(f"incomplete (found {found} of {expected} announced) at {url}: {why}")
    if report.visits and not report.kept:
        report.problems.append("no title was kept; check filters.title_include or the start URL")
    if report.judged and not any(is_report for _, is_report, _ in report.judged):
        report.problems.append(
            f"none of the {len(report.judged)} sampled report page(s) is a report (see NOT A REPORT above); "
            "a crawl would store none of them"
        )
