"""The queue side: handler (raw store → record → published message), Celery task registration, metrics,
and the corpus evaluation used by ``nianbao eval``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from celery import Celery
from prometheus_client import REGISTRY

from nianbao.parser import PARSER_VERSION, metrics
from nianbao.parser.errors import UnusableInput
from nianbao.parser.evaluate import evaluate_corpus, render_eval
from nianbao.parser.handlers import handle_page_fetched
from nianbao.parser.settings import ParserSettings
from nianbao.parser.tasks import register_tasks
from nianbao.parser.warning_codes import WARNING_CODES, metric_code
from nianbao.shared.bus import CollectingPublisher
from nianbao.shared.contracts import PageFetched, ReportParsed
from nianbao.shared.errors import PermanentError
from nianbao.shared.rawstore import RawStore
from nianbao.shared.record import Record

from .builders import make_report, render_html

FIXTURE = Path(__file__).parent / "fixtures" / "quirks_gen2019.txt"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def message(key: str, **extra: Any) -> PageFetched:
    return PageFetched(site_id="jiangcheng", url="https://www.jiangcheng.gov.cn/a.html",
                       final_url="https://www.jiangcheng.gov.cn/a.html", raw_key=key, content_sha256=key, **extra)


def test_handler_parses_publishes_and_counts(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")
    key = store.put(render_html(make_report("gen2021")).encode())
    publisher = CollectingPublisher()
    before = sample("nianbao_parser_reports_parsed_total", generation="gen2021", outcome="clean")
    seconds = sample("nianbao_parser_parse_seconds_count")
    result = handle_page_fetched(message(key), store, publisher, ParserSettings())
    assert publisher.messages == [result]
    assert isinstance(result, ReportParsed) and result.raw_key == key
    record = Record.model_validate(result.record)
    assert record.generation.value == "gen2021" and record.parser_version == PARSER_VERSION
    assert record.source.url == "https://www.jiangcheng.gov.cn/a.html" and record.source.content_sha256 == key
    assert record.source.fetched_at is not None
    assert sample("nianbao_parser_reports_parsed_total", generation="gen2021", outcome="clean") == before + 1
    assert sample("nianbao_parser_parse_seconds_count") == seconds + 1


def test_handler_counts_warnings_by_code(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")
    key = store.put(FIXTURE.read_bytes())
    before = sample("nianbao_parser_warnings_total", code="cell_missing")
    handle_page_fetched(message(key, media_type="text/plain"), store, CollectingPublisher(), ParserSettings())
    assert sample("nianbao_parser_warnings_total", code="cell_missing") == before + 2


def test_handler_missing_blob_and_unusable_input_are_permanent(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")
    publisher = CollectingPublisher()
    with pytest.raises(PermanentError, match="no raw page"):
        handle_page_fetched(message("0" * 64), store, publisher, ParserSettings())
    key = store.put(b"%PDF-1.4 not a page")
    with pytest.raises(UnusableInput, match="PDF"):
        handle_page_fetched(message(key), store, publisher, ParserSettings())
    assert publisher.messages == []


def test_task_is_registered_thin_and_publishes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ParserSettings(raw_store_dir=tmp_path / "raw")
    key = RawStore(settings.resolved_raw_store_dir()).put(FIXTURE.read_bytes())
    app = Celery("nianbao-parser-test", broker="memory://")
    sent: list[tuple[str, Any, str]] = []
    def send_task(name: str, args: Any, queue: str, **_options: Any) -> SimpleNamespace:
        sent.append((name, args, queue))
        return SimpleNamespace(id="sent")  # as Celery's AsyncResult has

    monkeypatch.setattr(app, "send_task", send_task)
    register_tasks(app, settings)
    task = app.tasks[PageFetched.TASK]
    assert task.acks_late is True
    before = sample("nianbao_parser_tasks_total", outcome="ok")
    task(message(key, media_type="text/plain").to_payload())
    assert [(name, queue) for name, _, queue in sent] == [(ReportParsed.TASK, ReportParsed.QUEUE)]
    assert Record.model_validate(sent[0][1][0]["record"]).year.value == 2020
    assert sample("nianbao_parser_tasks_total", outcome="ok") == before + 1


def test_metric_names_and_bounded_codes() -> None:
    names = [metrics.REPORTS_PARSED, metrics.WARNINGS, metrics.PARSE_SECONDS, metrics.TASKS]
    assert all(m._name.startswith("nianbao_parser_") for m in names)
    assert metric_code("cell_missing") == "cell_missing" and metric_code("made-up") == "other"
    assert all(code.islower() and " " not in code for code in WARNING_CODES)


def test_every_warning_the_parser_emits_is_catalogued() -> None:
    package = Path(metrics.__file__).parent
    source = "\n".join(p.read_text(encoding="utf-8") for p in package.rglob("*.py"))
    patterns = (r'\.warn\(\s*"([a-z_]+)"', r'code="([a-z_]+)"', r'warnings\.append\(\(\s*"([a-z_]+)",')
    emitted = {code for pattern in patterns for code in re.findall(pattern, source)}
    assert {"cell_missing", "charset_mismatch", "table_too_large", "generation_inferred"} <= emitted
    assert emitted <= set(WARNING_CODES)


def test_evaluate_corpus_counts_and_renders_mismatches(tmp_path: Path) -> None:
    doc = tmp_path / "x" / "100_quirks.txt"
    doc.parent.mkdir()
    doc.write_bytes(FIXTURE.read_bytes())
    expected = {
        "title": "江城市交通运输局2020年政府信息公开工作年度报告",
        "agency": {"name": "江城市交通运输局"}, "year": {"value": 2020}, "generation": {"value": "gen2019"},
        "metadata": {"index_no": "11420100MB1234567X/2021-00007", "topic": "wrong on purpose",
                     "signature": {"body": "江城市交通运输局", "date": "2021-01-15"}},
        "tables": {"active": {"regulations.new_made": 2, "procurement.amount_wan": 25.1, "fees.delta": 99},
                   "requests": {"new.commercial": None}},
    }
    (doc.parent / "100_quirks.expected.json").write_text(json.dumps(expected, ensure_ascii=False), "utf-8")
    (doc.parent / "101_empty.txt").write_bytes(b"")
    (doc.parent / "101_empty.expected.json").write_text("{}", "utf-8")
    result = evaluate_corpus(tmp_path)
    first, second = result.documents
    assert (first.values_right, first.values_total) == (3, 4)
    assert (first.fields_right, first.fields_total) == (7, 8)
    assert {m.key for m in first.mismatches} == {"tables.active.fees.delta", "metadata.topic",
                                                 "tables.review_litigation"}
    assert second.error is not None and "empty" in second.error
    text = render_eval(result)
    assert "TOTAL" in text and "75.00 %" in text and "expected 99, got -1" in text and "ERROR" in text
    assert not result.perfect


def test_a_page_without_a_title_line_takes_the_listed_title(tmp_path: Path) -> None:
    """A report page with no title in it is stored under the title it was listed with (``title_hint``), never
    with an empty title; the ``title_missing`` warning stays on the record."""
    html = render_html(make_report("gen2021"))
    tables = html[html.index("<table") : html.rindex("</table>") + len("</table>")]
    tables = re.sub(r"[^<>]*年度报告[^<>]*", "", tables)  # no title line anywhere
    untitled = f"<html><head><meta charset='utf-8'></head><body>{tables}</body></html>"
    store = RawStore(tmp_path / "raw")
    key = store.put(untitled.encode())
    bare_result = handle_page_fetched(message(key), store, CollectingPublisher(), ParserSettings())
    bare = Record.model_validate(bare_result.record)
    assert not bare.title and "title_missing" in {w.code for w in bare.warnings}  # the fixture really has no title
    listed = "江城市交通运输局2021年  政府信息公开工作年度报告"
    result = handle_page_fetched(message(key, title_hint=listed), store, CollectingPublisher(), ParserSettings())
    record = Record.model_validate(result.record)
    assert record.title == "江城市交通运输局2021年 政府信息公开工作年度报告"
    assert "title_missing" in {w.code for w in record.warnings}
