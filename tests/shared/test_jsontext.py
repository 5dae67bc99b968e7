"""JSON text of stored data: orjson's output where it can, the standard library's where orjson refuses, and
the same JSON either way (read back by the standard library, as the database layer reads it)."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest

from nianbao.shared.jsontext import dumps, dumps_bytes, pg_json, pg_json_text


def test_text_reads_back_as_the_value() -> None:
    value = {"title": "示例县2023年政府信息公开工作年度报告", "n": [0, -1, 2.5, None, True], "nested": {"a": []}}
    text = dumps(value)
    assert json.loads(text) == value
    assert "示例县" in text  # written as is, not as \\u escapes


def test_integers_beyond_64_bits_are_written_exactly() -> None:
    # orjson refuses them; the standard library writes them digit for digit (a record may hold one).
    for big in (2**64, -(2**63) - 1, 10**30):
        assert json.loads(dumps({"v": big})) == {"v": big}


def test_the_standard_library_writes_the_rest_of_the_text_as_orjson_does() -> None:
    # A stored text is compared as text first (store._same_json): the writer must not change the spacing.
    value = {"title": "示例县", "n": [0, -1, 2.5, None, True], "nested": {"a": [], "b": {"c": "d"}}}
    assert dumps({**value, "big": 2**64}) == dumps(value)[:-1] + ',"big":18446744073709551616}'


def test_keys_that_are_not_strings_are_written_as_json_writes_them() -> None:
    assert json.loads(dumps({1: "a", 2: "b"})) == json.loads(json.dumps({1: "a", 2: "b"}))


def test_non_finite_floats_become_null() -> None:
    assert json.loads(dumps([math.nan, math.inf, -math.inf, 1.5])) == [None, None, None, 1.5]


def test_types_json_cannot_write_still_fail() -> None:
    with pytest.raises(TypeError):
        dumps({"v": Decimal("1.5")})
    with pytest.raises(TypeError):
        dumps({"v": object()})


def test_twenty_thousand_rows_round_trip() -> None:
    rows = [{"rule": "requests.balance", "cells": ["requests.a", "requests.b"], "message": "差" * 40}] * 20_000
    assert len(json.loads(dumps(rows))) == 20_000


@pytest.mark.parametrize(
    "value",
    [
        {"title": "示例县", "n": [0, -1, 2.5, None, True]},
        {1: "a", "b": {2: [3]}},  # keys that are not strings: orjson's second try
        {"v": 2**64, "t": "示例县"},  # beyond 64 bits: the standard library's
        [],
    ],
    ids=["plain", "non-str keys", "big int", "empty"],
)
def test_bytes_are_the_text_encoded(value: object) -> None:
    assert dumps_bytes(value) == dumps(value).encode()


def test_json_parameters_reach_postgresql_as_the_same_text(postgres_url: str) -> None:
    """pg_json and pg_json_text send the bytes as a ``json`` parameter: PostgreSQL keeps that text as it is."""
    import psycopg

    values = [{"title": "示例县", "n": [1, 2.5, None]}, [{"i": 0, "v": 2**64}], {1: "a"}]
    with psycopg.connect(postgres_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        for value in values:
            row = conn.execute("SELECT CAST(%s AS json)::text, pg_typeof(%s)::text", (pg_json(value), pg_json(value)))
            assert row.fetchone() == (dumps(value), "json")
        joined = b"[" + b",".join(dumps_bytes(v) for v in values) + b"]"
        row = conn.execute("SELECT json_array_length(CAST(%s AS json)), CAST(%s AS json)::text",
                           (pg_json_text(joined), pg_json_text(joined)))  # fmt: skip
        assert row.fetchone() == (3, joined.decode())
