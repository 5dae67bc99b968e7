"""Message bodies: zstd at level 1 written, zstd and zlib read, both bounded (nianbao.shared.compression)."""

from __future__ import annotations

import threading
import time
import tracemalloc
import zlib

import pytest
import zstandard
from kombu import compression as kombu_compression

from nianbao.shared import compression
from nianbao.shared.celery_app import MESSAGE_COMPRESSION, make_celery, message_json
from nianbao.shared.compression import (
    MAX_BODY_BYTES,
    ZLIB_CONTENT_TYPE,
    ZSTD_CONTENT_TYPE,
    BodyTooLarge,
    compress_zstd,
    decompress,
    decompress_zlib,
    decompress_zstd,
)
from nianbao.shared.settings import CommonSettings

from support import zstd_bomb

BODY = message_json([[{"record": {"title": "示例县人民政府2020年政府信息公开工作年度报告" * 500}}], {}, {}])
UNDECLARED = zstandard.ZstdCompressor(level=3, write_content_size=False).compress(BODY)


def test_the_apps_write_zstd_level_1_under_kombus_own_content_type() -> None:
    app = make_celery("t", "redis://127.0.0.1:6379/0", CommonSettings())
    assert app.conf.task_compression == MESSAGE_COMPRESSION == "zstd"
    packed, content_type = kombu_compression.compress(BODY, MESSAGE_COMPRESSION)
    assert content_type == ZSTD_CONTENT_TYPE == "application/zstd"
    assert packed == zstandard.ZstdCompressor(level=1).compress(BODY)  # level 1, size in the frame's header
    assert zstandard.frame_content_size(packed) == len(BODY)
    assert len(packed) < len(BODY) / 20
    # Any zstd reader reads it (here the library's own one-shot decoder), and kombu's path does too.
    assert zstandard.ZstdDecompressor().decompress(packed) == BODY
    assert kombu_compression.decompress(packed, content_type) == BODY


def test_zlib_bodies_written_before_zstd_are_still_read() -> None:
    """A message waiting in Redis across the upgrade (kombu's zlib, any level) is read as before."""
    make_celery("t", "redis://127.0.0.1:6379/0", CommonSettings())
    for level in (1, 6, 9):
        assert kombu_compression.decompress(zlib.compress(BODY, level), ZLIB_CONTENT_TYPE) == BODY
    packed, content_type = kombu_compression.compress(BODY, "zlib")  # still written when asked for
    assert content_type == ZLIB_CONTENT_TYPE and zlib.decompress(packed) == BODY


def test_a_frame_without_its_size_is_read_too() -> None:
    assert zstandard.frame_content_size(UNDECLARED) == -1
    assert decompress_zstd(UNDECLARED) == BODY
    assert decompress(UNDECLARED, ZSTD_CONTENT_TYPE) == BODY


def test_a_declared_bomb_is_refused_before_anything_is_inflated() -> None:
    bomb = zstd_bomb(MAX_BODY_BYTES + 1024 * 1024)  # 65 MB of zeros in a few KB
    assert len(bomb) < 64 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge, match="declares"):
            decompress_zstd(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024, peak
    with pytest.raises(ValueError):
        kombu_compression.decompress(bomb, ZSTD_CONTENT_TYPE)


def test_an_undeclared_bomb_is_refused_once_it_passes_the_limit() -> None:
    bomb = zstd_bomb(8 * 1024 * 1024, declared=False)
    assert zstandard.frame_content_size(bomb) == -1
    with pytest.raises(BodyTooLarge, match="beyond"):
        decompress_zstd(bomb, limit=2 * 1024 * 1024)
    assert len(decompress_zstd(bomb, limit=8 * 1024 * 1024)) == 8 * 1024 * 1024  # exactly the limit is fine


def test_a_zlib_bomb_is_refused_at_the_limit() -> None:
    bomb = zlib.compress(bytes(8 * 1024 * 1024), 9)
    with pytest.raises(BodyTooLarge):
        decompress_zlib(bomb, limit=1024 * 1024)
    assert len(decompress_zlib(bomb, limit=8 * 1024 * 1024)) == 8 * 1024 * 1024


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(compress_zstd(BODY)[:-7], id="truncated"),
        pytest.param(compress_zstd(BODY)[:4], id="magic only"),
        pytest.param(compress_zstd(BODY) + b"trailing", id="trailing bytes"),
        pytest.param(compress_zstd(BODY) + compress_zstd(BODY), id="two frames"),
        pytest.param(b"\x00\x01garbage" * 100, id="garbage"),
        pytest.param(zlib.compress(BODY), id="zlib under the zstd type"),
        pytest.param(b"", id="empty"),
        pytest.param(UNDECLARED[:-3], id="truncated, size not declared"),
        pytest.param(UNDECLARED + b"trailing", id="trailing bytes, size not declared"),
    ],
)
def test_a_broken_zstd_body_is_an_error_not_a_wrong_body(body: bytes) -> None:
    with pytest.raises((zstandard.ZstdError, ValueError)):
        decompress_zstd(body)
    with pytest.raises(ValueError, match="does not inflate"):
        decompress(body, ZSTD_CONTENT_TYPE)


@pytest.mark.parametrize(
    "body", [zlib.compress(BODY)[:-7], b"\x00\x01garbage" * 100, compress_zstd(BODY), b""], ids=str
)
def test_a_broken_zlib_body_is_an_error(body: bytes) -> None:
    with pytest.raises(ValueError, match="does not inflate"):
        decompress(body, ZLIB_CONTENT_TYPE)


def test_another_compression_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown message compression"):
        decompress(zlib.compress(BODY), "application/x-bz2")


def test_the_cost_of_a_bomb_is_linear_in_the_limit_not_the_bomb() -> None:
    small, large = zstd_bomb(32 * 1024 * 1024, declared=False), zstd_bomb(128 * 1024 * 1024, declared=False)
    for bomb in (small, large):
        started = time.process_time()
        with pytest.raises(BodyTooLarge):
            decompress_zstd(bomb, limit=4 * 1024 * 1024)
        assert time.process_time() - started < 1.0  # reads 4 MB and stops, whatever follows


def test_threads_compress_and_decompress_with_their_own_contexts() -> None:
    """A compressor or decompressor may not be shared by threads at once: each thread gets its own."""
    bodies = [BODY + str(i).encode() * i for i in range(8)]
    errors: list[BaseException] = []

    def work(body: bytes) -> None:
        try:
            for _ in range(200):
                assert decompress_zstd(compress_zstd(body)) == body
        except BaseException as exc:  # reported to the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert compression._compressor() is compression._compressor()  # kept in this thread
