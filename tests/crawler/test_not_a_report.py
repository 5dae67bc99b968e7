"""Reports, and only reports (issue 11): the classifier on both sides of the boundary, hostile pages, and
crawls of UCAP, gov.cn and VSB columns whose decoys (解读, 通知, 图解, prose with the template's headings)
are recorded as ``not_a_report`` fetches, counted, listed by ``nianbao pages`` and never stored."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlmodel import select
from typer.testing import CliRunner

from nianbao.app.cli import app
from nianbao.app.embedded import run_embedded
from nianbao.crawler.decode import decode_page
from nianbao.crawler.reportness import judge_document, judge_page, read_page
from nianbao.crawler.sites import SiteRegistry
from nianbao.devportal.catalogue import REPORTS, report
from nianbao.devportal.render.article import report_page
from nianbao.shared.db import session_scope
from nianbao.shared.models import CrawlCheckpoint, Fetch, Report
from nianbao.shared.settings import CommonSettings

from .portal import Portal

# --- synthetic pages ------------------------------------------------------------------------------------

HEADINGS = (
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
)
T3_TABLE = (
    "<table><tr><td colspan='3'>（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td>"
    "<td>申请人情况</td></tr><tr><td>自然人</td><td>商业企业</td><td>科研机构</td><td>总计</td></tr>"
    "<tr><td>一、本年新收政府信息公开申请数量</td><td>3</td><td>0</td><td>0</td><td>3</td></tr></table>"
)
# What a 解读 or summary says in place of the tables: the headings, then figures in sentences.
PROSE_PARTS = (
    "本年度新制发规范性文件12件，废止3件，现行有效86件；行政许可处理决定1520件。",
    "本年新收政府信息公开申请45件，上年结转2件；予以公开20件，部分公开8件，不予公开3件。",
    "本年度发生政府信息公开行政复议2件，结果维持1件，行政诉讼1件。",
)


def page(title: str, body: str, *, h1: str | None = None, listing_chrome: bool = True) -> str:
    chrome = "<div class='nav'>首页 &gt; 政务公开 &gt; 政府信息公开年报</div>" if listing_chrome else ""
    heading = title if h1 is None else h1
    return (
        f"<html><head><meta charset='utf-8'><title>{title}_政府信息公开年报_某市人民政府</title>"
        f"<meta name='ArticleTitle' content='{title}'></head><body>{chrome}"
        f"<h1>{heading}</h1><div class='TRS_Editor'>{body}</div></body></html>"
    )


def report_body(*, tables: bool = True) -> str:
    parts = []
    for n, heading in enumerate(HEADINGS):
        parts.append(f"<p><strong>{heading}</strong></p>")
        if n == 0:
            parts.append("<p>2023年，本机关认真贯彻落实《中华人民共和国政府信息公开条例》。</p>")
        elif n == 2 and tables:
            parts.append(T3_TABLE)
        elif n in (1, 3) and not tables:
            parts.append("<p><img src='table.png'></p>")  # a report whose tables are images
        elif n == 4:
            parts.append("<p>一是公开质量有待提高。下一步，我们将加强培训。</p>")
    return "".join(parts)


def prose_body() -> str:
    out = []
    for n, heading in enumerate(HEADINGS):
        out.append(f"<p>{heading}</p>")
        if 1 <= n <= 3:
            out.append(f"<p>{PROSE_PARTS[n - 1]}</p>")
        else:
            out.append("<p>总体上，本机关政府信息公开工作取得积极成效。</p>")
    return "".join(out)


REPORT_TITLE = "XX市人民政府2022年政府信息公开工作年度报告"


# --- the classifier: both sides of the boundary --------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "body", "attachments", "evidence"),
    [
        (REPORT_TITLE, report_body(), (), "tables"),
        (REPORT_TITLE, report_body(tables=False), (), "sections"),  # tables missing: stays a report
        (REPORT_TITLE, "<p>详见附件。</p>", ("XX市2022年年报.pdf",), "attachment"),
        # a notice that 印发 the report with it attached, or inline, holds the report
        ("关于印发XX市2022年政府信息公开工作年度报告的通知", "<p>现印发。</p>", ("年度报告.docx",), "attachment"),
        ("关于印发XX市2022年政府信息公开工作年度报告的通知", report_body(), (), "tables"),
        # legacy: prose with figures is the report itself
        (
            "XX县2015年政府信息公开工作年度报告",
            "<p>一、概述</p><p>本年度主动公开政府信息1234条。</p><p>二、主动公开政府信息情况</p><p>公开1234条，"
            "其中文件56件、规划12项。</p><p>三、依申请公开政府信息情况</p><p>收到申请12件，答复12件。</p>"
            "<p>四、政府信息公开的收费及减免情况</p><p>未收费。</p><p>五、因政府信息公开申请行政复议、提起行政诉讼的情况</p>"
            "<p>无。</p><p>六、存在的主要问题和改进措施</p><p>略。</p>",
            (),
            "sections",
        ),
        # a table flattened into text (plain-text pages): labels no sentence uses
        (REPORT_TITLE, "<div>第二十条第（一）项 信息内容 本年制发件数 本年废止件数 现行有效件数</div>", (), "tables"),
    ],
)
def test_reports_are_reports(title: str, body: str, attachments: tuple[str, ...], evidence: str) -> None:
    verdict = judge_page(page(title, body), listing_title=title, attachment_names=attachments)
    assert (verdict.is_report, verdict.evidence) == (True, evidence), verdict.reason
    assert verdict.title == title


@pytest.mark.parametrize(
    ("listing", "own", "body", "attachments", "evidence", "word"),
    [
        (REPORT_TITLE + "（解读）", None, report_body(), (), "interpretation_title", "解读"),  # tables do not help
        ("图文解读：" + REPORT_TITLE, None, "<p><img src='1.jpg'></p>", (), "interpretation_title", "解读"),
        ("一图读懂" + REPORT_TITLE, None, "", ("解读.pdf",), "interpretation_title", "一图读懂"),
        ("关于印发" + REPORT_TITLE + "的通知", None, "<p>各科室：现将报告印发给你们。</p>", (), "notice_title", "印发"),
        ("关于" + REPORT_TITLE + "的通知", None, prose_body(), (), "notice_title", "通知"),
        # judged on the page's own title when the listing says nothing
        (REPORT_TITLE, REPORT_TITLE + "政策解读", prose_body(), (), "interpretation_title", "解读"),
        ("", "图解：" + REPORT_TITLE, "<p>图片</p>", (), "interpretation_title", "图解"),
        (REPORT_TITLE + "答记者问", None, prose_body(), (), "interpretation_title", "答记者问"),
        # prose with the template's headings and figures in sentences, titled like the report
        (REPORT_TITLE, None, prose_body(), (), "prose", None),
        (REPORT_TITLE, None, "<p>本页内容正在更新。</p>", (), "no_evidence", None),
        # an interpretation attached is not a report attachment
        (REPORT_TITLE, None, "<p>详见附件。</p>", ("年度报告解读.pdf",), "no_evidence", None),
    ],
)
def test_decoys_are_not_reports(
    listing: str, own: str | None, body: str, attachments: tuple[str, ...], evidence: str, word: str | None
) -> None:
    own_title = own if own is not None else listing or REPORT_TITLE
    html = page(own_title, body)
    verdict = judge_page(html, listing_title=listing, attachment_names=attachments)
    assert (verdict.is_report, verdict.evidence) == (False, evidence), verdict.reason
    if word is not None:
        assert f"'{word}'" in verdict.reason
    assert verdict.title == (listing or own_title)  # an empty listing title falls back to the page's own


def test_column_names_in_page_chrome_are_not_titles() -> None:
    # "通知公告" / "政策解读" as a column heading or <title> segment do not make a report a decoy.
    html = (
        f"<html><head><title>{REPORT_TITLE}_通知公告_某市</title></head><body><h1>政策解读</h1>"
        f"<h1>{REPORT_TITLE}</h1>{report_body()}</body></html>"
    )
    assert judge_page(html, listing_title=REPORT_TITLE).evidence == "tables"


def test_a_layout_table_of_prose_is_not_a_statistics_table() -> None:
    body = f"<table><tr><td>{prose_body()}</td></tr></table>"
    assert judge_page(page(REPORT_TITLE, body), listing_title=REPORT_TITLE).evidence == "prose"


def test_documents_are_judged_on_their_title_only() -> None:
    assert judge_document(listing_title=REPORT_TITLE + ".pdf").is_report
    assert not judge_document(listing_title="图解" + REPORT_TITLE).is_report


def test_devportal_reports_are_reports() -> None:
    for spec in REPORTS:
        verdict = judge_page(report_page(spec), listing_title=spec.title)
        assert verdict.is_report, (spec.id, verdict.reason)


# --- hostile pages -----------------------------------------------------------------------------------------


def test_empty_and_whitespace_pages() -> None:
    assert judge_page("", listing_title=REPORT_TITLE).evidence == "empty"
    assert judge_page(" \n\t ", listing_title="").evidence == "empty"
    assert judge_page("<html></html>", listing_title="").evidence == "no_evidence"


def test_gbk_bytes_are_judged_after_decoding() -> None:
    data = page(REPORT_TITLE, report_body()).replace("utf-8", "gbk").encode("gbk")
    text = decode_page(data, http_charset=None).text
    assert judge_page(text, listing_title="").title == REPORT_TITLE
    assert judge_page(text, listing_title="").evidence == "tables"
    decoy = page(REPORT_TITLE + "（解读）", prose_body()).replace("utf-8", "gb2312").encode("gbk")
    assert judge_page(decode_page(decoy, http_charset="gb2312").text).evidence == "interpretation_title"
    # undecodable bytes (a mislabelled page) give no report and no crash
    assert not judge_page(decode_page(b"\xff\xfe\x00" * 1000, http_charset="utf-8").text).is_report


@pytest.mark.parametrize(
    "hostile",
    [
        "<!--" * 200_000,  # unclosed comments
        "<td>" * 200_000,  # unclosed cells
        "<h1>" * 200_000,  # many titles
        "<a " * 200_000,  # unterminated tags
        "<script>" + "x<y" * 200_000,  # an unclosed script
        "<table>" * 50_000 + "第二十条第（一）项" + "</table>" * 50_000,  # deep nesting
        "一、主动公开申请\n" * 100_000,  # headings without end
    ],
)
def test_hostile_pages_are_linear(hostile: str) -> None:
    started = time.perf_counter()
    verdict = judge_page(hostile, listing_title=REPORT_TITLE)
    assert time.perf_counter() - started < 5.0
    assert verdict.evidence in ("tables", "sections", "prose", "no_evidence")


def test_a_huge_report_page_is_judged_quickly() -> None:
    big = page(REPORT_TITLE, "<p>" + "本机关认真落实条例。" * 400_000 + "</p>" + report_body())  # ~10 MB
    started = time.perf_counter()
    assert judge_page(big, listing_title=REPORT_TITLE).evidence == "tables"
    assert time.perf_counter() - started < 10.0
    assert len(read_page(big).titles) == 1


# --- crawls of UCAP, gov.cn and VSB columns with decoys -----------------------------------------------------

DECOYS = {
    "interpretation": ("某市2023年政府信息公开工作年度报告（解读）", prose_body(), "interpretation_title"),
    "notice": (
        "关于印发某市2023年政府信息公开工作年度报告的通知",
        "<p>各单位：现予印发，请遵照执行。</p>",
        "notice_title",
    ),
    "graphic": ("图文解读：某市2023年政府信息公开工作年度报告", "<p><img src='tu.jpg'></p>", "interpretation_title"),
    "prose": ("某市2023年政府信息公开工作年度报告", prose_body(), "prose"),
}
REAL = ("transport-2020", "market-2021")


def _portal_column(portal: Portal, family: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """A column of ``family`` with the two real reports and the four decoys. Returns the start path, the
    report URLs → title and the decoy URLs → expected evidence."""
    reports: dict[str, str] = {}
    decoys: dict[str, str] = {}
    items: list[tuple[str, str]] = []
    for n, report_id in enumerate(REAL):
        spec = report(report_id)
        path = _article_path(family, n)
        portal.add(path, report_page(spec), encoding=spec.encoding)
        reports[portal.url(path)] = spec.title
        items.append((path, spec.title))
    for n, (title, body, evidence) in enumerate(DECOYS.values(), start=len(REAL)):
        path = _article_path(family, n)
        portal.add(path, page(title, body))
        decoys[portal.url(path)] = evidence
        items.append((path, title))
    portal.add("/robots.txt", "", content_type="text/plain")
    if family == "ucap":
        portal.add("/hjq/c120310/list.shtml", "<html><body>列表由脚本加载</body></html>")
        results = [{"title": t or "", "url": p, "publishedTimeStr": "2024-01-15"} for p, t in items]
        for number in (1, 2):
            chunk = results[(number - 1) * 3 : number * 3]
            portal.add(
                f"/common/search/120310?page={number}&_pageSize=15&_isAgg=true&_isJson=true&_template=index",
                json.dumps({"data": {"total": len(results), "results": chunk}}, ensure_ascii=False),
                content_type="application/json",
            )
        return "/hjq/c120310/list.shtml", reports, decoys
    if family == "govcn":
        feed = [{"TITLE": t, "URL": portal.url(p), "DOCRELPUBTIME": "2024-01-15"} for p, t in items]
        portal.add("/zhengce/nb/NIANBAO.json", json.dumps(feed, ensure_ascii=False), content_type="application/json")
        return "/zhengce/nb/NIANBAO.json", reports, decoys
    lis = "".join(f'<li><a href="{p}">{t}</a><span>2024-01-15</span></li>' for p, t in items[:3])
    portal.add(
        "/nb.htm", f"<html><body><ul>{lis}</ul><div class='pager'><a href='nb/2.htm'>下页</a></div></body></html>"
    )
    lis = "".join(f'<li><a href="{p}">{t}</a><span>2024-01-15</span></li>' for p, t in items[3:])
    portal.add("/nb/2.htm", f"<html><body><ul>{lis}</ul></body></html>")
    return "/nb.htm", reports, decoys


def _article_path(family: str, n: int) -> str:
    if family == "ucap":
        return f"/hjq/c120310/202401/{n + 1:032x}.shtml"
    if family == "govcn":
        return f"/zhengce/content/202401/content_{n + 100}.htm"
    return f"/info/1050/{6400 + n}.htm"


def _entry(portal: Portal, site_id: str, start: str, family: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": site_id, "name": site_id, "family": family, "start_urls": [portal.url(start)],
        "allowed_hosts": ["127.0.0.1"], "allow_private_addresses": True,
        "politeness": {"min_delay_s": 0.0, "jitter_s": 0.0},
    }  # fmt: skip
    return entry


def _metric(site_id: str) -> float:
    return REGISTRY.get_sample_value("nianbao_crawler_not_a_report_total", {"site": site_id}) or 0.0


@pytest.mark.parametrize("family", ["ucap", "govcn", "vsb"])
def test_decoys_of_a_column_are_fetched_not_stored(family: str, tmp_path: Path) -> None:
    site_id = f"decoys-{family}"
    with Portal() as portal:
        start, reports, decoys = _portal_column(portal, family)
        registry = SiteRegistry.from_dict({"version": 1, "sites": [_entry(portal, site_id, start, family)]})
        before = _metric(site_id)
        stats = run_embedded(registry, [site_id])
        again = run_embedded(registry, [site_id])  # judged again, still not stored
    assert stats.failures == again.failures == []
    database = CommonSettings().resolved_database_url()
    with session_scope(database) as session:
        stored = {row.url: row.title for row in session.exec(select(Report).where(Report.site_id == site_id))}
        rows = session.exec(select(Fetch).where(Fetch.site_id == site_id, Fetch.outcome == "not_a_report")).all()
        judged = {row.url: row.error or "" for row in rows}
        checkpoint = {
            row.url: row.outcome
            for row in session.exec(select(CrawlCheckpoint).where(CrawlCheckpoint.site_id == site_id))
        }
    assert set(stored) == set(reports)  # only the reports, each with its title
    assert all((stored[url] or "").startswith(title) for url, title in reports.items())
    assert set(judged) == set(decoys) and len(rows) == 2 * len(decoys)  # one row per crawl
    for url, evidence in decoys.items():
        assert judged[url].startswith({"interpretation_title": "interpretation", "notice_title": "notice",
                                       "prose": "prose"}[evidence]), judged[url]  # fmt: skip
        assert checkpoint[url] == "not_a_report"
    assert all(checkpoint[url] != "not_a_report" for url in reports)
    assert _metric(site_id) - before == 2 * len(decoys)

    listed = CliRunner().invoke(app, ["pages", "--site", site_id, "--outcome", "not_a_report", "--json"])
    assert listed.exit_code == 0, listed.output
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {line["url"] for line in lines} == set(decoys)
    assert all(line["reason"] and line["outcome"] == "not_a_report" for line in lines)


def test_pages_command_refuses_unknown_outcome_and_site() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["pages", "--outcome", "maybe"]).exit_code == 2
    assert runner.invoke(app, ["pages", "--site", "nowhere"]).exit_code == 2
