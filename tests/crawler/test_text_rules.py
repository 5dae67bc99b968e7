"""Pure rules: host allow-lists, canonical URLs, title filters and years, charset decisions, challenges."""

from __future__ import annotations

from datetime import date

import pytest

from nianbao.crawler.challenge import detect_challenge
from nianbao.crawler.decode import decode_page
from nianbao.crawler.families import TITLE_EXCLUDE, TITLE_INCLUDE
from nianbao.crawler.siteschema import Filters
from nianbao.crawler.titles import classify_title, publish_date, report_year
from nianbao.crawler.urls import canonical_url, dedupe_key, host_allowed

FILTERS = Filters(title_include=TITLE_INCLUDE, title_exclude=TITLE_EXCLUDE)


@pytest.mark.parametrize(
    ("host", "patterns", "allowed"),
    [
        ("www.mwr.gov.cn", ["*.gov.cn"], True),
        ("gov.cn", ["*.gov.cn"], True),
        ("haozhy.com", ["*.gov.cn"], False),  # spam mirror
        ("gov.cn.evil.com", ["*.gov.cn"], False),
        ("61.150.65.235", ["*.gov.cn"], False),  # IP literals need an exact entry
        ("61.150.65.235", ["*", "61.150.65.235"], True),
        ("127.0.0.1", ["*"], False),
        ("WWW.Example.GOV.CN.", ["*.gov.cn"], True),
    ],
)
def test_host_allowed(host: str, patterns: list[str], allowed: bool) -> None:
    assert host_allowed(host, patterns) is allowed


def test_canonical_url_and_dedupe_key() -> None:
    assert canonical_url("http://cqqj.gov.cn/a/202403/t20240327_13086081_wap.html") == \
        "http://cqqj.gov.cn/a/202403/t20240327_13086081.html"
    assert canonical_url("http://wap.yancheng.gov.cn/art/2023/1/13/art_1_2.html") == \
        "http://www.yancheng.gov.cn/art/2023/1/13/art_1_2.html"
    assert canonical_url("https://M.x.gov.cn:443/p.html?utm_source=a&id=3&from=tl#top") == \
        "https://www.x.gov.cn/p.html?id=3"
    assert canonical_url("http://127.0.0.1:8080/x_wap.shtml") == "http://127.0.0.1:8080/x.shtml"
    assert dedupe_key("http://a.gov.cn/nb/index.html") == dedupe_key("https://a.gov.cn/nb/")
    assert dedupe_key("http://a.gov.cn/nb/1.html") != dedupe_key("http://a.gov.cn/nb/2.html")


@pytest.mark.parametrize(
    ("title", "keep", "year"),
    [
        ("湖州市水利局2022年度政府信息公开工作报告", True, 2022),
        ("2023年度沅江路街道信息公开工作报告", True, 2023),
        ("某市2023年政府信息公开工作年度报告", True, 2023),
        ("某局政府信息公开工作年报（2021年）", True, 2021),
        ("关于做好政府信息公开工作年度报告有关事项的通知", False, None),
        ("中华人民共和国政府信息公开工作年度报告格式", False, None),
        ("某市人民政府网站2023年工作年度报表", False, 2023),
        ("2024年政府工作报告", False, 2024),
        ("某局2023年部门决算", False, 2023),
        ("2023年国民经济和社会发展统计公报", False, 2023),
        ("某局关于开展春季植树活动的通知", False, None),
    ],
)
def test_title_classification(title: str, keep: bool, year: int | None) -> None:
    decision = classify_title(title, FILTERS)
    assert decision.keep is keep, decision.reason
    assert decision.year == year


def test_exclusion_reason_names_the_pattern() -> None:
    assert classify_title("2024年政府工作报告", FILTERS).reason == "excluded:政府工作报告"
    assert classify_title("植树", FILTERS).reason == "no_include_match"
    old = Filters(title_include=TITLE_INCLUDE, year_range=(2015, None))
    assert classify_title("2009年政府信息公开工作年度报告", old).reason == "year_out_of_range:2009"


def test_year_without_title_year_uses_publish_date() -> None:
    assert report_year("政府信息公开工作年度报告", date(2024, 3, 27)) == 2023
    assert report_year("政府信息公开工作年度报告", date(2024, 9, 1)) is None
    assert publish_date(None, "http://a.gov.cn/nb/202401/t20240115_1.html") == date(2024, 1, 15)
    assert publish_date("2024-01-26", None) == date(2024, 1, 26)
    assert publish_date("2024年3月5日") == date(2024, 3, 5)


def test_decode_meta_gbk_bom_and_mismatch() -> None:
    text = "政府信息公开工作年度报告"
    gbk = f'<html><head><meta charset="gb2312"></head><body>{text}</body></html>'.encode("gbk")
    decoded = decode_page(gbk, http_charset=None)
    assert (decoded.charset, decoded.source) == ("gb18030", "meta") and text in decoded.text
    # header says utf-8, bytes are GBK: the meta declaration wins once utf-8 produces garbage
    assert decode_page(gbk, http_charset="utf-8").source == "meta"
    undeclared = f"<html><body>{text}</body></html>".encode("gbk")
    assert decode_page(undeclared, http_charset=None).charset == "gb18030"
    assert decode_page(b"\xef\xbb\xbf" + text.encode(), http_charset="gbk").source == "bom"
    assert decode_page(text.encode(), http_charset=None).charset == "utf-8"
    assert decode_page(gbk, http_charset=None, override="gbk").source == "override"


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind"),
    [
        (521, b"<script>document.cookie='__jsl_clearance=1'</script>", {}, "jiasule"),
        (412, b"<html><script>$_ts=window</script></html>", {}, "ruishu"),
        (200, b"<html><script>var WTKkN=1;</script></html>", {}, "edgeone"),
        (200, b"<html><head><script>document.cookie='C3VK=ab; max-age=300';location.reload()</script>",
         {}, "js_cookie"),
        (521, b"<html>origin is down</html>", {}, None),  # Cloudflare's 521 is not a challenge
        (200, b"<html><body><p>document.cookie in an article</p>" + b"x" * 5000 + b"</body></html>", {}, None),
    ],
)
def test_challenge_detection(status: int, body: bytes, headers: dict[str, str], kind: str | None) -> None:
    assert detect_challenge(status, body, headers) == kind
