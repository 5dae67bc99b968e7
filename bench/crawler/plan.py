"""The run plan handed to driver processes, and the driver side of the start handshake.

The orchestrator writes a :class:`Plan` as JSON and starts each driver with ``--plan FILE``. A driver
gets ready (imports, database, clients), prints ``READY``, waits for ``GO`` on stdin (so every process
of a run starts at the same moment and start-up cost stays out of the figures), crawls, and prints one
``RESULT {json}`` line.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

READY = "READY"
GO = "GO"
RESULT = "RESULT "


@dataclass(frozen=True)
class FarmSite:
    id: str
    address: str
    start_url: str


@dataclass(frozen=True)
class Plan:
    run_id: str
    sites: list[FarmSite]
    work_dir: str  # a driver keeps its database and raw store under work_dir/<driver index>
    min_delay_s: float  # per-host limit: one request start per min_delay_s
    deadline_s: float  # a driver takes no new site after this long
    threads: int = 1
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_key: str = ""  # Redis list of site ids the nianbao drivers share
    limiter_prefix: str = ""  # RedisLimiter key prefix of this run (no state shared with other runs)
    database_url: str | None = None  # one migrated database for all drivers; None = SQLite per driver

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Plan:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["sites"] = [FarmSite(**s) for s in data["sites"]]
        return cls(**data)


def wait_for_go() -> float:
    """Announce readiness and block until the orchestrator says go; returns the start time."""
    print(READY, flush=True)
    line = sys.stdin.readline()
    if line.strip() != GO:
        raise SystemExit(f"expected {GO!r} on stdin, got {line!r}")
    return time.monotonic()


def report(result: dict[str, Any]) -> None:
    print(RESULT + json.dumps(result, ensure_ascii=False), flush=True)
