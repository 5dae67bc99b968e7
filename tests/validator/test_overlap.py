"""``OverlappedStore``: reports stored while the caller goes on leave exactly what storing them one by one
leaves (rows, findings, history, gauges), in order (a report's cross-year rules see the report submitted
before it), each outcome told once, a failure costing only its own report; never a hang."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import text

from nianbao.shared.contracts import ReportParsed
from nianbao.shared.db import get_engine, session_scope, upgrade
from nianbao.shared.errors import PermanentError
from nianbao.validator import store as store_module
from nianbao.validator.handlers import handle_report_parsed
from nianbao.validator.overlap import OverlappedStore
from nianbao.validator.settings import ValidatorSettings
from nianbao.validator.store import StoreResult

from support.reports import parsed_pages


def _state(url: str) -> dict[str, list[Any]]:
    """Everything the store wrote, without ids and clocks, in a stable order."""
    queries = {
        "report": "SELECT site_id, url, raw_key, agency, year, generation, rules_version, CAST(blank_policy AS text),"
        " CAST(record AS text), CAST(passed AS text), failing_errors, failing_warnings, rows_sha256"
        " FROM report ORDER BY url",
        "value": "SELECT r.url, v.table_name, v.key, v.value, v.status, v.raw, v.unit"
        " FROM report_value v JOIN report r ON r.id = v.report_id ORDER BY 1, 2, 3",
        "finding": "SELECT r.url, f.rule, f.location, f.severity, f.status, f.lhs, f.rhs, f.delta, f.message"
        " FROM finding f JOIN report r ON r.id = f.report_id ORDER BY 1, 2, 3",
        "version": "SELECT r.url, h.content_sha256, h.parser_version, h.rules_version, CAST(h.failing AS text)"
        " FROM report_version h JOIN report r ON r.id = h.report_id ORDER BY 1, 2",
        "gauge": "SELECT site_id, reports, reports_with_errors, newest_year FROM site_gauge ORDER BY site_id",
    }
    with session_scope(url) as session:
        return {name: [tuple(row) for row in session.execute(text(sql))] for name, sql in queries.items()}


def _reset(url: str) -> None:
    with session_scope(url) as session:
        session.execute(text("DELETE FROM report"))  # its trigger deletes values and findings
        session.execute(text("DELETE FROM site_gauge"))


Outcome = tuple[str, StoreResult | None, Exception | None]


def _submit_all(messages: list[ReportParsed]) -> list[Outcome]:
    told: list[Outcome] = []
    with OverlappedStore(ValidatorSettings()) as reports:
        for message in messages:
            reports.submit(message, lambda m, result, error: told.append((m.url, result, error)))
    return told


def test_overlapped_stores_leave_what_one_by_one_stores_leave(database: str) -> None:
    messages = parsed_pages(6)
    for message in messages:
        handle_report_parsed(message, ValidatorSettings())
    one_by_one = _state(database)
    _reset(database)

    told = _submit_all(messages)

    assert [url for url, _r, _e in told] == [m.url for m in messages]  # each once, in order
    assert all(error is None and result is not None and result.created for _u, result, error in told)
    assert _state(database) == one_by_one
    # The cross-year rules of the city's 2020 report ran: they read its 2019 report, submitted just before it
    # (its tables and text are the 2019 ones, so they fail).
    rules = {row[1] for row in _state(database)["finding"] if row[0] == messages[1].url}
    assert {"xyear.copied_text", "xyear.copied_tables"} <= rules

    # Again: every report is stored already and unchanged, so nothing is written (not even updated_at).
    with session_scope(database) as session:
        stamps = session.execute(text("SELECT url, updated_at FROM report ORDER BY url")).all()
    told = _submit_all(messages)
    assert all(error is None and result is not None and not result.changed for _u, result, error in told)
    with session_scope(database) as session:
        assert session.execute(text("SELECT url, updated_at FROM report ORDER BY url")).all() == stamps


def test_a_failing_report_costs_only_itself(database: str) -> None:
    good = parsed_pages(3)
    # Fails in the check (its record is not a canonical record): before anything is written.
    bad_record = ReportParsed(site_id="demo", url="http://127.0.0.1:8734/bad-record.html", raw_key="b" * 64,
                              record={"year": "x"})  # fmt: skip
    # Fails in the write on PostgreSQL: the report row's raw_key column holds 64 characters (SQLite does not
    # check lengths: there, the report is stored).
    bad_write = ReportParsed(site_id="demo", url="http://127.0.0.1:8734/bad-write.html", raw_key="k" * 65,
                             record=good[1].record)  # fmt: skip
    messages = [good[0], bad_record, good[1], bad_write, good[2]]

    told = _submit_all(messages)

    assert [url for url, _r, _e in told] == [m.url for m in messages]
    errors = {url: error for url, _r, error in told if error is not None}
    postgres = database.startswith("postgresql")
    assert set(errors) == ({bad_record.url, bad_write.url} if postgres else {bad_record.url}), errors
    assert isinstance(errors[bad_record.url], PermanentError)
    if postgres:
        assert "too long" in str(errors[bad_write.url])
    stored_urls = sorted(m.url for m in good) + ([] if postgres else [bad_write.url])
    with session_scope(database) as session:
        stored = session.execute(text("SELECT url FROM report ORDER BY url")).scalars().all()
        gauge = session.execute(text("SELECT reports FROM site_gauge")).scalar_one()
    assert stored == sorted(stored_urls)
    assert gauge == len(stored_urls)


def test_an_interrupted_write_is_told_not_hung(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write ended by a BaseException (not an Exception) still tells its outcome: the caller, waiting for it,
    goes on; the next report is stored."""
    monkeypatch.setenv("NIANBAO_DATABASE_URL", postgres_url)
    upgrade(postgres_url)
    messages = parsed_pages(2)
    real = store_module.NewReportWrite.execute

    def interrupted_once(self: Any, session: Any) -> StoreResult:
        if self.params["url"] == messages[0].url:
            raise SystemExit("stop")
        return real(self, session)

    monkeypatch.setattr(store_module.NewReportWrite, "execute", interrupted_once)
    done = threading.Event()
    told: list[Outcome] = []

    def run() -> None:
        told.extend(_submit_all(messages))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(60), "the store hung on an interrupted write"
    assert isinstance(told[0][2], RuntimeError) and "interrupted" in str(told[0][2])
    assert told[1][2] is None and told[1][1] is not None and told[1][1].created


def test_the_write_runs_while_the_caller_works_on_postgresql(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL ``submit`` returns before its report's commit, which runs in the store's thread (that is
    the overlap); on SQLite the report is committed before ``submit`` returns. Either way ``flush`` tells the
    last outcome and gives the connection back."""
    monkeypatch.setenv("NIANBAO_DATABASE_URL", postgres_url)
    upgrade(postgres_url)
    [message] = parsed_pages(1)
    committing: list[str] = []
    engine = get_engine(postgres_url)

    def on_commit(_conn: Any) -> None:
        committing.append(threading.current_thread().name)

    from sqlalchemy import event

    event.listen(engine, "commit", on_commit)
    try:
        told: list[Outcome] = []
        reports = OverlappedStore(ValidatorSettings())
        reports.submit(message, lambda m, result, error: told.append((m.url, result, error)))
        assert told == []  # told at the next submit or flush, not before
        reports.flush()
    finally:
        event.remove(engine, "commit", on_commit)
    assert [url for url, _r, _e in told] == [message.url]
    assert committing == ["nianbao-store"]
    assert engine.pool.checkedout() == 0
    assert not any(t.name == "nianbao-store" for t in threading.enumerate())
