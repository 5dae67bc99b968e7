"""Celery wiring shared by every worker and by the CLI that enqueues work.

JSON only, late acknowledgement (a task is acked after it ran, so a killed worker's task is redelivered),
one prefetched task per process, results ignored (state lives in the database).
"""

from __future__ import annotations

import random

from celery import Celery

from nianbao.shared.contracts import QUEUES, TASK_ROUTES

# Redis re-delivers an unacknowledged task after this many seconds; it must exceed the longest task.
VISIBILITY_TIMEOUT_S = 3600


def make_celery(name: str, broker_url: str) -> Celery:
    app = Celery(name, broker=broker_url)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_routes=TASK_ROUTES,
        task_default_queue=QUEUES[0],
        task_create_missing_queues=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
        worker_hijack_root_logger=False,
        worker_send_task_events=True,
        task_send_sent_event=True,
        enable_utc=True,
    )
    return app


def backoff_delay(retries: int, base_s: float, cap_s: float) -> float:
    """Exponential back-off with full jitter: uniform in [0, min(cap, base·2^retries)]."""
    ceiling = min(cap_s, base_s * (2**retries))
    return random.uniform(base_s / 2, max(base_s / 2, ceiling))
