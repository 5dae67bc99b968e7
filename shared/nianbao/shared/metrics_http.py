"""Prometheus endpoint for worker processes, correct under Celery's prefork pool.

A prefork worker runs tasks in several child processes; each child's counters would be invisible to an
endpoint in the parent. prometheus_client's multiprocess mode solves this: every process writes its
samples to mmap files in ``PROMETHEUS_MULTIPROC_DIR`` and the endpoint aggregates them. The directory
must be set before ``prometheus_client`` is first imported, which is why :func:`enable_multiprocess`
takes no prometheus import and the worker command calls it first.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def enable_multiprocess(directory: Path) -> None:
    """Start from an empty sample directory (stale files would add old counts) and export it."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def start_metrics_server(port: int, host: str) -> None:
    """Serve /metrics on host:port, aggregating every process when multiprocess mode is on."""
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        start_http_server(port, addr=host, registry=registry)
    else:
        start_http_server(port, addr=host, registry=REGISTRY)


def mark_process_dead(pid: int) -> None:
    """Tell the aggregator a child exited so its live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
