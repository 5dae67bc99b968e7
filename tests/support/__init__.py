"""Helpers importable by every test module (``tests/`` is on pytest's pythonpath)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

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
    envelope whose body is base64 and, when its headers say so, zlib-compressed (nianbao compresses all)."""
    import base64
    import json
    import zlib

    envelope = json.loads(raw)
    body = base64.b64decode(envelope["body"])
    if envelope["headers"].get("compression") == "application/x-gzip":
        body = zlib.decompress(body)
    args = json.loads(body)[0]
    assert isinstance(args, list)
    return args
