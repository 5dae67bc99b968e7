"""Columns of 500+ reports over 25+ pages, one per family and paging shape, over real HTTP: discovery announces
the total the column states (computed here from how the column was built), finds every report, and a real
crawl (embedded, SQLite) stores them all. Broken columns: a listing page in the middle answering 500, a pager
whose last page is missing, an API stating more than it returns, and a run stopped by the page cap — each is
a recorded shortfall, never a silent "done"."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from nianbao.crawler.client import build_client
from nianbao.crawler.discovery import DiscoveryContext, discover
from nianbao.crawler.fetching import SiteFetcher
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.sitecheck import check_site
from nianbao.crawler.sites import SiteRegistry
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.models import CrawlRun
from nianbao.shared.rawstore import RawStore

from . import columns
from .columns import Column
from .conftest import Crawler, site_entry
from .portal import Portal

N = 517  # reports in a long column
PER = 20  # links per listing page, as on real portals
PAGES = -(-N // PER)  # 26 listing pages
UPPER, AT_LEAST = PAGES * PER, (PAGES - 1) * PER + 1  # what a page count x page size promises

Build = Callable[..., Column]
# family shape -> (builder, exact: the column states its record count; else only its page count)
SHAPES: dict[str, tuple[Build, bool]] = {
    "trs": (columns.trs, False),
    "trs-records": (lambda portal, n, **kw: columns.trs(portal, n, state_records=True, **kw), True),
    "hanweb": (columns.hanweb, True),
    "gkmlpt": (columns.gkmlpt, True),
    "ucap": (columns.ucap, True),
    "govcn-feed": (lambda portal, n, **kw: columns.govcn_feed(portal, n, **kw), True),
    "govcn-pager": (columns.govcn_pager, False),
    "vsb": (columns.vsb, True),
    "vsb-pages": (lambda portal, n, **kw: columns.vsb(portal, n, state_records=False, **kw), False),
}


# Shapes crawled for real (one per family, 25+ pages each); the other shapes of a family are checked
# through discovery, which is where they differ.
CRAWLED = {"trs", "hanweb", "gkmlpt", "ucap", "govcn-pager", "vsb"}


@pytest.fixture
def settings(settings: CrawlerSettings) -> Iterator[CrawlerSettings]:
    """The crawler settings of conftest, with the database and raw store in memory-backed /dev/shm when the
    machine has it: a crawl commits once per report, and 500 fsyncs per test are slow on a shared disk."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        yield settings
        return
    where = Path(tempfile.mkdtemp(prefix="nianbao-large-", dir=shm))
    url = f"sqlite:///{where / 'crawler.db'}"
    upgrade(url)
    try:
        yield settings.model_copy(update={"data_dir": where, "database_url": url})
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _entry(portal: Portal, column: Column, **politeness: Any) -> dict[str, Any]:
    return site_entry(
        portal,
        column.start,
        family=column.family,
        politeness={"min_delay_s": 0.0, "jitter_s": 0.0, **politeness},
        **column.overrides,
    )


def _discover(crawler: Crawler, entry: dict[str, Any], tmp_path: Path, *, max_pages: int = 500) -> DiscoveryContext:
    """Discovery alone, as a crawl runs it (the site fetcher, robots and limits), without report fetches."""
    site = SiteRegistry.from_dict({"sites": [entry]}).sites[0]
    with build_client(site, crawler.settings) as client:
        fetcher = SiteFetcher(site=site, settings=crawler.settings, client=client, store=RawStore(tmp_path / "raw"),
                              state=None, limiter=crawler.limiter, robots=crawler.robots)  # fmt: skip
        ctx = DiscoveryContext(
            site, lambda url, kind: fetcher.get(url, kind=kind), fetcher.host_ok, max_pages=max_pages
        )
        discover(ctx)
    return ctx


def _expected_announcement(exact: bool, n: int = N) -> tuple[int, int | None]:
    return (n, None) if exact else (UPPER, AT_LEAST)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_long_column_is_announced_found_and_stored_completely(
    portal: Portal, crawler: Crawler, tmp_path: Path, shape: str
) -> None:
    build, exact = SHAPES[shape]
    column = build(portal, N)
    entry = _entry(portal, column)

    ctx = _discover(crawler, entry, tmp_path)
    [announcement] = ctx.log.announced
    assert (announcement.count, announcement.at_least) == _expected_announcement(exact), ctx.log.notes
    assert announcement.minimum <= N <= announcement.count
    assert ctx.found == N and len(ctx.log.kept) == N, ctx.log.notes
    assert {c.url for c in ctx.log.kept} == {portal.url(p) for p in column.reports}
    assert ctx.log.incomplete == [], ctx.log.notes
    read = [v for v in ctx.log.visits if v.outcome == "ok"]
    if shape != "govcn-feed":
        assert len(column.listing) >= 25
        assert len(read) >= PAGES  # every listing/API page of the column was read
    if shape not in CRAWLED:
        return

    summary, published = crawler.run(entry)
    assert summary.reports_found == N and summary.errors == 0 and summary.incomplete == []
    assert len(published) == N and {m.url for m in published} == {portal.url(p) for p in column.reports}
    stored = [r for r in crawler.fetch_rows() if r.kind == "page" and r.outcome == "ok" and r.raw_key]
    assert len(stored) == N
    # the crawl's own record of it: the crawl_run row and the summary's verdict
    with session_scope(crawler.settings.resolved_database_url()) as session:
        [run] = session.exec(select(CrawlRun)).all()
    assert run.announced == announcement.minimum and run.verdict == "complete", (run.verdict, run.shortfalls)
    assert (run.found, run.kept, run.fetched, run.handed_on, run.shortfalls) == (N, N, N, N, [])
    assert summary.verdict.startswith("complete") and summary.announced == announcement.minimum
    for path in column.reports[:: PER + 1]:  # a sample across every page: each report fetched exactly once
        assert portal.count(path) == 1


# --- broken columns (discovery only: no report pages needed) ---------------------------------------------

# after a failing page: template and API walks know the page count and step over it; a next-link walk
# (VSB) and the Hanweb proxy walk cannot or do not, and stop there
STEPS_OVER = {"trs": True, "hanweb": False, "gkmlpt": True, "ucap": True, "govcn-pager": True, "vsb": False}
FAIL = 13  # a listing page in the middle


@pytest.mark.parametrize("shape", list(STEPS_OVER))
def test_a_failing_page_in_the_middle_is_a_recorded_shortfall(
    portal: Portal, crawler: Crawler, tmp_path: Path, shape: str
) -> None:
    build, exact = SHAPES[shape]
    column = build(portal, N, fail=FAIL, articles=False)
    ctx = _discover(crawler, _entry(portal, column), tmp_path)

    expected_found = N - PER if STEPS_OVER[shape] else (FAIL - 1) * PER
    [announcement] = ctx.log.announced
    assert (announcement.count, announcement.at_least) == _expected_announcement(exact)
    assert ctx.found == expected_found, ctx.log.notes
    [short] = ctx.log.incomplete
    assert (short.found, short.expected, short.capped) == (expected_found, announcement.minimum, False)
    assert "500" in short.reason or "failed" in short.reason, short.reason
    assert any(v.status == 500 for v in ctx.log.visits)


def test_a_failing_second_trs_page_is_stepped_over_not_taken_for_the_numbering(
    portal: Portal, crawler: Crawler, tmp_path: Path
) -> None:
    """index_1 answering 500 is page 2 failing (a TRS column without page 2 at index_1 answers 404 there)."""
    column = columns.trs(portal, N, fail=2, articles=False)
    ctx = _discover(crawler, _entry(portal, column), tmp_path)
    assert ctx.found == N - PER
    [short] = ctx.log.incomplete
    assert (short.found, short.expected) == (N - PER, AT_LEAST) and "HTTP 500" in short.reason
    asked = [p for p in portal.paths() if p.startswith("/zfxxgknb/index")]
    assert asked == column.listing  # index.html, index_1.html (500), index_2.html … index_25.html, once each


@pytest.mark.parametrize("shape", ["trs", "govcn-pager", "vsb", "vsb-pages"])
def test_a_pager_whose_last_page_is_missing(portal: Portal, crawler: Crawler, tmp_path: Path, shape: str) -> None:
    build, exact = SHAPES[shape]
    column = build(portal, N, drop_last=True, articles=False)
    ctx = _discover(crawler, _entry(portal, column), tmp_path)

    found = (PAGES - 1) * PER  # every page but the last, which held N - found reports
    [announcement] = ctx.log.announced
    assert (announcement.count, announcement.at_least) == _expected_announcement(exact)
    assert ctx.found == found
    [short] = ctx.log.incomplete
    assert (short.found, short.expected) == (found, announcement.minimum)
    assert any(v.status == 404 and v.url == portal.url(column.listing[-1]) for v in ctx.log.visits)


@pytest.mark.parametrize("shape", ["gkmlpt", "ucap"])
def test_an_api_stating_more_than_it_returns(portal: Portal, crawler: Crawler, tmp_path: Path, shape: str) -> None:
    claim = N + 40
    build, _ = SHAPES[shape]
    column = build(portal, N, claim=claim, articles=False)
    ctx = _discover(crawler, _entry(portal, column), tmp_path)

    [announcement] = ctx.log.announced
    assert (announcement.count, announcement.at_least) == (claim, None)
    assert ctx.found == N
    [short] = ctx.log.incomplete
    assert (short.found, short.expected, short.capped) == (N, claim, False)
    assert f"API page {PAGES + 1} is empty" in short.reason


@pytest.mark.parametrize("shape", [s for s in SHAPES if s != "govcn-feed"])
def test_a_run_stopped_by_the_page_cap_is_reported_capped(
    portal: Portal, crawler: Crawler, tmp_path: Path, shape: str
) -> None:
    build, _ = SHAPES[shape]
    column = build(portal, N, articles=False)
    ctx = _discover(crawler, _entry(portal, column), tmp_path, max_pages=10)

    [short] = ctx.log.incomplete
    assert short.capped and short.found == ctx.found < short.expected
    assert ctx.found <= 11 * PER  # ten pages (and a Hanweb column page) at most
    assert "page cap (10)" in short.reason
    assert sum(1 for v in ctx.log.visits if v.outcome == "ok") <= 12


def test_a_capped_crawl_says_so_in_its_summary(portal: Portal, crawler: Crawler) -> None:
    column = columns.trs(portal, 5 * PER)
    summary, published = crawler.run(_entry(portal, column, max_pages_per_run=3))
    assert summary.reports_found == 3 * PER and len(published) == 3 * PER
    [line] = summary.incomplete
    assert line.startswith(portal.url(column.start)) and "page cap (3)" in line
    assert f"found {3 * PER} of {4 * PER + 1}" in line  # 5 pages x 20 announced: at least 81
    assert summary.verdict.startswith("incomplete")
    with session_scope(crawler.settings.resolved_database_url()) as session:
        [run] = session.exec(select(CrawlRun)).all()
    assert run.verdict == "incomplete" and [s["capped"] for s in run.shortfalls] == [True]


def test_the_default_page_cap_does_not_cut_a_long_column(crawler: Crawler) -> None:
    site = SiteRegistry.from_dict({"sites": [{"id": "x", "name": "x", "family": "trs",
                                              "start_urls": ["http://a.gov.cn/"]}]}).sites[0]  # fmt: skip
    cap = site.politeness.max_pages_per_run or crawler.settings.max_pages_per_run
    assert cap >= 500  # a 10 000-report column of 20 per page fits
    assert crawler.settings.max_requests_per_run >= PAGES + N + 1  # the long columns above fit one run


# --- nianbao sites check on the same columns ---------------------------------------------------------------


@pytest.mark.parametrize("shape", list(STEPS_OVER))
def test_sites_check_full_calls_a_broken_column_incomplete_and_an_intact_one_complete(
    portal: Portal, crawler: Crawler, shape: str
) -> None:
    build, exact = SHAPES[shape]
    intact = build(portal, N, articles=False)
    site = SiteRegistry.from_dict({"sites": [_entry(portal, intact)]}).sites[0]
    report = check_site(site, crawler.settings, limiter=crawler.limiter, robots=crawler.robots, full=True)
    assert report.verdict is not None and report.verdict.kind == "complete", report.render()
    assert report.verdict.found == N and report.verdict.announced == (N if exact else AT_LEAST)

    portal.routes.clear()
    broken = build(portal, N, fail=FAIL, articles=False)
    site = SiteRegistry.from_dict({"sites": [_entry(portal, broken)]}).sites[0]
    report = check_site(site, crawler.settings, limiter=crawler.limiter, robots=crawler.robots, full=True)
    found = N - PER if STEPS_OVER[shape] else (FAIL - 1) * PER
    assert report.verdict is not None and report.verdict.kind == "incomplete", report.render()
    assert report.verdict.found == found
    assert any(p.startswith(f"incomplete (found {found} of ") for p in report.problems), report.problems


@pytest.mark.parametrize("shape", ["trs", "govcn-pager", "vsb-pages"])
def test_a_sidebar_repeated_on_every_page_does_not_inflate_the_page_size(
    portal: Portal, crawler: Crawler, tmp_path: Path, shape: str
) -> None:
    """Five article-shaped links in a sidebar on every page are new on page 1 only: the page size of a
    page-count announcement is taken from page 2 (20), not page 1 (25), so the column is not called short."""
    build, _ = SHAPES[shape]
    column = build(portal, N, articles=False)
    sidebar = {
        "trs": [f"./2023{m:02d}/t2023{m:02d}01_{900 + m}.html" for m in range(1, 6)],
        "govcn-pager": [f"/zhengce/content/202301/content_{990 + m}.htm" for m in range(5)],
        "vsb-pages": [f"/info/2000/{990 + m}.htm" for m in range(5)],
    }[shape]
    links = "".join(f'<a href="{href}">要闻{k}</a>' for k, href in enumerate(sidebar))
    for path in column.listing:
        route = portal.routes[path]
        route.body = route.body.replace(b"</body>", f"<div class='side'>{links}</div></body>".encode())  # type: ignore[union-attr]
    ctx = _discover(crawler, _entry(portal, column), tmp_path)
    [announcement] = ctx.log.announced
    assert (announcement.count, announcement.at_least) == (UPPER, AT_LEAST)
    assert ctx.found == N + len(sidebar) and len(ctx.log.kept) == N
    assert ctx.log.incomplete == []
