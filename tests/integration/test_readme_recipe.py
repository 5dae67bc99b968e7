"""The README's "Running with workers" recipe runs verbatim: its shell blocks, extracted from README.md,
run in bash in an empty directory (``uv`` finds the project through ``UV_PROJECT``) against the test's
Redis database and a fresh PostgreSQL database (the recipe keeps URLs already exported). The demo portal
and the three workers it starts in the background crawl, parse, validate and store every report of the
portal's catalogue; every process the recipe started is stopped afterwards, also when the test fails.

The recipe uses fixed ports (portal 8000, metrics 9101-9103): they are checked free first.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.urls import article_path
from nianbao.shared.db import session_scope
from nianbao.shared.models import Report, TaskFailure

from support import REPO_ROOT

pytestmark = pytest.mark.integration

SECTION = "## Running with workers (Redis + PostgreSQL)"
RECIPE_PORTS = (8000, 9101, 9102, 9103)
TIMEOUT_S = 150  # typically 45-70 s on 2 busy cores: 4 `uv run` starts, 3 worker starts, the crawl


def recipe_blocks(readme: str) -> list[str]:
    """The ```bash blocks of the README section, in order."""
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    section = readme[start : end if end != -1 else len(readme)]
    return re.findall(r"^```bash\n(.*?)^```$", section, flags=re.S | re.M)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL, to the recipe's process group (bash and everything it started with &)."""
    for sig, wait_s in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)  # anyone left in the group?
            except ProcessLookupError:
                return
            time.sleep(0.2)


@pytest.fixture
def default_database_cleanup(postgres_admin_url: str) -> Iterator[None]:
    """The recipe runs ``createdb … nianbao``: drop that database afterwards if the recipe created it."""
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        existed = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = 'nianbao'")).first() is not None
    yield
    if not existed:
        with admin.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "nianbao" WITH (FORCE)'))
    admin.dispose()


def test_readme_worker_recipe_runs_verbatim(
    redis_url: str, postgres_url: str, tmp_path: Path, default_database_cleanup: None
) -> None:
    blocks = recipe_blocks((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    assert blocks, f"no ```bash block under {SECTION!r}"
    busy = [p for p in RECIPE_PORTS if not _port_free(p)]
    assert not busy, f"the recipe's ports {busy} are in use on this machine: stop what holds them"
    pg = make_url(postgres_url)
    assert (pg.host, pg.port) == ("127.0.0.1", 5432), "the recipe's createdb line assumes PostgreSQL at 127.0.0.1:5432"

    workdir = tmp_path / "fresh"
    workdir.mkdir()
    script = workdir / "recipe.sh"
    script.write_text("set -e\n" + "\n".join(blocks), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
    env.update({
        "NIANBAO_BROKER_URL": redis_url,
        # psycopg is the driver the project ships; the URL names it like the recipe's default does not
        "NIANBAO_DATABASE_URL": postgres_url,
        "UV_PROJECT": str(REPO_ROOT),
        "UV_FROZEN": "1",
        "NIANBAO_STARTUP_DB_WAIT_S": "10",
    })  # fmt: skip
    log = workdir / "recipe.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", str(script)], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_for_reports(proc, postgres_url, log)
            output = log.read_text(errors="replace")
            assert "enqueued crawl of demo" in output
            assert "workers look the site(s) up in their own registry" in output
            with session_scope(postgres_url) as session:
                stored = session.exec(select(Report).where(col(Report.site_id) == "demo")).all()
                urls = sorted(r.url for r in stored)
                expected = sorted(
                    "http://127.0.0.1:8000" + article_path(r.publish_date, r.doc_id) for r in REPORTS
                )
                assert urls == expected
                assert session.exec(select(TaskFailure)).all() == []
        finally:
            _stop_group(proc)
    for port in RECIPE_PORTS:  # nothing the recipe started still holds its port
        assert _port_free(port), f"port {port} still in use after the recipe was stopped"


def _wait_for_reports(proc: subprocess.Popen[bytes], db_url: str, log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    count = 0
    while time.monotonic() < deadline:
        code = proc.poll()
        if code not in (None, 0):
            raise AssertionError(f"the recipe failed (exit {code}):\n{_tail(log)}")
        try:
            with session_scope(db_url) as session:
                count = len(session.exec(select(Report.id).where(col(Report.site_id) == "demo")).all())
        except Exception:  # tables not created yet
            count = 0
        if count >= len(REPORTS):
            return
        time.sleep(0.5)
    raise AssertionError(f"{count} of {len(REPORTS)} reports stored after {TIMEOUT_S}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 80) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
