"""The dry run (sites check) over a simulated portal, family sniffing, and the beat schedule."""

from __future__ import annotations

from datetime import datetime

import pytest

from nianbao.crawler.schedule import beat_schedule
from nianbao.crawler.sitecheck import check_site
from nianbao.crawler.sites import SiteRegistry
from nianbao.crawler.sniff import sniff_family
from nianbao.shared.contracts import CrawlRequested

from .conftest import Crawler, site_entry
from .portal import Article, Portal, Response, build_trs

ARTICLES = [Article("20240115", n, f"第{n}号单位2023年度政府信息公开工作年度报告") for n in range(5)]
NOISE = [("./202401/t20240101_9.html", "关于做好政府信息公开工作年度报告有关事项的通知")]


def _site(entry: dict[str, object]) -> object:
    return SiteRegistry.from_dict({"sites": [entry]}).sites[0]


def test_check_reports_samples_offset_titles_and_saves_nothing(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", ARTICLES, per_page=2, page2=2, extra_titles=NOISE)
    site = _site(site_entry(portal, "/zfxxgknb/index.html"))
    report = check_site(site, crawler.settings, limiter=crawler.limiter, robots=crawler.robots)  # type: ignore[arg-type]

    assert report.ok, report.render()
    assert report.sniffed_family == "trs"
    assert any("page 2 is index_2.html (probed)" in n for n in report.notes)
    assert len(report.samples) == 2 and ARTICLES[0].title in report.samples[0][1]
    assert len(report.kept) == 4  # pages 1 and 2 only
    assert report.rejected == [(NOISE[0][1], portal.url("/zfxxgknb/202401/t20240101_9.html"),
                                "excluded:有关事项的通知")]
    assert "fingerprint 4/4" in (report.sample_report or "")
    assert crawler.fetch_rows() == []  # dry run: no database rows
    text = report.render()
    assert text.endswith("; looks crawlable") and "charset utf-8 (http)" in text


def test_check_flags_challenges_and_wrong_family(portal: Portal, crawler: Crawler) -> None:
    portal.routes["/col/col12/index.html"] = Response(
        200, b"<html><script type='text/xml'><datastore><recordset></recordset></datastore></script></html>",
        {"Content-Type": "text/html"})
    portal.routes["/blocked/index.html"] = Response(412, b"<html><script>$_ts={}</script></html>",
                                                    {"Content-Type": "text/html"})
    report = check_site(_site(site_entry(portal, "/col/col12/index.html")), crawler.settings,  # type: ignore[arg-type]
                        limiter=crawler.limiter, robots=crawler.robots)
    assert "configured family trs but the page looks like hanweb_jpage" in report.render()
    blocked = check_site(_site(site_entry(portal, "/blocked/index.html")), crawler.settings,  # type: ignore[arg-type]
                         limiter=crawler.limiter, robots=crawler.robots)
    assert blocked.challenges == [(portal.url("/blocked/index.html"), "ruishu")]
    assert not blocked.ok and "challenge" in blocked.render()


@pytest.mark.parametrize(
    ("url", "text", "family"),
    [
        ("http://a.gov.cn/gkmlpt/index", "window._CONFIG = {SID: '1'}", "gkmlpt"),
        ("http://a.gov.cn/col/col1/index.html", "<datastore>", "hanweb_jpage"),
        ("http://a.gov.cn/nb/", 'createPageHTML(3, 0, "index", "html")', "trs"),
        ("http://a.gov.cn/c12/list.shtml", '<a href="/c12/202401/0123456789abcdef0123456789abcdef.shtml">',
         "ucap"),
        ("http://a.gov.cn/nb.htm", '<a href="/info/1050/64208.htm">', "vsb"),
        ("http://www.gov.cn/x/FEED.json", "[]", "govcn"),
        ("http://a.gov.cn/nb/", "<a href='/x/1.html'>", "static_generic"),
    ],
)
def test_sniff_family(url: str, text: str, family: str) -> None:
    assert sniff_family(url, text)[0] == family


def test_beat_schedule_is_denser_in_the_reporting_season() -> None:
    registry = SiteRegistry.from_dict({"sites": [
        {"id": f"s{n}", "name": "x", "family": "trs", "start_urls": ["https://a.gov.cn/"]} for n in range(20)
    ] + [{"id": "busy", "name": "x", "family": "trs", "start_urls": ["https://a.gov.cn/"],
          "schedule": {"peak_days_per_week": 3, "off_peak_days_per_month": 0}}]})
    schedule = beat_schedule(registry)
    assert len(schedule) == 41  # peak + off-peak for 20 sites, peak only for "busy"
    entry = schedule["crawl:s0:peak"]
    assert entry["task"] == CrawlRequested.TASK and entry["options"] == {"queue": "crawler"}
    CrawlRequested.model_validate(entry["args"][0])  # a valid message whenever it fires

    def runs(name: str, month: int) -> int:
        """Days of the first four weeks of ``month`` 2025 on which the entry fires (crontab sets:
        day_of_week counts Sunday as 0)."""
        cron = schedule[name]["schedule"]
        return sum(1 for day in range(1, 29)
                   if month in cron.month_of_year and day in cron.day_of_month
                   and datetime(2025, month, day).isoweekday() % 7 in cron.day_of_week)

    assert runs("crawl:s0:peak", 2) == 8 and runs("crawl:s0:peak", 6) == 0
    assert runs("crawl:s0:off-peak", 6) == 1 and runs("crawl:s0:off-peak", 2) == 0
    assert runs("crawl:busy:peak", 3) == 12
    hours = {schedule[f"crawl:s{n}:peak"]["schedule"].hour.pop() for n in range(20)}
    assert len(hours) > 1 and all(16 <= h <= 21 for h in hours)  # spread, and at night in China
