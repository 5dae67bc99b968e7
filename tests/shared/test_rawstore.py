from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from nianbao.shared.rawstore import RawStore, RawStoreError


def test_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    data = "重庆市2019年政府信息公开工作年度报告".encode("gb18030")
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert store.put(data) == key
    assert store.get(key) == data
    assert (tmp_path / key[:2] / key[2:4] / key).is_file()
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [key]  # no temp files left behind


def test_bad_and_unknown_keys_are_clear_errors(tmp_path: Path) -> None:
    store = RawStore(tmp_path)
    with pytest.raises(RawStoreError, match="not a raw-store key"):
        store.get("../../etc/passwd")
    with pytest.raises(RawStoreError, match="no raw page stored"):
        store.get("0" * 64)
