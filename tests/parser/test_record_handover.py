"""In process, the parser hands its Record object to the validator (``ReportParsed.of``) instead of the
validator validating the JSON dump again. That is only sound if the two are equal: checked here for the
dev portal's report pages, the corpus seeds (when the corpus is beside the repo), a record completed from
an attachment and one titled from its listing (the two paths that build a record with ``model_copy``,
which does not validate)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from nianbao.parser.extract import parse_bytes
from nianbao.parser.handlers import handle_page_fetched
from nianbao.parser.merge import merge_attachments
from nianbao.parser.settings import ParserSettings
from nianbao.shared.bus import CollectingPublisher
from nianbao.shared.contracts import PageFetched, ReportParsed
from nianbao.shared.rawstore import RawStore
from nianbao.shared.record import Record

from .builders import make_report
from .test_merge import PAGE_URL, attachment_record, read_of, stub_page

CORPUS_SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "seeds"


def _documents() -> Iterator[tuple[str, bytes, str]]:
    from nianbao.devportal.catalogue import REPORTS
    from nianbao.devportal.render.article import report_page

    for report in REPORTS:  # every page as HTML text (the encodings are the parser's other tests' business)
        yield report.id, report_page(report).encode("utf-8"), "text/html"
    if CORPUS_SEEDS.is_dir():
        for path in sorted(CORPUS_SEEDS.glob("*.txt")):
            yield path.name, path.read_bytes(), "text/plain"


def _round_trip(record: Record) -> Record:
    message = ReportParsed.of(site_id="s", url="http://x.gov.cn/a.html", raw_key="k" * 64, record=record)
    assert message.parsed_record() is record  # in process: the object itself
    wire = ReportParsed.model_validate(json.loads(json.dumps(message.to_payload())))
    assert wire == message  # equal as messages: the kept object is not part of it
    return wire.parsed_record()  # through the broker: validated from the JSON


def test_every_report_page_survives_the_json_round_trip_unchanged() -> None:
    seen = 0
    for name, data, media_type in _documents():
        record = parse_bytes(data, media_type=media_type, url=f"http://x.gov.cn/{seen}.html")
        assert _round_trip(record) == record, name
        seen += 1
    assert seen >= 5


def test_records_built_with_model_copy_survive_it_too(tmp_path: Path) -> None:
    report = make_report("gen2021", seed=3)
    page = parse_bytes(stub_page(report).encode(), url=PAGE_URL, media_type="text/html")
    merged = merge_attachments(page, [read_of(attachment_record(report))])
    assert merged.tables and _round_trip(merged) == merged
    # A page without a title line, titled from its listing by the handler.
    store = RawStore(tmp_path / "raw")
    key = store.put("<html><body><p>正文</p></body></html>".encode())
    fetched = PageFetched(site_id="s", url=PAGE_URL, final_url=PAGE_URL, raw_key=key, content_sha256=key,
                          media_type="text/html", title_hint=" 示例县2021年 政府信息公开工作年度报告 ")  # fmt: skip
    parsed = handle_page_fetched(fetched, store, CollectingPublisher(), ParserSettings(data_dir=tmp_path))
    kept = parsed.parsed_record()
    assert kept.title == "示例县2021年 政府信息公开工作年度报告"
    assert Record.model_validate(parsed.record) == kept


def test_a_message_from_the_broker_is_validated() -> None:
    payload = ReportParsed.of(site_id="s", url="u", raw_key="k", record=Record(title="t")).to_payload()
    payload["record"]["year"] = {"value": "not a year"}
    with pytest.raises(ValueError, match="year"):
        ReportParsed.model_validate(payload).parsed_record()
