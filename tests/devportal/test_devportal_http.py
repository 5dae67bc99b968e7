"""The portal over real HTTP: every page, pagination, charsets, validators, revisions, the request log."""

from __future__ import annotations

import html
import re
import signal
import subprocess
import sys
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urljoin

import httpx
import pytest

from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.server import DevPortal

from .pages import LIST_ITEM, PAGER, sniff_text

# portals.md §1.3 title filters, typed from the spec: what a crawler keeps and what it drops.
INCLUDE = re.compile(r"政府信息公开.{0,4}(工作)?(年度)?报告|信息公开(工作)?年报|信息公开工作报告")
EXCLUDE = re.compile(r"年度报告格式|有关事项的通知|网站.*年度报表|政府工作报告")


def _crawl_listing(client: httpx.Client, portal: DevPortal) -> tuple[int, list[tuple[str, str, str]]]:
    """Follow the pager from page 1; returns the announced page count and every (url, title, date)."""
    first = client.get(portal.column_url)
    assert first.status_code == 200
    pager = PAGER.search(first.text)
    assert pager is not None
    pages = int(pager.group(1))
    items: list[tuple[str, str, str]] = []
    for page in range(pages):
        url = portal.column_url if page == 0 else urljoin(portal.column_url, f"index_{page}.html")
        response = client.get(url)
        assert response.status_code == 200, url
        match = PAGER.search(response.text)
        assert match is not None and (int(match.group(1)), int(match.group(2))) == (pages, page)
        found = LIST_ITEM.findall(response.text)
        assert 1 <= len(found) <= 4, f"page {page} lists {len(found)} items"
        items += [(urljoin(url, href), html.unescape(title), day) for href, title, day in found]
    return pages, items


def test_robots_allows_everything(client: httpx.Client) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "User-agent: *" in lines
    assert not any(line.startswith("Disallow:") and line.strip() != "Disallow:" for line in lines)


def test_home_page_links_the_column(client: httpx.Client, portal: DevPortal) -> None:
    home = client.get("/")
    assert home.status_code == 200
    hrefs = re.findall(r'href="([^"]+)"', home.text)
    assert portal.column_url in {urljoin(portal.base_url + "/", h) for h in hrefs}


def test_pager_count_matches_the_pages_served(client: httpx.Client, portal: DevPortal) -> None:
    pages, items = _crawl_listing(client, portal)
    # 9 reports + 3 other items at 4 per page: ceil(12 / 4) = 3 pages.
    assert pages == 3
    assert len(items) == 12
    assert client.get(urljoin(portal.column_url, f"index_{pages}.html")).status_code == 404
    assert client.get(urljoin(portal.column_url, "index_0.html")).status_code == 404
    assert client.get("/zfxxgknb/").text == client.get(portal.column_url).text


def test_listing_is_newest_first_with_trs_article_urls(client: httpx.Client, portal: DevPortal) -> None:
    _, items = _crawl_listing(client, portal)
    days = [day for _, _, day in items]
    assert days == sorted(days, reverse=True)
    for url, _, day in items:
        ym, ymd = day[:7].replace("-", ""), day.replace("-", "")
        assert re.search(rf"/zfxxgknb/{ym}/t{ymd}_\d+\.html$", url), url


def test_title_filters_keep_exactly_the_reports(client: httpx.Client, portal: DevPortal) -> None:
    _, items = _crawl_listing(client, portal)
    kept = {title for _, title, _ in items if INCLUDE.search(title) and not EXCLUDE.search(title)}
    dropped = {title for _, title, _ in items} - kept
    assert kept == {r.title for r in REPORTS}
    assert dropped == {
        "关于转发《中华人民共和国政府信息公开工作年度报告格式》的通知",
        "示例市人民政府门户网站2020年政府网站工作年度报表",
        "2022年示例市人民政府工作报告",
    }


def test_every_listed_article_and_attachment_is_served(client: httpx.Client, portal: DevPortal) -> None:
    _, items = _crawl_listing(client, portal)
    attachments = 0
    for url, title, day in items:
        response = client.get(url)
        assert response.status_code == 200, url
        text = sniff_text(response)
        assert f'<meta name="ArticleTitle" content="{html.escape(title)}">' in text
        assert re.search(rf'<meta name="PubDate" content="{day} \d\d:\d\d">', text)
        assert '<meta name="ContentSource" content="' in text
        assert '<div class="TRS_Editor">' in text
        for href in re.findall(r'href="(\./P0\d+\.(?:pdf|docx|doc))"', text):
            document = client.get(urljoin(url, href))
            assert document.status_code == 200
            magic = {"pdf": b"%PDF-", "docx": b"PK\x03\x04", "doc": b"\xd0\xcf\x11\xe0"}[href.rsplit(".", 1)[1]]
            assert document.content.startswith(magic), href
            attachments += 1
    # county-2019 and city-2019 link a PDF of the report; water-2020, town-2019 and ecology-2021 publish
    # their tables only in a PDF, a DOCX and a DOC.
    assert attachments == 5


def test_county_2019_attachment_has_the_trs_name(client: httpx.Client) -> None:
    page = client.get("/zfxxgknb/202003/t20200331_123456.html")
    assert 'href="./P020200331512345678901.pdf"' in page.text
    assert client.get("/zfxxgknb/202003/P020200331512345678901.pdf").status_code == 200


def test_report_pages_carry_the_metadata_block(client: httpx.Client) -> None:
    text = client.get("/zfxxgknb/202101/t20210127_187342.html").text
    for label in (
        "索 引 号：",
        "主题分类：",
        "发布机构：",
        "成文日期：",
        "发布日期：",
        "标　　题：",
        "发文字号：",
        "有 效 性：",
    ):
        assert f"<th>{label}</th>" in text
    assert "<td>11999900MB0000115P/2021-00004</td>" in text
    assert "<td>2021-01-26</td>" in text and "<td>2021-01-27</td>" in text


def test_gbk_page_is_declared_only_by_its_meta_tag(client: httpx.Client) -> None:
    response = client.get("/zfxxgknb/202303/t20230330_318265.html")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html"
    assert response.charset_encoding is None
    assert b'<meta charset="gbk">' in response.content[:1024]
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    text = response.content.decode("gb18030")
    assert "<title>2022年示例市示范区政府信息公开工作年度报告_" in text
    assert "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）" in text
    assert "2022年示例市示范区政府信息公开工作年度报告".encode("gbk") in response.content


def test_utf8_pages_say_so_in_the_header(client: httpx.Client) -> None:
    for path in ("/", "/zfxxgknb/index.html", "/zfxxgknb/202003/t20200331_123456.html"):
        response = client.get(path)
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        response.content.decode("utf-8")


def test_unknown_paths_are_404(client: httpx.Client) -> None:
    for path in ("/zfxxgknb/202003/t20200331_999999.html", "/zfxxgk/", "/zfxxgknb/index_99.html"):
        assert client.get(path).status_code == 404


def test_conditional_get_answers_304(client: httpx.Client) -> None:
    path = "/zfxxgknb/202201/t20220126_243071.html"
    first = client.get(path)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    # Published 2022-01-26 11:20 Beijing time = 03:20 GMT.
    assert modified == "Wed, 26 Jan 2022 03:20:00 GMT"

    by_etag = client.get(path, headers={"If-None-Match": etag})
    assert by_etag.status_code == 304 and by_etag.content == b""
    assert by_etag.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304

    assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200
    assert client.get(path, headers={"If-Modified-Since": "Tue, 25 Jan 2022 00:00:00 GMT"}).status_code == 200
    # If-None-Match decides when both are sent: a stale tag wins over a current date.
    both = client.get(path, headers={"If-None-Match": '"stale"', "If-Modified-Since": modified})
    assert both.status_code == 200


def test_head_sends_headers_without_a_body(client: httpx.Client) -> None:
    path = "/zfxxgknb/202003/t20200330_123418.html"
    head, get = client.head(path), client.get(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["etag"] == get.headers["etag"]


def test_request_log_records_method_path_and_headers(portal: DevPortal, client: httpx.Client) -> None:
    portal.clear_requests()
    client.get("/robots.txt?probe=1", headers={"User-Agent": "nianbao-test/1.0"})
    client.head("/zfxxgknb/index.html")
    log = portal.requests
    assert [(m, p) for m, p, _ in log] == [("GET", "/robots.txt?probe=1"), ("HEAD", "/zfxxgknb/index.html")]
    assert log[0].headers["User-Agent"] == "nianbao-test/1.0"


def test_revise_changes_one_article_only() -> None:
    with DevPortal() as portal, httpx.Client(base_url=portal.base_url) as client:
        path = "/zfxxgknb/202003/t20200331_123456.html"
        other = "/zfxxgknb/202101/t20210127_187342.html"
        before, other_before = client.get(path), client.get(other)

        assert portal.revise("county-2019") == 1
        after = client.get(path, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        assert after.headers["etag"] != before.headers["etag"]
        assert parsedate_to_datetime(after.headers["last-modified"]) > parsedate_to_datetime(
            before.headers["last-modified"]
        )
        assert "第1次更新" in after.text and "第1次更新" not in before.text
        assert client.get(path, headers={"If-None-Match": after.headers["etag"]}).status_code == 304
        unchanged = client.get(other, headers={"If-None-Match": other_before.headers["etag"]})
        assert unchanged.status_code == 304

        assert portal.revise("county-2019") == 2
        again = client.get(path)
        assert again.headers["etag"] != after.headers["etag"]
        assert parsedate_to_datetime(again.headers["last-modified"]) > parsedate_to_datetime(
            after.headers["last-modified"]
        )
        with pytest.raises(KeyError):
            portal.revise("no-such-report")


def test_stop_releases_the_port() -> None:
    portal = DevPortal()
    with pytest.raises(RuntimeError):
        _ = portal.base_url
    portal.start()
    url = portal.column_url
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/zfxxgknb/index\.html", url)
    assert httpx.get(url).status_code == 200
    portal.stop()
    portal.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)
    assert [(m, p) for m, p, _ in portal.requests] == [("GET", "/zfxxgknb/index.html")]  # outlives stop()


def test_last_modified_is_an_http_date(client: httpx.Client) -> None:
    modified = client.get("/zfxxgknb/201903/t20190328_98723.html").headers["last-modified"]
    parsed = parsedate_to_datetime(modified)
    # Published 2019-03-28 08:50 Beijing time = 00:50 GMT.
    assert format_datetime(parsed, usegmt=True) == modified == "Thu, 28 Mar 2019 00:50:00 GMT"


def test_cli_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nianbao.devportal", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert "--port" in done.stdout and "--host" in done.stdout


def test_cli_serves_until_interrupted() -> None:
    command = [sys.executable, "-m", "nianbao.devportal", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            match = re.search(r"(http://127\.0\.0\.1:\d+)/", first)
            assert match is not None, first
            assert httpx.get(match.group(1) + "/zfxxgknb/index.html").status_code == 200
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
