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


def test_a_batch_reads_its_reports_ahead_in_two_statements(postgres_url: str, monkeypatch: Any) -> None:
    """On PostgreSQL the stored rows of a batch's reports and their previous years' records are read in one
    statement each (reads.read_batch), not two statements a report. The two reports whose previous year is
    a batch-mate read it themselves after that one's write (what the first test checks)."""
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
    # Two reads ahead; two previous years read alone (示例市 2020's and 示例县 2019's: their previous years are
    # in the batch); one write a report; one gauge upsert.
    assert (len(reads_ahead), len(alone), len(writes)) == (2, 2, 5), statements
    assert len(statements) <= len(messages) + 5, statements
    _one_at_a_time_finds_each_unchanged(messages)


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
    original = handlers._check_and_store

    def check_and_store_then_meet(*args: Any) -> Any:
        result = original(*args)
        if threading.get_ident() not in paused:  # after each batch's first report
            paused.add(threading.get_ident())
            with contextlib.suppress(threading.BrokenBarrierError):  # the other batch waits for this commit
                meet.wait(timeout=3)
        return result

    monkeypatch.setattr(handlers, "_check_and_store", check_and_store_then_meet)
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
