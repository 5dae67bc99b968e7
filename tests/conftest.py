"""Test infrastructure shared by every test package: real Redis and PostgreSQL, found or started.

Redis and PostgreSQL are looked for at their usual loopback ports (override with
``NIANBAO_TEST_REDIS_URL`` / ``NIANBAO_TEST_POSTGRES_URL``). If none answers, a throwaway server is
started from the installed binaries (``redis-server``; ``initdb``/``pg_ctl``). If those are missing the
tests that need them are skipped with a message naming what to install, and when ``CI`` is set such a
skip fails the run: CI must execute the integration tests. Each pytest process claims a Redis database
number of its own (9–14, see ``support.claim_redis_db``), so two test runs on one machine do not flush each
other's queues.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import CORPUS_DIR, TEST_REDIS_DBS, claim_redis_db, free_port, release_redis_db, skip_or_fail

# Tests read no environment for their own configuration except these documented overrides.
REDIS_URL_ENV = "NIANBAO_TEST_REDIS_URL"
POSTGRES_URL_ENV = "NIANBAO_TEST_POSTGRES_URL"


# --- Redis ------------------------------------------------------------------------------------------------


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """Base URL (no db number) of a Redis that answers."""
    url = os.environ.get(REDIS_URL_ENV, "redis://127.0.0.1:6379")
    if _redis_answers(url):
        yield url.rstrip("/")
        return
    binary = shutil.which("redis-server")
    if not binary:
        skip_or_fail(f"no Redis at {url} and no redis-server binary: install redis-server (Debian: redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="nianbao-redis-") as tmp:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}"
        for _ in range(100):
            if _redis_answers(url):
                break
            time.sleep(0.1)
        try:
            yield url
        finally:
            proc.terminate()
            proc.wait(10)


@pytest.fixture(scope="session")
def redis_db(redis_server_url: str) -> Iterator[int]:
    """This pytest process's own Redis database number (``support.claim_redis_db``), released at the end."""
    import redis

    claims = redis.Redis.from_url(f"{redis_server_url}/0")
    db = claim_redis_db(claims)
    if db is None:
        skip_or_fail(f"every test Redis database ({TEST_REDIS_DBS}) is claimed by a running test process")
        return
    yield db
    release_redis_db(claims, db)
    claims.close()


@pytest.fixture
def redis_url(redis_server_url: str, redis_db: int) -> Iterator[str]:
    """A Redis database number of its own (this test process's), flushed before and after the test."""
    import redis

    url = f"{redis_server_url}/{redis_db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


# --- PostgreSQL -------------------------------------------------------------------------------------------


def _pg_answers(url: str) -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _pg_binaries() -> tuple[str, str] | None:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return initdb, pg_ctl
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return str(candidate / "initdb"), str(candidate / "pg_ctl")
    return None


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """URL of a PostgreSQL database we may CREATE/DROP other databases from."""
    url = os.environ.get(POSTGRES_URL_ENV, "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    if _pg_answers(url):
        yield url
        return
    binaries = _pg_binaries()
    if binaries is None:
        skip_or_fail(f"no PostgreSQL at {url} and no initdb/pg_ctl: install postgresql (Debian: postgresql)")
    assert binaries is not None
    initdb, pg_ctl = binaries
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="nianbao-pg-")
    data = Path(tmp) / "data"
    user = "postgres"
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root; use the postgres system user if present
        shutil.chown(tmp, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*run_as, initdb, "-D", str(data), "-U", user, "--auth=trust"], check=True, stdout=subprocess.DEVNULL
    )
    subprocess.run(
        [*run_as, pg_ctl, "-D", str(data), "-o", f"-p {port} -k {tmp} -h 127.0.0.1", "-w", "start"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    url = f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
    try:
        yield url
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "fast", "stop"], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"nianbao_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from nianbao.shared.db import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'nianbao.db'}"


@pytest.fixture
def corpus_dir() -> Path:
    seeds = CORPUS_DIR / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"the shared corpus is not beside the repo ({CORPUS_DIR}); corpus tests need it")
    return CORPUS_DIR


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see the developer's NIANBAO_* configuration and never write into the repo."""
    for name in list(os.environ):
        if name.startswith("NIANBAO_") and not name.startswith("NIANBAO_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
