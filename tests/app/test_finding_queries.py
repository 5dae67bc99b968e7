"""The findings lists read every finding: the rows of those that do not pass and the reports' ``passed``
lists (migration 0012), filtered, counted and paged alike on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest
from sqlalchemy import text

from nianbao.app.queries import count_findings, iter_findings, list_findings
from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.record import Finding
from nianbao.validator.store import store_validated

from support.records import minimal_record


def _finding(rule: str, where: str | None, status: str, lhs: float | None = None) -> Finding:
    return Finding(rule=rule, severity="error", status=status, where=where, lhs=lhs, message=f"{rule} {status}")


# Two reports of site s1 (2021 and 2020) and one of s2; each with passing and failing findings.
STORED = {
    ("s1", "http://x.gov.cn/2021.html", 2021): [
        _finding("requests.balance", "natural", "pass", 3),
        _finding("requests.balance", "legal", "fail", 4),
        _finding("meta.year", None, "pass"),
    ],
    ("s1", "http://x.gov.cn/2020.html", 2020): [
        _finding("requests.balance", "natural", "pass", 1),
        _finding("requests.balance", "other", "pass", 2),
    ],
    ("s2", "http://y.gov.cn/2021.html", 2021): [_finding("meta.year", None, "fail")],
}


@pytest.fixture(params=["sqlite_url", "postgres_url"])
def db(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(request.param)
    upgrade(url)
    for (site, url_of, year), findings in STORED.items():
        with session_scope(url) as session:
            store_validated(session, site_id=site, url=url_of, raw_key="a" * 64, record=minimal_record("某县", year),
                            findings=findings, rules_version="r1", blank_policy={})  # fmt: skip
    return url


def _listed(db: str, **filters: object) -> list[tuple[str, int | None, str, str | None, str, float | None]]:
    with session_scope(db) as session:
        rows = list_findings(session, **filters)  # type: ignore[arg-type]
    return [(r.site_id, r.year, r.rule, r.where, r.status, r.lhs) for r in rows]


def test_passing_findings_are_listed_in_order_with_their_values(db: str) -> None:
    assert _listed(db, status="pass") == [
        ("s1", 2020, "requests.balance", "natural", "pass", 1),
        ("s1", 2020, "requests.balance", "other", "pass", 2),
        ("s1", 2021, "meta.year", None, "pass", None),
        ("s1", 2021, "requests.balance", "natural", "pass", 3),
    ]
    assert _listed(db, status="fail") == [
        ("s1", 2021, "requests.balance", "legal", "fail", 4),
        ("s2", 2021, "meta.year", None, "fail", None),
    ]
    assert _listed(db, status=None, site_id="s1", rule="requests.balance") == [
        ("s1", 2020, "requests.balance", "natural", "pass", 1),
        ("s1", 2020, "requests.balance", "other", "pass", 2),
        ("s1", 2021, "requests.balance", "legal", "fail", 4),
        ("s1", 2021, "requests.balance", "natural", "pass", 3),
    ]


def test_counts_and_pages_cover_every_finding_once(db: str) -> None:
    every = _listed(db, status=None)
    with session_scope(db) as session:
        assert count_findings(session, status=None) == len(every) == 6
        assert count_findings(session, status="pass") == 4
        assert count_findings(session, status="pass", site_id="s1", rule="meta.year") == 1
    pages = [_listed(db, status=None, offset=offset, limit=2) for offset in range(0, 8, 2)]
    assert [row for page in pages for row in page] == every


def test_findings_are_listed_report_by_report_in_the_reports_order(db: str) -> None:
    # Two reports of one site and year, stored B then A: the list follows the reports list (site, year,
    # agency, report), each report's findings together by rule and place, not one rule across reports.
    for agency, url in (("B县", "http://z.gov.cn/b.html"), ("A县", "http://z.gov.cn/a.html")):
        with session_scope(db) as session:
            store_validated(session, site_id="s3", url=url, raw_key="a" * 64, record=minimal_record(agency, 2021),
                            findings=[_finding("requests.balance", "natural", "fail", 1),
                                      _finding("meta.year", None, "fail"), _finding("meta.year", "x", "pass")],
                            rules_version="r1", blank_policy={})  # fmt: skip
    with session_scope(db) as session:
        rows = list_findings(session, site_id="s3", status=None)
        pages = [list_findings(session, site_id="s3", status=None, offset=o, limit=4) for o in (0, 4)]
    assert [(r.agency, r.rule, r.where, r.status) for r in rows] == [
        ("A县", "meta.year", None, "fail"),
        ("A县", "meta.year", "x", "pass"),
        ("A县", "requests.balance", "natural", "fail"),
        ("B县", "meta.year", None, "fail"),
        ("B县", "meta.year", "x", "pass"),
        ("B县", "requests.balance", "natural", "fail"),
    ]
    assert [r for page in pages for r in page] == rows


def test_findings_stream_from_a_server_side_cursor_on_postgresql(postgres_url: str) -> None:
    # `nianbao findings` prints every finding of the database: they come STREAM_BATCH at a time from a cursor
    # the server holds, never all at once into the client's memory.
    upgrade(postgres_url)
    for number in range(3):
        with session_scope(postgres_url) as session:
            store_validated(session, site_id="s1", url=f"http://x.gov.cn/{number}.html", raw_key="a" * 64,
                            record=minimal_record(f"县{number}", 2021), rules_version="r1", blank_policy={},
                            findings=[_finding("requests.balance", "legal", "fail", number)])  # fmt: skip
    with session_scope(postgres_url) as session:
        rows = iter_findings(session, status=None)
        first = next(rows)
        cursors = session.execute(text("SELECT count(*) FROM pg_cursors WHERE NOT is_holdable")).scalar_one()
        rest = list(rows)
    assert cursors == 1
    with session_scope(postgres_url) as session:
        assert [first, *rest] == list_findings(session, status=None)


def test_the_cli_prints_every_finding_as_the_lists_give_them(db: str) -> None:
    nianbao = str(Path(sys.executable).parent / "nianbao")
    env = {**os.environ, "NIANBAO_DATABASE_URL": db, "COLUMNS": "200"}
    lines = subprocess.run([nianbao, "findings", "--status", "all", "--json"], capture_output=True, text=True,
                           env=env, timeout=120, check=True).stdout.splitlines()  # fmt: skip
    with session_scope(db) as session:
        expected = [asdict(r) for r in list_findings(session, status=None)]
    assert [json.loads(line) for line in lines] == expected
    table = subprocess.run([nianbao, "findings", "--status", "pass"], capture_output=True, text=True, env=env,
                           timeout=120, check=True).stdout  # fmt: skip
    assert table.splitlines()[0] == "4 finding(s)" and table.count("[pass]") == 4


def test_every_total_matches_the_listed_rows(db: str) -> None:
    # Two failing findings at one place (one row is stored, as for any duplicate) and a not-assessable one.
    with session_scope(db) as session:
        store_validated(session, site_id="s4", url="http://w.gov.cn/2021.html", raw_key="a" * 64,
                        record=minimal_record("某县", 2021), rules_version="r1", blank_policy={},
                        findings=[_finding("requests.balance", "legal", "fail", 1),
                                  _finding("requests.balance", "legal", "fail", 2),
                                  _finding("meta.year", None, "not_assessable")])  # fmt: skip
    with session_scope(db) as session:
        for site in (None, "s1", "s2", "s4"):
            for status in ("fail", "pass", "not_assessable", None):
                for rule in (None, "requests.balance", "meta.year", "no.such.rule"):
                    listed = list_findings(session, site_id=site, rule=rule, status=status)
                    counted = count_findings(session, site_id=site, rule=rule, status=status)
                    assert counted == len(listed), (site, status, rule)
        assert [(r.rule, r.lhs) for r in list_findings(session, site_id="s4")] == [("requests.balance", 1)]
