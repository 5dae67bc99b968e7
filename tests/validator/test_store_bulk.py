"""The bulk write path: a bounded number of statements per report whatever its size, no write at all for
an unchanged report, and site gauges kept by delta that always equal the aggregate over the site's
reports (checked against ``site_summary``, the O(site) reference, on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlmodel import select

from nianbao.shared.db import get_engine, session_scope, upgrade
from nianbao.shared.models import Report, ReportValue, SiteGauge
from nianbao.shared.record import Cell, Finding, Record, request_keys
from nianbao.validator.store import (
    GaugeChanges,
    NewReportWrite,
    StoreResult,
    execute_new_reports,
    finish_store,
    prepare_store,
    recount_site_gauges,
    site_summary,
    store_validated,
)


def _record(*, year: int = 2020, extra_tables: int = 0, natural: int = 5) -> Record:
    values: dict[str, int | float | None] = dict.fromkeys(request_keys("gen2019"), 0)
    values["new.natural"] = natural
    tables: dict[str, dict[str, int | float | None]] = {"requests": values}
    for n in range(extra_tables):  # more values per report: the statement count must not follow
        tables[f"extra{n}"] = {f"k{i}": i for i in range(200)}
    return Record(
        title=f"示例县人民政府{year}年政府信息公开工作年度报告",
        agency={"name": "示例县人民政府"},
        year={"value": year},
        generation={"value": "gen2019"},
        tables=tables,
        cells=[Cell(table="requests", key="new.natural", value=natural, status="number", raw=str(natural))],
        parser_version="test",
    )


def _findings(*, failing: bool, many: int = 0, many_status: str = "pass") -> list[Finding]:
    out = [Finding(rule="requests.balance", severity="error", status="fail" if failing else "pass", where="natural")]
    out += [Finding(rule="meta.demo", severity="info", status=many_status, where=f"w{i}") for i in range(many)]
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    upgrade(url)
    return url


def _store(url: str, record: Record, findings: list[Finding], *, page: str = "a", site: str = "s1") -> StoreResult:
    with session_scope(url) as session:
        return store_validated(
            session,
            site_id=site,
            url=f"http://x.gov.cn/{page}.html",
            raw_key="a" * 64,
            record=record,
            findings=findings,
            rules_version="r1",
            blank_policy={},
        )


@contextmanager
def _statements(url: str) -> Iterator[list[tuple[str, bool]]]:
    """Every statement sent to the database meanwhile: (SQL, executemany)."""
    seen: list[tuple[str, bool]] = []
    engine = get_engine(url)

    def listener(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, executemany: bool) -> None:
        seen.append((statement.strip().split()[0].upper() + " " + statement, executemany))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _writes(statements: list[tuple[str, bool]]) -> list[str]:
    verbs = ("INSERT", "UPDATE", "DELETE")
    return [s for s, _many in statements if s.startswith(verbs) or "FOR UPDATE" in s.upper()]


def test_statements_per_report_do_not_grow_with_its_values(db_url: str) -> None:
    small, big = _record(), _record(extra_tables=5)  # 161 values vs 1161 values
    with _statements(db_url) as first:
        _store(db_url, small, _findings(failing=True), page="small")
    with _statements(db_url) as second:
        _store(db_url, big, _findings(failing=True, many=300), page="big")
    assert len(first) == len(second) <= 8, [s[:60] for s, _ in second]
    inserts = [(s, many) for s, many in second if "INSERT INTO report_value" in s]
    # The 1161 values: one statement (PostgreSQL: INSERT … SELECT FROM json_to_recordset(one JSON text), in
    # the one statement that writes a new report; SQLite: executemany).
    assert len(inserts) == 1 and (inserts[0][1] or "json_to_recordset" in inserts[0][0])
    with session_scope(db_url) as session:
        assert len(session.exec(select(ReportValue)).all()) == 161 + 161 + 5 * 200


def test_a_new_report_is_written_by_one_statement_on_postgresql(postgres_url: str) -> None:
    """Report row, values, findings, history row and site gauge: one round trip, all of them stored."""
    upgrade(postgres_url)
    _store(postgres_url, _record(year=2019), _findings(failing=False), page="first")
    passing = [Finding(rule="meta.other", severity="info", status="pass", where=f"p{i}") for i in range(2)]
    findings = _findings(failing=True, many=4, many_status="fail") + passing
    with _statements(postgres_url) as seen:
        result = _store(postgres_url, _record(year=2021), findings, page="second")
    writes = [s for s, _many in seen if not s.startswith("SELECT")]
    assert len(writes) == 1 and writes[0].startswith("WITH"), [s[:60] for s in writes]
    assert result.created and result.changed and result.failing_errors == 1
    assert (result.site_reports_with_errors, result.site_newest_year) == (1, 2021)
    assert _gauge(postgres_url, "s1") == _reference(postgres_url, "s1") == (1, 2021)
    with session_scope(postgres_url) as session:
        report = session.exec(select(Report).where(Report.id == result.report_id)).one()
        assert report.rows_sha256 and report.failing_errors == 1 and report.year == 2021
        assert [(p["rule"], p["location"]) for p in report.passed] == [("meta.other", "p0"), ("meta.other", "p1")]
        rows = session.execute(
            text("SELECT rule, location, status FROM finding WHERE report_id = :r ORDER BY location"),
            {"r": result.report_id},
        ).all()
        assert [tuple(r) for r in rows] == [("requests.balance", "natural", "fail")] + [
            ("meta.demo", f"w{i}", "fail") for i in range(4)
        ]
        values = session.exec(select(ReportValue).where(ReportValue.report_id == result.report_id)).all()
        assert len(values) == 161
        assert {(v.key, v.value, v.status, v.raw) for v in values if v.key == "new.natural"} == {
            ("new.natural", 5, "number", "5")
        }
        history = session.execute(
            text("SELECT failing FROM report_version WHERE report_id = :r"), {"r": result.report_id}
        ).scalar_one()
        assert [(h["rule"], h["where"]) for h in history] == [("requests.balance", "natural")] + [
            ("meta.demo", f"w{i}") for i in range(4)
        ]


def test_new_reports_written_together_answer_each_its_own_id(postgres_url: str) -> None:
    """``execute_new_reports`` (a batch's new reports, one statement): each result is its own report's, in
    order, and each report has its own values (three reports of different sizes: rows cannot be mixed up)."""
    upgrade(postgres_url)
    gauges = GaugeChanges()
    with session_scope(postgres_url) as session:
        writes = []
        for n in range(3):
            record, findings = _record(year=2019 + n, extra_tables=n), _findings(failing=n == 1)
            writes.append(prepare_store(
                session, site_id="s1", url=f"http://x.gov.cn/{n}.html", raw_key="a" * 64, record=record,
                findings=findings, rules_version="r1", blank_policy={}, gauges=gauges,
            ))  # fmt: skip
        assert all(isinstance(write, NewReportWrite) for write in writes)
        results = execute_new_reports(session, writes)  # type: ignore[arg-type]
        gauges.apply(session)
    with session_scope(postgres_url) as session:
        for n, result in enumerate(results):
            report = session.exec(select(Report).where(Report.id == result.report_id)).one()
            assert (report.url, report.year, result.failing_errors) == (f"http://x.gov.cn/{n}.html", 2019 + n, n == 1)
            values = session.exec(select(ReportValue).where(ReportValue.report_id == report.id)).all()
            assert len(values) == 161 + 200 * n
    assert _gauge(postgres_url, "s1") == _reference(postgres_url, "s1") == (1, 2021)


def test_unchanged_report_sends_no_write_and_no_lock(db_url: str) -> None:
    _store(db_url, _record(), _findings(failing=True))
    with _statements(db_url) as seen:
        result = _store(db_url, _record(), _findings(failing=True))
    assert not result.changed
    assert _writes(seen) == []
    assert result.site_reports_with_errors == 1 and result.site_newest_year == 2020


def test_changed_value_is_one_update_of_one_row(db_url: str) -> None:
    _store(db_url, _record(natural=5), _findings(failing=True))
    with _statements(db_url) as seen:
        result = _store(db_url, _record(natural=6), _findings(failing=True))
    assert result.changed and not result.created
    updates = [s for s in _writes(seen) if s.startswith("UPDATE") and "report_value" in s]
    assert len(updates) == 1
    assert not [s for s in _writes(seen) if s.startswith(("INSERT", "DELETE")) and "report_value" in s]
    with session_scope(db_url) as session:
        assert session.exec(select(ReportValue.value).where(ReportValue.key == "new.natural")).one() == 6


def _gauge(url: str, site: str) -> tuple[int, int | None]:
    with session_scope(url) as session:
        row = session.get(SiteGauge, site)
        assert row is not None
        return row.reports_with_errors, row.newest_year


def _reference(url: str, site: str) -> tuple[int, int | None]:
    with session_scope(url) as session:
        return site_summary(session, site)


def test_site_gauge_follows_every_change_like_the_aggregate(db_url: str) -> None:
    # (page, year, failing) in order; expected gauges computed by hand after each step.
    steps: list[tuple[str, int, bool, tuple[int, int | None]]] = [
        ("a", 2019, True, (1, 2019)),
        ("b", 2021, False, (1, 2021)),
        ("c", 2020, True, (2, 2021)),
        ("a", 2019, False, (1, 2021)),  # a clears its error
        ("b", 2018, False, (1, 2020)),  # b held the newest year and moves below it: newest drops to c's
        ("c", 2020, True, (1, 2020)),  # unchanged
        ("c", 2022, True, (1, 2022)),
        ("a", 2019, True, (2, 2022)),
    ]
    for page, year, failing, expected in steps:
        result = _store(db_url, _record(year=year), _findings(failing=failing), page=page)
        assert (result.site_reports_with_errors, result.site_newest_year) == expected, (page, year, failing)
        assert _gauge(db_url, "s1") == expected == _reference(db_url, "s1")
    _store(db_url, _record(year=2030), _findings(failing=True), page="other", site="s2")
    assert _gauge(db_url, "s2") == (1, 2030) and _gauge(db_url, "s1") == (2, 2022)  # sites apart
    with session_scope(db_url) as session:
        assert session.get(SiteGauge, "s1").reports == 3  # type: ignore[union-attr]


def test_gauge_changes_of_a_batch_equal_the_changes_one_report_at_a_time(db_url: str) -> None:
    """The same steps as above in transactions of several reports (the validator's batches), the gauges
    written once per site at each one's end (GaugeChanges): after each, equal to the aggregate, and to what
    the steps gave one at a time. The third batch moves the newest year's only report below it, with others."""
    batches: list[list[tuple[str, str, int, bool]]] = [  # (site, page, year, failing)
        [("s1", "a", 2019, True), ("s1", "b", 2021, False), ("s2", "x", 2030, True)],
        [("s1", "c", 2020, True), ("s1", "a", 2019, False), ("s1", "a", 2019, True)],  # a twice in one batch
        [("s1", "b", 2018, False), ("s1", "c", 2020, True), ("s2", "x", 2030, True)],  # b leaves 2021; unchanged
        [("s1", "c", 2022, True), ("s1", "a", 2019, True)],
    ]
    expected = [
        {"s1": (1, 2021), "s2": (1, 2030)},
        {"s1": (2, 2021), "s2": (1, 2030)},
        {"s1": (2, 2020), "s2": (1, 2030)},
        {"s1": (2, 2022), "s2": (1, 2030)},
    ]
    for batch, wanted in zip(batches, expected, strict=True):
        gauges = GaugeChanges()
        with session_scope(db_url) as session:
            for site, page, year, failing in batch:
                stored = prepare_store(
                    session, site_id=site, url=f"http://x.gov.cn/{page}.html", raw_key="a" * 64,
                    record=_record(year=year), findings=_findings(failing=failing), rules_version="r1",
                    blank_policy={}, gauges=gauges,
                )  # fmt: skip
                result = finish_store(session, stored)
                assert (result.site_reports_with_errors, result.site_newest_year) == (0, None)  # left to apply
            assert gauges.apply(session) == {site: wanted[site] for site, *_ in batch}  # the batch's sites
        for site, gauge in wanted.items():
            assert _gauge(db_url, site) == gauge == _reference(db_url, site), (site, batch)
    with session_scope(db_url) as session:
        assert session.get(SiteGauge, "s1").reports == 3  # type: ignore[union-attr]


def test_recount_repairs_a_tampered_gauge(db_url: str) -> None:
    _store(db_url, _record(year=2019), _findings(failing=True), page="a")
    _store(db_url, _record(year=2020), _findings(failing=False), page="b")
    with session_scope(db_url) as session:
        session.execute(text("UPDATE site_gauge SET reports_with_errors = 40, newest_year = 1990"))
    with session_scope(db_url) as session:
        assert recount_site_gauges(session) == {"s1": (1, 2020)}
    assert _gauge(db_url, "s1") == (1, 2020)
    with session_scope(db_url) as session:
        session.execute(text("DELETE FROM site_gauge"))
    # A lost row is rebuilt the next time the site is read, not left at zero.
    result = _store(db_url, _record(year=2020), _findings(failing=False), page="b")
    assert (result.site_reports_with_errors, result.site_newest_year) == (1, 2020)


@pytest.mark.parametrize("backend", ["sqlite_url", "postgres_url"])
def test_migration_0006_fills_the_gauges_of_stored_reports(backend: str, request: pytest.FixtureRequest) -> None:
    url: str = request.getfixturevalue(backend)
    upgrade(url, "0005")
    rows = [("s1", "u1", 2019, 2), ("s1", "u2", 2021, 0), ("s1", "u3", None, 1), ("s2", "u4", 2018, 0)]
    engine = create_engine(url)
    with engine.begin() as conn:
        for site, page, year, errors in rows:
            conn.execute(
                text(
                    "INSERT INTO report (site_id, url, raw_key, content_sha256, year, parser_version, rules_version,"
                    " blank_policy, record, failing_errors, failing_warnings, created_at, updated_at) VALUES"
                    " (:s, :u, 'k', 'k', :y, '', '', '{}', '{}', :e, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"s": site, "u": page, "y": year, "e": errors},
            )
    engine.dispose()
    upgrade(url)
    with session_scope(url) as session:
        gauges = {g.site_id: (g.reports, g.reports_with_errors, g.newest_year) for g in session.exec(select(SiteGauge))}
    assert gauges == {"s1": (3, 2, 2021), "s2": (1, 0, 2018)}


def test_concurrent_writers_of_one_report_leave_the_last_version_and_an_exact_gauge(postgres_url: str) -> None:
    """B reads the report before A commits its change, then waits for A's row lock: B's version must win
    whole (none of A's columns left behind) and the gauge must count B's status, not A's plus B's delta."""
    import threading

    upgrade(postgres_url)
    _store(postgres_url, _record(natural=1), _findings(failing=False))  # stored: no error
    errors: list[BaseException] = []
    b_read = threading.Event()
    with session_scope(postgres_url) as a:
        # A: the report now fails (an error finding) and has another value; not committed yet.
        store_validated(a, site_id="s1", url="http://x.gov.cn/a.html", raw_key="a" * 64, record=_record(natural=2),
                        findings=_findings(failing=True), rules_version="r1", blank_policy={})  # fmt: skip

        def writer_b() -> None:
            try:
                with session_scope(postgres_url) as b:
                    engine_conn = b.connection()
                    event.listen(engine_conn, "after_cursor_execute", lambda *_a: b_read.set(), once=True)
                    # B: back to the first version's verdict (no error) with a third value.
                    store_validated(b, site_id="s1", url="http://x.gov.cn/a.html", raw_key="a" * 64,
                                    record=_record(natural=3), findings=_findings(failing=False),
                                    rules_version="r1", blank_policy={})  # fmt: skip
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        thread = threading.Thread(target=writer_b)
        thread.start()
        assert b_read.wait(10)  # B has read the row as it was before A's commit
        thread.join(0.5)
        assert thread.is_alive()  # and now waits for A's lock
    thread.join(20)  # A committed on leaving the block
    assert not thread.is_alive() and errors == []
    with session_scope(postgres_url) as session:
        report = session.exec(select(Report)).one()
        assert report.failing_errors == 0
        assert report.record["tables"]["requests"]["new.natural"] == 3
        assert session.exec(select(ReportValue.value).where(ReportValue.key == "new.natural")).one() == 3
    assert _gauge(postgres_url, "s1") == (0, 2020) == _reference(postgres_url, "s1")


def test_revalidate_recounts_the_site_gauges(db_url: str) -> None:
    from nianbao.validator.maintenance import revalidate
    from nianbao.validator.settings import ValidatorSettings

    _store(db_url, _record(year=2019), _findings(failing=True), page="a")
    _store(db_url, _record(year=2021), _findings(failing=False), page="b")
    with session_scope(db_url) as session:
        session.execute(text("UPDATE site_gauge SET reports = 9, reports_with_errors = 7, newest_year = 1999"))
    revalidate(ValidatorSettings(database_url=db_url), only_stale=False)
    with session_scope(db_url) as session:
        gauge = session.get(SiteGauge, "s1")
        assert gauge is not None
        # Counted from the reports as the current rules judge them (the stored verdicts are re-evaluated).
        expected = site_summary(session, "s1")
        assert (gauge.reports, gauge.reports_with_errors, gauge.newest_year) == (2, *expected)
        assert expected[1] == 2021


def test_a_non_finite_value_fails_clearly_and_stores_nothing(db_url: str) -> None:
    record = _record()
    record.tables["requests"]["new.natural"] = float("nan")
    with pytest.raises(ValueError, match="non-finite number nan cannot be stored"):
        _store(db_url, record, _findings(failing=True))
    with session_scope(db_url) as session:
        assert session.exec(select(Report)).all() == []


def test_texts_and_integers_beyond_64_bits_are_stored_exactly(db_url: str) -> None:
    # The record's JSON goes through orjson, or through json.dumps for what orjson refuses (2**64).
    record = _record(natural=2**64)
    stored = _store(db_url, record, _findings(failing=False))
    with session_scope(db_url) as session:
        row = session.get(Report, stored.report_id)
        assert row is not None
        assert row.record["tables"]["requests"]["new.natural"] == 2**64
        assert row.record["title"] == "示例县人民政府2020年政府信息公开工作年度报告"
        assert session.exec(select(ReportValue.value).where(ReportValue.key == "new.natural")).one() == 2.0**64
        # Written by jsontext (the engine's serializer): Chinese as is, not as \u escapes.
        raw = session.execute(text("SELECT CAST(record AS TEXT) FROM report")).scalar_one()
        assert "示例县人民政府" in raw


# --- Knowing "unchanged" without reading the rows back: the record compared as text, the rows by digest.


def _reads_of_rows(statements: list[tuple[str, bool]]) -> list[str]:
    return [s for s, _many in statements if s.startswith("SELECT") and ("report_value" in s or "FROM finding" in s)]


def test_unchanged_report_reads_neither_its_values_nor_its_findings(db_url: str) -> None:
    _store(db_url, _record(), _findings(failing=True, many=3))
    with _statements(db_url) as seen:
        result = _store(db_url, _record(), _findings(failing=True, many=3))
    assert not result.changed
    assert _reads_of_rows(seen) == [] and _writes(seen) == []


def test_rows_that_change_under_an_unchanged_record_are_written(db_url: str) -> None:
    # The same record with one more failing finding (as when the previous year's report arrives later):
    # every report column is equal, only the rows' digest differs, and the new finding row must be stored.
    _store(db_url, _record(), _findings(failing=True, many=1, many_status="fail"))
    with _statements(db_url) as seen:
        result = _store(db_url, _record(), _findings(failing=True, many=2, many_status="fail"))
    assert result.changed
    assert [s for s in _writes(seen) if s.startswith("INSERT") and "finding" in s]
    with session_scope(db_url) as session:
        locations = session.execute(text("SELECT location FROM finding ORDER BY location")).scalars().all()
        assert locations == ["natural", "w0", "w1"]
    with _statements(db_url) as again:  # and the new digest is what is stored now
        assert not _store(db_url, _record(), _findings(failing=True, many=2, many_status="fail")).changed
    assert _reads_of_rows(again) == [] and _writes(again) == []


def test_a_passing_finding_added_under_an_unchanged_record_is_written_to_the_report(db_url: str) -> None:
    # A passing finding is an entry of the report's ``passed`` list, not a row: the report row is written
    # (and stamped), no finding row is, and the next store of the same findings writes nothing.
    _store(db_url, _record(), _findings(failing=True, many=1))
    with _statements(db_url) as seen:
        result = _store(db_url, _record(), _findings(failing=True, many=2))
    assert result.changed
    writes = _writes(seen)
    assert [s for s in writes if "UPDATE report SET passed" in s] and not [s for s in writes if "finding" in s]
    with session_scope(db_url) as session:
        assert session.execute(text("SELECT location FROM finding")).scalars().all() == ["natural"]
        passed = session.execute(select(Report.passed)).scalar_one()  # type: ignore[call-overload]
        assert [(p["rule"], p["location"]) for p in passed] == [("meta.demo", "w0"), ("meta.demo", "w1")]
    with _statements(db_url) as again:
        assert not _store(db_url, _record(), _findings(failing=True, many=2)).changed
    assert _writes(again) == []


def test_rows_stored_without_a_digest_are_compared_once_and_then_skipped(db_url: str) -> None:
    # Reports stored before migration 0009 have no digest: the first store compares their rows in full,
    # writes nothing but the digest (updated_at stays), and the next one reads nothing.
    first = _store(db_url, _record(), _findings(failing=True, many=3))
    with session_scope(db_url) as session:
        session.execute(text("UPDATE report SET rows_sha256 = NULL"))
        before = session.execute(text("SELECT updated_at FROM report")).scalar_one()
    with _statements(db_url) as seen:
        result = _store(db_url, _record(), _findings(failing=True, many=3))
    assert not result.changed and result.report_id == first.report_id
    assert len(_reads_of_rows(seen)) == 2
    writes = _writes(seen)
    assert len(writes) <= 2 and writes[-1].startswith("UPDATE") and "rows_sha256" in writes[-1]
    assert not [s for s in writes if "report_value" in s or "finding" in s]
    with session_scope(db_url) as session:
        row = session.execute(text("SELECT updated_at, rows_sha256 FROM report")).one()
    assert row[0] == before and row[1] is not None and len(row[1]) == 64
    with _statements(db_url) as again:
        _store(db_url, _record(), _findings(failing=True, many=3))
    assert _reads_of_rows(again) == [] and _writes(again) == []


def test_a_record_written_by_another_serializer_is_recognised_as_unchanged(db_url: str) -> None:
    # Rows written by json.dumps (before orjson: \u escapes, other spacing) hold an equal record under a
    # different text: it is compared as data then, and nothing is rewritten.
    _store(db_url, _record(), _findings(failing=True))
    with session_scope(db_url) as session:
        stored = session.execute(text("SELECT CAST(record AS TEXT) FROM report")).scalar_one()
        old_style = json.dumps(json.loads(stored), indent=1)  # ensure_ascii: 示例 becomes \u793a\u4f8b
        assert old_style != stored
        session.execute(text("UPDATE report SET record = :t"), {"t": old_style})
    with _statements(db_url) as seen:
        result = _store(db_url, _record(), _findings(failing=True))
    assert not result.changed and _writes(seen) == []
    changed = _record(natural=6)  # and a real change of the record is still one
    assert _store(db_url, changed, _findings(failing=True)).changed
