from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from nianbao.shared.contracts import TASK_ROUTES, CrawlRequested, PageFetched, ReportParsed
from nianbao.shared.record import Record


def test_messages_round_trip_through_json() -> None:
    for message in (
        CrawlRequested(site_id="cq", force=True, reason="api"),
        PageFetched(
            site_id="cq",
            url="http://a.gov.cn/t.html",
            final_url="http://a.gov.cn/t.html",
            raw_key="b" * 64,
            content_sha256="b" * 64,
            http_charset="gbk",
        ),
        ReportParsed(
            site_id="cq",
            url="http://a.gov.cn/t.html",
            raw_key="b" * 64,
            record=Record(title="标题").model_dump(mode="json"),
        ),
    ):
        wire = json.dumps(message.to_payload())
        assert type(message).model_validate(json.loads(wire)) == message


def test_each_message_goes_to_its_service_queue() -> None:
    assert TASK_ROUTES == {
        "nianbao.crawler.crawl_site": {"queue": "crawler"},
        "nianbao.crawler.continue_crawl": {"queue": "crawler"},
        "nianbao.parser.parse_page": {"queue": "parser"},
        "nianbao.validator.validate_report": {"queue": "validator"},
    }


def test_newer_schema_versions_and_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        CrawlRequested.model_validate({"site_id": "x", "schema_version": 2})
    with pytest.raises(ValidationError):
        CrawlRequested.model_validate({"site_id": "x", "surprise": 1})


def test_report_parsed_payload_is_the_full_json_dump_with_the_record_passed_as_is() -> None:
    record = Record(title="示例县2020年政府信息公开工作年度报告", tables={"requests": {"new.natural": 5}})
    message = ReportParsed(
        site_id="cq", url="http://a.gov.cn/t.html", raw_key="b" * 64, record=record.model_dump(mode="json")
    )
    payload = message.to_payload()
    # The same dict, key for key and in the same order, as the generic dump; the record not copied.
    assert payload == message.model_dump(mode="json")
    assert list(payload) == list(message.model_dump(mode="json"))
    assert payload["record"] is message.record
    assert isinstance(payload["sent_at"], str)
