"""The completeness verdict of a discovery (``completeness.judge``), one test per branch, on hand-built logs:
every number below is read off the log the test builds, never off the code's output."""

from __future__ import annotations

from typing import Any

import pytest

from nianbao.crawler.completeness import judge
from nianbao.crawler.discovery.base import (
    Candidate,
    DiscoveryContext,
    DiscoveryLog,
    Link,
    ListingVisit,
    Shortfall,
)
from nianbao.crawler.fetching import Page
from nianbao.crawler.sites import SiteRegistry

COLUMN = "http://a.gov.cn/col/col1/index.html"
OTHER = "http://a.gov.cn/col/col2/index.html"


def _ok(url: str = COLUMN, links: int = 3) -> ListingVisit:
    return ListingVisit(url, "ok", 200, links=links, new_links=links)


def _kept(n: int) -> list[Candidate]:
    return [Candidate(f"http://a.gov.cn/art/{i}.html", f"http://a.gov.cn/art/{i}.html", "报告", 2023, None, COLUMN)
            for i in range(n)]  # fmt: skip


def _log(**fields: Any) -> DiscoveryLog:
    log = DiscoveryLog()
    for name, value in fields.items():
        setattr(log, name, value)
    return log


def _announce(log: DiscoveryLog, start_url: str, count: int, at_least: int | None = None) -> None:
    site = SiteRegistry.from_dict({"sites": [{"id": "s", "name": "s", "family": "trs", "start_urls": [COLUMN]}]})
    ctx = DiscoveryContext(site.sites[0], lambda url, kind: Page(url, kind, "ok"), lambda url: True, max_pages=5)
    ctx.log = log
    ctx.announce(start_url, count, "test", at_least=at_least)


# --- blocked --------------------------------------------------------------------------------------------


def test_nothing_fetched_is_blocked() -> None:
    verdict = judge(DiscoveryLog(), found=0, columns=1)
    assert verdict.kind == "blocked" and str(verdict) == "blocked (no listing page was fetched)"
    assert not verdict.ok


def test_challenge_is_blocked_naming_the_kind() -> None:
    log = _log(visits=[ListingVisit(COLUMN, "challenge", 412)], challenges=[(COLUMN, "ruishu")])
    assert str(judge(log, found=0, columns=1)) == f"blocked (anti-bot challenge ruishu at {COLUMN})"


def test_robots_is_blocked() -> None:
    log = _log(visits=[ListingVisit(COLUMN, "robots_denied", None)])
    assert str(judge(log, found=0, columns=1)) == f"blocked (robots.txt: robots_denied at {COLUMN})"


@pytest.mark.parametrize(("outcome", "status"), [("http_error", 404), ("server_error", 503), ("refused", None)])
def test_failed_first_page_is_blocked(outcome: str, status: int | None) -> None:
    log = _log(visits=[ListingVisit(COLUMN, outcome, status)])
    verdict = judge(log, found=0, columns=1)
    expected = f"{outcome} (HTTP {status})" if status else outcome
    assert (verdict.kind, verdict.reason) == ("blocked", f"{expected} at {COLUMN}")


# --- incomplete -----------------------------------------------------------------------------------------


def test_found_below_the_announced_total_is_incomplete() -> None:
    log = _log(visits=[_ok()], kept=_kept(3))
    _announce(log, COLUMN, 13)
    verdict = judge(log, found=3, columns=1)
    assert (verdict.kind, verdict.announced, verdict.found, verdict.kept) == ("incomplete", 13, 3, 3)
    assert str(verdict) == "incomplete (found 3 of 13 announced)"


def test_a_failed_proxy_page_after_the_first_is_incomplete_even_with_the_count_reached() -> None:
    proxy = "http://a.gov.cn/module/web/jpage/dataproxy.jsp?page=2"
    log = _log(visits=[_ok(), ListingVisit(proxy, "server_error", 500)])
    _announce(log, COLUMN, 3)
    verdict = judge(log, found=3, columns=1)
    assert verdict.kind == "incomplete"
    assert str(verdict) == f"incomplete (found 3 of 3 announced; server_error (HTTP 500) at {proxy})"


def test_a_failed_page_is_incomplete_without_any_announcement() -> None:
    log = _log(visits=[_ok(), ListingVisit(COLUMN + "?p=2", "network_error", None)])
    assert str(judge(log, found=3, columns=1)) == f"incomplete (network_error at {COLUMN}?p=2)"


def test_a_404_before_the_total_is_incomplete() -> None:
    log = _log(visits=[_ok(), ListingVisit(COLUMN + "?p=2", "http_error", 404)])
    _announce(log, COLUMN, 10)
    verdict = judge(log, found=3, columns=1)
    assert verdict.kind == "incomplete" and "http_error (HTTP 404)" in verdict.reason


def test_a_strategy_shortfall_not_capped_is_incomplete() -> None:
    short = Shortfall(COLUMN, 9, 13, "proxy page 4 brought 0 of 3 records")
    log = _log(visits=[_ok(), _ok(COLUMN + "?p=2")], incomplete=[short])
    _announce(log, COLUMN, 13)
    verdict = judge(log, found=9, columns=1)
    assert str(verdict) == f"incomplete (found 9 of 13 announced; proxy page 4 brought 0 of 3 records at {COLUMN})"
    assert verdict.shortfalls == (
        {"start_url": COLUMN, "found": 9, "expected": 13, "reason": "proxy page 4 brought 0 of 3 records",
         "capped": False},
    )  # fmt: skip


def test_a_full_crawl_stopped_by_the_page_cap_short_of_the_total_is_incomplete() -> None:
    log = _log(visits=[_ok(), _ok(COLUMN + "?p=2")], notes=["stopped at the page cap (2)"])
    _announce(log, COLUMN, 40)
    assert judge(log, found=6, columns=1).kind == "incomplete"


def test_a_sample_that_did_not_hit_its_cap_is_judged_on_its_count() -> None:
    log = _log(visits=[_ok()], notes=["stopped at http://x: no new article links"])
    _announce(log, COLUMN, 40)
    assert judge(log, found=3, columns=1, sampled=True).kind == "incomplete"


def test_many_failures_are_summarised() -> None:
    log = _log(visits=[_ok()] + [ListingVisit(f"{COLUMN}?p={n}", "server_error", 502) for n in range(2, 7)])
    verdict = judge(log, found=3, columns=1)
    assert verdict.kind == "incomplete" and verdict.reason.endswith("; 2 more failed listing page(s)")


# --- empty ----------------------------------------------------------------------------------------------


def test_listings_without_article_links_are_empty() -> None:
    log = _log(visits=[_ok(links=0), _ok(OTHER, links=0)])
    verdict = judge(log, found=0, columns=2)
    assert str(verdict) == "empty (2 listing page(s) read, no article link)" and not verdict.ok


def test_a_column_announcing_zero_and_holding_none_is_empty() -> None:
    log = _log(visits=[_ok(links=0)])
    _announce(log, COLUMN, 0)
    assert judge(log, found=0, columns=1).kind == "empty"


# --- complete -------------------------------------------------------------------------------------------


def test_found_reaching_every_announced_total_is_complete() -> None:
    log = _log(visits=[_ok(), _ok(OTHER)], kept=_kept(20))
    _announce(log, COLUMN, 13)
    _announce(log, OTHER, 8)
    verdict = judge(log, found=21, columns=2)
    assert (verdict.kind, verdict.announced, verdict.kept) == ("complete", 21, 20) and verdict.ok
    assert str(verdict) == "complete (found 21 of 21 announced)"


def test_a_page_count_announcement_is_complete_from_its_sure_minimum() -> None:
    log = _log(visits=[_ok()])
    _announce(log, COLUMN, 26 * 20, at_least=25 * 20 + 1)  # 26 pages of 20: 501 to 520 records
    assert judge(log, found=500, columns=1).kind == "incomplete"
    verdict = judge(log, found=509, columns=1)
    assert str(verdict) == "complete (found 509 of 501–520 announced)"
    assert (verdict.announced, verdict.announced_max) == (501, 520)


def test_probes_and_a_404_past_a_reached_total_are_not_failures() -> None:
    visits = [
        _ok(),
        ListingVisit(COLUMN.replace("index", "index_1"), "http_error", 404, note="probe page 2 = index_1"),
        _ok(COLUMN.replace("index", "index_2")),
        ListingVisit(COLUMN.replace("index", "index_3"), "http_error", 404),
    ]
    log = _log(visits=visits)
    _announce(log, COLUMN, 6)
    assert judge(log, found=6, columns=1).kind == "complete"


# --- unknown --------------------------------------------------------------------------------------------


def test_nothing_announced_and_nothing_failed_is_unknown() -> None:
    verdict = judge(_log(visits=[_ok()]), found=5, columns=1)
    assert str(verdict) == "unknown (no total announced; found 5)" and verdict.ok and verdict.announced is None


def test_a_total_for_only_some_columns_cannot_make_it_complete() -> None:
    log = _log(visits=[_ok(), _ok(OTHER)])
    _announce(log, COLUMN, 3)
    verdict = judge(log, found=9, columns=2)
    assert str(verdict) == "unknown (1 of 2 column(s) announce 3; found 9 in all)"
    # but found below even the part announced is incomplete whatever the rest holds
    assert judge(log, found=2, columns=2).kind == "incomplete"


@pytest.mark.parametrize(
    "capped_by",
    [{"notes": ["stopped at the page cap (2)"]}, {"incomplete": [Shortfall(COLUMN, 6, 40, "page cap", capped=True)]}],
)
def test_a_sample_stopped_by_its_page_cap_is_unknown_not_incomplete(capped_by: dict[str, Any]) -> None:
    log = _log(visits=[_ok(), _ok(COLUMN + "?p=2")], **capped_by)
    _announce(log, COLUMN, 40)
    verdict = judge(log, found=6, columns=1, sampled=True)
    assert str(verdict) == "unknown (sampled 2 listing page(s): found 6 of 40 announced, none failed)"
    assert verdict.ok


def test_verdict_offered_links_through_a_real_context() -> None:
    """found is DiscoveryContext.found: distinct article links, report-titled or not."""
    site = SiteRegistry.from_dict({"sites": [{"id": "s", "name": "s", "family": "trs", "start_urls": [COLUMN]}]})
    ctx = DiscoveryContext(site.sites[0], lambda url, kind: Page(url, kind, "ok"), lambda url: True, max_pages=5)
    ctx.log.visits.append(_ok())
    ctx.announce(COLUMN, 3, "test")
    art = "http://a.gov.cn/col/202401/t20240115_{}.html"
    links = [Link(art.format(1), "某局2023年政府信息公开工作年度报告"),
             Link(art.format(1) + "#top", "某局2023年政府信息公开工作年度报告"),  # the same page again
             Link(art.format(2), "关于开展某项工作的通知"),
             Link(art.format(3), "某局2022年政府信息公开工作年度报告"),
             Link("http://a.gov.cn/col/index_1.html", "下一页")]  # not an article link  # fmt: skip
    ctx.offer_all(links, COLUMN)
    verdict = judge(ctx.log, found=ctx.found, columns=1)
    assert (verdict.kind, verdict.found, verdict.kept) == ("complete", 3, 2)


def test_a_huge_shortfall_reason_is_bounded() -> None:
    long_url = COLUMN + "?q=" + "x" * 50_000
    log = _log(visits=[_ok()], incomplete=[Shortfall(long_url, 1, 2, "failed: " + "y" * 50_000)])
    [short] = judge(log, found=1, columns=1).shortfalls
    assert len(short["start_url"]) == 1000 and len(short["reason"]) == 1000
