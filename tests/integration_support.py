"""Process management for the integration tests: a Stack of real worker processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, NullPool, create_engine, text

from support import free_port

NIANBAO = str(Path(sys.executable).parent / "nianbao")


@dataclass
class Stack:
    env: dict[str, str]
    data_dir: Path
    metrics_ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([NIANBAO, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(
                f"nianbao {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def start_worker(self, service: str, concurrency: int = 2) -> None:
        port = free_port()
        log = self.data_dir / f"{service}.log"
        fh = log.open("wb")
        self.procs[service] = subprocess.Popen(
            [
                NIANBAO,
                "worker",
                service,
                "--concurrency",
                str(concurrency),
                "--metrics-port",
                str(port),
                "--loglevel",
                "INFO",
            ],
            env=self.env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.metrics_ports[service] = port
        self.logs[service] = log

    def metrics(self, service: str) -> str:
        return httpx.get(f"http://127.0.0.1:{self.metrics_ports[service]}/metrics", timeout=5).text

    def log_tail(self, service: str, lines: int = 60) -> str:
        return "\n".join(self.logs[service].read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        pending = set(self.procs)
        while pending and time.monotonic() < deadline:
            for service in list(pending):
                proc = self.procs[service]
                if proc.poll() is not None:
                    raise AssertionError(f"worker {service} exited {proc.returncode}:\n{self.log_tail(service)}")
                log = self.logs[service].read_text(errors="replace")
                if " ready." in log:
                    pending.discard(service)
            time.sleep(0.2)
        if pending:
            raise AssertionError(
                f"workers not ready in {timeout}s: {pending}\n" + "\n".join(self.log_tail(s) for s in pending)
            )

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def wait_until(predicate: Callable[[], bool], timeout: float, message: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s: {message()}")


def metric_value(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels`` (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        match = re.match(r"^([^{\s]+)(\{(.*)\})?\s+(\S+)$", line)
        if not match or match.group(1) != name:
            continue
        sample_labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(sample_labels.get(k) == v for k, v in labels.items()):
            total += float(match.group(4))
    return total


@contextmanager
def site_gauge_locked(database_url: str) -> Iterator[Connection]:
    """``site_gauge`` locked (EXCLUSIVE) by another connection until the block ends, which it yields: every
    validator transaction that writes a site's gauge waits meanwhile, open, its messages held unacknowledged."""
    blocker = create_engine(database_url, poolclass=NullPool).connect()
    try:
        blocker.execute(text("LOCK TABLE site_gauge IN EXCLUSIVE MODE"))
        yield blocker
    finally:
        blocker.rollback()
        blocker.close()


def publish_raw(app: Any, queue: str, body: Any, *, content_type: str | None, encoding: str | None = "utf-8",
                task: str | None, headers: dict[str, Any] | None = None) -> None:  # fmt: skip
    """One message on ``queue`` with Celery's headers for ``task`` (none when ``task`` is None) and ``body``
    as given: what a broken or foreign producer would send. Sent on a connection of its own, with its queue
    declared first: on a Redis flushed by an earlier test and no worker started yet, a message to an exchange
    with no binding is dropped, and one sent through the process-wide producer pool after such a flush was
    dropped too (seen when this ran after other tests in one process; a fresh connection delivers it)."""
    from kombu import Exchange, Queue

    all_headers = dict(app.amqp.as_task_v2(str(uuid.uuid4()), task, args=[{}]).headers) if task else {}
    all_headers.update(headers or {})
    with app.connection_for_write() as connection:
        producer = connection.Producer()
        Queue(queue, Exchange(queue, type="direct"), routing_key=queue)(producer.channel).declare()
        producer.publish(body, exchange=queue, routing_key=queue, headers=all_headers,
                         serializer=None if content_type else "json", content_type=content_type,
                         content_encoding=encoding)  # fmt: skip
