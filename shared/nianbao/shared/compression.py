"""Compression of task message bodies: written with zstd at level 1, read as zstd or zlib, both bounded.

Bodies are compressed for Redis' memory: a ``ReportParsed`` body is ~60 KB of JSON, and the Redis transport
keeps it as base64 inside a JSON envelope, so one waiting report takes ~80 KB of Redis' memory uncompressed
and ~10 KB compressed (``tests/app/test_queue_messages.py``).

zstd instead of zlib (both at level 1) because every report's body is compressed once and decompressed
twice (the validator's consumer, then its child): for a record's 58 KB, 0.04 instead of 0.15 ms to compress
and 0.017 instead of 0.06 ms to decompress, for a body 5 % larger (``bench/pipeline``, README "Performance").
The compressor and decompressor are kept per thread: creating them costs about as much as a small body.

Both decoders refuse (``BodyTooLarge``, a ``ValueError``) a body that would inflate beyond ``limit``
(``MAX_BODY_BYTES``): a 6 KB zstd frame can declare and hold 200 MB of zeros. zstd frames written here carry
their size, so such a frame is refused before anything is allocated; a frame without it (another writer) is
inflated in small steps and refused when it passes the limit. Truncated, foreign or trailing bytes raise
``zstandard.ZstdError`` or ``zlib.error``. A worker's consumer hands either to Celery's decode-error path,
where the message is recorded, not lost (``nianbao.shared.unrunnable``).
"""

from __future__ import annotations

import threading
import zlib

import zstandard
from kombu.compression import register as register_compression

# What the message headers name: kombu's own content types (kombu registers zstd under this one when the
# ``backports.zstd`` package is installed), so a stock kombu reads what nianbao writes and the reverse.
MESSAGE_COMPRESSION = "zstd"
ZSTD_CONTENT_TYPE = "application/zstd"
ZLIB_CONTENT_TYPE = "application/x-gzip"  # bodies written before zstd (and kombu's "zlib")
ZSTD_LEVEL = 1

# The most a body may inflate to: a record's body is ~60 KB, and the parser refuses pages far below this.
MAX_BODY_BYTES = 64 * 1024 * 1024
_FEED = 256  # compressed bytes fed at a time to inflate a frame without a declared size


class BodyTooLarge(ValueError):
    """A compressed body that inflates beyond the limit (a decompression bomb, or not a nianbao message)."""


_contexts = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    found: zstandard.ZstdCompressor | None = getattr(_contexts, "compressor", None)
    if found is None:
        found = _contexts.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    return found


def _decompressor() -> zstandard.ZstdDecompressor:
    found: zstandard.ZstdDecompressor | None = getattr(_contexts, "decompressor", None)
    if found is None:
        found = _contexts.decompressor = zstandard.ZstdDecompressor()
    return found


def compress_zstd(body: bytes) -> bytes:
    """One zstd frame holding ``body``, its size declared in the frame's header."""
    return _compressor().compress(body)


def decompress_zstd(body: bytes, limit: int = MAX_BODY_BYTES) -> bytes:
    """The one zstd frame ``body`` holds, inflated; at most ``limit`` bytes, nothing after the frame."""
    declared = zstandard.frame_content_size(body)  # ZstdError when body is no zstd frame
    if declared > limit:
        raise BodyTooLarge(f"message body declares {declared} bytes inflated, more than {limit}")
    if declared >= 0:
        data: bytes = _decompressor().decompress(body, allow_extra_data=False)
        return data
    # No size declared: fed in small steps, so what one step inflates stays small (zstd's blocks hold at most
    # 128 KB, and a block takes at least 3 bytes: _FEED bytes inflate to at most ~11 MB).
    inflater = _decompressor().decompressobj()
    parts: list[bytes] = []
    total = 0
    for start in range(0, len(body), _FEED):
        part = inflater.decompress(body[start : start + _FEED])
        total += len(part)
        if total > limit:
            raise BodyTooLarge(f"message body inflates beyond {limit} bytes")
        parts.append(part)
        if inflater.eof:
            if start + _FEED < len(body) or inflater.unused_data:
                raise zstandard.ZstdError("bytes after the zstd frame")
            break
    if not inflater.eof:
        raise zstandard.ZstdError("message body truncated: the zstd frame does not end")
    return b"".join(parts)


def decompress_zlib(body: bytes, limit: int = MAX_BODY_BYTES) -> bytes:
    """A zlib stream inflated, at most ``limit`` bytes; a truncated stream raises ``zlib.error``."""
    inflater = zlib.decompressobj()
    data = inflater.decompress(body, limit)
    if inflater.unconsumed_tail:
        raise BodyTooLarge(f"message body inflates beyond {limit} bytes")
    if not inflater.eof:
        raise zlib.error("message body truncated: the zlib stream does not end")
    return data


def decompress(body: bytes, content_type: str, limit: int = MAX_BODY_BYTES) -> bytes:
    """A body compressed as ``content_type`` says (zstd or zlib), inflated. Any body that does not inflate
    (another compression, truncated, foreign bytes, beyond ``limit``) is a ValueError."""
    try:
        if content_type == ZSTD_CONTENT_TYPE:
            return decompress_zstd(body, limit)
        if content_type == ZLIB_CONTENT_TYPE:
            return decompress_zlib(body, limit)
    except (zstandard.ZstdError, zlib.error) as exc:
        raise ValueError(f"message body does not inflate as {content_type}: {exc}") from exc
    raise ValueError(f"unknown message compression {content_type!r}")


def register() -> None:
    """Make kombu write ``zstd`` bodies with :func:`compress_zstd` and read zstd and zlib bodies with the
    bounded decoders (zlib is still written at kombu's default level by anyone who asks for it)."""
    register_compression(  # type: ignore[no-untyped-call]
        compress_zstd, decompress_zstd, ZSTD_CONTENT_TYPE, aliases=["zstd", "zstandard"]
    )
    register_compression(  # type: ignore[no-untyped-call]
        zlib.compress, decompress_zlib, ZLIB_CONTENT_TYPE, aliases=["gzip", "zlib"]
    )
