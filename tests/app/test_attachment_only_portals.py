"""Portals that publish reports only as attachments, crawled, parsed, checked and stored end to end
(embedded pipeline, real HTTP): TRS articles linking ``./P0….pdf`` and Hanweb articles linking
``downfile.jsp`` (a 302 to the file, or the file itself named by Content-Disposition). Every report must
be stored with all its tables, read from the attachment, and the article's metadata."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from crawler.portal import (
    Article,
    Portal,
    add_article,
    add_downfile,
    add_trs_pdf_report,
    attachment_link,
    hanweb_column,
    trs_listing,
)
from sqlmodel import select

from nianbao.app.embedded import run_embedded
from nianbao.crawler.sites import SiteRegistry
from nianbao.devportal.catalogue import report
from nianbao.devportal.model import Report as Spec
from nianbao.devportal.render.docxdoc import report_docx
from nianbao.devportal.render.layout import report_layout
from nianbao.devportal.render.pdfdoc import PdfOptions, report_pdf
from nianbao.shared.db import session_scope
from nianbao.shared.models import FindingRow, Report
from nianbao.shared.settings import CommonSettings


@pytest.fixture
def portal() -> Iterator[Portal]:
    with Portal() as running:
        yield running


def _site(portal: Portal, site_id: str, start: str, family: str) -> dict[str, Any]:
    return {
        "id": site_id, "name": site_id, "family": family, "start_urls": [portal.url(start)],
        "allowed_hosts": ["127.0.0.1"], "allow_private_addresses": True,
        "politeness": {"min_delay_s": 0.0, "jitter_s": 0.0},
    }  # fmt: skip


def _stored(site_id: str) -> dict[str, tuple[Report, set[tuple[str, str | None]]]]:
    with session_scope(CommonSettings().resolved_database_url()) as session:
        out = {}
        for row in session.exec(select(Report).where(Report.site_id == site_id)):
            failing = session.exec(
                select(FindingRow).where(FindingRow.report_id == row.id, FindingRow.status == "fail")
            )
            out[row.url] = (row, {(f.rule, f.location or None) for f in failing})
        return out


def _assert_stored_from_attachment(row: Report, failing: set[tuple[str, str | None]], spec: Spec) -> None:
    record = row.record
    assert record["tables"] == {name: dict(values) for name, values in spec.expected_tables().items()}, spec.id
    assert (row.year, row.generation) == (spec.year, spec.generation)
    assert set(record["table_sources"].values()) != {row.url}  # every table came from the attachment
    assert all(cell["at"].get("source") for cell in record["cells"])
    # The test portal's articles all carry a 索引号 of 2024, which meta.index_year rightly flags.
    assert failing - {("meta.index_year", None)} == set(spec.expected_failing_rules()), spec.id


def test_trs_column_of_pdf_and_docx_only_reports(portal: Portal) -> None:
    specs = [report("county-2018"), report("transport-2020"), report("market-2021"), report("town-2019")]
    articles = []
    for n, spec in enumerate(specs):
        article = Article(f"2021012{n}", 7000 + n, spec.title)
        layout = report_layout(spec)
        if spec.id == "town-2019":
            document, name = report_docx(layout), f"P02101200000000000{n}.docx"
        else:
            options = PdfOptions(split_requests=spec.generation != "legacy", vertical_label=n % 2 == 1)
            document, name = report_pdf(layout, options), f"P02101200000000000{n}.pdf"
        add_trs_pdf_report(portal, "/zfxxgknb/", article, document, name=name)
        articles.append(article)
    portal.add("/zfxxgknb/index.html", trs_listing([(f"./{a.trs_path}", a.title) for a in articles],
                                                   pages=1, current=0))  # fmt: skip
    portal.add("/robots.txt", "", content_type="text/plain")
    registry = SiteRegistry.from_dict({"version": 1, "sites": [_site(portal, "trs-pdf", "/zfxxgknb/index.html",
                                                                     "trs")]})  # fmt: skip

    stats = run_embedded(registry, ["trs-pdf"])

    assert stats.failures == []
    stored = _stored("trs-pdf")
    assert len(stored) == len(specs)
    for article, spec in zip(articles, specs, strict=True):
        row, failing = stored[portal.url("/zfxxgknb/" + article.trs_path)]
        _assert_stored_from_attachment(row, failing, spec)
        assert row.index_no == "000014349/2024-00001"  # the article's metadata block, not the document's


def test_hanweb_column_of_downfile_reports(portal: Portal) -> None:
    water, ecology = report("water-2020"), report("market-2021")
    first, second = "/art/2021/1/27/art_1229_1.html", "/art/2022/1/25/art_1229_2.html"
    add_article(portal, first, Article("20210127", 1, water.title, body="<p>详见附件</p>"),
                extra=attachment_link(add_downfile(portal, "4f1c0e7d.pdf", report_pdf(report_layout(water))),
                                      "年报全文"))  # fmt: skip
    named = add_downfile(portal, "0a1b2c3d.pdf", report_pdf(report_layout(ecology)),
                         disposition="attachment; filename*=UTF-8''%E5%B9%B4%E6%8A%A5.pdf")  # fmt: skip
    add_article(portal, second, Article("20220125", 2, ecology.title, body="<p>详见附件</p>"),
                extra=attachment_link(named, ""))  # fmt: skip
    column = hanweb_column(portal, 1229, [(first, water.title), (second, ecology.title)])
    portal.add("/robots.txt", "", content_type="text/plain")
    registry = SiteRegistry.from_dict({"version": 1, "sites": [_site(portal, "hanweb-pdf", column,
                                                                     "hanweb_jpage")]})  # fmt: skip

    stats = run_embedded(registry, ["hanweb-pdf"])
    again = run_embedded(registry, ["hanweb-pdf"])  # a re-crawl stores nothing twice

    assert stats.failures == again.failures == []
    stored = _stored("hanweb-pdf")
    assert set(stored) == {portal.url(first), portal.url(second)}
    for path, spec in ((first, water), (second, ecology)):
        _assert_stored_from_attachment(*stored[portal.url(path)], spec)
