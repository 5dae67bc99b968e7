"""The benchmark's output: the table, the verdict lines and the JSON file."""

from __future__ import annotations

import json
import math
import os
import platform
from pathlib import Path
from typing import Any

from bench.crawler.measure import RunFigures

TARGET_PCT = 90.0
DEFINITIONS = {
    "seconds": "start signal (all drivers ready and released together) to the end of the last driver's work",
    "pct_of_capacity": "req_per_s / (hosts × per-host limit); n requests to a host need only n-1 spacings, "
    "so a perfect run reaches n/(n-1) × 100 % (104 % for 25 requests per host)",
    "floor_s": "(most requests to one host - 1) × spacing: the least time the limit allows",
    "worst_host_rate": "most requests that reached one host within any 1-second window [t, t+1)",
    "min_gap_s": "smallest gap between two request arrivals at one host (kernel receive timestamps)",
    "client_min_gap_s": "smallest gap between two request starts to one host as the crawler recorded them "
    "(nianbao: limiter grant returned; Scrapy: download handler called)",
    "delivery_ms": "least and most time from that recorded start to the arrival at the server",
    "first_request_s": "mean and max over hosts of start signal -> first request arrival",
}


def print_table(rows: list[RunFigures], *, min_delay_s: float) -> None:
    if not rows:
        print("no run completed")
        return
    limit = 1.0 / min_delay_s
    header = (
        "crawler",
        "procs×threads",
        "hosts",
        "sites done",
        "requests",
        "seconds",
        "req/s",
        "% of hosts×limit",
        "worst host rate (req in any 1 s)",
        "min gap (s)",
    )
    lines = []
    for r in rows:
        shape = f"{r.processes}×{r.threads_per_process}" if r.crawler.startswith("nianbao") else "1 (twisted)"
        gap = "n/a" if math.isinf(r.min_gap_s) else f"{r.min_gap_s:.3f}"
        lines.append(
            (
                r.crawler,
                shape,
                str(r.hosts),
                f"{r.sites_complete}/{r.hosts}",
                str(r.requests),
                f"{r.seconds:.1f}",
                f"{r.req_per_s:.2f}",
                f"{r.pct_of_capacity:.1f}",
                f"{r.worst_host_rate} (limit {limit:g})",
                gap,
            )
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for line in lines:
        print(" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))


def verdicts(rows: list[RunFigures], *, min_delay_s: float) -> list[str]:
    limit = 1.0 / min_delay_s
    scrapy = next((r for r in rows if r.crawler == "scrapy"), None)
    out = []
    for r in rows:
        nianbao = r.crawler.startswith("nianbao")
        name = f"{r.crawler} {r.processes}×{r.threads_per_process}" if nianbao else "scrapy"
        checks = [
            f"{'ok' if r.pct_of_capacity >= TARGET_PCT else 'MISS'} ≥{TARGET_PCT:g}% of capacity",
            f"{'ok' if r.worst_host_rate <= limit else 'OVER'} per-host limit "
            f"({r.gaps_below_limit} gap(s) < {min_delay_s:g}s, min {r.min_gap_s:.4f}s)",
        ]
        if nianbao and scrapy is not None:
            checks.append(
                f"{'ok' if r.req_per_s >= scrapy.req_per_s else 'BELOW'} vs scrapy "
                f"({r.req_per_s / scrapy.req_per_s * 100:.1f}% of its req/s)"
                if scrapy.req_per_s
                else "scrapy made no requests"
            )
        checks.append(
            "complete"
            if r.complete
            else f"INCOMPLETE (missing {r.missing}, duplicates {r.duplicates}, unexpected {r.unexpected}, "
            f"{len(r.errors)} error(s))"
        )
        if r.client_min_gap_s is not None and r.delivery_ms is not None:
            checks.append(
                f"request starts (crawler side) ≥ {r.client_min_gap_s:.4f}s apart, start→arrival "
                f"{r.delivery_ms[0]:.1f}–{r.delivery_ms[1]:.1f} ms"
            )
        checks.append(
            f"first request {r.first_request_s[0]:.2f}s after the start on average "
            f"(at most {r.first_request_s[1]:.2f}s); floor {r.floor_s:.0f}s, "
            f"server span {r.server_span_s:.1f}s"
        )
        out.append(f"{name}: " + "; ".join(checks))
        out += [f"    error: {e.splitlines()[0] if e else e}" for e in r.errors[:3]]
    return out


def write_json(path: Path, rows: list[RunFigures], *, config: dict[str, Any], elapsed_s: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "benchmark": "crawler throughput under a per-host limit",
        "config": {**config, "target_pct": TARGET_PCT},
        "definitions": DEFINITIONS,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "elapsed_s": elapsed_s,
        "runs": [r.as_json() for r in rows],
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
