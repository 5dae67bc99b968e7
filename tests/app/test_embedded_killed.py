"""`nianbao run` (embedded) killed mid-run, then run again: every report is stored, once. The killed run's
queue was its memory; its pages are unchanged for the next crawl (not modified), so without the outbox's
hand-offs being handed on again at the next run's start they would wait 6 h (the workers' recheck)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sqlmodel import func, select

from nianbao.app.cli import demo_registry
from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.server import DevPortal
from nianbao.shared.db import session_scope
from nianbao.shared.models import Report

NIANBAO = str(Path(sys.executable).parent / "nianbao")


def _stored(url: str) -> tuple[int, int]:
    """(reports, distinct URLs among them)."""
    with session_scope(url) as session:
        return (session.exec(select(func.count()).select_from(Report)).one(),
                session.exec(select(func.count(func.distinct(Report.url)))).one())  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite_url", "postgres_url"])
def test_a_killed_embedded_run_loses_nothing_the_next_run_does_not_store(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    database: str = request.getfixturevalue(backend)
    with DevPortal() as portal:
        registry = demo_registry(portal.column_url)
        registry["sites"][0]["politeness"]["min_delay_s"] = 0.1
        sites = tmp_path / "sites.yaml"
        sites.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
        env = {**os.environ, "NIANBAO_SITES_FILE": str(sites), "NIANBAO_DATA_DIR": str(tmp_path / "data"),
               "NIANBAO_DATABASE_URL": database}  # fmt: skip
        env.pop("NIANBAO_BROKER_URL", None)
        killed = subprocess.Popen([NIANBAO, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True)  # fmt: skip
        assert killed.stdout is not None
        deadline = time.monotonic() + 120
        for line in killed.stdout:  # the crawl is done: its pages are queued in the process, a few parsed
            if "crawled demo" in line or time.monotonic() > deadline:
                break
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        reports, _ = _stored(database)
        assert reports < len(REPORTS), "the kill came after every report was stored: the test proves nothing"

        again = subprocess.run([NIANBAO, "run"], env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        assert f"{len(REPORTS) - reports} page(s) handed on without a report since" in again.stderr
        assert f"{len(REPORTS)} not modified" in again.stderr  # the crawl itself had nothing new to hand on
        assert _stored(database) == (len(REPORTS), len(REPORTS))

        third = subprocess.run([NIANBAO, "run"], env=env, capture_output=True, text=True, timeout=300)
        assert third.returncode == 0 and "handed on without a report" not in third.stderr, third.stderr
    assert _stored(database) == (len(REPORTS), len(REPORTS))
