"""Helpers importable by every test module (``tests/`` is on pytest's pythonpath)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpus"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def skip_or_fail(reason: str) -> None:
    """Skip locally; under CI a missing server is an error, never a silent skip."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so this may not be skipped: {reason}")
    pytest.skip(reason)


def task_args(raw: bytes) -> list[object]:
    """The positional arguments of one raw Celery message as kombu's Redis transport stores it: a JSON
    envelope whose body is base64 and, when its headers say so, zstd- or zlib-compressed (nianbao compresses
    all, with zstd since round 12; zlib before)."""
    import base64
    import json

    from nianbao.shared.compression import decompress

    envelope = json.loads(raw)
    body = base64.b64decode(envelope["body"])
    compression = envelope["headers"].get("compression")
    if compression is not None:
        body = decompress(body, compression)
    args = json.loads(body)[0]
    assert isinstance(args, list)
    return args


def zstd_bomb(size: int, *, declared: bool = True) -> bytes:
    """One zstd frame of ``size`` zero bytes (a few KB for hundreds of MB), written in steps, never held
    whole; its size in the frame's header (as nianbao writes frames) or not (as a streaming writer may)."""
    import io

    import zstandard

    out = io.BytesIO()
    compressor = zstandard.ZstdCompressor(level=1, write_content_size=declared)
    with compressor.stream_writer(out, size=size if declared else -1, closefd=False) as writer:
        step = bytes(1024 * 1024)
        for _ in range(size // len(step)):
            writer.write(step)
    return out.getvalue()


# Redis database numbers the tests may use: away from db 0 (a developer's stack) and db 15 (the benchmarks).
TEST_REDIS_DBS = range(9, 15)
_CLAIM_KEY = "nianbao-tests:db:{}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_redis_db(claims: Any, dbs: range = TEST_REDIS_DBS, pid: int | None = None) -> int | None:
    """A database number for this test process alone, claimed in ``claims`` (a client of db 0) with one key
    per number holding the claimer's pid: two test runs at once (a developer's and CI's on one machine) no
    longer flush each other's database. A claim whose process is gone is taken over. None when every
    number is held by a live process."""
    me = os.getpid() if pid is None else pid
    for db in dbs:
        key = _CLAIM_KEY.format(db)
        if claims.set(key, me, nx=True, ex=86400):
            return db
        holder = claims.get(key)
        holder_pid = int(holder) if holder is not None and holder.isdigit() else None
        if holder_pid == me:
            return db
        if holder_pid is None or not _pid_alive(holder_pid):
            claims.set(key, me, ex=86400)
            return db
    return None


def release_redis_db(claims: Any, db: int, pid: int | None = None) -> None:
    key = _CLAIM_KEY.format(db)
    holder = claims.get(key)
    if holder is not None and holder.isdigit() and int(holder) == (os.getpid() if pid is None else pid):
        claims.delete(key)
