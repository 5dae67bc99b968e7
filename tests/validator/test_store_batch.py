"""``store_batch``: several ReportParsed payloads checked and stored in one transaction (the validator worker's
batches), on SQLite and PostgreSQL. What it stores is what one message at a time stores; what it cannot store
it answers False for, so the worker runs that message alone, and then it has written nothing."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError
from sqlmodel import func, select

from nianbao.shared.contracts import ReportParsed
from nianbao.shared.db import session_scope
from nianbao.shared.models import FindingRow, Report, ReportValue
from nianbao.validator.handlers import handle_report_parsed, store_batch
from nianbao.validator.settings import ValidatorSettings

from support.reports import parsed_pages


def _payloads(messages: list[ReportParsed]) -> list[dict[str, Any]]:
    # As a worker's child reads them off the broker: JSON data, no record object kept.
    return [message.to_payload() for message in messages]


def _counts(url: str) -> tuple[int, int, int]:
    with session_scope(url) as session:
        return tuple(  # type: ignore[return-value]
            session.exec(select(func.count()).select_from(table)).one() for table in (Report, ReportValue, FindingRow)
        )


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_batch_stores_what_one_message_at_a_time_stores(database: str) -> None:
    messages = parsed_pages(4)
    ok_before = _sample("nianbao_validator_tasks_total", outcome="ok")
    stored_before = _sample("nianbao_validator_batches_total", outcome="stored")
    assert store_batch(_payloads(messages), ValidatorSettings()) == [True] * 4
    reports, values, findings = _counts(database)
    assert reports == 4 and values > 4 * 100 and findings > 0  # passing findings live in the report row
    assert _sample("nianbao_validator_tasks_total", outcome="ok") == ok_before + 4
    assert _sample("nianbao_validator_batches_total", outcome="stored") == stored_before + 1
    # The same messages one at a time: every report found as stored, nothing rewritten.
    for message in messages:
        result = handle_report_parsed(ReportParsed.model_validate(message.to_payload()), ValidatorSettings())
        assert (result.created, result.changed) == (False, False), message.url
    assert _counts(database) == (reports, values, findings)
    # And the batch again: idempotent.
    assert store_batch(_payloads(messages), ValidatorSettings()) == [True] * 4
    assert _counts(database) == (reports, values, findings)


def _one_at_a_time_finds_each_unchanged(messages: list[ReportParsed]) -> None:
    for message in messages:
        result = handle_report_parsed(ReportParsed.model_validate(message.to_payload()), ValidatorSettings())
        assert (result.created, result.changed) == (False, False), message.url


def test_a_batch_reads_ahead_in_two_statements_and_writes_its_new_reports_together(
    postgres_url: str, monkeypatch: Any
) -> None:
    """On PostgreSQL a batch reads its reports' stored rows and previous years' records in one statement each
    (reads.read_batch) and writes its new reports in one statement (store.execute_new_reports), instead of
    three statements a report. Two of these five reports have their previous year in the batch (示例市 2020,
    示例县 2019): each reads it in its turn, after the new reports before it are written (what the first
    test checks), so the five are written in three statements: [示例市 2019], [示例市 2020, 示例县 2018],
    [示例县 2019, 示例市交通运输局 2020]."""
    from sqlalchemy import event

    from nianbao.shared.db import get_engine, upgrade

    monkeypatch.setenv("NIANBAO_DATABASE_URL", postgres_url)
    upgrade(postgres_url)
    messages = parsed_pages(5)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = get_engine(postgres_url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert store_batch(_payloads(messages), ValidatorSettings()) == [True] * 5
    finally:
        event.remove(engine, "before_cursor_execute", count)
    reads_ahead = [s for s in statements if "json_to_recordset" in s and "INSERT" not in s]
    alone = [s for s in statements if "FROM report" in s and "json_to_recordset" not in s and "INSERT" not in s]
    writes = [s for s in statements if "INSERT INTO report " in s]
    assert (len(reads_ahead), len(alone), len(writes)) == (2, 2, 3), statements
    assert len(statements) == 2 + 2 + 3 + 1, statements  # and the site's gauge
    _one_at_a_time_finds_each_unchanged(messages)


def _stored_rows(database: str, site: str) -> dict[str, Any]:
    """Per address, everything stored of a site's report but ids and times: its row, its value and finding
    rows, its history; and whether its findings and history rows carry the report's creation time (True on
    PostgreSQL, where a new report is one statement; on SQLite the history row takes its own time)."""
    from sqlalchemy import text

    rows: dict[str, Any] = {}
    with session_scope(database) as session:
        for report in session.exec(select(Report).where(Report.site_id == site)).all():
            columns = report.model_dump(exclude={"id", "site_id", "created_at", "updated_at"})
            values = session.execute(text(
                "SELECT table_name, key, value, status, raw, unit FROM report_value WHERE report_id = :r"
                " ORDER BY table_name, key"), {"r": report.id}).all()  # fmt: skip
            findings = session.execute(text(
                "SELECT rule, location, severity, status, lhs, rhs, delta, cells, message, rule_version,"
                " created_at, updated_at FROM finding WHERE report_id = :r ORDER BY rule, location"
            ), {"r": report.id}).all()  # fmt: skip
            history = session.execute(text(
                "SELECT content_sha256, raw_key, parser_version, rules_version, CAST(failing AS TEXT), created_at"
                " FROM report_version WHERE report_id = :r"), {"r": report.id}
            ).all()  # fmt: skip
            # Times: whether each is the report's creation time.
            created = report.created_at
            rows[report.url] = (
                columns,
                [tuple(v) for v in values],
                [(*f[:-2], f[-2] == f[-1] == created) for f in findings],
                [(*h[:-1], h[-1] == created) for h in history],
            )
    return rows


def test_a_batch_writes_the_rows_one_message_at_a_time_writes(database: str) -> None:
    """Each report of a batch (new reports written together on PostgreSQL) has the row, value and finding rows
    and history the same message stored alone has; a record holding an integer beyond 64 bits included."""
    batched = parsed_pages(5, site="batched")
    payload = batched[4].to_payload()
    table, values = next((t, v) for t, v in payload["record"]["tables"].items() if v)
    payload["record"]["tables"] = {**payload["record"]["tables"], table: {**values, next(iter(values)): 2**64}}
    batched[4] = ReportParsed.model_validate(payload)
    alone = [ReportParsed.model_validate({**m.to_payload(), "site_id": "alone"}) for m in batched]
    assert store_batch(_payloads(batched), ValidatorSettings()) == [True] * 5
    for message in alone:
        handle_report_parsed(ReportParsed.model_validate(message.to_payload()), ValidatorSettings())
    stored_batched, stored_alone = _stored_rows(database, "batched"), _stored_rows(database, "alone")
    assert len(stored_batched) == 5 and stored_batched == stored_alone
    if database.startswith("postgresql"):  # a new report's rows and history carry its creation time
        assert all(row[-1] for _c, _v, findings, history in stored_batched.values() for row in [*findings, *history])
    assert any(2**64 in values.values() for values in stored_batched[batched[4].url][0]["record"]["tables"].values())


def test_a_report_twice_in_a_batch_is_stored_once(database: str) -> None:
    first, second = parsed_pages(2)
    assert store_batch(_payloads([first, second, first]), ValidatorSettings()) == [True] * 3
    assert _counts(database)[0] == 2
    _one_at_a_time_finds_each_unchanged([first, second])


def _cross_year_rules(database: str, url: str) -> set[str]:
    """The cross-year rules checked on the report at ``url``: its finding rows and its passing list."""
    with session_scope(database) as session:
        report = session.exec(select(Report).where(Report.url == url)).one()
        rows = session.exec(select(FindingRow.rule).where(FindingRow.report_id == report.id)).all()
        return {rule for rule in [*rows, *(entry["rule"] for entry in report.passed)] if rule.startswith("xyear.")}


def test_a_batch_mate_moving_away_from_the_previous_year_is_not_read_ahead(database: str) -> None:
    """A stored 2019 report is rewritten under another agency in the same batch as its agency's 2020 report.
    One at a time, in the batch's order (its address first), the 2020 report then has no previous year and
    no cross-year rule applies; a batch reading ahead would have read the 2019 record as it was before."""
    city_2019, city_2020 = parsed_pages(2)
    assert store_batch(_payloads([city_2019, city_2020]), ValidatorSettings()) == [True, True]
    assert _cross_year_rules(database, city_2020.url)  # compared with 2019
    renamed = city_2019.to_payload()
    renamed["record"] = {**renamed["record"], "agency": {**renamed["record"]["agency"], "name": "别的县人民政府"}}
    moved = ReportParsed.model_validate(renamed)
    assert store_batch(_payloads([moved, city_2020]), ValidatorSettings()) == [True, True]
    assert _cross_year_rules(database, city_2020.url) == set()
    _one_at_a_time_finds_each_unchanged([moved, city_2020])


def test_payloads_that_are_not_messages_run_alone_and_the_rest_is_stored(database: str) -> None:
    first, second = parsed_pages(2)
    payloads = [first.to_payload(), {"site_id": "demo"}, None, second.to_payload(), "not a dict"]
    assert store_batch(payloads, ValidatorSettings()) == [True, False, False, True, False]
    assert _counts(database)[0] == 2


def test_one_bad_record_sends_the_whole_batch_alone_and_nothing_is_written(database: str) -> None:
    first, second = parsed_pages(2)
    # A valid message whose record is not a canonical record: a permanent error once the batch reads it.
    broken = ReportParsed(site_id="demo", url="http://a.gov.cn/broken.html", raw_key="b" * 64, record={"year": "x"})
    alone_before = _sample("nianbao_validator_batches_total", outcome="alone")
    ok_before = _sample("nianbao_validator_tasks_total", outcome="ok")
    clean = {"generation": "gen2019", "outcome": "clean"}
    validated_before = _sample("nianbao_validator_reports_validated_total", **clean)
    answer = store_batch([first.to_payload(), broken.to_payload(), second.to_payload()], ValidatorSettings())
    assert answer == [False, False, False]
    assert _counts(database) == (0, 0, 0)  # the first report's rows were rolled back with the rest
    assert _sample("nianbao_validator_batches_total", outcome="alone") == alone_before + 1
    # Nothing committed, nothing counted: each message is counted when it runs alone.
    assert _sample("nianbao_validator_tasks_total", outcome="ok") == ok_before
    assert _sample("nianbao_validator_reports_validated_total", **clean) == validated_before


def test_a_text_the_database_refuses_sends_the_batch_alone_and_nothing_is_written(database: str) -> None:
    """A title with a NUL character (no parser writes one; a hostile producer may): PostgreSQL refuses it,
    in the batch's one statement as in a report's own, so the batch runs alone and the rest is stored."""
    good, bad = parsed_pages(2)
    payload = bad.to_payload()
    payload["record"] = {**payload["record"], "title": "示例\x00标题"}
    answer = store_batch([good.to_payload(), payload], ValidatorSettings())
    if database.startswith("postgresql"):
        assert answer == [False, False]
        assert _counts(database) == (0, 0, 0)
        assert store_batch([good.to_payload()], ValidatorSettings()) == [True]
    else:  # SQLite stores the character
        assert answer == [True, True]


def test_a_batch_of_nothing_readable_runs_alone(database: str) -> None:
    alone_before = _sample("nianbao_validator_batches_total", outcome="alone")
    assert store_batch([None, {"bad": 1}], ValidatorSettings()) == [False, False]
    assert _sample("nianbao_validator_batches_total", outcome="alone") == alone_before + 1
    assert _counts(database) == (0, 0, 0)


def test_the_database_away_sends_the_batch_alone(tmp_path: Any, monkeypatch: Any) -> None:
    # A PostgreSQL port nothing listens on: the transaction cannot start; the worker's usual path then retries
    # each message until the database is back.
    from support import free_port

    monkeypatch.setenv("NIANBAO_DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    monkeypatch.setenv("NIANBAO_DATA_DIR", str(tmp_path))
    [message] = parsed_pages(1)
    assert store_batch([message.to_payload(), message.to_payload()], ValidatorSettings()) == [False, False]


def test_two_batches_meeting_two_sites_in_opposite_orders_do_not_deadlock(
    postgres_url: str, monkeypatch: Any
) -> None:
    """Two batches [site a, site b] and [site b, site a], each pausing after its first report until the other
    has stored its first too. Had each report's store written its site's gauge row (held until the commit),
    each batch would hold one row and wait for the other's: PostgreSQL aborts one as a deadlock, and its batch
    runs alone. A batch writes its gauges once, in site order, at its end (store.GaugeChanges): both stored."""
    import contextlib
    import threading

    from nianbao.shared.db import upgrade
    from nianbao.validator import handlers

    from support.reports import HTML_PAGES, parse_page

    monkeypatch.setenv("NIANBAO_DATABASE_URL", postgres_url)
    upgrade(postgres_url)
    a1, a2 = parse_page(HTML_PAGES[0], 0, "site-a"), parse_page(HTML_PAGES[1], 1, "site-a")
    b1, b2 = parse_page(HTML_PAGES[2], 2, "site-b"), parse_page(HTML_PAGES[3], 3, "site-b")
    meet = threading.Barrier(2)
    paused: set[int] = set()
    original = handlers.check_report

    def check_then_meet(*args: Any) -> Any:
        result = original(*args)
        if threading.get_ident() not in paused:  # after each batch's first report
            paused.add(threading.get_ident())
            with contextlib.suppress(threading.BrokenBarrierError):  # the other batch waits for this commit
                meet.wait(timeout=3)
        return result

    monkeypatch.setattr(handlers, "check_report", check_then_meet)
    answers: dict[str, list[bool]] = {}

    def run(name: str, batch: list[ReportParsed]) -> None:
        answers[name] = store_batch(_payloads(batch), ValidatorSettings())

    threads = [threading.Thread(target=run, args=("ab", [a1, b1])), threading.Thread(target=run, args=("ba", [b2, a2]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == {"ab": [True, True], "ba": [True, True]}
    assert _counts(postgres_url)[0] == 4


@pytest.mark.parametrize(
    ("name", "value"),
    [("NIANBAO_BATCH_SIZE", "0"), ("NIANBAO_BATCH_SIZE", "101"), ("NIANBAO_BATCH_SIZE", "ten"),
     ("NIANBAO_BATCH_WAIT_MS", "0"), ("NIANBAO_BATCH_WAIT_MS", "10001"), ("NIANBAO_BATCH_WAIT_MS", "1e99")],
)  # fmt: skip
def test_batch_settings_out_of_bounds_are_refused_by_name(name: str, value: str, monkeypatch: Any) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("NIANBAO_").lower()):
        ValidatorSettings()


def test_batch_settings_defaults() -> None:
    settings = ValidatorSettings()
    assert (settings.batch_size, settings.batch_wait_ms) == (10, 50)
