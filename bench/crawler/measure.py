"""Figures of one benchmark run, computed from the farm's request log (what the servers saw).

Per host: the smallest gap between two request arrivals and the most requests that arrived in any
window of ``window_s`` seconds (half-open, ``[t, t + window_s)``: with a limit of one request per second
and gaps of at least one second, that is 1). Over the run: requests, requests per second and the share
of the farm's capacity (hosts × per-host limit) used, plus whether every host got exactly the pages a
complete crawl asks for.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bench.crawler.farm import Arrival


@dataclass(frozen=True)
class HostFigures:
    host: str
    requests: int
    min_gap_s: float  # inf with fewer than two requests
    max_in_window: int
    first_at: float
    last_at: float


@dataclass(frozen=True)
class RunFigures:
    crawler: str  # "nianbao", "nianbao (sequential)" or "scrapy"
    processes: int
    threads_per_process: int
    hosts: int
    requests: int
    seconds: float  # from the start signal to the end of the last driver's work
    req_per_s: float
    pct_of_capacity: float  # req_per_s / (hosts × limit), in percent
    floor_s: float  # the least time the limit allows: (most requests to one host − 1) / limit
    worst_host_rate: int  # most requests to one host in any 1-second window
    min_gap_s: float
    gaps_below_limit: int  # arrival gaps shorter than 1/limit, all hosts together
    server_span_s: float  # first arrival to last response written, at the servers
    first_request_s: tuple[float, float]  # mean and max over hosts of start signal -> first arrival
    client_min_gap_s: float | None  # smallest gap between two request starts to one host, crawler side
    delivery_ms: tuple[float, float] | None  # least and most time from request start to arrival
    sites_complete: int  # hosts that got every expected path
    complete: bool  # every host got exactly the expected paths, each once
    missing: int
    duplicates: int
    unexpected: int
    errors: list[str]

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        if math.isinf(self.min_gap_s):
            data["min_gap_s"] = None
        return data


def max_in_window(times: list[float], window_s: float) -> int:
    """Most of the sorted ``times`` inside any half-open window of ``window_s`` seconds."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window_s:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def host_figures(host: str, arrivals: Iterable[Arrival], *, window_s: float) -> HostFigures:
    times = sorted(a.at for a in arrivals)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return HostFigures(
        host,
        len(times),
        min(gaps, default=math.inf),
        max_in_window(times, window_s),
        times[0] if times else math.nan,
        times[-1] if times else math.nan,
    )


def run_figures(
    *,
    crawler: str,
    processes: int,
    threads: int,
    arrivals: list[Arrival],
    expected: Mapping[str, set[str]],
    limit_per_s: float,
    started_at: float,
    finished_at: float,
    errors: list[str],
    client_starts: Mapping[str, list[float]] | None = None,
) -> RunFigures:
    """``expected`` maps each host address to the paths a complete crawl fetches; ``client_starts``
    (host -> times) are the request starts the crawler recorded, when it did."""
    window = 1.0 / limit_per_s
    by_host: dict[str, list[Arrival]] = defaultdict(list)
    for arrival in arrivals:
        by_host[arrival.host].append(arrival)
    per_host = [host_figures(h, by_host.get(h, []), window_s=window) for h in expected]
    missing = duplicates = unexpected = sites_complete = 0
    for host, paths in expected.items():
        seen = Counter(a.path for a in by_host.get(host, []))
        missing += len(paths - set(seen))
        sites_complete += paths <= set(seen)
        unexpected += sum(n for p, n in seen.items() if p not in paths)
        duplicates += sum(n - 1 for p, n in seen.items() if p in paths and n > 1)
    unexpected += sum(len(v) for h, v in by_host.items() if h not in expected)
    gaps_below = 0
    for host in expected:
        times = sorted(a.at for a in by_host.get(host, []))
        gaps_below += sum(1 for a, b in itertools.pairwise(times) if b - a < window)
    seconds = finished_at - started_at
    requests = len(arrivals)
    rate = requests / seconds if seconds > 0 else 0.0
    most = max((f.requests for f in per_host), default=0)
    span = (max(a.done for a in arrivals) - min(a.at for a in arrivals)) if arrivals else 0.0
    firsts = [f.first_at - started_at for f in per_host if f.requests]
    first = (sum(firsts) / len(firsts), max(firsts)) if firsts else (math.nan, math.nan)
    client_gap, delivery = _client_side(client_starts, by_host) if client_starts is not None else (None, None)
    return RunFigures(
        crawler=crawler,
        processes=processes,
        threads_per_process=threads,
        hosts=len(expected),
        requests=requests,
        seconds=seconds,
        req_per_s=rate,
        pct_of_capacity=100.0 * rate / (len(expected) * limit_per_s),
        floor_s=max(0, most - 1) * window,
        worst_host_rate=max((f.max_in_window for f in per_host), default=0),
        min_gap_s=min((f.min_gap_s for f in per_host), default=math.inf),
        gaps_below_limit=gaps_below,
        server_span_s=span,
        first_request_s=first,
        client_min_gap_s=client_gap,
        delivery_ms=delivery,
        sites_complete=sites_complete,
        complete=missing == duplicates == unexpected == 0 and not errors,
        missing=missing,
        duplicates=duplicates,
        unexpected=unexpected,
        errors=errors,
    )


def _client_side(
    starts: Mapping[str, list[float]], by_host: Mapping[str, list[Arrival]]
) -> tuple[float | None, tuple[float, float] | None]:
    """Smallest start-to-start gap per host as the crawler saw it, and the range of start-to-arrival
    delays (with one request in flight per host, the i-th start is the i-th arrival)."""
    gaps: list[float] = []
    delays: list[float] = []
    for host, times in starts.items():
        ordered = sorted(times)
        gaps += [b - a for a, b in itertools.pairwise(ordered)]
        arrived = sorted(a.at for a in by_host.get(host, []))
        if len(arrived) == len(ordered):
            delays += [b - a for a, b in zip(ordered, arrived, strict=True)]
    return (min(gaps) if gaps else None, (min(delays) * 1000, max(delays) * 1000) if delays else None)
