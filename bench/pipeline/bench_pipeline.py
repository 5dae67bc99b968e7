"""Benchmark: N reports through parse → validate → store on PostgreSQL, in process and through workers.

Reports are generated from the corpus seeds (../shared/corpus/seeds; the devportal's synthetic reports
when the corpus is absent): report i is seed i mod k with its agency renamed (one of a few hundred
invented names) and every count in its tables shifted by a small pseudo-random amount, so values,
findings and agencies vary. All reports belong to one site, so a cost that grows with the site's size
shows as a last-10 % ms/report above the first-10 % one (the flatness ratio).

Each mode runs on a fresh PostgreSQL database created for it and dropped afterwards:

* ``inprocess``: the embedded run's bus in this process (``InProcessBus`` as ``nianbao run`` builds it): each
  report parsed, then validated and stored by an ``OverlappedStore`` (its write and commit run while the
  next page is parsed); reports/s per stage and end to end, ms/report of the first and last 10 % of reports
  (median of each tenth), peak RSS of this process.
* ``inprocess-sequential``: the same with ``handle_report_parsed`` storing each report before the next
  page is parsed (what the bus did before the overlap): the ratio of the two is the overlap's gain.
* ``flatness``: n reports stored into an empty site, the site then grown by ``--grow`` reports (server-side
  copies of those n, with their values, findings and history: minutes instead of the hours the pipeline
  would take; then VACUUM ANALYZE and a CHECKPOINT), then n more reports stored; median ms/report of the
  second batch over the first is the cost of site size (the target: within 1.2 at 100 000).
* ``reparse``: ``nianbao reparse`` (``nianbao.app.maintenance.reparse``) over ``--reparse`` stored reports.
* ``workers``: real Redis and worker processes (``nianbao worker parser`` and ``nianbao worker validator``,
  prefork), ``PageFetched`` messages published for every report; reports/s per stage and end to end
  from the workers' own task counters (polled once a second), ms/report of the first and last 10 % of
  stored reports (from the completion timeline: each report's ``created_at``), peak RSS (VmHWM) of every
  worker process, and where the CPU went: ms per report of each worker's parent and children and of the
  local PostgreSQL and Redis servers (from /proc, over the timed run), and the bound that total puts on
  reports/s on this machine's cores.

The machine is shared: the load average is printed with the figures. Ratios are measured in one run.

    uv run python bench/pipeline/bench_pipeline.py [--reports 1000]
        [--modes inprocess,inprocess-sequential,reparse,workers]
        [--grow 100000 (flatness mode)]
        [--reparse 600] [--parser-concurrency 1] [--validator-concurrency 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CORPUS_SEEDS = REPO.parent / "shared" / "corpus" / "seeds"
# Where the benches create (and drop) their databases: the tests' PostgreSQL unless told otherwise.
ADMIN_URL = os.environ.get("NIANBAO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NIANBAO = str(Path(sys.executable).parent / "nianbao")

# Invented place names (two characters each) combined with the seed agency's kind of office.
_PLACE_CHARS = "东西南北安平和宁兴华长永清丰泰新德明光高昌盛阳山江河湖海云林川"
_NUMBER = re.compile(r"(?<![\d.])(\d{1,4})(?![\d.])")
_HTML_CELL = re.compile(r">\s*(\d{1,4})\s*<")


# --- generated reports ---------------------------------------------------------------------------------


def load_seeds() -> list[tuple[bytes, str, str]]:
    """(bytes, media type, agency name as written) of every seed."""
    seeds: list[tuple[bytes, str, str]] = []
    if CORPUS_SEEDS.is_dir():
        for path in sorted(CORPUS_SEEDS.glob("*.txt")):
            expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
            seeds.append((path.read_bytes(), "text/plain", expected["agency"]["name"]))
    if seeds:
        return seeds
    from nianbao.devportal.catalogue import REPORTS
    from nianbao.devportal.render.article import report_page

    for report in REPORTS:  # only without the corpus: the HTML pages the dev portal serves
        if report.encoding == "utf-8" and report.published_as == "html":
            seeds.append((report_page(report).encode("utf-8"), "text/html", report.agency))
    if not seeds:
        raise SystemExit("no seeds: neither ../shared/corpus/seeds nor the devportal reports were found")
    return seeds


def place_name(i: int) -> str:
    """An invented county, different for every i below 30⁴ (810 000): ``东西南北县``."""
    chars = []
    for _ in range(4):
        i, digit = divmod(i, len(_PLACE_CHARS))
        chars.append(_PLACE_CHARS[digit])
    return "".join(chars) + "县"


def generate(i: int, seeds: list[tuple[bytes, str, str]]) -> tuple[bytes, str]:
    """Report ``i``: a seed with its agency's place renamed (one agency per report, as a site of many
    agencies) and its table counts shifted (deterministic in i)."""
    data, media_type, agency = seeds[i % len(seeds)]
    place = re.match(r"^.*?[省市县区]", agency)
    # The place, wherever it is written (some seeds name the agency only by place: 重庆市2019年…).
    text = data.decode("utf-8").replace(place.group(0) if place else agency, place_name(i))
    rng = random.Random(i)
    if media_type == "text/html":  # table cells: <td …>12</td>
        text = _HTML_CELL.sub(lambda m: f">{_shift(m.group(1), rng)}<", text)
        return text.encode("utf-8"), media_type
    lines = []
    for line in text.split("\n"):
        if "|" in line:  # a table row: shift its small counts, keep years (4 digits ≥ 1900) and money
            line = _NUMBER.sub(lambda m: _shift(m.group(1), rng), line)
        lines.append(line)
    return "\n".join(lines).encode("utf-8"), media_type


def _shift(number: str, rng: random.Random) -> str:
    value = int(number)
    if value >= 1900:
        return number
    return str(value + rng.choice((0, 0, 1, 2, 3)))


# --- infrastructure ------------------------------------------------------------------------------------


@contextmanager
def fresh_database(admin_url: str, label: str) -> Iterator[str]:
    """A new PostgreSQL database at the Alembic head, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from nianbao.shared.db import dispose_engines, upgrade

    name = f"nianbao_bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        # The previous mode's writes (and its dropped database) leave dirty pages that the checkpointer would
        # write out during this mode's timed run: each mode starts from a clean buffer pool instead.
        with admin.connect() as conn:
            try:
                conn.execute(text("CHECKPOINT"))
            except Exception as exc:  # needs superuser or pg_checkpoint: measure anyway, and say so
                print(f"  no CHECKPOINT before {label} ({type(exc).__name__})", file=sys.stderr)
        yield url
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} cores"


def tenths(ms: list[float]) -> tuple[float, float, float]:
    """(median ms of the first 10 %, of the last 10 %, last/first)."""
    n = max(1, len(ms) // 10)
    first, last = statistics.median(ms[:n]), statistics.median(ms[-n:])
    return first, last, last / first if first else float("nan")


def self_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reference_parse_ms(seeds: list[tuple[bytes, str, str]], rounds: int = 5) -> float:
    """This machine's speed at this moment: the median CPU ms of parsing one seed (the parser alone, in this
    process), the fastest of ``rounds`` rounds over the seeds. The code being the same, figures of runs on
    different machines or moments compare after dividing by it (printed since round 11)."""
    from nianbao.parser.extract import parse_bytes
    from nianbao.parser.settings import ParserSettings

    settings = ParserSettings()
    pages = [generate(i, seeds) for i in range(len(seeds))]
    best: list[float] = []
    for _ in range(rounds):
        times = []
        for data, media_type in pages:
            started = time.process_time()
            parse_bytes(data, url="https://bench.gov.cn/reference.html", media_type=media_type, settings=settings)
            times.append((time.process_time() - started) * 1000)
        best.append(statistics.median(times))
    return min(best)


# --- modes ---------------------------------------------------------------------------------------------


def store_reports(n: int, seeds: list[tuple[bytes, str, str]], raw_dir: Path) -> list[Any]:
    """Write the n generated reports to the raw store; their ``PageFetched`` messages."""
    from nianbao.shared.contracts import PageFetched
    from nianbao.shared.rawstore import RawStore

    store = RawStore(raw_dir)
    messages = []
    for i in range(n):
        data, media_type = generate(i, seeds)
        key = store.put(data)
        url = f"http://bench.example.gov.cn/reports/{i:06d}.html"
        messages.append(PageFetched(site_id="bench", url=url, final_url=url, raw_key=key, content_sha256=key,
                                    media_type=media_type, title_hint=None))  # fmt: skip
    return messages


def _timed_pipeline(
    messages: list[Any], raw_dir: Path, parser_settings: Any, validator_settings: Any, *, overlapped: bool = True
) -> tuple[list[float], list[float], int]:
    """The messages through the embedded run's bus (``InProcessBus``, as ``nianbao run`` builds it: each page
    parsed, then its record validated and stored); (parse ms, validate+store ms, failures) per report.

    ``overlapped``: records go to an ``OverlappedStore``, as in ``nianbao run`` (a report's write and commit
    run while the next page is parsed; its validate+store time is ``submit``'s: the check, and the wait for
    the previous report's commit); otherwise to ``handle_report_parsed``, one transaction at a time."""
    from nianbao.app.embedded import InProcessBus
    from nianbao.parser.handlers import handle_page_fetched
    from nianbao.shared.contracts import PageFetched, ReportParsed
    from nianbao.shared.rawstore import RawStore
    from nianbao.validator.handlers import handle_report_parsed
    from nianbao.validator.overlap import Done, OverlappedStore

    store = RawStore(raw_dir)
    bus = InProcessBus(validator_settings)
    parse_ms: list[float] = []
    store_ms: list[float] = []

    def parse(message: PageFetched) -> Any:
        started = time.perf_counter()
        parsed = handle_page_fetched(message, store, bus, parser_settings)
        parse_ms.append((time.perf_counter() - started) * 1000)
        return parsed

    class TimedStore(OverlappedStore):
        def submit(self, message: ReportParsed, done: Done) -> None:
            started = time.perf_counter()
            super().submit(message, done)
            store_ms.append((time.perf_counter() - started) * 1000)

    def validate_and_store(message: ReportParsed) -> Any:
        started = time.perf_counter()
        try:
            return handle_report_parsed(message, validator_settings)
        finally:
            store_ms.append((time.perf_counter() - started) * 1000)

    bus.register(PageFetched, parse)
    if overlapped:
        bus.store_reports_with(TimedStore(validator_settings))
    else:
        bus.register(ReportParsed, validate_and_store)
    for message in messages:
        bus.publish(message)
    stats = bus.drain()
    for line in stats.failures:
        print(f"  {line}", file=sys.stderr)
    return parse_ms, store_ms, len(stats.failures)


def run_inprocess(
    n: int, seeds: list[tuple[bytes, str, str]], admin_url: str, *, overlapped: bool = True
) -> dict[str, Any]:
    from nianbao.parser.settings import ParserSettings
    from nianbao.validator.settings import ValidatorSettings

    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp, fresh_database(admin_url, "inproc") as url:
        messages = store_reports(n, seeds, Path(tmp) / "raw")
        parser_settings = ParserSettings(data_dir=Path(tmp), database_url=url)
        validator_settings = ValidatorSettings(data_dir=Path(tmp), database_url=url)
        server_started = _server_cpu_s(_POSTGRES)
        started = time.perf_counter()
        cpu_started = time.process_time()
        parse_ms, store_ms, failures = _timed_pipeline(
            messages, Path(tmp) / "raw", parser_settings, validator_settings, overlapped=overlapped
        )
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        server = _server_cpu_s(_POSTGRES) - server_started
    total = [p + s for p, s in zip(parse_ms, store_ms, strict=True)]
    first, last, ratio = tenths(total)
    s_first, s_last, s_ratio = tenths(store_ms)
    return {
        "reports": len(total),
        "failures": failures,
        "parse_per_s": 1000 / statistics.mean(parse_ms),
        "validate_store_per_s": 1000 / statistics.mean(store_ms),
        "end_to_end_per_s": len(total) / elapsed,
        # This process's CPU (parse, rules, SQL building), then the database server's for the same reports
        # (from /proc: every local PostgreSQL process, so other work on the machine counts too). Their sum is
        # the work itself with no transport: no way of spreading it over processes needs less CPU per report.
        "client_cpu_ms_per_report": cpu / max(1, len(total)) * 1000,
        "postgresql_cpu_ms_per_report": server / max(1, len(total)) * 1000,
        "work_cpu_ms_per_report": (cpu + server) / max(1, len(total)) * 1000,
        "work_bound_per_s": (os.cpu_count() or 1) * len(total) / (cpu + server) if cpu + server else float("nan"),
        "parse_ms_median": statistics.median(parse_ms),
        "validate_store_ms_median": statistics.median(store_ms),
        "validate_store_ms_p90": statistics.quantiles(store_ms, n=10)[-1] if len(store_ms) > 1 else store_ms[0],
        "first10_ms": first,
        "last10_ms": last,
        "flatness": ratio,
        "store_first10_ms": s_first,
        "store_last10_ms": s_last,
        "store_flatness": s_ratio,
        "peak_rss_mb": self_peak_rss_mb(),
        "load": load(),
    }


# One statement per chunk: copies of the template reports (new url, agency and raw key), with their values,
# findings and history rows, mapped to their template by url. The templates are the reports stored by the
# first timed batch; copies are not visible to the statement's own reads, so only templates are copied.
_PREFILL = """
WITH templates AS (
    SELECT * FROM report WHERE site_id = :site AND url NOT LIKE '%#copy-%'
), copies AS (
    INSERT INTO report (site_id, url, raw_key, content_sha256, title, agency, year, generation, index_no,
                        publish_date, parser_version, rules_version, blank_policy, record, passed, passed_count,
                        failing_errors, failing_warnings, created_at, updated_at)
    SELECT t.site_id, t.url || '#copy-' || g, md5(t.raw_key || g), md5(t.content_sha256 || g), t.title,
           t.agency || '#' || g, t.year, t.generation, t.index_no, t.publish_date, t.parser_version,
           t.rules_version, t.blank_policy, t.record, t.passed, t.passed_count, t.failing_errors, t.failing_warnings,
           now(), now()
    FROM templates t CROSS JOIN generate_series(CAST(:first AS int), CAST(:last AS int)) AS g
    RETURNING id, url, content_sha256, raw_key, parser_version, rules_version
), pairs AS (
    SELECT c.id AS copy_id, t.id AS template_id, c.content_sha256, c.raw_key, c.parser_version, c.rules_version
    FROM copies c JOIN templates t ON t.url = split_part(c.url, '#copy-', 1)
), copied_values AS (
    INSERT INTO report_value (report_id, table_name, key, value, status, raw, unit)
    SELECT p.copy_id, v.table_name, v.key, v.value, v.status, v.raw, v.unit
    FROM pairs p JOIN report_value v ON v.report_id = p.template_id
), copied_versions AS (
    INSERT INTO report_version (report_id, content_sha256, raw_key, parser_version, rules_version, failing,
                                created_at)
    SELECT p.copy_id, p.content_sha256, p.raw_key, p.parser_version, p.rules_version, CAST('[]' AS json), now()
    FROM pairs p
)
INSERT INTO finding (report_id, rule, location, severity, status, lhs, rhs, delta, cells, message,
                     rule_version, created_at, updated_at)
SELECT p.copy_id, f.rule, f.location, f.severity, f.status, f.lhs, f.rhs, f.delta, f.cells, f.message,
       f.rule_version, now(), now()
FROM pairs p JOIN finding f ON f.report_id = p.template_id
"""


def prefill(url: str, site_id: str, templates: int, reports: int, chunk: int = 2000) -> float:
    """Grow ``site_id`` by ``reports`` copies of its ``templates`` stored reports, server-side, in chunks
    of about ``chunk`` reports (one transaction each); then recount its gauges. Seconds taken."""
    from sqlalchemy import create_engine, text
    from sqlmodel import Session

    from nianbao.validator.store import recount_site_gauges

    engine = create_engine(url)
    started = time.perf_counter()
    rounds = -(-reports // templates)  # each round copies every template once
    per_chunk = max(1, chunk // templates)
    for first in range(1, rounds + 1, per_chunk):
        last = min(rounds, first + per_chunk - 1)
        with engine.begin() as conn:
            conn.execute(text(_PREFILL), {"site": site_id, "first": first, "last": last})
        done = last * templates
        print(f"  prefill: {done} of {rounds * templates} copies, {time.perf_counter() - started:.0f} s",
              file=sys.stderr)  # fmt: skip
    # VACUUM as well as ANALYZE: 100 000 copies inserted at once cross autovacuum's insert threshold, and its
    # vacuum of ~17 M value rows would otherwise run during the timed second batch (a real site grows slowly
    # enough for autovacuum to keep up). VACUUM cannot run in a transaction. Then a CHECKPOINT: the prefill and
    # the vacuum leave gigabytes of dirty pages, which the checkpointer would otherwise be writing out during
    # the timed batch (a site that grows over months has them written long before).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        try:
            conn.execute(text("CHECKPOINT"))
        except Exception as exc:  # needs superuser or pg_checkpoint: measure anyway, and say so
            print(f"  prefill: no CHECKPOINT ({type(exc).__name__}); the grown batch may overlap its writes",
                  file=sys.stderr)  # fmt: skip
    with Session(engine) as session:
        recount_site_gauges(session, site_id)
        session.commit()
    engine.dispose()
    return time.perf_counter() - started


def run_flatness(n: int, grow: int, seeds: list[tuple[bytes, str, str]], admin_url: str) -> dict[str, Any]:
    """ms/report of n reports stored into an empty site, then of n more after the site has grown by
    ``grow`` reports (server-side copies of the first n, see :func:`prefill`): the last/first ratio is
    the cost of site size, measured without pushing ``grow`` reports through the pipeline one by one."""
    from sqlalchemy import create_engine, text

    from nianbao.parser.settings import ParserSettings
    from nianbao.validator.settings import ValidatorSettings

    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp, fresh_database(admin_url, "flat") as url:
        messages = store_reports(2 * n, seeds, Path(tmp) / "raw")
        parser_settings = ParserSettings(data_dir=Path(tmp), database_url=url)
        validator_settings = ValidatorSettings(data_dir=Path(tmp), database_url=url)
        raw = Path(tmp) / "raw"
        parse_a, store_a, failures_a = _timed_pipeline(messages[:n], raw, parser_settings, validator_settings)
        prefill_s = prefill(url, "bench", len(store_a), grow)
        parse_b, store_b, failures_b = _timed_pipeline(messages[n:], raw, parser_settings, validator_settings)
        engine = create_engine(url)
        with engine.connect() as conn:
            reports = conn.execute(text("SELECT count(*) FROM report")).scalar_one()
            values = conn.execute(text("SELECT count(*) FROM report_value")).scalar_one()
            size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar_one()
        engine.dispose()
    total_a = [p + s for p, s in zip(parse_a, store_a, strict=True)]
    total_b = [p + s for p, s in zip(parse_b, store_b, strict=True)]
    return {
        "reports_per_batch": n,
        "failures": failures_a + failures_b,
        "site_reports_at_end": reports,
        "value_rows_at_end": values,
        "database_size": size,
        "prefill_s": prefill_s,
        "empty_site_ms": statistics.median(total_a),
        "grown_site_ms": statistics.median(total_b),
        "flatness": statistics.median(total_b) / statistics.median(total_a),
        "empty_site_store_ms": statistics.median(store_a),
        "grown_site_store_ms": statistics.median(store_b),
        "store_flatness": statistics.median(store_b) / statistics.median(store_a),
        "load": load(),
    }


def run_reparse(n: int, seeds: list[tuple[bytes, str, str]], admin_url: str) -> dict[str, Any]:
    """Store n reports (in process), then time ``reparse`` over them (every one is parsed and validated
    again; none changes)."""
    from nianbao.app.embedded import InProcessBus
    from nianbao.app.maintenance import reparse

    try:
        from nianbao.app.maintenance import default_processes
    except ImportError:  # the code before issue 12 (for a before/after run with it on PYTHONPATH)

        def default_processes(database_url: str) -> int:
            return 1

    from nianbao.parser.handlers import handle_page_fetched
    from nianbao.parser.settings import ParserSettings
    from nianbao.shared.contracts import PageFetched, ReportParsed
    from nianbao.shared.rawstore import RawStore
    from nianbao.validator.handlers import handle_report_parsed
    from nianbao.validator.settings import ValidatorSettings

    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp, fresh_database(admin_url, "reparse") as url:
        messages = store_reports(n, seeds, Path(tmp) / "raw")
        with environment({"NIANBAO_DATA_DIR": tmp, "NIANBAO_DATABASE_URL": url}):
            parser_settings, validator_settings = ParserSettings(), ValidatorSettings()
            store = RawStore(Path(tmp) / "raw")
            bus = InProcessBus(validator_settings)
            bus.register(PageFetched, lambda m: handle_page_fetched(m, store, bus, parser_settings))
            bus.register(ReportParsed, lambda m: handle_report_parsed(m, validator_settings))
            for message in messages:
                bus.publish(message)
            bus.drain()
            lines: list[str] = []
            processes = default_processes(url)
            started = time.perf_counter()
            stats = reparse(progress=lines.append)
            elapsed = time.perf_counter() - started
    done = stats.handled.get(ReportParsed.TASK, 0)
    return {
        "reports": n,
        "reparsed": done,
        "processes": processes,
        "failures": len(stats.failures),
        "seconds": elapsed,
        "reports_per_s": done / elapsed if elapsed else float("nan"),
        "load": load(),
    }


def _metric(text: str, name: str, **labels: str) -> float:
    """Sum of the samples ``name`` whose labels include ``labels`` in a /metrics page (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree_peak_rss_mb(pid: int) -> dict[int, float]:
    """VmHWM (peak resident set) of ``pid`` and its descendants, in MB."""
    out: dict[int, float] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            out[current] = int(match.group(1)) / 1024
        pending.extend(int(c) for c in children)
    return out


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_s(pid: int, *, waited_children: bool = True) -> float:
    """CPU seconds (user + system) of ``pid``, with its children that exited and were waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    used = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if waited_children else 0)
    return used / _CLOCK_TICKS


def _tree_cpu_s(pid: int) -> tuple[float, float]:
    """(CPU seconds of ``pid`` itself, of all its descendants, live or exited): a prefork worker's parent
    and its children. An exited child's time is in its parent's waited-children figure."""
    own = _cpu_s(pid, waited_children=False)
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            total += _cpu_s(current)
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pending.extend(int(c) for c in children)
    return own, total - own


def _server_cpu_s(names: tuple[str, ...]) -> float:
    """CPU seconds of every local process named one of ``names`` (PostgreSQL's and Redis's servers on this
    machine), exited children included: compared before and after a run, their work during it."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() in names:
                total += _cpu_s(int(entry.name))
        except OSError:
            continue
    return total


_POSTGRES = ("postgres", "postmaster")


def _cpu_snapshot(procs: dict[str, subprocess.Popen[bytes]]) -> dict[str, float]:
    """CPU seconds so far of each worker service's parent and children, of PostgreSQL and of Redis."""
    out: dict[str, float] = {}
    for service, proc in procs.items():
        out[f"{service} parent"], out[f"{service} children"] = _tree_cpu_s(proc.pid)
    out["postgresql"] = _server_cpu_s(_POSTGRES)
    out["redis"] = _server_cpu_s(("redis-server",))
    return out


def run_workers(
    n: int,
    seeds: list[tuple[bytes, str, str]],
    admin_url: str,
    redis_url: str,
    parser_concurrency: int,
    validator_concurrency: int,
    timeout_s: float,
    *,
    backlog: bool = True,
    validator_batch_size: int | None = None,
) -> dict[str, Any]:
    """``backlog``: every ``PageFetched`` is queued while the parser worker does not consume (its consumer
    cancelled by a broadcast), then consuming starts and the clock with it: the workers drain a backlog, as
    after a recrawl, and the crawler's side (this process publishing, ~1 ms of CPU a message) does not take
    the cores the figure is about. Otherwise the clock starts with publishing, which runs beside the
    workers."""
    import httpx
    import redis

    from nianbao.shared.bus import CeleryPublisher
    from nianbao.shared.celery_app import make_celery

    redis.Redis.from_url(redis_url).flushdb()
    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp, fresh_database(admin_url, "workers") as url:
        data_dir = Path(tmp)
        messages = store_reports(n, seeds, data_dir / "raw")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
        env.update({"NIANBAO_BROKER_URL": redis_url, "NIANBAO_DATABASE_URL": url, "NIANBAO_DATA_DIR": tmp})
        if validator_batch_size is not None:
            env["NIANBAO_BATCH_SIZE"] = str(validator_batch_size)
        procs: dict[str, subprocess.Popen[bytes]] = {}
        ports: dict[str, int] = {}
        logs: dict[str, Path] = {}
        try:
            for service, concurrency in (("parser", parser_concurrency), ("validator", validator_concurrency)):
                ports[service] = _free_port()
                logs[service] = data_dir / f"{service}.log"
                procs[service] = subprocess.Popen(
                    [NIANBAO, "worker", service, "--concurrency", str(concurrency),
                     "--metrics-port", str(ports[service]), "--loglevel", "WARNING"],
                    env=env, stdout=logs[service].open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            _wait_ready(procs, ports)

            def count(service: str) -> float:
                text = httpx.get(f"http://127.0.0.1:{ports[service]}/metrics", timeout=10).text
                return _metric(text, f"nianbao_{service}_tasks_total", outcome="ok")

            celery = make_celery("nianbao-bench", redis_url)
            publisher = CeleryPublisher(celery)
            parser_queue = messages[0].QUEUE
            if backlog:
                _switch_consumer(celery, "cancel_consumer", parser_queue, procs["parser"].pid)
                publish_started = time.perf_counter()
                for message in messages:
                    publisher.publish(message)
                published = time.perf_counter() - publish_started
            cpu_before = _cpu_snapshot(procs)
            wall_started = time.time()
            started = time.perf_counter()
            if backlog:
                _switch_consumer(celery, "add_consumer", parser_queue, procs["parser"].pid)
            else:
                for message in messages:
                    publisher.publish(message)
                published = time.perf_counter() - started
            timeline: list[tuple[float, float, float]] = []  # (seconds, parsed, stored)
            deadline = time.monotonic() + timeout_s
            while True:
                now = time.perf_counter() - started
                parsed, stored = count("parser"), count("validator")
                timeline.append((now, parsed, stored))
                if stored >= n:
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"workers: {stored:.0f} of {n} stored after {timeout_s}s; see {logs}")
                for service, proc in procs.items():
                    if proc.poll() is not None:
                        raise SystemExit(f"worker {service} exited {proc.returncode}: {logs[service].read_text()}")
                time.sleep(1.0)  # each scrape costs the workers CPU (a multiprocess collect): poll slowly
            cpu_after = _cpu_snapshot(procs)
            validator_metrics = httpx.get(f"http://127.0.0.1:{ports['validator']}/metrics", timeout=10).text
            batches = {outcome: _metric(validator_metrics, "nianbao_validator_batches_total", outcome=outcome)
                       for outcome in ("stored", "alone")}  # fmt: skip
            log_lines = logs["validator"].read_text(errors="replace").splitlines()
            warnings = [line for line in log_lines if "WARNING" in line]
            rss = {service: _tree_peak_rss_mb(proc.pid) for service, proc in procs.items()}
            stored_at = _stored_times(url, wall_started)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
            for proc in procs.values():
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
    elapsed = stored_at[-1]
    parse_done = next(t for t, p, _ in timeline if p >= n)
    first, last = _tenth_times(stored_at)
    # Where the machine's CPU went, per report: the bound on reports/s is cores ÷ the total.
    cpu_ms = {role: (cpu_after[role] - cpu_before[role]) / n * 1000 for role in cpu_before}
    total_ms = sum(cpu_ms.values())
    return {
        "reports": n,
        "clock_starts": "after publishing (a backlog)" if backlog else "with publishing",
        "publish_s": published,
        "parse_per_s": n / parse_done,
        "end_to_end_per_s": n / elapsed,
        "first10_ms": first,
        "last10_ms": last,
        "flatness": last / first if first else float("nan"),
        "peak_rss_mb": {s: sorted(round(v, 1) for v in r.values()) for s, r in rss.items()},
        "max_child_rss_mb": max(max(r.values()) for r in rss.values()),
        "cpu_ms_per_report": {role: round(ms, 2) for role, ms in cpu_ms.items()},
        "cpu_ms_per_report_total": total_ms,
        "cpu_bound_per_s": (os.cpu_count() or 1) * 1000 / total_ms if total_ms else float("nan"),
        # The validator's batches (NIANBAO_BATCH_SIZE): stored in one transaction, or run alone.
        "validator_batches": batches,
        "validator_warnings": warnings[:5],
        "load": load(),
    }


def _switch_consumer(celery: Any, command: str, queue: str, worker_pid: int) -> None:
    """Send ``cancel_consumer`` or ``add_consumer`` for ``queue`` to the one worker started as ``worker_pid``
    (``nianbao worker`` names itself ``<service>-<pid>@<host>``) and wait for its reply, so the switch has
    happened when this returns. Only to that worker: a worker told to consume a queue whose tasks it does
    not have discards their messages as unregistered."""
    destination = [f"{queue}-{worker_pid}@{socket.gethostname()}"]
    replies = getattr(celery.control, command)(queue, destination=destination, reply=True, timeout=10)
    if not replies:
        raise SystemExit(f"workers: no reply from {destination[0]} to {command} {queue!r}")


def _stored_times(url: str, wall_started: float) -> list[float]:
    """Seconds from the first publish to each report's store (its ``created_at``, taken by the validator
    just before the insert), in order: the completion timeline, exact, and free for the workers."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        stamps = conn.execute(text("SELECT extract(epoch FROM created_at) FROM report ORDER BY 1")).scalars()
        times = [float(t) - wall_started for t in stamps]
    engine.dispose()
    return times


def _tenth_times(stored_at: list[float]) -> tuple[float, float]:
    """ms per stored report over the first and the last 10 % of reports (from the completion timeline)."""
    n = len(stored_at)
    tenth = max(1, n // 10)
    first = (stored_at[tenth - 1] - stored_at[0]) / max(1, tenth - 1) * 1000
    last = (stored_at[-1] - stored_at[-tenth - 1]) / tenth * 1000
    return first, last


def _wait_ready(procs: dict[str, subprocess.Popen[bytes]], ports: dict[str, int], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    for service, proc in procs.items():
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"worker {service} exited {proc.returncode}")
            try:
                httpx.get(f"http://127.0.0.1:{ports[service]}/metrics", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"worker {service} not ready in {timeout}s") from None
                time.sleep(0.3)
    time.sleep(3)  # the prefork children connect to the broker after the metrics server is up


# --- report --------------------------------------------------------------------------------------------


def _interrupted(signum: int, _frame: Any) -> None:
    """A SIGTERM (``timeout``, ``kill``; ``uv run`` may pass on a second one) unwinds once, like Ctrl-C, so
    the modes' cleanup runs undisturbed: worker processes stopped, the benchmark's databases dropped."""
    signal.signal(signum, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--modes", default="inprocess,inprocess-sequential,reparse,workers")
    parser.add_argument("--reparse", type=int, default=600, help="stored reports for the reparse figure")
    parser.add_argument("--grow", type=int, default=100_000, help="reports the flatness mode adds between batches")
    parser.add_argument("--parser-concurrency", type=int, default=1)
    parser.add_argument("--validator-concurrency", type=int, default=2)
    parser.add_argument(
        "--validator-batch-size", type=int, help="workers mode: the validator's NIANBAO_BATCH_SIZE (default: its own)"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds the workers mode may take")
    parser.add_argument(
        "--publish-during",
        action="store_true",
        help="workers mode: start the clock with publishing (this process's publishing then shares the cores) "
        "instead of after it (a backlog, the default)",
    )
    parser.add_argument("--postgres-admin-url", default=ADMIN_URL)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.reports < 10:
        parser.error("--reports must be at least 10 (first and last 10 %)")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    signal.signal(signal.SIGTERM, _interrupted)
    from nianbao.shared.gctune import tune_gc

    tune_gc()  # as the nianbao CLI does for every command: the in-process modes run what `nianbao run` runs
    seeds = load_seeds()
    results: dict[str, Any] = {"reports": args.reports, "seeds": len(seeds), "date": time.strftime("%Y-%m-%d")}
    print(f"{args.reports} reports from {len(seeds)} seeds, one site; {load()}")
    reference = [reference_parse_ms(seeds)]
    print(f"this machine now: a seed parses in {reference[0]:.2f} ms of CPU (median; the speed reference)")
    runners: dict[str, Callable[[], dict[str, Any]]] = {
        "inprocess": lambda: run_inprocess(args.reports, seeds, args.postgres_admin_url),
        "inprocess-sequential": lambda: run_inprocess(args.reports, seeds, args.postgres_admin_url, overlapped=False),
        "reparse": lambda: run_reparse(args.reparse, seeds, args.postgres_admin_url),
        "flatness": lambda: run_flatness(args.reports, args.grow, seeds, args.postgres_admin_url),
        "workers": lambda: run_workers(args.reports, seeds, args.postgres_admin_url, args.redis_url,
                                       args.parser_concurrency, args.validator_concurrency, args.timeout,
                                       backlog=not args.publish_during,
                                       validator_batch_size=args.validator_batch_size),
    }  # fmt: skip
    for mode in modes:
        if mode not in runners:
            parser.error(f"unknown mode {mode!r}; expected {', '.join(runners)}")
        result = runners[mode]()
        results[mode] = result
        print(f"\n[{mode}]")
        for key, value in result.items():
            shown = f"{value:.2f}" if isinstance(value, float) else value
            print(f"  {key:26} {shown}")
    if "workers" in results and "inprocess-sequential" in results:
        # What handing each report from process to process costs, beyond the work itself (same run).
        work = results["inprocess-sequential"]["work_cpu_ms_per_report"]
        transport = results["workers"]["cpu_ms_per_report_total"] - work
        results["workers_beyond_work_cpu_ms_per_report"] = transport
        print(f"\nworkers' CPU per report beyond the work itself (workers − inprocess-sequential): {transport:.2f} ms")
    reference.append(reference_parse_ms(seeds))
    results["reference_parse_ms"] = reference  # at the start and at the end: how far the machine's speed moved
    print(f"\nthis machine at the end: a seed parses in {reference[1]:.2f} ms of CPU (start: {reference[0]:.2f})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
