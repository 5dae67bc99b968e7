"""The Celery app every worker and producer builds: task events are the operator's choice (off by default,
they cost each task several Redis publishes), message bodies written by orjson where that reads back the
same as kombu's encoder, everything else as the reliability rules need it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from nianbao.shared.celery_app import make_celery, message_json, message_loads
from nianbao.shared.settings import CommonSettings


def test_task_events_are_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NIANBAO_TASK_EVENTS", raising=False)
    conf = make_celery("t", "redis://127.0.0.1:6379/0", CommonSettings()).conf
    assert conf.worker_send_task_events is False and conf.task_send_sent_event is False
    # What the events setting must not change: late acks, one message per child, requeue on a lost worker.
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1


def test_task_events_on_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIANBAO_TASK_EVENTS", "true")
    conf = make_celery("t", "redis://127.0.0.1:6379/0").conf
    assert conf.worker_send_task_events is True and conf.task_send_sent_event is True


def test_task_events_setting_rejects_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIANBAO_TASK_EVENTS", "sometimes")
    with pytest.raises(ValueError, match="task_events"):
        CommonSettings()


# --- Message bodies: written by orjson where that reads back the same, by kombu's encoder otherwise.


def _read(text: str) -> object:
    from kombu.utils import json as kombu_json

    return kombu_json.loads(text)


@pytest.mark.parametrize(
    "body",
    [
        [
            [{"record": {"title": "示例县人民政府2020年政府信息公开工作年度报告", "n": 1.5, "cells": [None, True]}}],
            {},
            {},
        ],
        [[{"n": 2**64}], {}, {}],  # beyond 64 bits: orjson refuses, kombu writes it exactly
        [[{"at": datetime(2026, 12, 4, 12, 0, tzinfo=UTC)}], {}, {}],  # kombu tags it, reads back a datetime
        [[{"amount": Decimal("1.50")}], {}, {}],
        [[{"nested": [[[[{"deep": "路径"}]]]]}], {"eta": None}, {"callbacks": None, "chain": None}],
    ],
)
def test_message_bodies_read_back_as_with_kombus_own_encoder(body: object) -> None:
    from kombu.utils import json as kombu_json

    assert _read(message_json(body)) == _read(kombu_json.dumps(body))


def test_record_bodies_are_utf8_and_smaller_than_kombus() -> None:
    from kombu.utils import json as kombu_json

    body = [[{"record": {"title": "示例县人民政府2020年政府信息公开工作年度报告" * 50}}], {}, {}]
    ours = message_json(body)
    assert "示例县" in ours.decode() and b"\\u" not in ours
    assert len(ours) < 0.7 * len(kombu_json.dumps(body).encode())


def test_the_apps_json_serializer_is_message_json() -> None:
    from kombu.serialization import dumps, loads

    make_celery("t", "redis://127.0.0.1:6379/0", CommonSettings())
    content_type, encoding, data = dumps([[{"t": "标题"}], {}, {}], serializer="json")
    assert (content_type, encoding) == ("application/json", "utf-8")
    assert isinstance(data, bytes) and "标题" in data.decode()  # bytes: kombu compresses them as they are
    assert loads(data, content_type, encoding) == [[{"t": "标题"}], {}, {}]
    from kombu.serialization import registry

    assert registry._decoders["application/json"] is message_loads


def test_non_finite_numbers_are_written_as_null_as_in_a_records_json() -> None:
    # The one documented difference from kombu's encoder (which wrote NaN, not JSON) that a float can hit.
    assert _read(message_json([[{"v": float("nan"), "w": float("inf"), "x": 1.5}], {}, {}])) == [
        [{"v": None, "w": None, "x": 1.5}],
        {},
        {},
    ]


# --- Message bodies: read by orjson where that is certain to give what kombu's decoder gives.


def _kombu_read(text: str) -> object:
    from kombu.utils import json as kombu_json

    return kombu_json.loads(text)


_TRICKY_BODIES = [
    '[[{"n": 18446744073709551616, "m": -9223372036854775809, "k": 9999999999999999999}], {}, {}]',  # > 64 bits
    '[[{"n": 1234567890123456789, "f": 1e19, "z": -0.0, "t": 5e-324, "p": 0.1, "i": 1}], {}, {}]',
    '[[{"v": NaN, "w": Infinity}], {}, {}]',  # not JSON, but kombu's decoder reads it: so do we
    '[[{"s": "\\ud800 lone surrogate"}], {}, {}]',
    '[[{"at": {"__type__": "datetime", "__value__": "2026-12-04T12:00:00+00:00"}}], {}, {}]',
    '[[{"amount": {"__type__": "decimal", "__value__": "1.50"}}], {}, {}]',
    '[[{"note": "__type__ in a text is no tag", "hash": "ab12345678901234567890cd"}], {}, {}]',
    '[[{"t": "标题", "dup": 1, "dup": 2, "e": "\\u0000"}], {}, {}]',
    "[" * 3000 + "]" * 3000,  # nested beyond orjson's limit
    '[[{"truncated": ',
    "",
]


@pytest.mark.parametrize("body", _TRICKY_BODIES, ids=range(len(_TRICKY_BODIES)))
def test_message_bodies_are_read_as_kombus_decoder_reads_them(body: str) -> None:
    """Same values of the same types (``repr``: 1 is not 1.0, -0.0 keeps its sign, tags become objects), or
    the same exception, from a str or from bytes."""

    def outcome(read: object, data: object) -> str:
        try:
            return repr(read(data))  # type: ignore[operator]
        except Exception as exc:
            return type(exc).__name__

    expected = outcome(_kombu_read, body)
    assert outcome(message_loads, body) == expected
    assert outcome(message_loads, body.encode()) == expected


def test_a_record_body_is_read_without_kombus_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    from kombu.utils import json as kombu_json

    record = {"title": "示例县人民政府2020年政府信息公开工作年度报告", "v": [1, 2.5, None], "sha": "ab" * 32}
    body = message_json([[{"record": record}], {}, {}])
    expected = repr(_kombu_read(body))

    def refuse(_text: object) -> object:
        raise AssertionError("kombu's decoder was used")

    monkeypatch.setattr(kombu_json, "loads", refuse)
    assert repr(message_loads(body)) == expected


# --- kombu's Redis channel: one client per channel and pool (celery_app._conn_or_acquire)


def _count_clients(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    import redis

    made: list[int] = []
    original = redis.Redis.__init__

    def counted(self: object, *args: object, **kwargs: object) -> None:
        made.append(1)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(redis.Redis, "__init__", counted)
    return made


def test_publishing_reuses_one_redis_client(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """kombu built a client (copying redis-py's ~170 response callbacks) for every publish, unacknowledged
    message record and acknowledgement; a channel now keeps one."""
    from nianbao.shared.bus import CeleryPublisher
    from nianbao.shared.contracts import CrawlRequested

    app = make_celery("test-client-reuse", redis_url)
    publisher = CeleryPublisher(app)
    publisher.publish(CrawlRequested(site_id="warm-up"))
    made = _count_clients(monkeypatch)
    for n in range(5):
        publisher.publish(CrawlRequested(site_id=f"site-{n}"))
    assert made == []
    with app.connection_for_read() as conn:
        queued = conn.default_channel.client.llen("crawler")
    assert queued == 6


def test_a_new_pool_gets_a_new_client_and_a_closed_channel_still_fails(redis_url: str) -> None:
    import redis

    app = make_celery("test-client-pool", redis_url)
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as again:
            assert again is first and first.connection_pool is channel.pool
        channel._disconnect_pools()  # as kombu does when the broker connection drops
        with channel.conn_or_acquire() as second:
            assert second is not first and second.connection_pool is channel.pool
            assert second.ping()
        channel._disconnect_pools()
        channel.connection.client = None  # the transport closed (see _patch_kombu_redis_channel)
        with pytest.raises(redis.exceptions.ConnectionError), channel.conn_or_acquire():
            pass
