"""Safety over real HTTP: address policy after DNS, host allow-list on redirects, size/time/type caps."""

from __future__ import annotations

import gzip
import ipaddress

import pytest

from nianbao.crawler import netguard
from nianbao.crawler.netguard import AddressPolicy, AddressRefused, checked_addresses, classify
from nianbao.shared.errors import PermanentError

from .conftest import Crawler, site_entry
from .portal import Article, Portal, Response, build_trs


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", "public"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("100.64.0.1", "private"),  # carrier-grade NAT
        ("169.254.169.254", "link_local"),  # cloud metadata
        ("fe80::1", "link_local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "reserved"),
    ],
)
def test_address_classification(address: str, kind: str) -> None:
    assert classify(ipaddress.ip_address(address)) == kind


def test_any_private_record_refuses_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [ipaddress.ip_address("61.150.65.235"), ipaddress.ip_address("10.0.0.7")]
    monkeypatch.setattr(netguard, "resolve", lambda host, port: records)
    with pytest.raises(AddressRefused, match=r"private address 10\.0\.0\.7"):
        checked_addresses("rebind.gov.cn", 80, AddressPolicy())
    assert checked_addresses("rebind.gov.cn", 80, AddressPolicy(allow_private=True)) == records
    with pytest.raises(AddressRefused):  # loopback permission does not open private ranges
        checked_addresses("rebind.gov.cn", 80, AddressPolicy(allow_loopback=True))


def test_loopback_site_without_permission_is_never_contacted(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", [Article("20240115", 1, "2023年度政府信息公开工作年度报告")])
    entry = site_entry(portal, "/zfxxgknb/index.html", allow_private_addresses=False)
    entry["start_urls"] = [u.replace("127.0.0.1", "localhost") for u in entry["start_urls"]]
    entry["allowed_hosts"] = ["localhost"]
    with pytest.raises(PermanentError, match="refused"):
        crawler.run(entry)
    assert portal.requests == []
    listing = [r for r in crawler.fetch_rows() if r.kind == "listing"]
    assert listing[0].outcome == "refused" and "loopback" in (listing[0].error or "")


def test_global_allow_loopback_setting_opens_loopback_only(portal: Portal, crawler: Crawler) -> None:
    build_trs(portal, "/zfxxgknb/", [Article("20240115", 1, "2023年度政府信息公开工作年度报告")])
    crawler.settings.allow_loopback = True
    summary, _ = crawler.run(site_entry(portal, "/zfxxgknb/index.html", allow_private_addresses=False))
    assert summary.fetched == 1


def test_offsite_redirect_and_redirect_loops_are_refused(portal: Portal, crawler: Crawler) -> None:
    good = Article("20240115", 1, "2023年度政府信息公开工作年度报告")
    away = Article("20240116", 2, "某区2023年度政府信息公开工作年度报告")
    loop = Article("20240117", 3, "某县2023年度政府信息公开工作年度报告")
    build_trs(portal, "/zfxxgknb/", [good, away, loop], per_page=3)
    portal.routes["/zfxxgknb/" + away.trs_path] = Response(302, headers={"Location": "http://mirror.example.com/x"})
    portal.routes["/zfxxgknb/" + loop.trs_path] = Response(302, headers={"Location": "/loop/a"})
    portal.routes["/loop/a"] = Response(302, headers={"Location": "/loop/b"})
    portal.routes["/loop/b"] = Response(302, headers={"Location": "/loop/a"})
    summary, published = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert summary.errors == 2 and [m.url.endswith(good.trs_path) for m in published] == [True]
    errors = {r.url.rsplit("/", 1)[1]: r.error or "" for r in crawler.fetch_rows() if r.outcome == "refused"}
    assert "offsite_redirect" in errors["t20240116_2.html"]
    assert "too_many_redirects" in errors["t20240117_3.html"]
    assert portal.count("/loop/a") + portal.count("/loop/b") == crawler.settings.max_redirects


def test_redirect_to_another_allowed_page_is_followed(portal: Portal, crawler: Crawler) -> None:
    article = Article("20240115", 1, "2023年度政府信息公开工作年度报告")
    build_trs(portal, "/zfxxgknb/", [article])
    build_trs(portal, "/moved/", [article])
    portal.routes["/zfxxgknb/" + article.trs_path] = Response(301, headers={"Location": "/moved/" + article.trs_path})
    _, published = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert published[0].final_url == portal.url("/moved/" + article.trs_path)


def test_decompressed_size_cap_type_filter_and_timeout(portal: Portal, crawler: Crawler) -> None:
    bomb, png, slow = (Article("20240115", n, f"第{n}号2023年度政府信息公开工作年度报告") for n in (1, 2, 3))
    build_trs(portal, "/zfxxgknb/", [bomb, png, slow], per_page=3)
    zeros = b"<html>" + b"0" * 3_000_000 + b"</html>"
    portal.routes["/zfxxgknb/" + bomb.trs_path] = Response(200, zeros, {"Content-Type": "text/html"}, gzip=True)
    assert len(gzip.compress(zeros)) < 100_000  # small on the wire
    portal.routes["/zfxxgknb/" + png.trs_path] = Response(200, b"\x89PNG", {"Content-Type": "image/png"})
    portal.routes["/zfxxgknb/" + slow.trs_path] = Response(200, b"<html></html>", {"Content-Type": "text/html"},
                                                           delay_s=1.5)
    crawler.settings.max_body_bytes = 1_000_000
    crawler.settings.read_timeout_s = 0.5
    summary, published = crawler.run(site_entry(portal, "/zfxxgknb/index.html"))
    assert summary.errors == 3 and published == []
    rows = {r.url.rsplit("_", 1)[1]: r for r in crawler.fetch_rows() if r.kind == "page"}
    assert rows["1.html"].outcome == "refused" and "too_large" in (rows["1.html"].error or "")
    assert rows["2.html"].outcome == "refused" and "unwanted_type" in (rows["2.html"].error or "")
    assert rows["3.html"].outcome == "network_error" and "Timeout" in (rows["3.html"].error or "")
    assert crawler.store.exists(rows["1.html"].raw_key or "0" * 64) is False
