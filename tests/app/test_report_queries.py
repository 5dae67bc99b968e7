"""The reports list (``nianbao reports``, the admin API's pages, the demo's summary) on SQLite and PostgreSQL:
streamed a batch at a time from one cursor, in the same order and with the same failing rules as the pages,
however the batches fall."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
from sqlalchemy import text

from nianbao.app import queries
from nianbao.app.queries import iter_reports, list_reports
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.record import Finding
from nianbao.validator.store import store_validated

from support.records import minimal_record


def _fail(rule: str, where: str | None) -> Finding:
    return Finding(rule=rule, severity="error", status="fail", where=where, message=f"{rule} fails")


# (site, agency, year) -> failing findings; stored in this order, listed by site, year, agency, id.
STORED: dict[tuple[str, str, int], list[Finding]] = {
    ("s2", "乙县", 2021): [_fail("meta.year", None)],
    ("s1", "丙县", 2021): [],
    ("s1", "甲县", 2020): [_fail("requests.balance", "natural"), _fail("requests.balance", "legal")],
    ("s1", "乙县", 2021): [_fail("meta.year", None), _fail("requests.balance", "other")],
    ("s1", "甲县", 2021): [],
    ("s2", "甲县", 2019): [_fail("requests.balance", "natural")],
    ("s1", "丁县", 2019): [_fail("meta.year", None)],
}


@pytest.fixture(params=["sqlite_url", "postgres_url"])
def db(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(request.param)
    upgrade(url)
    for number, ((site, agency, year), findings) in enumerate(STORED.items()):
        with session_scope(url) as session:
            store_validated(session, site_id=site, url=f"http://{site}.gov.cn/{number}.html", raw_key="a" * 64,
                            record=minimal_record(agency, year), findings=findings, rules_version="r1",
                            blank_policy={})  # fmt: skip
    return url


def _expected(site: str | None = None) -> list[tuple[str, int, str, dict[str, list[str]]]]:
    rows = [
        (s, year, agency, {f.rule: sorted(x.where or "-" for x in findings if x.rule == f.rule) for f in findings})
        for (s, agency, year), findings in STORED.items()
        if site in (None, s)
    ]
    return sorted(rows, key=lambda r: (r[0], r[1], r[2]))


@pytest.mark.parametrize("batch", [1, 2, 3, 1000])
def test_streamed_reports_are_the_pages_in_order_with_their_failing_rules(
    db: str, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "STREAM_BATCH", batch)
    with session_scope(db) as session:
        streamed = list(iter_reports(session))
        pages = [r for offset in range(0, 7, 3) for r in list_reports(session, offset=offset, limit=3)]
        site = list(iter_reports(session, "s2"))
    assert [(r.site_id, r.year, r.agency, r.failing) for r in streamed] == _expected()
    assert streamed == pages
    assert [(r.site_id, r.year, r.agency, r.failing) for r in site] == _expected("s2")
    assert all(r.tables == ["requests"] for r in streamed)


def test_list_reports_without_limit_is_the_stream(db: str) -> None:
    with session_scope(db) as session:
        assert list_reports(session) == list(iter_reports(session))
        assert list_reports(session, offset=5) == list(iter_reports(session))[5:]
        assert list_reports(session, "nowhere") == []


def test_reports_stream_from_a_server_side_cursor_on_postgresql(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `nianbao reports` lists every report of the database: STREAM_BATCH at a time from a cursor the server
    # holds, never all at once into the client's memory.
    monkeypatch.setattr(queries, "STREAM_BATCH", 2)  # so the cursor still has rows after the first batch
    upgrade(postgres_url)
    for number in range(3):
        with session_scope(postgres_url) as session:
            store_validated(session, site_id="s1", url=f"http://x.gov.cn/{number}.html", raw_key="a" * 64,
                            record=minimal_record(f"县{number}", 2021), rules_version="r1", blank_policy={},
                            findings=[_fail("requests.balance", "legal")])  # fmt: skip
    with session_scope(postgres_url) as session:
        rows = iter_reports(session)
        first = next(rows)
        cursors = session.execute(text("SELECT count(*) FROM pg_cursors WHERE NOT is_holdable")).scalar_one()
        rest = list(rows)
    assert cursors == 1
    assert [r.agency for r in [first, *rest]] == ["县0", "县1", "县2"]


def test_the_cli_prints_every_report_as_the_list_gives_them(db: str) -> None:
    nianbao = str(Path(sys.executable).parent / "nianbao")
    env = {**os.environ, "NIANBAO_DATABASE_URL": db, "COLUMNS": "200"}
    lines = subprocess.run([nianbao, "reports", "--json"], capture_output=True, text=True, env=env, timeout=120,
                           check=True).stdout.splitlines()  # fmt: skip
    with session_scope(db) as session:
        expected = [asdict(r) for r in list_reports(session, offset=0, limit=100)]
    assert [json.loads(line) for line in lines] == expected
    table = subprocess.run([nianbao, "reports", "--site", "s1"], capture_output=True, text=True, env=env,
                           timeout=120, check=True).stdout  # fmt: skip
    assert table.count("failing findings by rule:") == 5
    assert "failing findings by rule: requests.balance (legal, natural)\n" in table
    assert "failing findings by rule: meta.year (-); requests.balance (other)\n" in table
