"""One report from an article page and its attachments: tables from the attachment, metadata from the page,
both compared when both print the tables, and a report with no tables from any source made visible."""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.parser.extract import parse_bytes
from nianbao.parser.handlers import handle_page_fetched
from nianbao.parser.merge import AttachmentRead, merge_attachments
from nianbao.parser.settings import ParserSettings
from nianbao.shared.bus import CollectingPublisher
from nianbao.shared.contracts import FetchedDocument, PageFetched
from nianbao.shared.rawstore import RawStore
from nianbao.shared.record import Record
from nianbao.validator.rules import evaluate

from .builders import Report, active_html, make_report, render_html, requests_html, review_html

PAGE_URL = "https://www.jiangcheng.gov.cn/zfxxgk/2021/a.html"
PDF_URL = "https://www.jiangcheng.gov.cn/zfxxgk/2021/P020210128.pdf"


def stub_page(report: Report) -> str:
    """The article as portals publish it when the report is an attachment: metadata, title, the prose,
    no statistics tables (they are only in the PDF)."""
    html = render_html(report)
    for table in (active_html(report), requests_html(report), review_html(report)):
        html = html.replace(table, "<p>（详见附件）</p>")
    return html


def read_of(record: Record | None, error: str | None = None) -> AttachmentRead:
    return AttachmentRead(
        url=PDF_URL,
        raw_key="k" * 64,
        content_sha256="s" * 64,
        name="年报全文",
        media_type="application/pdf",
        record=record,
        error=error,
    )


def attachment_record(report: Report) -> Record:
    # Stands in for the attachment's own record: the same report as a document without the portal's metadata.
    return parse_bytes(render_html(report, metadata="none").encode(), url=PDF_URL, media_type="text/html")


def failing(record: Record) -> set[tuple[str, str | None]]:
    return {(f.rule, f.where) for f in evaluate(record).findings if f.status == "fail"}


def test_tables_come_from_the_attachment_and_metadata_from_the_page() -> None:
    report = make_report("gen2021", seed=3)
    page = parse_bytes(stub_page(report).encode(), url=PAGE_URL, media_type="text/html")
    assert page.tables == {} and "no_tables" in {w.code for w in page.warnings}
    merged = merge_attachments(page, [read_of(attachment_record(report))])
    assert merged.tables == report.values
    assert merged.table_sources == dict.fromkeys(report.values, PDF_URL)
    assert merged.metadata.index_no == report.index_no  # only the page states it
    assert merged.metadata.publish_date == report.publish_date
    assert {c.at.source for c in merged.cells} == {PDF_URL}
    assert page.generation.source == "inferred"  # the page has no table labels to prove it
    assert (merged.generation.value, merged.generation.source) == ("gen2021", "labels")
    assert not {"no_tables", "table_missing", "generation_inferred"} & {w.code for w in merged.warnings}
    [entry] = [a for a in merged.attachments if a.url == PDF_URL]
    assert (entry.outcome, entry.raw_key, entry.name) == ("tables", "k" * 64, "年报全文")
    assert ("report.no_tables", None) not in failing(merged)


def test_a_table_on_both_page_and_attachment_is_compared_and_the_page_kept() -> None:
    report = make_report("gen2019", seed=5)
    page = parse_bytes(render_html(report).encode(), url=PAGE_URL, media_type="text/html")
    same = merge_attachments(page, [read_of(attachment_record(report))])
    assert same.tables == report.values and same.source_mismatches == []
    assert set(same.cross_checked) == {"active", "requests", "review_litigation"}
    assert not {r for r, _ in failing(same)} & {"source.page_attachment_mismatch"}

    altered = make_report("gen2019", seed=5)
    altered.values["requests"]["granted.natural"] = (report.values["requests"]["granted.natural"] or 0) + 7
    merged = merge_attachments(page, [read_of(attachment_record(altered))])
    assert merged.tables == report.values  # the page's values are kept
    [mismatch] = merged.source_mismatches
    assert (mismatch.table, mismatch.key) == ("requests", "granted.natural")
    assert mismatch.attachment_value == mismatch.page_value + 7  # type: ignore[operator]
    assert mismatch.page_at.table_index is not None and mismatch.attachment_at.source == PDF_URL
    verdicts = {f.where: f for f in evaluate(merged).findings if f.rule == "source.page_attachment_mismatch"}
    assert {w: f.status for w, f in verdicts.items()} == {
        "active": "pass",
        "requests": "fail",
        "review_litigation": "pass",
    }
    assert verdicts["requests"].cells == ["requests.granted.natural"]


def test_no_tables_from_any_source_is_a_failing_finding_that_says_why() -> None:
    report = make_report("gen2021", seed=8)
    page = parse_bytes(stub_page(report).encode(), url=PAGE_URL, media_type="text/html")
    unreadable = merge_attachments(page, [read_of(None, error="encrypted: the PDF is encrypted")])
    assert unreadable.tables == {}
    assert [a.outcome for a in unreadable.attachments if a.url == PDF_URL] == ["unusable"]
    assert "attachment_unreadable" in {w.code for w in unreadable.warnings}
    finding = next(f for f in evaluate(unreadable).findings if f.rule == "report.no_tables")
    assert finding.status == "fail" and "attachment_unreadable" in finding.message

    scan = parse_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32), url=PDF_URL)  # an image: nothing to read
    merged = merge_attachments(page, [read_of(scan)])
    assert [a.outcome for a in merged.attachments if a.url == PDF_URL] == ["unsupported_format"]
    assert ("report.no_tables", None) in failing(merged)


def test_handler_reads_the_page_with_its_stored_attachments(tmp_path: Path) -> None:
    report = make_report("gen2019", seed=11)
    store = RawStore(tmp_path / "raw")
    page_key = store.put(stub_page(report).encode())
    att_key = store.put(render_html(report, metadata="none").encode())
    missing = FetchedDocument(url=PDF_URL + "?2", final_url=PDF_URL + "?2", raw_key="0" * 64, content_sha256="0" * 64)
    message = PageFetched(
        site_id="jiangcheng", url=PAGE_URL, final_url=PAGE_URL, raw_key=page_key, content_sha256=page_key,
        attachments=(
            FetchedDocument(url=PDF_URL, final_url=PDF_URL, raw_key=att_key, content_sha256=att_key,
                            media_type="text/html", title_hint="年报全文"),
            missing,
        ),
    )  # fmt: skip
    publisher = CollectingPublisher()
    parsed = handle_page_fetched(message, store, publisher, ParserSettings())
    record = Record.model_validate(parsed.record)
    assert record.tables == report.values
    assert record.metadata.index_no == report.index_no
    outcomes = {a.url: a.outcome for a in record.attachments}
    assert outcomes[PDF_URL] == "tables" and outcomes[PDF_URL + "?2"] == "unusable"


def test_an_attachment_that_breaks_its_front_end_does_not_cost_the_page_its_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nianbao.parser.handlers as handlers

    report = make_report("gen2019", seed=13)
    store = RawStore(tmp_path / "raw")
    page_key = store.put(render_html(report).encode())
    att_key = store.put(b"%PDF-1.7 whatever")
    real = handlers.parse_bytes

    def broken(data: bytes, **kwargs: object) -> Record:
        if data.startswith(b"%PDF"):
            raise RecursionError("maximum recursion depth exceeded")  # as a deeply nested PDF object might
        return real(data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(handlers, "parse_bytes", broken)
    message = PageFetched(
        site_id="jiangcheng", url=PAGE_URL, final_url=PAGE_URL, raw_key=page_key, content_sha256=page_key,
        attachments=(FetchedDocument(url=PDF_URL, final_url=PDF_URL, raw_key=att_key, content_sha256=att_key),),
    )  # fmt: skip
    record = Record.model_validate(handle_page_fetched(message, store, CollectingPublisher(), ParserSettings()).record)
    assert record.tables == report.values
    [entry] = [a for a in record.attachments if a.url == PDF_URL]
    assert entry.outcome == "unusable"
    detail = next(w.detail for w in record.warnings if w.code == "attachment_unreadable")
    assert detail is not None and "RecursionError" in detail
