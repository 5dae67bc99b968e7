"""Messages as they sit in Redis: compressed (compression.MESSAGE_COMPRESSION), and still read by the queue
metrics (queue_metrics.oldest_age_seconds), which must survive whatever else a queue holds."""

from __future__ import annotations

import base64
import json
import time
import zlib
from datetime import UTC, datetime, timedelta

import redis

from nianbao.app.queue_metrics import MAX_BODY_BYTES, oldest_age_seconds
from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.render.article import report_page
from nianbao.parser.extract import parse_bytes
from nianbao.shared.bus import CeleryPublisher
from nianbao.shared.celery_app import make_celery
from nianbao.shared.compression import compress_zstd
from nianbao.shared.contracts import VALIDATOR_QUEUE, ReportParsed

from support import task_args, zstd_bomb


def _report_parsed() -> ReportParsed:
    """A full-size message: a dev-portal report page parsed as the parser would (three tables)."""
    report = next(r for r in REPORTS if r.encoding == "utf-8" and r.published_as == "html" and r.generation != "legacy")
    url = "http://portal.example.gov.cn/art/1.html"
    record = parse_bytes(report_page(report).encode("utf-8"), url=url, media_type="text/html")
    assert len(record.tables) == 3, record.warnings
    return ReportParsed.of(site_id="dev", url=url, raw_key="c" * 64, record=record)


def test_a_parsed_report_waits_in_redis_compressed_and_its_age_is_read(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    message = _report_parsed()
    CeleryPublisher(make_celery("nianbao-test", redis_url)).publish(message)

    raw = client.lindex(VALIDATOR_QUEUE, -1)
    assert raw is not None
    envelope = json.loads(raw)
    assert envelope["headers"]["compression"] == "application/zstd"
    assert task_args(raw)[0]["record"] == message.record  # the record, whole
    # What Redis keeps per waiting report, against the same message sent uncompressed (as before): measured
    # by Redis itself (MEMORY USAGE of the queue holding that one message).
    compressed = client.memory_usage(VALIDATOR_QUEUE)
    client.delete(VALIDATOR_QUEUE)
    plain_app = make_celery("nianbao-test", redis_url)
    plain_app.conf.task_compression = None
    CeleryPublisher(plain_app).publish(message)
    plain = client.memory_usage(VALIDATOR_QUEUE)
    assert compressed is not None and plain is not None
    assert compressed < plain / 5, (compressed, plain)

    age = oldest_age_seconds(raw, datetime.now(UTC))
    assert age is not None and 0 <= age < 60


def _envelope(body: bytes, compression: str | None) -> bytes:
    headers = {"compression": compression} if compression else {}
    envelope = {"body": base64.b64encode(body).decode(), "headers": headers,
                "properties": {"body_encoding": "base64"}}  # fmt: skip
    return json.dumps(envelope).encode()


def _args(sent_at: datetime) -> bytes:
    return json.dumps([[{"sent_at": sent_at.isoformat()}], {}, {}]).encode()


def test_the_age_of_compressed_and_plain_messages() -> None:
    now = datetime.now(UTC)
    sent = now - timedelta(seconds=42)
    assert oldest_age_seconds(_envelope(_args(sent), None), now) == 42  # a message from before compression
    assert oldest_age_seconds(_envelope(zlib.compress(_args(sent)), "application/x-gzip"), now) == 42  # before zstd
    assert oldest_age_seconds(_envelope(compress_zstd(_args(sent)), "application/zstd"), now) == 42


def test_hostile_compressed_bodies_give_no_age_and_cost_little() -> None:
    now = datetime.now(UTC)
    good = zlib.compress(_args(now))
    bomb = zlib.compress(b"[" * (2 * MAX_BODY_BYTES), 9)  # 32 MB inflated, 32 KB as sent
    cases = {
        "truncated": _envelope(good[: len(good) // 2], "application/x-gzip"),
        "not zlib": _envelope(b"\x00\x01garbage" * 100, "application/x-gzip"),
        "unknown compression": _envelope(good, "application/x-bz2"),
        "bomb": _envelope(bomb, "application/x-gzip"),
        "compression not a string": _envelope(good, "x").replace(b'"x"', b"[1, 2]"),
        "zstd truncated": _envelope(compress_zstd(_args(now))[:-5], "application/zstd"),
        "zstd bomb": _envelope(zstd_bomb(2 * MAX_BODY_BYTES), "application/zstd"),
        "zstd bomb, size not declared": _envelope(zstd_bomb(2 * MAX_BODY_BYTES, declared=False), "application/zstd"),
        "zlib under the zstd type": _envelope(good, "application/zstd"),
    }
    for name, raw in cases.items():
        started = time.perf_counter()
        assert oldest_age_seconds(raw, now) is None, name
        assert time.perf_counter() - started < 2, name  # bounded by MAX_BODY_BYTES, not by the bomb
