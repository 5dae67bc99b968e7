"""Faults on the real pipeline: worker processes SIGKILLed mid-run, Redis killed, PostgreSQL restarted
(fast and immediate). Afterwards, with no manual step, every devportal report is stored exactly once with
its right values, no task_failure row exists, every worker still runs, and the pipeline recovered within
the bound README "Reliability" documents (visibility timeout + restore interval + the work itself).

Each case runs on its own Redis (a throwaway redis-server with AOF, fsync always) and its own PostgreSQL
cluster (throwaway, started here), so they can be killed without touching anything else.
The timeouts are scaled down so that a message held by a killed worker comes back within seconds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import yaml
from sqlalchemy import NullPool, create_engine, text
from sqlmodel import func, select

from nianbao.app.cli import demo_registry
from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.server import DevPortal
from nianbao.devportal.urls import article_path
from nianbao.shared.contracts import QUEUES
from nianbao.shared.db import dispose_engines, session_scope
from nianbao.shared.models import Report, ReportValue, TaskFailure

from integration_support import Stack, site_gauge_locked, wait_until
from support import free_port, skip_or_fail, task_args

pytestmark = pytest.mark.integration

# Scaled-down timeouts (they must nest as CommonSettings checks: visibility > hard limit + longest countdown).
TIMEOUTS = {
    "NIANBAO_TASK_SOFT_TIME_LIMIT_S": "12",
    "NIANBAO_TASK_TIME_LIMIT_S": "15",
    "NIANBAO_TASK_RETRY_BACKOFF_S": "0.5",
    "NIANBAO_TASK_RETRY_BACKOFF_MAX_S": "3",
    "NIANBAO_BROKER_VISIBILITY_TIMEOUT_S": "20",
    "NIANBAO_BROKER_RESTORE_INTERVAL_S": "2",
    # A killed crawler's per-host slot in the Redis limiter is free again after this lease (default 180 s).
    "NIANBAO_LIMITER_LEASE_S": "5",
}
# Recovery bound: a message held by a dead worker comes back after the visibility timeout, found by the
# next sweep; then the rest of the run (a few seconds of work, retries capped at 3 s) completes.
RECOVERY_BOUND_S = 20 + 2 + 40
# Spacing of the crawler's requests: the demo crawl then lasts long enough for a fault to land in it.
CRAWL_DELAY_S = 0.25


# --- throwaway servers -----------------------------------------------------------------------------------


@dataclass
class RedisServer:
    binary: str
    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        wait_until(lambda: _answers(client), 20, lambda: f"redis on {self.port} did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@dataclass
class PostgresCluster:
    pg_ctl: str
    data: Path
    port: int
    socket_dir: Path
    run_as: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.run_as, self.pg_ctl, "-D", str(self.data), "-o", f"-p {self.port} -k {self.socket_dir} -h 127.0.0.1",
             "-w", *args],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
        )  # fmt: skip


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if not binary:
        skip_or_fail("the fault tests start their own Redis: install redis-server")
    assert binary is not None
    with tempfile.TemporaryDirectory(prefix="nianbao-faults-redis-") as tmp:
        server = RedisServer(binary, free_port(), Path(tmp))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def postgres_cluster() -> Iterator[PostgresCluster]:
    found = [p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True) if (p / "initdb").exists()]
    initdb = shutil.which("initdb") or (str(found[0] / "initdb") if found else None)
    pg_ctl = shutil.which("pg_ctl") or (str(found[0] / "pg_ctl") if found else None)
    if not initdb or not pg_ctl:
        skip_or_fail("the fault tests start their own PostgreSQL cluster: install postgresql (initdb, pg_ctl)")
    assert initdb and pg_ctl
    tmp = Path(tempfile.mkdtemp(prefix="nianbao-faults-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(tmp, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*run_as, initdb, "-D", str(tmp / "data"), "-U", "postgres", "--auth=trust"],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    cluster = PostgresCluster(pg_ctl, tmp / "data", free_port(), tmp, run_as)
    cluster.ctl("start")
    try:
        yield cluster
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(tmp / "data"), "-m", "immediate", "stop"],
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class Run:
    stack: Stack
    portal: DevPortal
    db_url: str
    broker: redis.Redis

    def queued(self, queue: str) -> int:
        return int(self.broker.llen(queue))

    def stored(self) -> int:
        with session_scope(self.db_url) as s:
            return int(s.exec(select(func.count()).select_from(Report)).one())

    def idle(self) -> bool:
        """Nothing waiting in a queue, nothing held by a worker."""
        return not any(self.queued(q) for q in QUEUES) and not self.broker.hlen("unacked")

    def settled(self) -> bool:
        """Every report stored, and the pipeline idle."""
        try:
            return self.idle() and self.stored() >= len(REPORTS)
        except Exception:  # a server is still coming back
            return False

    def diagnosis(self) -> str:
        try:
            state = f"stored={self.stored()} queued={[self.queued(q) for q in QUEUES]} "
            state += f"unacked={self.broker.hlen('unacked')}"
        except Exception as exc:
            state = f"state unreadable: {exc!r}"
        return state + "".join(f"\n--- {s} ---\n{self.stack.log_tail(s, 40)}" for s in self.stack.procs)


@pytest.fixture
def run(redis_server: RedisServer, postgres_cluster: PostgresCluster, tmp_path: Path) -> Iterator[Run]:
    """A fresh database and broker, the demo portal, and the CLI environment of a stack (no worker yet)."""
    name = f"faults_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    admin = create_engine(postgres_cluster.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = postgres_cluster.admin_url.rsplit("/", 1)[0] + f"/{name}"
    broker = redis.Redis.from_url(redis_server.url, socket_timeout=5)
    broker.flushall()
    with DevPortal() as portal:
        registry = demo_registry(portal.column_url)
        registry["sites"][0]["politeness"] = {"min_delay_s": CRAWL_DELAY_S, "jitter_s": 0.0}
        data_dir = tmp_path / "stack"
        data_dir.mkdir()
        sites_file = data_dir / "sites.yaml"
        sites_file.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
        env.update(TIMEOUTS)
        env.update({"NIANBAO_BROKER_URL": redis_server.url, "NIANBAO_DATABASE_URL": db_url,
                    "NIANBAO_DATA_DIR": str(data_dir), "NIANBAO_SITES_FILE": str(sites_file),
                    "NIANBAO_STARTUP_DB_WAIT_S": "30"})  # fmt: skip
        stack = Stack(env=env, data_dir=data_dir)
        stack.cli("db", "upgrade")
        try:
            yield Run(stack, portal, db_url, broker)
        finally:
            stack.stop()
            dispose_engines()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


# --- the assertions every case ends with -----------------------------------------------------------------


def assert_recovered(run: Run, fault_at: float, label: str) -> float:
    """Wait for the run to settle within the bound; check every report once, with its values; no failures."""
    wait_until(run.settled, RECOVERY_BOUND_S + 30, run.diagnosis)
    recovery_s = time.monotonic() - fault_at
    for service, proc in run.stack.procs.items():
        assert proc.poll() is None, f"{label}: worker {service} exited {proc.returncode}\n{run.stack.log_tail(service)}"
    with session_scope(run.db_url) as s:
        reports = s.exec(select(Report)).all()
        assert len(reports) == len(REPORTS), [r.url for r in reports]
        assert s.exec(select(TaskFailure)).all() == []
        for spec in REPORTS:
            [report] = [r for r in reports if r.url.endswith(article_path(spec.publish_date, spec.doc_id))]
            stored = {(v.table_name, v.key): v.value
                      for v in s.exec(select(ReportValue).where(ReportValue.report_id == report.id))}  # fmt: skip
            for table, values in spec.expected_tables().items():
                for key, value in values.items():
                    assert stored[(table, key)] == (None if value is None else float(value)), (spec.id, table, key)
    print(f"{label}: recovered in {recovery_s:.1f}s (bound {RECOVERY_BOUND_S}s)")
    assert recovery_s <= RECOVERY_BOUND_S, f"{label}: recovery took {recovery_s:.1f}s"
    return recovery_s


def start(run: Run, *services: str) -> None:
    for service in services:
        run.stack.start_worker(service, concurrency=2)
    run.stack.wait_ready(90)


def sigkill(run: Run, service: str) -> None:
    """SIGKILL the worker's whole process group (the main process and its pool) at once."""
    os.killpg(run.stack.procs[service].pid, signal.SIGKILL)
    run.stack.procs[service].wait(10)


def held_by_workers(run: Run, queue: str) -> bool:
    return any(f'"{queue}"]'.encode() in raw for raw in run.broker.hvals("unacked"))


N = len(REPORTS)


# --- worker kills ----------------------------------------------------------------------------------------


def test_crawler_killed_mid_crawl(run: Run) -> None:
    start(run, "crawler", "parser", "validator")
    run.stack.cli("run")
    wait_until(lambda: run.stored() >= 1, 60, run.diagnosis)  # the crawl is handing pages on
    sigkill(run, "crawler")
    fault_at = time.monotonic()
    start(run, "crawler")
    assert_recovered(run, fault_at, "crawler SIGKILL")


@pytest.mark.parametrize("service", ["parser", "validator"])
def test_worker_killed_while_holding_messages(run: Run, service: str) -> None:
    upstream = [s for s in ("crawler", "parser", "validator") if s != service]
    start(run, *upstream)
    run.stack.cli("run")
    # Queue the whole run for the victim first, so that it is killed with work both held and waiting.
    wait_until(lambda: run.queued(service) >= N if service == "validator" else run.queued(service) >= N // 2,
               90, run.diagnosis)  # fmt: skip
    # The validator stores a report in ~20 ms and would finish the run before it could be seen holding
    # messages. Every new report's store writes its site's site_gauge row: a table lock keeps the validator's
    # work in flight (messages held, transactions open) until it is killed.
    with site_gauge_locked(run.db_url) if service == "validator" else nullcontext():
        start(run, service)
        wait_until(lambda: held_by_workers(run, service), 60, run.diagnosis)
        sigkill(run, service)
        fault_at = time.monotonic()
    start(run, service)
    assert_recovered(run, fault_at, f"{service} SIGKILL")


# --- infrastructure restarts -----------------------------------------------------------------------------


def test_redis_killed_and_restarted_mid_run(run: Run, redis_server: RedisServer) -> None:
    start(run, "crawler", "parser", "validator")
    run.stack.cli("run")
    wait_until(lambda: run.stored() >= 1, 60, run.diagnosis)  # crawling, parsing and validating at once
    redis_server.kill()
    fault_at = time.monotonic()
    time.sleep(3)  # long enough for every worker to notice and publishes to fail
    redis_server.start()
    repair_lost_messages(run)
    assert_recovered(run, fault_at, "Redis SIGKILL + restart")


def test_a_message_the_broker_lost_is_repaired_by_the_next_crawl(run: Run) -> None:
    """The repair :func:`repair_lost_messages` relies on, made certain: a page hand-off vanishes from the
    parser's queue (as one popped by a worker just before Redis died does), the pipeline goes idle one
    report short, and the next crawl hands that page on again."""
    start(run, "crawler", "validator")
    run.stack.cli("run")
    wait_until(lambda: run.queued("parser") >= N and not run.broker.hlen("unacked"), 90, run.diagnosis)
    lost = run.broker.rpop("parser")  # the oldest hand-off, gone as in kombu's window
    assert lost is not None and run.queued("parser") == N - 1
    lost_url = str(task_args(lost)[0]["url"])
    assert any(lost_url.endswith(article_path(r.publish_date, r.doc_id)) for r in REPORTS), lost_url
    fault_at = time.monotonic()
    start(run, "parser")
    assert repair_lost_messages(run), run.diagnosis()
    assert_recovered(run, fault_at, "a lost page hand-off")


# How long the pipeline must stay idle with a report missing before the test runs the next crawl, and the
# hand-off age that crawl re-hands (6 hours in production; the test compresses the wait).
IDLE_S = 8
HANDOFF_RECHECK_S = 3


def repair_lost_messages(run: Run) -> bool:
    """kombu's Redis transport can lose a message a worker popped just before Redis died, before it was
    recorded as unacked (README "Reliability", known gap). The repair is the site's next crawl: it crawls what
    a lost crawl message left undone and hands on again every page whose hand-off is older than
    ``NIANBAO_HANDOFF_RECHECK_S`` and still has no report. So: if the pipeline goes idle (nothing queued,
    nothing held by a worker) for IDLE_S with a report missing, restart the crawler with that age compressed
    to HANDOFF_RECHECK_S and run the next crawl, as the schedule would hours later. Most runs lose nothing
    and settle without it. True when the next crawl was run."""
    idle_since: float | None = None
    deadline = time.monotonic() + RECOVERY_BOUND_S
    while time.monotonic() < deadline:
        if run.settled():
            return False
        try:
            idle = run.idle()
        except redis.RedisError:  # still coming back
            idle = False
        idle_since = (idle_since or time.monotonic()) if idle else None
        if idle_since is not None and time.monotonic() - idle_since >= IDLE_S:
            print(f"a message was lost with Redis ({run.diagnosis().splitlines()[0]}): running the next crawl")
            sigkill(run, "crawler")  # idle: nothing of its in flight
            run.stack.env["NIANBAO_HANDOFF_RECHECK_S"] = str(HANDOFF_RECHECK_S)
            start(run, "crawler")
            run.stack.cli("run")
            return True
        time.sleep(0.5)
    return False


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restarted_mid_run(run: Run, postgres_cluster: PostgresCluster, mode: str) -> None:
    start(run, "crawler", "parser")
    run.stack.cli("run")
    wait_until(lambda: run.queued("validator") >= N, 90, run.diagnosis)
    start(run, "validator")
    wait_until(lambda: run.stored() >= 1, 60, run.diagnosis)  # the validator is storing reports
    fault_at = time.monotonic()
    postgres_cluster.ctl("-m", mode, "restart")
    dispose_engines()  # the test's own pooled connections died with the server
    assert_recovered(run, fault_at, f"PostgreSQL restart -m {mode}")


def test_worker_refuses_to_start_before_migrations(run: Run, postgres_cluster: PostgresCluster) -> None:
    admin = create_engine(postgres_cluster.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text('CREATE DATABASE "faults_unmigrated"'))
    try:
        env = {
            **run.stack.env,
            "NIANBAO_DATABASE_URL": postgres_cluster.admin_url.rsplit("/", 1)[0] + "/faults_unmigrated",
        }
        result = Stack(env=env, data_dir=run.stack.data_dir).cli("worker", "validator", check=False, timeout=60)
        assert result.returncode != 0
        message = (result.stdout + result.stderr).strip().splitlines()
        assert any("nianbao db upgrade" in line and "no schema" in line for line in message), message
    finally:
        with admin.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "faults_unmigrated" WITH (FORCE)'))
        admin.dispose()
