"""A report page is handed to the parser together with its attachments: TRS ``P0…pdf`` files, Hanweb
``downfile.jsp`` downloads, re-crawls that only change the PDF, the same bytes under two URLs, and
attachments that cannot be fetched."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import update

from nianbao.shared.contracts import PageFetched
from nianbao.shared.db import session_scope
from nianbao.shared.models import Fetch

from .conftest import Crawler, site_entry
from .portal import (
    Article,
    Portal,
    add_article,
    add_downfile,
    add_trs_pdf_report,
    attachment_link,
    hanweb_column,
    pdf_document,
    trs_listing,
)

ARTICLE = Article("20210129", 5001, "某区卫生健康局2020年政府信息公开工作年度报告")
PDF_NAME = "P020210129123456789012.pdf"
PDF_PATH = "/zfxxgknb/202101/" + PDF_NAME


def _trs_site(portal: Portal, articles: list[Article], **overrides: Any) -> dict[str, Any]:
    items = [(f"./{a.trs_path}", a.title) for a in articles]
    portal.add("/zfxxgknb/index.html", trs_listing(items, pages=1, current=0))
    portal.add("/robots.txt", "", content_type="text/plain")
    return site_entry(portal, "/zfxxgknb/index.html", **overrides)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _only(published: list[PageFetched]) -> PageFetched:
    assert len(published) == 1, [m.url for m in published]
    return published[0]


def test_trs_article_whose_report_is_only_a_pdf_attachment(portal: Portal, crawler: Crawler) -> None:
    pdf = pdf_document("trs 2020")
    add_trs_pdf_report(portal, "/zfxxgknb/", ARTICLE, pdf)
    summary, published = crawler.run(_trs_site(portal, [ARTICLE]))

    message = _only(published)
    assert message.url == portal.url("/zfxxgknb/" + ARTICLE.trs_path) and message.media_type == "text/html"
    (document,) = message.attachments
    assert document.url == document.final_url == portal.url(PDF_PATH)
    assert document.raw_key == document.content_sha256 == _sha(pdf)
    assert crawler.store.get(document.raw_key) == pdf
    assert document.media_type == "application/pdf"
    assert document.title_hint == ARTICLE.title + ".pdf"  # the link text
    assert (summary.published, summary.attachments, summary.attachments_changed, summary.errors) == (1, 1, 1, 0)
    assert summary.attachment_updates == 0  # the page itself was new
    (row,) = [r for r in crawler.fetch_rows() if r.kind == "attachment"]
    assert row.parent_url == message.url and row.raw_key == document.raw_key
    # the page and its attachment are each fetched once, the page first
    paths = portal.paths()
    assert paths.count(PDF_PATH) == 1
    assert paths.index("/zfxxgknb/" + ARTICLE.trs_path) < paths.index(PDF_PATH)


def test_hanweb_downfile_redirect_and_content_disposition(portal: Portal, crawler: Crawler) -> None:
    redirected = pdf_document("hanweb 302")
    named = pdf_document("hanweb disposition")
    name_302 = "4f1c0e7d9a2b4c6e8f0a1b2c3d4e5f60.pdf"
    name_cd = "0a1b2c3d4e5f60718293a4b5c6d7e8f9.pdf"
    first = "/art/2024/1/15/art_1229_1.html"
    second = "/art/2024/1/16/art_1229_2.html"
    titles = ["某市医保局2023年度政府信息公开工作年度报告", "某市广电局2023年度政府信息公开工作年度报告"]
    add_article(
        portal,
        first,
        Article("20240115", 1, titles[0], body="<p>详见附件</p>"),
        extra=attachment_link(add_downfile(portal, name_302, redirected), "年报全文"),
    )
    add_article(
        portal,
        second,
        Article("20240116", 2, titles[1], body="<p>详见附件</p>"),
        extra=attachment_link(
            add_downfile(portal, name_cd, named, disposition="attachment; filename*=UTF-8''%E5%B9%B4%E6%8A%A5.pdf"), ""
        ),
    )
    column = hanweb_column(portal, 1229, [(first, titles[0]), (second, titles[1])])
    portal.add("/robots.txt", "", content_type="text/plain")
    summary, published = crawler.run(site_entry(portal, column, family="hanweb_jpage"))

    assert summary.published == 2 and summary.attachments == 2 and summary.errors == 0
    by_url = {m.url: m for m in published}
    (via_302,) = by_url[portal.url(first)].attachments
    assert via_302.url == portal.url(f"/module/download/downfile.jsp?classid=0&filename={name_302}")
    assert via_302.final_url == portal.url(f"/attach/0/{name_302}")
    assert crawler.store.get(via_302.raw_key) == redirected
    assert (via_302.media_type, via_302.title_hint) == ("application/pdf", "年报全文")
    (via_cd,) = by_url[portal.url(second)].attachments
    assert via_cd.final_url == portal.url(f"/module/download/downfile.jsp?classid=0&filename={name_cd}")
    assert crawler.store.get(via_cd.raw_key) == named
    # octet-stream on the wire; the Content-Disposition name says PDF, and names the link without text
    assert (via_cd.media_type, via_cd.title_hint) == ("application/pdf", "年报.pdf")


@pytest.mark.parametrize("etag", [True, False], ids=["304", "same-hash"])
def test_unchanged_page_with_changed_attachment_is_handed_on_again(
    portal: Portal, crawler: Crawler, etag: bool
) -> None:
    old, new = pdf_document("first upload"), pdf_document("corrected upload")
    add_trs_pdf_report(portal, "/zfxxgknb/", ARTICLE, old, etag='"v1"' if etag else None)
    if etag:
        portal.routes["/zfxxgknb/" + ARTICLE.trs_path].etag = '"page"'  # type: ignore[union-attr]
    entry = _trs_site(portal, [ARTICLE])
    crawler.run(entry)

    # nothing changed: the attachment is checked again (cheaply) but nothing is handed on
    summary, published = crawler.run(entry)
    assert published == [] and summary.published == 0
    assert (summary.attachments, summary.attachments_changed, summary.errors) == (1, 0, 0)
    assert portal.count(PDF_PATH) == 2
    if etag:
        assert summary.not_modified == 1
        assert portal.requests[-1].headers.get("if-none-match") == '"v1"'
    else:
        assert summary.unchanged == 1

    # the PDF behind the same article is replaced
    portal.add(PDF_PATH, new, content_type="application/pdf", etag='"v2"' if etag else None)
    summary, published = crawler.run(entry)
    message = _only(published)
    assert [d.raw_key for d in message.attachments] == [_sha(new)]
    assert crawler.store.get(message.attachments[0].raw_key) == new
    assert (summary.fetched, summary.published, summary.attachment_updates, summary.attachments_changed) == (
        0,
        1,
        1,
        1,
    )
    assert "1 published (1 for changed attachments only), 1 attachment(s) (1 new or changed)" in str(summary)

    # and once handed on, it is not handed on again
    summary, published = crawler.run(entry)
    assert published == [] and summary.attachments_changed == 0


def test_pages_crawled_before_attachments_were_handed_on_go_on_once_with_them(portal: Portal, crawler: Crawler) -> None:
    add_trs_pdf_report(portal, "/zfxxgknb/", ARTICLE, pdf_document("legacy"), etag='"v1"')
    entry = _trs_site(portal, [ARTICLE])
    crawler.run(entry)
    # Attachment rows written before fetch.parent_url existed belong to no page.
    with session_scope(crawler.settings.resolved_database_url()) as session:
        session.execute(update(Fetch).values(parent_url=None))
    summary, published = crawler.run(entry)
    assert len(_only(published).attachments) == 1 and summary.attachment_updates == 1
    _, published = crawler.run(entry)
    assert published == []


def test_same_bytes_under_two_urls_are_handed_on_once(portal: Portal, crawler: Crawler) -> None:
    pdf = pdf_document("one report, two urls")
    page_url = portal.url("/zfxxgknb/" + ARTICLE.trs_path)
    add_trs_pdf_report(
        portal,
        "/zfxxgknb/",
        ARTICLE,
        pdf,
        links=[(f"./{PDF_NAME}", "全文"), ("/module/download/downfile.jsp?classid=0&filename=same.pdf", "下载")],
    )
    add_downfile(portal, "same.pdf", pdf)
    portal.add("/zfxxgknb/direct/copy.pdf", pdf, content_type="application/pdf")
    # The listing also links the PDF directly, under its own URL and under a third one.
    items = [
        ("./direct/copy.pdf", ARTICLE.title + "（PDF）"),
        (f"./{ARTICLE.trs_path}", ARTICLE.title),
        (f"./202101/{PDF_NAME}", ARTICLE.title + "全文"),
    ]
    portal.add("/zfxxgknb/index.html", trs_listing(items, pages=1, current=0))
    portal.add("/robots.txt", "", content_type="text/plain")
    entry = site_entry(portal, "/zfxxgknb/index.html", discovery={"link_allow": [r"/t\d{8}_\d+\.html$", r"\.pdf$"]})
    summary, published = crawler.run(entry)

    message = _only(published)  # the page, listed second, is handed on; the direct PDF links are not
    assert message.url == page_url
    assert [d.raw_key for d in message.attachments] == [_sha(pdf)]  # one document for both links
    assert message.attachments[0].url == portal.url(PDF_PATH)
    assert summary.reports_found == 3 and summary.duplicates == 1  # copy.pdf; the P0 URL is unchanged
    _, again = crawler.run(entry)
    assert again == []
    _, forced = crawler.run(entry, force=True)
    assert [m.url for m in forced] == [page_url] and len(forced[0].attachments) == 1


def test_a_document_listed_before_its_page_goes_on_with_the_page(portal: Portal, crawler: Crawler) -> None:
    pdf = pdf_document("listed first")
    add_trs_pdf_report(portal, "/zfxxgknb/", ARTICLE, pdf)
    items = [(f"./202101/{PDF_NAME}", ARTICLE.title + "全文"), (f"./{ARTICLE.trs_path}", ARTICLE.title)]
    portal.add("/zfxxgknb/index.html", trs_listing(items, pages=1, current=0))
    portal.add("/robots.txt", "", content_type="text/plain")
    entry = site_entry(portal, "/zfxxgknb/index.html", discovery={"link_allow": [r"/t\d{8}_\d+\.html$", r"\.pdf$"]})
    _, published = crawler.run(entry)
    assert [m.url for m in published] == [portal.url("/zfxxgknb/" + ARTICLE.trs_path)]
    assert len(published[0].attachments) == 1


def test_a_standalone_document_is_its_own_report(portal: Portal, crawler: Crawler) -> None:
    pdf = pdf_document("standalone")
    portal.add("/zfxxgknb/P020240115000000000001.pdf", pdf, content_type="application/octet-stream")
    items = [("./P020240115000000000001.pdf", "某镇2023年度政府信息公开工作年度报告")]
    portal.add("/zfxxgknb/index.html", trs_listing(items, pages=1, current=0))
    portal.add("/robots.txt", "", content_type="text/plain")
    entry = site_entry(portal, "/zfxxgknb/index.html", discovery={"link_allow": [r"\.pdf$"]})
    summary, published = crawler.run(entry)
    message = _only(published)
    assert message.attachments == () and message.raw_key == _sha(pdf)
    assert message.media_type == "application/pdf"  # octet-stream on the wire, .pdf by name
    assert summary.duplicates == 0
    assert [r.parent_url for r in crawler.fetch_rows() if r.kind == "attachment"] == [None]
    _, again = crawler.run(entry)
    assert again == []
    _, forced = crawler.run(entry, force=True)
    assert [m.url for m in forced] == [message.url]


@pytest.mark.parametrize(
    "failure",
    ["404", "too_large", "wrong_type"],
)
def test_a_failing_attachment_is_counted_and_the_page_still_handed_on(
    portal: Portal, crawler: Crawler, failure: str
) -> None:
    good = pdf_document("good")
    add_trs_pdf_report(
        portal,
        "/zfxxgknb/",
        ARTICLE,
        good,
        links=[(f"./{PDF_NAME}", "全文"), ("./P020210129000000000002.pdf", "附表")],
    )
    bad = "/zfxxgknb/202101/P020210129000000000002.pdf"
    if failure == "too_large":
        crawler.settings.max_attachment_bytes = 64
        portal.add(bad, b"%PDF-1.4\n" + b"0" * 200, content_type="application/pdf")
        portal.add(PDF_PATH, good[:60], content_type="application/pdf")
        good = good[:60]
    elif failure == "wrong_type":
        portal.add(bad, b"\x89PNG\r\n\x1a\n", content_type="image/png")
    summary, published = crawler.run(_trs_site(portal, [ARTICLE]))

    message = _only(published)
    assert [d.raw_key for d in message.attachments] == [_sha(good)]
    assert (summary.errors, summary.attachments, summary.published) == (1, 1, 1)
    outcome = next(r.outcome for r in crawler.fetch_rows() if r.url.endswith("P020210129000000000002.pdf"))
    assert outcome == ("http_error" if failure == "404" else "refused")


def test_attachment_down_for_now_keeps_its_stored_version(portal: Portal, crawler: Crawler) -> None:
    pdf = pdf_document("stored before")
    add_trs_pdf_report(portal, "/zfxxgknb/", ARTICLE, pdf)
    entry = _trs_site(portal, [ARTICLE])
    crawler.run(entry)
    # The article is corrected while the file server answers 500: the page goes on with the PDF held.
    add_article(
        portal,
        "/zfxxgknb/" + ARTICLE.trs_path,
        Article(ARTICLE.date, ARTICLE.doc_id, ARTICLE.title, body="<p>更正：详见附件</p>"),
        extra=attachment_link(f"./{PDF_NAME}", "全文"),
    )
    portal.add(PDF_PATH, b"busy", status=500)
    summary, published = crawler.run(entry)
    message = _only(published)
    assert [d.raw_key for d in message.attachments] == [_sha(pdf)] and summary.errors == 1


def test_attachments_off_hands_on_the_page_alone(portal: Portal, crawler: Crawler) -> None:
    add_trs_pdf_report(portal, "/zfxxgknb/", ARTICLE, pdf_document("off"))
    crawler.settings.fetch_attachments = False
    summary, published = crawler.run(_trs_site(portal, [ARTICLE]))
    assert _only(published).attachments == () and summary.attachments == 0
    assert portal.count(PDF_PATH) == 0
