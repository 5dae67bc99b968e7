"""Hostile and broken inputs: the parser returns a record (with warnings) or refuses with UnusableInput,
within bounded time and memory, and never raises anything else."""

from __future__ import annotations

import random
import time
import tracemalloc
from collections.abc import Callable

import pytest

from nianbao.parser.errors import UnusableInput
from nianbao.parser.extract import parse_bytes
from nianbao.parser.settings import ParserSettings
from nianbao.shared.record import Record

from .builders import make_report, render_html


def bounded(call: Callable[[], Record], *, seconds: float, megabytes: float = 400) -> Record | UnusableInput:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome: Record | UnusableInput = call()
    except UnusableInput as exc:
        outcome = exc
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f}s"
    assert peak < megabytes * 2**20, f"peak {peak / 2**20:.0f} MiB"
    return outcome


def test_empty_and_blank_inputs_are_refused() -> None:
    for data in (b"", b"   ", b"\n\n"):
        with pytest.raises(UnusableInput, match="empty"):
            parse_bytes(data)


@pytest.mark.parametrize("seed", range(6))
def test_random_bytes(seed: int) -> None:
    data = random.Random(seed).randbytes(200_000)
    outcome = bounded(lambda: parse_bytes(data), seconds=5)
    assert isinstance(outcome, UnusableInput | Record)


@pytest.mark.parametrize("media_type", ["text/html", None])
def test_random_bytes_in_an_html_wrapper(media_type: str | None) -> None:
    noise = random.Random(7).randbytes(50_000)
    outcome = bounded(lambda: parse_bytes(b"<html><body><table><tr><td>" + noise, media_type=media_type),
                      seconds=5)
    assert isinstance(outcome, UnusableInput | Record)


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.55, 0.8, 0.97])
def test_truncated_html_still_gives_a_record(fraction: float) -> None:
    page = render_html(make_report("gen2019", seed=2)).encode()
    cut = page[: int(len(page) * fraction)]
    record = bounded(lambda: parse_bytes(cut, media_type="text/html"), seconds=5)
    assert isinstance(record, Record)
    if fraction >= 0.97:
        assert record.tables["requests"]["new.total"] is not None


def test_fifty_megabyte_page_is_refused_quickly() -> None:
    unit = "<p>政府信息公开</p>".encode()
    page = b"<html><body>" + unit * (50 * 2**20 // len(unit) + 1) + b"</body></html>"
    assert len(page) > 50 * 2**20 - 100
    outcome = bounded(lambda: parse_bytes(page), seconds=5, megabytes=200)
    assert isinstance(outcome, UnusableInput) and outcome.reason == "too_large"


def test_large_page_under_the_limit_is_parsed() -> None:
    report = make_report("gen2021", seed=3)
    report.prose_paragraphs = 8000  # ~3 MB of prose
    page = render_html(report).encode()
    record = bounded(lambda: parse_bytes(page, media_type="text/html"), seconds=20, megabytes=600)
    assert isinstance(record, Record) and record.tables["requests"] == report.values["requests"]


def test_hundred_thousand_nested_block_tags_are_refused_quickly() -> None:
    page = b"<html><body>" + b"<div>" * 100_000 + b"x" + b"</div>" * 100_000 + b"</body></html>"
    outcome = bounded(lambda: parse_bytes(page), seconds=3)
    assert isinstance(outcome, UnusableInput) and outcome.reason == "too_deep"


def test_hundred_thousand_nested_inline_tags_are_parsed() -> None:
    page = b"<html><body><p>" + b"<span>" * 100_000 + "一、总体情况".encode() + b"</span>" * 100_000 + b"</p>"
    outcome = bounded(lambda: parse_bytes(page), seconds=10)
    assert isinstance(outcome, Record)


def test_ten_thousand_column_table_is_skipped_with_a_warning() -> None:
    row = "<tr>" + "<td>1</td>" * 10_000 + "</tr>"
    page = f"<html><body><p>三、收到和处理政府信息公开申请情况</p><table>{row * 3}</table></body></html>".encode()
    record = bounded(lambda: parse_bytes(page), seconds=5)
    assert isinstance(record, Record)
    assert "table_too_large" in {w.code for w in record.warnings}


def test_huge_spans_are_clamped() -> None:
    page = ('<html><body><table><tr><td rowspan="99999999" colspan="99999999">申请人情况</td></tr>'
            '<tr><td colspan="-5">1</td></tr></table></body></html>').encode()
    record = bounded(lambda: parse_bytes(page), seconds=3)
    assert isinstance(record, Record)


@pytest.mark.parametrize(
    ("encoding", "http_charset"),
    [("gbk", "utf-8"), ("utf-8", "gb2312"), ("big5", None), ("utf-16-le", None), ("gb18030", "iso-8859-1"),
     ("utf-8", "no-such-charset")],
)
def test_wrong_or_unusual_encodings(encoding: str, http_charset: str | None) -> None:
    page = render_html(make_report("gen2019", seed=1)).encode(encoding, errors="replace")
    outcome = bounded(lambda: parse_bytes(page, media_type="text/html", http_charset=http_charset), seconds=5)
    assert isinstance(outcome, UnusableInput | Record)
    if encoding in ("gbk", "utf-8", "gb18030"):
        assert isinstance(outcome, Record) and outcome.tables["requests"]["new.total"] is not None


def test_time_budget_skips_optional_stages() -> None:
    page = render_html(make_report("gen2019", seed=1)).encode()
    record = parse_bytes(page, settings=ParserSettings(time_budget_s=1e-9))
    assert "time_budget_exceeded" in {w.code for w in record.warnings}
    assert record.tables == {}


def test_damaged_documents_are_refused_and_unreadable_formats_recorded() -> None:
    for data in (b"%PDF-1.7 ...", b"PK\x03\x04..."):  # a PDF and a DOCX that are only their magic bytes
        with pytest.raises(UnusableInput) as refused:
            parse_bytes(data)
        assert refused.value.reason == "corrupt", refused.value
    image = parse_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    assert image.tables == {}
    assert [w.code for w in image.warnings if w.code == "unsupported_format"] == ["unsupported_format"]
