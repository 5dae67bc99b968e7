"""Queue depth and age, read from the Redis broker at scrape time (served by the admin API's /metrics).

Celery's Redis transport keeps each queue as a list: producers LPUSH, workers BRPOP, so the oldest
waiting message is the last element. Its age comes from the message's ``sent_at`` field (every
nianbao message carries one). Messages taken by a worker but not yet acknowledged are not in the list;
they are counted from the transport's ``unacked`` hash, and the oldest one's age comes from the
``unacked_index`` sorted set (scored by delivery time). A live worker holds a message at most the task
time limit plus the longest retry countdown (840 s by default); older ones belong to a dead worker and
wait for the visibility timeout (see README "Reliability").
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from nianbao.shared.compression import decompress
from nianbao.shared.contracts import QUEUES

# A message body this reader decompresses at most (a ReportParsed body is ~60 KB): a bomb in the queue costs
# a scrape this much, no more. Below the workers' own limit (compression.MAX_BODY_BYTES): a scrape runs often.
MAX_BODY_BYTES = 16 * 1024 * 1024


def oldest_age_seconds(raw: bytes | None, now: datetime) -> float | None:
    """Age of one raw kombu message from its first argument's ``sent_at``; None if it has none (or is
    not a message this reader understands: a foreign compression, a body past ``MAX_BODY_BYTES``)."""
    if not raw:
        return None
    try:
        envelope = json.loads(raw)
        body = envelope["body"]
        if envelope.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        compression = (envelope.get("headers") or {}).get("compression")
        if compression is not None:
            if isinstance(body, str):
                body = body.encode("latin-1")
            body = decompress(body, compression, MAX_BODY_BYTES)
        args = json.loads(body)[0]
        sent_at = datetime.fromisoformat(str(args[0]["sent_at"]).replace("Z", "+00:00"))
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return max(0.0, (now - sent_at).total_seconds())


class QueueCollector(Collector):
    """Prometheus collector over the broker's queues (bounded label: the three service queues)."""

    def __init__(self, redis_client: Any) -> None:
        self.redis = redis_client

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("nianbao_queue_depth", "Messages waiting in a service queue.", labels=["queue"])
        age = GaugeMetricFamily(
            "nianbao_queue_oldest_age_seconds", "Age of the oldest waiting message (0 when empty).", labels=["queue"]
        )
        up = GaugeMetricFamily("nianbao_broker_up", "1 when the broker answered this scrape.")
        now = datetime.now(UTC)
        try:
            for queue in QUEUES:
                depth.add_metric([queue], float(self.redis.llen(queue)))
                age.add_metric([queue], oldest_age_seconds(self.redis.lindex(queue, -1), now) or 0.0)
            unacked = float(self.redis.hlen("unacked"))
            oldest = self.redis.zrange("unacked_index", 0, 0, withscores=True)
            up.add_metric([], 1.0)
        except Exception:  # the broker being down is itself the signal
            up.add_metric([], 0.0)
            yield up
            return
        unacked_family = GaugeMetricFamily(
            "nianbao_queue_unacked", "Messages delivered to workers and not yet acknowledged (all queues)."
        )
        unacked_family.add_metric([], unacked)
        unacked_age = GaugeMetricFamily(
            "nianbao_queue_unacked_oldest_age_seconds",
            "Time since the oldest unacknowledged message was delivered to a worker (0 when none).",
        )
        unacked_age.add_metric([], max(0.0, now.timestamp() - float(oldest[0][1])) if oldest else 0.0)
        yield depth
        yield age
        yield unacked_family
        yield unacked_age
        yield up
