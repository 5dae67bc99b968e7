"""Durable, content-addressed store for raw page bytes.

The key of a blob is the SHA-256 of its bytes, so storing the same page twice is a no-op and a key
names exactly one content forever. Files live at ``<root>/<k[:2]>/<k[2:4]>/<k>``; writes go to a temporary
file in the same directory and are renamed into place, so a reader never sees a half-written blob and
several worker processes can write the same key concurrently.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class RawStoreError(Exception):
    """A key is malformed or names no stored blob."""


def content_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RawStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise RawStoreError(f"not a raw-store key (64 lowercase hex characters): {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its key. Idempotent."""
        key = content_key(data)
        path = self._path(key)
        if path.exists():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise RawStoreError(f"no raw page stored under {key} (looked in {path})") from None

    def exists(self, key: str) -> bool:
        return self._path(key).exists()
