"""Celery wiring shared by every worker and by the CLI that enqueues work.

JSON only (written and read by orjson where it can: see :func:`message_json` and :func:`message_loads`),
zstd-compressed (see :mod:`nianbao.shared.compression`), late acknowledgement (a task is acked after it ran, so a
killed worker's task is redelivered), one prefetched task per process, results ignored (state lives in the
database).

Timeouts (all from :class:`~nianbao.shared.settings.CommonSettings`, checked to nest there):

* a prefork task gets ``SoftTimeLimitExceeded`` after ``task_soft_time_limit_s`` (570 s; retried like
  any transient error) and is killed after ``task_time_limit_s`` (600 s; its message is requeued);
* a retry waits at most ``task_retry_backoff_max_s`` (240 s) in the worker that received it, unacked;
* so a message is held unacked at most 840 s by a live worker, and Redis redelivers one whose worker
  died after ``broker_visibility_timeout_s`` (900 s), looked for every ``broker_restore_interval_s``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from celery import Celery
from kombu.serialization import register as register_serializer
from kombu.utils import json as kombu_json

from nianbao.shared import compression
from nianbao.shared.contracts import QUEUES, TASK_ROUTES
from nianbao.shared.settings import CommonSettings

MESSAGE_COMPRESSION = compression.MESSAGE_COMPRESSION  # what task_compression names

# What orjson must not write itself, so that kombu's encoder writes it as it always did (kombu tags dates and
# times, which its decoder turns back into objects; orjson would write plain strings).
_ORJSON_PASSTHROUGH = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS
)


def message_json(value: Any) -> bytes:
    """A task message's body as UTF-8 JSON text, for Celery's ``json`` serializer (kombu compresses the
    bytes as they are: a ``str`` cost a decode here and an encode in kombu, 0.04 ms for a record).

    Our bodies are plain JSON data (``Message.to_payload``): orjson writes them, UTF-8 as is, about
    fourteen times faster than kombu's encoder on a record's ~60 KB, and a fifth smaller (no ``\\u``
    escapes for Chinese). What orjson refuses or is told to pass through (dates and times, decimals,
    integers beyond 64 bits, subclasses of str/int/dict/list) goes to kombu's encoder whole, so such a body
    reads back exactly as before. Two differences, both outside what payloads hold: a UUID object is written
    as its string (``to_payload`` writes strings), and NaN or an infinity as ``null``, as pydantic writes a
    record's JSON (kombu's encoder wrote ``NaN``, which is not JSON; a parser's number is never one).
    Read by :func:`message_loads`."""
    try:
        return orjson.dumps(value, option=_ORJSON_PASSTHROUGH)
    except TypeError:
        text: str = kombu_json.dumps(value)  # type: ignore[no-untyped-call]
        return text.encode()


# Digits, each as "0", the rest of a body's bytes as they are: a run of 19 zeros after this translation is a
# run of 19 digits in the body (see message_loads).
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_NINETEEN_DIGITS = b"0" * 19


def message_loads(text: str | bytes) -> Any:
    """A task message's body read back: the same data kombu's decoder returns, read by orjson where that is
    certain to be so (0.4 instead of 1.1 ms for a record's body, in every worker that receives one).

    orjson reads an integer beyond 64 bits as a float (kombu's decoder reads it exactly), and does not turn
    kombu's ``{"__type__": …}`` tags back into dates and decimals. So a body with a run of 19 or more digits
    (an integer that may not fit in 64 bits; rarely, a hash or a long decimal fraction) or with a ``"__type__"``
    key, and one orjson refuses (NaN, a lone surrogate, nesting beyond 1 024), is read by kombu's decoder,
    as before. The test costs ~0.07 ms for a record's body: one pass of ``bytes.translate``."""
    raw = text.encode() if isinstance(text, str) else text
    if _NINETEEN_DIGITS not in raw.translate(_DIGITS_AS_ZERO) and b'"__type__"' not in raw:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return kombu_json.loads(text)  # type: ignore[no-untyped-call]


def _register_message_json() -> None:
    """Make ``json`` bodies go through :func:`message_json` and :func:`message_loads`; same name and content
    type, so a worker with or without them reads what the other wrote."""
    register_serializer(  # type: ignore[no-untyped-call]
        "json", message_json, message_loads, content_type="application/json", content_encoding="utf-8"
    )


def make_celery(name: str, broker_url: str, settings: CommonSettings | None = None) -> Celery:
    """The Celery app of a worker, beat or a producer; timeouts from ``settings`` (default: environment)."""
    _patch_kombu_redis_channel()
    _register_message_json()
    compression.register()
    timeouts = settings if settings is not None else CommonSettings()
    app = Celery(name, broker=broker_url)
    app.conf.update(
        task_serializer="json",
        task_compression=MESSAGE_COMPRESSION,
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_soft_time_limit=timeouts.task_soft_time_limit_s,
        task_time_limit=timeouts.task_time_limit_s,
        worker_prefetch_multiplier=1,
        task_routes=TASK_ROUTES,
        task_default_queue=QUEUES[0],
        task_create_missing_queues=True,
        # A worker never gives up on the broker: it reconnects with back-off for as long as Redis is away.
        broker_connection_retry_on_startup=True,
        broker_connection_retry=True,
        broker_connection_max_retries=None,
        broker_transport_options={
            "visibility_timeout": timeouts.broker_visibility_timeout_s,
            # kombu's default sweep runs every 10 s x 10 (throttle): make the interval the only knob.
            "unacked_restore_interval": timeouts.broker_restore_interval_s,
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 5,
            "socket_keepalive": True,
        },
        # Publishing (a message handed on, a retry) rides out a broker restart of about half a minute before
        # the task fails; see taskrunner for what happens to the message then.
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": 10,
            "interval_start": 0.5,
            "interval_step": 1.0,
            "interval_max": 5.0,
        },
        worker_hijack_root_logger=False,
        # Task events cost every task several Redis publishes (measured: a third of a validator parent's CPU);
        # the dashboards read Prometheus, and Flower turns worker events on by itself when it runs.
        worker_send_task_events=timeouts.task_events,
        task_send_sent_event=timeouts.task_events,
        enable_utc=True,
    )
    return app


def backoff_delay(retries: int, base_s: float, cap_s: float) -> float:
    """Exponential back-off with full jitter: uniform in [0, min(cap, base·2^retries)]."""
    ceiling = min(cap_s, base_s * (2**retries))
    return random.uniform(base_s / 2, max(base_s / 2, ceiling))


_patched = False


def _patch_kombu_redis_channel() -> None:
    """Two changes to kombu's Redis channel: a closed channel fails with a connection error, as kombu's
    callers expect (below), and one client serves a channel's calls (:func:`_conn_or_acquire`).

    kombu 5.7.0 (the latest release; celery 5.7.0): when the broker connection drops, the Redis transport
    closes its channels and ``Connection._do_close_transport`` sets ``transport.client = None``. A task
    that was running meanwhile is acked (or rejected) afterwards through its message's *old* channel:
    ``QoS.ack`` → ``Channel.conn_or_acquire`` → ``Channel.pool`` → ``Channel._connparams`` reads
    ``self.connection.client.hostname`` and raises ``AttributeError("'NoneType' object has no attribute
    'hostname'")``. Celery's ``ack_log_error`` only catches the transport's connection errors, so the
    AttributeError reaches the worker's event loop: "Unrecoverable error", and the worker exits (code 0).
    Raised as ``redis.ConnectionError`` instead, the ack is logged as failed and the message stays in
    Redis' ``unacked`` hash, to be redelivered after the visibility timeout (tasks are idempotent).
    """
    global _patched
    if _patched:
        return
    import redis
    from kombu.transport import redis as kombu_redis

    original: Callable[..., Any] = kombu_redis.Channel._connparams

    def _connparams(self: Any, asynchronous: bool = False) -> Any:
        transport = getattr(self, "connection", None)
        if transport is None or getattr(transport, "client", None) is None:
            raise redis.exceptions.ConnectionError("broker channel closed (connection was lost)")
        return original(self, asynchronous=asynchronous)

    setattr(kombu_redis.Channel, "_connparams", _connparams)  # noqa: B010  (a method replaced on purpose)
    setattr(kombu_redis.Channel, "conn_or_acquire", _conn_or_acquire)  # noqa: B010
    _patched = True


@contextmanager
def _conn_or_acquire(self: Any, client: Any = None) -> Iterator[Any]:
    """kombu's ``Channel.conn_or_acquire``, with one ``redis.Redis`` client per channel and pool instead of one
    per call.

    kombu 5.7.0 builds a new client for every publish, every record of an unacknowledged message and every
    acknowledgement (five a report across the parser's child and the two workers' parents), and redis-py
    copies its ~170 response callbacks into each: 0.06 ms a client on this project's 2-core machine (README,
    Performance, round 11). A client holds no connection of its own (each command takes one from the pool),
    so one serves every call; a new pool (after a disconnect) gets a new client, and a closed channel still
    fails in ``self.pool`` (see :func:`_patch_kombu_redis_channel`)."""
    if client:
        yield client
        return
    pool = self.pool
    cached = self.__dict__.get("_nianbao_client")
    if cached is None or cached.connection_pool is not pool:
        cached = self._create_client()
        self.__dict__["_nianbao_client"] = cached
    yield cached
