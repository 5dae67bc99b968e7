"""Benchmark: aggregate crawl throughput under a per-host limit, nianbao (1, 2, 4 processes) vs Scrapy.

A farm of simulated TRS portals (``farm.py``: one loopback address per host, 50–300 ms per response)
is crawled, one configuration after the other, by

* nianbao: N processes (``nianbao_worker.py``), each running the crawler's ``crawl_site`` as it is in a
  pool of threads (all sites in flight: ceil(hosts / N) threads per process) over site ids taken from
  one Redis list, every process sharing the per-host limits through the Redis limiter;
* a sequential reference: one ``crawl_site`` at a time in one process and one thread, time-bounded
  (it takes no new site after 1 s), since it needs about (requests per site) seconds per site;
* Scrapy (``scrapy_worker.py``) with the equivalent per-domain settings.

Per-host limit: one request start per second, no jitter, one request in flight. The farm logs every
request's arrival per host; the figures (``measure.py``) come from that log. Targets: aggregate ≥ 90 %
of hosts × limit, not below Scrapy, and no host ever above the limit.

    uv run --group bench python bench/crawler/bench_crawl.py [--hosts 50] [--pages 4] [--per-page 5]
        [--processes 1,2,4] [--no-scrapy] [--no-sequential] [--postgres-url URL]
        [--json bench/results/crawler.json]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # so that `bench.crawler.*` imports work when run as a script

import redis  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.crawler.drivers import Outcome, run_together  # noqa: E402
from bench.crawler.farm import Farm  # noqa: E402
from bench.crawler.measure import RunFigures, run_figures  # noqa: E402
from bench.crawler.plan import FarmSite, Plan  # noqa: E402
from bench.crawler.report import print_table, verdicts, write_json  # noqa: E402
from nianbao.shared.db import dispose_engines, upgrade  # noqa: E402
from nianbao.shared.settings import normalise_database_url  # noqa: E402


@dataclass(frozen=True)
class Config:
    hosts: int
    pages: int
    per_page: int
    latency_s: tuple[float, float]
    min_delay_s: float
    redis_url: str
    ready_timeout_s: float
    run_timeout_s: float
    postgres_url: str | None = None  # admin URL: each run gets a fresh database there


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=50, help="portals in the farm (default 50)")
    parser.add_argument("--pages", type=int, default=4, help="listing pages per portal (default 4)")
    parser.add_argument("--per-page", type=int, default=5, help="reports per listing page (default 5)")
    parser.add_argument(
        "--latency",
        type=float,
        nargs=2,
        default=(0.05, 0.3),
        metavar=("MIN", "MAX"),
        help="response latency range in seconds (default 0.05 0.3)",
    )
    parser.add_argument("--min-delay", type=float, default=1.0, help="per-host spacing of request starts, s")
    parser.add_argument("--processes", default="1,2,4", help="nianbao process counts to run (default 1,2,4)")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="crawl threads per nianbao process (default: hosts / processes, rounded up)",
    )
    parser.add_argument("--no-scrapy", action="store_true", help="skip the Scrapy baseline")
    parser.add_argument("--no-sequential", action="store_true", help="skip the time-bounded one-site-at-a-time run")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="PostgreSQL admin URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres): every "
        "nianbao run shares a fresh database there, as deployed workers do; "
        "default: a SQLite file per process",
    )
    parser.add_argument("--run-timeout", type=float, default=300.0, help="cap on one run, s (default 300)")
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "crawler.json")
    parser.add_argument("--keep-work-dir", action="store_true", help="keep driver databases and logs")
    return parser.parse_args(argv)


class Bench:
    def __init__(self, config: Config, farm: Farm, work_dir: Path) -> None:
        self.config = config
        self.farm = farm
        self.work_dir = work_dir
        self.redis = redis.Redis.from_url(config.redis_url, socket_timeout=10, socket_connect_timeout=5)
        self.sites = [FarmSite(f"farm-{n + 1:03d}", h.address, h.start_url) for n, h in enumerate(farm.hosts)]
        self.expected = {h.address: h.portal.expected_paths() for h in farm.hosts}

    def _plan(
        self, label: str, *, threads: int, deadline_s: float, database_url: str | None = None
    ) -> tuple[Plan, Path]:
        run_id = f"{label}-{uuid.uuid4().hex[:8]}"
        plan = Plan(
            run_id=run_id,
            sites=self.sites,
            work_dir=str(self.work_dir / run_id),
            min_delay_s=self.config.min_delay_s,
            deadline_s=deadline_s,
            threads=threads,
            redis_url=self.config.redis_url,
            queue_key=f"nianbao:bench:{run_id}:sites",
            limiter_prefix=f"nianbao:bench:{run_id}:host",
            database_url=database_url,
        )
        Path(plan.work_dir).mkdir(parents=True)
        path = Path(plan.work_dir) / "plan.json"
        plan.dump(path)
        return plan, path

    def _figures(self, crawler: str, processes: int, threads: int, outcome: Outcome) -> RunFigures:
        errors = list(outcome.errors)
        starts: dict[str, list[float]] = {}
        for result in outcome.results:
            errors += [str(e) for e in result.get("errors", [])]
            for host, times in result.get("starts", {}).items():
                starts.setdefault(host, []).extend(float(t) for t in times)
        return run_figures(
            crawler=crawler,
            processes=processes,
            threads=threads,
            arrivals=self.farm.arrivals(),
            expected=self.expected,
            limit_per_s=1.0 / self.config.min_delay_s,
            started_at=outcome.go_at,
            finished_at=outcome.finished_at,
            errors=errors,
            client_starts=starts if not outcome.errors else None,
        )

    def nianbao(
        self, processes: int, threads: int, *, label: str, deadline_s: float, crawler: str = "nianbao"
    ) -> RunFigures:
        with fresh_database(self.config.postgres_url) as database_url:
            plan, path = self._plan(label, threads=threads, deadline_s=deadline_s, database_url=database_url)
            self.redis.delete(plan.queue_key)
            self.redis.rpush(plan.queue_key, *[s.id for s in self.sites])
            self.farm.clear()
            try:
                outcome = run_together(
                    [
                        ("bench.crawler.nianbao_worker", ["--plan", str(path), "--index", str(n)])
                        for n in range(processes)
                    ],
                    log_dir=Path(plan.work_dir) / "logs",
                    ready_timeout_s=self.config.ready_timeout_s,
                    run_timeout_s=self.config.run_timeout_s,
                )
            finally:
                self._forget(plan)
        return self._figures(crawler, processes, threads, outcome)

    def scrapy(self) -> RunFigures:
        plan, path = self._plan("scrapy", threads=1, deadline_s=self.config.run_timeout_s - 30)
        self.farm.clear()
        outcome = run_together(
            [("bench.crawler.scrapy_worker", ["--plan", str(path)])],
            log_dir=Path(plan.work_dir) / "logs",
            ready_timeout_s=self.config.ready_timeout_s,
            run_timeout_s=self.config.run_timeout_s,
        )
        return self._figures("scrapy", 1, 1, outcome)

    def _forget(self, plan: Plan) -> None:
        """Delete this run's Redis keys (limiter state, leftover queue)."""
        keys = [plan.queue_key, *self.redis.scan_iter(match=f"{plan.limiter_prefix}:*", count=1000)]
        self.redis.delete(*keys)


@contextmanager
def fresh_database(admin_url: str | None) -> Iterator[str | None]:
    """A new, migrated PostgreSQL database on ``admin_url``'s server for one run, dropped afterwards;
    None (SQLite per driver) without an admin URL."""
    if admin_url is None:
        yield None
        return
    name = f"nianbao_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_database_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(normalise_database_url(admin_url)).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        try:
            yield url
        finally:
            dispose_engines()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = Config(
        hosts=args.hosts,
        pages=args.pages,
        per_page=args.per_page,
        latency_s=tuple(args.latency),
        min_delay_s=args.min_delay,
        redis_url=args.redis_url,
        ready_timeout_s=180.0,
        run_timeout_s=args.run_timeout,
        postgres_url=args.postgres_url,
    )
    try:
        redis.Redis.from_url(config.redis_url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        print(f"Redis at {config.redis_url} is not reachable ({exc}); the shared limiter needs it.", file=sys.stderr)
        return 2
    work_dir = Path(tempfile.mkdtemp(prefix="nianbao-bench-crawl-"))
    rows: list[RunFigures] = []
    failed: list[str] = []
    started = time.monotonic()
    try:
        with Farm(hosts=config.hosts, pages=config.pages, per_page=config.per_page, latency_s=config.latency_s) as farm:
            per_host = len(farm.portals[0].expected_paths())
            print(
                f"farm: {config.hosts} hosts ({farm.hosts[0].address}…{farm.hosts[-1].address}), "
                f"{per_host} requests per host ({config.pages} listing pages, {config.pages * config.per_page} "
                f"reports, robots.txt), latency {config.latency_s[0]:g}–{config.latency_s[1]:g}s; "
                f"limit 1 request / {config.min_delay_s:g}s per host; "
                f"{'kernel' if farm.kernel_timestamps else 'read-time'} arrival stamps; "
                f"{os.cpu_count()} CPU(s)",
                flush=True,
            )
            bench = Bench(config, farm, work_dir)
            for label, run in runs(bench, args, config):
                print(f"run: {label}", flush=True)
                try:
                    rows.append(run())
                except RuntimeError as exc:  # a driver that cannot start: report it, go on with the others
                    failed.append(f"{label}: {exc}")
                    print(f"  failed: {exc}", file=sys.stderr, flush=True)
                if farm.unstamped:
                    print(f"  note: {farm.unstamped} request(s) timed at read, not by the kernel", flush=True)
    finally:
        if not args.keep_work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    print()
    print_table(rows, min_delay_s=config.min_delay_s)
    print()
    for line in verdicts(rows, min_delay_s=config.min_delay_s) + [f"FAILED {f}" for f in failed]:
        print(line)
    write_json(
        args.json,
        rows,
        elapsed_s=time.monotonic() - started,
        config={
            "hosts": config.hosts,
            "pages_per_host": config.pages,
            "reports_per_page": config.per_page,
            "requests_per_host": 1 + config.pages + config.pages * config.per_page,
            "latency_s": list(config.latency_s),
            "min_delay_s": config.min_delay_s,
            "limit_per_host_per_s": 1.0 / config.min_delay_s,
            "jitter_s": 0.0,
            "concurrency_per_host": 1,
            "database": "postgresql (one per run)" if config.postgres_url else "sqlite (one per process)",
        },
    )
    print(f"\nwritten: {args.json}" + (f"; driver work dir kept: {work_dir}" if args.keep_work_dir else ""))
    return 1 if failed else 0


def runs(bench: Bench, args: argparse.Namespace, config: Config) -> list[tuple[str, Callable[[], RunFigures]]]:
    """The runs of this invocation, in order, as (label, thunk)."""
    planned: list[tuple[str, Callable[[], RunFigures]]] = []
    deadline = config.run_timeout_s - 30
    if not args.no_sequential:
        planned.append(
            (
                "nianbao, 1 process × 1 thread: one crawl_site at a time, stops taking sites after 1 s",
                lambda: bench.nianbao(1, 1, label="seq", deadline_s=1.0, crawler="nianbao (sequential)"),
            )
        )
    for processes in [int(p) for p in args.processes.split(",") if p.strip()]:
        threads = args.threads or math.ceil(config.hosts / processes)
        planned.append(
            (
                f"nianbao, {processes} process(es) × {threads} threads",
                partial(bench.nianbao, processes, threads, label=f"p{processes}", deadline_s=deadline),
            )
        )
    if not args.no_scrapy:
        planned.append(("scrapy, 1 process", bench.scrapy))
    return planned


if __name__ == "__main__":
    sys.exit(main())
