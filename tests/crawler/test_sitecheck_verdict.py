"""`nianbao sites check SITE` as an operator runs it (a real subprocess against a loopback portal): the
completeness verdict line and the exit code it gives (0 complete/unknown, 1 incomplete/empty/blocked).
Expected numbers come from the portal each test builds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import site_entry
from .portal import Article, Portal, add_article, build_trs, hanweb_jpage_column

NIANBAO = str(Path(sys.executable).parent / "nianbao")
TITLE = "某单位{}年度政府信息公开工作年度报告"
PROXY = "/zwgk/module/web/jpage/dataproxy.jsp"  # not at the host root, as in the issue's column


def _check(tmp_path: Path, entry: dict[str, Any], *args: str) -> tuple[int, list[str]]:
    sites = tmp_path / "sites.yaml"
    sites.write_text(yaml.safe_dump({"version": 1, "sites": [entry]}, allow_unicode=True), encoding="utf-8")
    env = {
        **os.environ,
        "NIANBAO_LIMITER": "local",
        "NIANBAO_DATA_DIR": str(tmp_path / "data"),
        "NIANBAO_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
        "NIANBAO_SITES_FILE": str(sites),
    }
    result = subprocess.run([NIANBAO, "sites", "check", entry["id"], *args], capture_output=True, text=True,
                            timeout=120, env=env, check=False)  # fmt: skip
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.returncode, result.stdout.splitlines()


def _hanweb(portal: Portal, total: int, **options: Any) -> dict[str, Any]:
    items = [(f"/art/2024/1/15/art_4411_{n}.html", TITLE.format(1000 + n)) for n in range(total)]
    for n, (path, title) in enumerate(items):
        add_article(portal, path, Article("20240115", n, title))
    portal.add("/robots.txt", "", content_type="text/plain")
    start = hanweb_jpage_column(portal, 4411, items, embedded=3, perpage=3, proxy_path=PROXY, **options)
    return site_entry(portal, start, family="hanweb_jpage")


def test_the_issue_column_a_404_on_the_proxy_is_incomplete(portal: Portal, tmp_path: Path) -> None:
    """The column of issue 11: 3 records in the page, total 13, the proxy's first page answers 404."""
    entry = _hanweb(portal, 13, fail={2: 404})
    code, lines = _check(tmp_path, entry)
    assert code == 1
    assert lines[-1].startswith("verdict: incomplete (found 3 of 13 announced; ")
    assert "HTTP 404" in lines[-1] and lines[-1].endswith("; needs attention")
    assert "discovery: announced 13, found 3, kept 3" in lines
    assert not any("looks crawlable" in line for line in lines)


def test_a_full_check_of_a_whole_column_is_complete(portal: Portal, tmp_path: Path) -> None:
    entry = _hanweb(portal, 13)
    code, lines = _check(tmp_path, entry, "--full")
    assert (code, lines[-1]) == (0, "verdict: complete (found 13 of 13 announced); looks crawlable")


def test_a_sample_of_a_long_column_is_unknown_not_complete(portal: Portal, tmp_path: Path) -> None:
    entry = _hanweb(portal, 13)
    code, lines = _check(tmp_path, entry)
    # the column page (3 records) and the sample's 2 proxy pages of 3 (records 4-9): 3 pages, 9 found
    assert (code, lines[-1]) == (
        0, "verdict: unknown (sampled 3 listing page(s): found 9 of 13 announced, none failed); looks crawlable",
    )  # fmt: skip


def test_a_listing_page_failing_after_the_first_is_incomplete(portal: Portal, tmp_path: Path) -> None:
    articles = [Article("20240115", n, TITLE.format(2015 + n)) for n in range(6)]
    build_trs(portal, "/nb/", articles, per_page=2, page2=1)  # index.html, index_1.html, index_2.html
    portal.add("/nb/index_2.html", "<html><body>busy</body></html>", status=500)
    code, lines = _check(tmp_path, site_entry(portal, "/nb/index.html"), "--full")
    assert code == 1 and lines[-1].startswith("verdict: incomplete (")
    assert f"server_error (HTTP 500) at {portal.url('/nb/index_2.html')}" in lines[-1]


def test_a_start_url_that_cannot_be_read_is_blocked(portal: Portal, tmp_path: Path) -> None:
    portal.add("/robots.txt", "", content_type="text/plain")
    code, lines = _check(tmp_path, site_entry(portal, "/moved/index.html"))
    url = portal.url("/moved/index.html")
    assert (code, lines[-1]) == (1, f"verdict: blocked (http_error (HTTP 404) at {url}); needs attention")


def test_robots_disallow_is_blocked(portal: Portal, tmp_path: Path) -> None:
    portal.add("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    portal.add("/nb/index.html", "<html><body></body></html>")
    code, lines = _check(tmp_path, site_entry(portal, "/nb/index.html"))
    url = portal.url("/nb/index.html")
    assert (code, lines[-1]) == (1, f"verdict: blocked (robots.txt: robots_denied at {url}); needs attention")


def test_a_listing_without_article_links_is_empty(portal: Portal, tmp_path: Path) -> None:
    portal.add("/robots.txt", "", content_type="text/plain")
    portal.add("/nb/index.html", "<html><body><p>栏目建设中</p></body></html>")
    code, lines = _check(tmp_path, site_entry(portal, "/nb/index.html", family="static_generic"))
    assert (code, lines[-1]) == (1, "verdict: empty (1 listing page(s) read, no article link); needs attention")


def test_a_listing_without_a_total_is_unknown_said_plainly(portal: Portal, tmp_path: Path) -> None:
    portal.add("/robots.txt", "", content_type="text/plain")
    items = "".join(f'<li><a href="/art/{n}.html">{TITLE.format(2019 + n)}</a></li>' for n in range(4))
    portal.add("/nb/index.html", f"<html><body><ul>{items}</ul></body></html>")
    for n in range(4):
        add_article(portal, f"/art/{n}.html", Article("20240115", n, TITLE.format(2019 + n)))
    code, lines = _check(tmp_path, site_entry(portal, "/nb/index.html", family="static_generic"))
    assert (code, lines[-1]) == (0, "verdict: unknown (no total announced; found 4); looks crawlable")


@pytest.mark.parametrize("total", [99_999_999_999, 0])
def test_an_absurd_announced_total_is_reported_not_walked(portal: Portal, tmp_path: Path, total: int) -> None:
    """A column claiming 99,999,999,999 records (or none while listing 3) is judged on what was read."""
    entry = _hanweb(portal, 3, script=f"new jpage({{totalRecord:{total}, perpage:3}})")
    code, lines = _check(tmp_path, entry)
    assert len(portal.paths()) < 20  # the sample's cap holds: no walk towards the absurd total
    if total:
        assert code == 0 and lines[-1].startswith("verdict: unknown (sampled ")  # cap reached, none failed
        assert f"found 3 of {total} announced" in lines[-1]
    else:
        assert code == 0 and lines[-1].startswith("verdict: complete (found 3 of 0 announced)")


def test_sampled_pages_are_judged_report_or_not_with_their_evidence(portal: Portal, tmp_path: Path) -> None:
    """`sites check` fetches the first kept pages and shows the crawl's decision on each: the report (it
    has the statistics table) and the 解读 beside it (an interpretation: never stored as a report)."""
    report = Article("20240115", 1, TITLE.format(2023))
    decoy = Article(
        "20240116",
        2,
        "某单位2023年政府信息公开工作年度报告（解读）",
        body="<p>一、总体情况</p><p>全年主动公开信息1200条。</p>",
    )
    build_trs(portal, "/nb/", [report, decoy], per_page=2)
    code, lines = _check(tmp_path, site_entry(portal, "/nb/index.html"))
    judged = {
        line.split(": ", 1)[1].split(" (")[0]: line
        for line in lines
        if line.startswith(("  report: ", "  NOT A REPORT: "))
    }
    assert judged[portal.url("/nb/" + report.trs_path)].startswith("  report: ")
    assert "statistics table" in judged[portal.url("/nb/" + report.trs_path)]
    decoy_line = judged[portal.url("/nb/" + decoy.trs_path)]
    assert decoy_line.startswith("  NOT A REPORT: ") and "解读" in decoy_line
    assert code == 0 and lines[-1].endswith("looks crawlable")


def test_a_column_of_interpretations_only_needs_attention(portal: Portal, tmp_path: Path) -> None:
    decoys = [
        Article("20240115", n, f"图文解读：某单位{2020 + n}年政府信息公开工作年度报告", body="<p><img src='t.png'></p>")
        for n in range(3)
    ]
    build_trs(portal, "/nb/", decoys, per_page=3)
    code, lines = _check(tmp_path, site_entry(portal, "/nb/index.html"))
    assert sum(line.startswith("  NOT A REPORT: ") for line in lines) == 3
    assert any(line.startswith("PROBLEM: none of the 3 sampled report page(s) is a report") for line in lines)
    assert code == 1 and lines[-1].endswith("needs attention")
