"""The parser worker's batches (``handlers.parse_batch``, ``NIANBAO_PARSE_BATCH_SIZE``): each page of a batch
parsed and published as alone; a page the batch cannot do answers False (the worker then runs it alone,
where its failure is recorded and counted), and is not counted here, so every page is counted once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from prometheus_client import REGISTRY

from nianbao.parser.errors import UnusableInput
from nianbao.parser.handlers import handle_page_fetched, parse_batch
from nianbao.parser.settings import ParserSettings
from nianbao.parser.tasks import register_tasks
from nianbao.shared.bus import CollectingPublisher
from nianbao.shared.contracts import PageFetched, ReportParsed
from nianbao.shared.errors import PermanentError
from nianbao.shared.rawstore import RawStore

from .builders import make_report, render_html


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _page(key: str, name: str) -> dict[str, Any]:
    url = f"https://www.jiangcheng.gov.cn/{name}.html"
    return PageFetched(site_id="jiangcheng", url=url, final_url=url, raw_key=key, content_sha256=key).to_payload()


def _counts() -> dict[str, float]:
    return {
        "ok": _sample("nianbao_parser_tasks_total", outcome="ok"),
        "blob_missing": _sample("nianbao_parser_reports_parsed_total", generation="unknown", outcome="blob_missing"),
        "unusable": _sample("nianbao_parser_reports_parsed_total", generation="unknown", outcome="unusable"),
        "documents_unusable": sum(
            _sample("nianbao_parser_documents_total", format=f, outcome="unusable") for f in ("html", "text", "pdf")
        ),
        "seconds": _sample("nianbao_parser_parse_seconds_count"),
    }


def test_a_batch_publishes_its_pages_and_hands_back_the_rest(tmp_path: Path) -> None:
    store = RawStore(tmp_path / "raw")
    good = [store.put(render_html(make_report(g)).encode()) for g in ("gen2019", "gen2021")]
    unusable = store.put(b"\x00\x01\x02 not a page " * 10)
    payloads: list[Any] = [
        _page(good[0], "a"),
        None,  # a body that did not read
        {"site_id": "jiangcheng", "url": "https://www.jiangcheng.gov.cn/x.html"},  # not a PageFetched
        _page("0" * 64, "missing"),  # its blob is not in the store
        _page(unusable, "unusable"),
        _page(good[1], "b"),
    ]
    publisher = CollectingPublisher()
    before = _counts()
    assert parse_batch(payloads, store, publisher, ParserSettings()) == [True, False, False, False, False, True]
    assert [m.url for m in publisher.messages] == ["https://www.jiangcheng.gov.cn/a.html",
                                                   "https://www.jiangcheng.gov.cn/b.html"]  # fmt: skip
    assert all(isinstance(m, ReportParsed) for m in publisher.messages)
    after = _counts()
    # Only the two published pages are counted: the others are counted when they run alone.
    assert after == {**before, "ok": before["ok"] + 2, "seconds": before["seconds"] + 2}


def test_a_page_counts_the_same_in_a_batch_as_alone(tmp_path: Path) -> None:
    """A failed page counted by the batch and again alone would count twice: the batch leaves it out."""
    store = RawStore(tmp_path / "raw")
    unusable = store.put(b"\x00\x01\x02 not a page " * 10)
    settings = ParserSettings()
    before = _counts()
    assert parse_batch([_page(unusable, "u"), _page("0" * 64, "m")], store, CollectingPublisher(), settings) == [
        False,
        False,
    ]
    assert _counts() == before
    for payload in (_page(unusable, "u"), _page("0" * 64, "m")):  # what running alone then counts, once
        with pytest.raises((UnusableInput, PermanentError)):
            handle_page_fetched(PageFetched.model_validate(payload), store, CollectingPublisher(), settings)
    after = _counts()
    assert after["unusable"] == before["unusable"] + 1 and after["blob_missing"] == before["blob_missing"] + 1
    assert after["documents_unusable"] == before["documents_unusable"] + 1


def test_the_task_is_batched_unless_the_batch_size_is_one() -> None:
    batched, alone = Celery("t1"), Celery("t2")
    register_tasks(batched, ParserSettings(parse_batch_size=5, parse_batch_wait_ms=20))
    register_tasks(alone, ParserSettings(parse_batch_size=1))
    task = batched.tasks[PageFetched.TASK]
    assert task.Strategy == "nianbao.shared.batching:strategy"
    assert (task.batch_size, task.batch_wait_s) == (5, 0.02)
    assert batched.conf.worker_prefetch_multiplier == 5  # a child's batch is filled from what the worker holds
    assert alone.tasks[PageFetched.TASK].Strategy == "celery.worker.strategy:default"
