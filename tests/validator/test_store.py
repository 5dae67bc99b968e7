"""Storage is idempotent on SQLite and PostgreSQL: same record twice = one report, nothing rewritten;
a changed record updates values and findings in place."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import select

from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.models import FindingRow, Report, ReportValue
from nianbao.shared.record import Cell, Finding, Record, request_keys
from nianbao.validator.reads import previous_record
from nianbao.validator.store import store_validated


def _record(natural_new: int = 5, agency: str = "示例县人民政府", year: int = 2020) -> Record:
    values: dict[str, int | float | None] = dict.fromkeys(request_keys("gen2019"), 0)
    values["new.natural"] = natural_new
    return Record(
        title=f"{agency}{year}年政府信息公开工作年度报告",
        agency={"name": agency, "source": "title"},
        year={"value": year, "source": "title"},
        generation={"value": "gen2019", "source": "labels"},
        tables={"requests": values},
        cells=[Cell(table="requests", key="new.natural", value=natural_new, status="number", raw=str(natural_new))],
        parser_version="test",
    )


def _findings(status: str) -> list[Finding]:
    return [
        Finding(
            rule="requests.balance",
            severity="error",
            status=status,
            where="natural",
            lhs=5,
            rhs=0,
            delta=5,
            cells=["requests.new.natural"],
            message="balance",
        ),
        Finding(rule="meta.publish_window", severity="warn", status="pass", where=None),
    ]


# The passing finding of ``_findings``, as the report's ``passed`` list holds it.
PUBLISH_WINDOW_PASSED = {
    "rule": "meta.publish_window", "location": "", "severity": "warn", "lhs": None, "rhs": None, "delta": None,
    "cells": [], "message": "",
}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    upgrade(url)
    return url


def _store(url: str, record: Record, findings: list[Finding]) -> object:
    with session_scope(url) as session:
        return store_validated(
            session,
            site_id="s1",
            url="http://x.gov.cn/a.html",
            raw_key="a" * 64,
            record=record,
            findings=findings,
            rules_version="r1",
            blank_policy={"requests": "no_blanks"},
        )


def test_same_record_twice_stores_one_report_and_rewrites_nothing(db_url: str) -> None:
    first = _store(db_url, _record(), _findings("fail"))
    with session_scope(db_url) as session:
        stamps: list[datetime] = [f.updated_at for f in session.exec(select(FindingRow))]
        report_stamp = session.exec(select(Report)).one().updated_at
    second = _store(db_url, _record(), _findings("fail"))
    assert first.created and not second.changed  # type: ignore[attr-defined]
    with session_scope(db_url) as session:
        assert len(session.exec(select(Report)).all()) == 1
        assert len(session.exec(select(ReportValue)).all()) == 161
        rows = session.exec(select(FindingRow)).all()
        assert [(r.rule, r.location) for r in rows] == [("requests.balance", "natural")]
        assert [f.updated_at for f in rows] == stamps
        report = session.exec(select(Report)).one()
        assert report.updated_at == report_stamp
        assert report.passed == [PUBLISH_WINDOW_PASSED]


def test_changed_record_updates_in_place(db_url: str) -> None:
    _store(db_url, _record(natural_new=5), _findings("fail"))
    result = _store(db_url, _record(natural_new=7), _findings("pass")[:1])
    assert result.changed  # type: ignore[attr-defined]
    with session_scope(db_url) as session:
        value = session.exec(select(ReportValue).where(ReportValue.key == "new.natural")).one()
        assert value.value == 7 and value.raw == "7"
        assert session.exec(select(FindingRow)).all() == []  # it passes now: an entry of the report's list
        report = session.exec(select(Report)).one()
        assert [(p["rule"], p["location"], p["lhs"]) for p in report.passed] == [("requests.balance", "natural", 5)]
        assert report.failing_errors == 0
    result = _store(db_url, _record(natural_new=7), _findings("fail"))  # and back: a row again
    assert result.changed  # type: ignore[attr-defined]
    with session_scope(db_url) as session:
        assert [(r.rule, r.status) for r in session.exec(select(FindingRow))] == [("requests.balance", "fail")]
        assert session.exec(select(Report)).one().passed == [PUBLISH_WINDOW_PASSED]


def test_every_finding_reads_back_through_the_view_with_its_columns(db_url: str) -> None:
    """``finding_all`` (migration 0012) gives the rows and the passed entries as one relation, each with
    the finding's columns: what exports and ``findings --status pass`` read."""
    from sqlalchemy import select as sa_select

    from nianbao.shared.models import FINDING_ALL

    _store(db_url, _record(), _findings("fail"))
    with session_scope(db_url) as session:
        rows = session.execute(sa_select(FINDING_ALL).order_by(FINDING_ALL.c.rule)).mappings().all()
    assert [{k: v for k, v in row.items() if k != "position"} for row in rows] == [
        {"report_id": 1, "rule": "meta.publish_window", "location": "", "severity": "warn", "status": "pass",
         "lhs": None, "rhs": None, "delta": None, "cells": [], "message": "", "rule_version": "r1"},
        {"report_id": 1, "rule": "requests.balance", "location": "natural", "severity": "error", "status": "fail",
         "lhs": 5.0, "rhs": 0.0, "delta": 5.0, "cells": ["requests.new.natural"], "message": "balance",
         "rule_version": "r1"},
    ]  # fmt: skip


def test_previous_record_finds_same_agency_year_before(db_url: str) -> None:
    with session_scope(db_url) as session:
        store_validated(
            session,
            site_id="s1",
            url="http://x.gov.cn/2019.html",
            raw_key="b" * 64,
            record=_record(year=2019),
            findings=[],
            rules_version="r1",
            blank_policy={},
        )
    with session_scope(db_url) as session:
        prev = previous_record(session, agency="示例县人民政府", year=2020, exclude_url="http://x.gov.cn/2020.html")
        assert prev is not None and prev.year.value == 2019
        assert prev == _record(year=2019)  # read back from its JSON text, whole
        assert previous_record(session, agency="别的县", year=2020, exclude_url="") is None


def test_history_keeps_one_row_per_content_and_version(db_url: str) -> None:
    from nianbao.shared.models import ReportVersion

    _store(db_url, _record(natural_new=5), _findings("fail"))
    _store(db_url, _record(natural_new=5), _findings("fail"))  # same: no new history row
    changed = _record(natural_new=7)
    changed.source.content_sha256 = "c" * 64
    _store(db_url, changed, _findings("pass"))
    with session_scope(db_url) as session:
        history = session.exec(select(ReportVersion).order_by(ReportVersion.id)).all()
    assert [h.content_sha256 for h in history] == ["a" * 64, "c" * 64]
    assert [f["rule"] for f in history[0].failing] == ["requests.balance"]
    assert history[1].failing == []
