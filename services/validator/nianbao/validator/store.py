"""Storing a validated record: the report row (with the findings that pass, as its ``passed`` list), one row
per table value, one row per finding that does not pass.

Writes are idempotent and minimal: rows are matched on their natural identity (report: site + url;
value: report + table + key; finding: report + rule + where) and only rows whose content differs are
written, so re-validating an unchanged record changes nothing (not even ``updated_at``).

The write path is SQLAlchemy Core, in bulk, with a bounded number of round trips per report whatever its
size: one SELECT of the report row (one for a whole batch of reports: see ``reads``); for a new report on
PostgreSQL, then one statement writing the row, its values, findings, history row and site gauge
(``pgwrite.new_report_statement``); otherwise one SELECT
each of its stored values and findings as plain tuples (skipped for a new report, and for a stored one
whose rows are known unchanged: see below), then at most one ``executemany`` INSERT, one UPDATE and one
DELETE per table, one history row and one read or update of the site's gauge row.

Knowing "unchanged" cheaply matters, because re-validating stored reports (``nianbao reparse``, a redelivered
message) mostly changes nothing. The record is compared as the JSON text it is stored as (equal text is an
equal record; only a different text is parsed back and compared as data, so a row written by an older
serializer is still recognised as equal). The value and finding rows are summarised by ``rows_sha256``, a
SHA-256 of the rows as this module writes them, stored in the report row in the transaction that writes
them: when the digest of the wanted rows equals the stored one, the rows are not read at all. A report row
is locked (``FOR UPDATE`` on PostgreSQL) before it or its rows are written, so two writers of one report
take turns.
No ORM object is built per value. Concurrent first writers of one report are kept honest by the unique
constraints: the loser gets an IntegrityError, which the task retries.

The site's gauges (reports with a failing error rule, newest covered year) live in ``site_gauge`` and are
kept by delta in the same transaction, so storing report #100 000 of a site costs what report #10 costs;
:func:`recount_site_gauges` recomputes them from the reports (after a migration, or to repair). A transaction
storing several reports (the validator worker's batches) passes a :class:`GaugeChanges`: the deltas are
added up and written once per site just before the commit, so the transaction holds a site's gauge row for
its last moment instead of from its first report on (two batches of one site would otherwise take turns).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from nianbao.shared import jsontext
from nianbao.shared.models import FindingRow, Report, ReportValue, ReportVersion, SiteGauge
from nianbao.shared.record import Finding, Record
from nianbao.validator import pgwrite
from nianbao.validator.reads import JSON_FIELDS, STORED_REPORT, UNREAD, BatchReads, ReportKey

REPORT = Report.__table__  # type: ignore[attr-defined]
VALUE = ReportValue.__table__  # type: ignore[attr-defined]
FINDING = FindingRow.__table__  # type: ignore[attr-defined]
VERSION = ReportVersion.__table__  # type: ignore[attr-defined]
GAUGE = SiteGauge.__table__  # type: ignore[attr-defined]

# A value or finding row: its identity within the report, then the columns compared and written.
VALUE_IDENTITY = ("table_name", "key")
VALUE_FIELDS = ("value", "status", "raw", "unit")
FINDING_IDENTITY = ("rule", "location")
FINDING_FIELDS = ("severity", "status", "lhs", "rhs", "delta", "cells", "message", "rule_version")
VALUE_COLUMNS = (*VALUE_IDENTITY, *VALUE_FIELDS)
FINDING_COLUMNS = (*FINDING_IDENTITY, *FINDING_FIELDS)


# --- Statements, built once: building a Core statement costs more client CPU than executing it (~0.15 ms
# each, seven a report); executed with parameters, they compile once per dialect (SQLAlchemy's cache).

_LOCK_REPORT = (
    select(REPORT.c.updated_at, REPORT.c.rows_sha256).where(REPORT.c.id == bindparam("report_id")).with_for_update()
)
_INSERT_REPORT = insert(REPORT).returning(REPORT.c.id)
_GAUGE = select(GAUGE.c.reports_with_errors, GAUGE.c.newest_year).where(GAUGE.c.site_id == bindparam("site_id"))


def _dialect_insert(postgres: bool) -> Any:
    return pg_insert if postgres else sqlite_insert


def _version_insert(postgres: bool) -> Any:
    """Append a history row; a concurrent writer may have added the same one meanwhile: one is enough."""
    return (
        _dialect_insert(postgres)(VERSION)
        .values(
            report_id=bindparam("report_id"),
            content_sha256=bindparam("content_sha256"),
            raw_key=bindparam("raw_key"),
            parser_version=bindparam("parser_version"),
            rules_version=bindparam("rules_version"),
            failing=bindparam("failing", type_=JSON),
            created_at=bindparam("created_at"),
        )
        .on_conflict_do_nothing(index_elements=["report_id", "content_sha256", "parser_version", "rules_version"])
    )


def _gauge_upsert(postgres: bool) -> Any:
    """Add this report's deltas to its site's gauge row (created at the first report); the row after it."""
    stmt = _dialect_insert(postgres)(GAUGE).values(
        site_id=bindparam("site_id"),
        reports=bindparam("reports"),
        reports_with_errors=bindparam("with_errors"),
        newest_year=bindparam("newest_year"),
    )
    newest = case(
        (
            (GAUGE.c.newest_year.is_(None)) | (stmt.excluded.newest_year > GAUGE.c.newest_year),
            stmt.excluded.newest_year,
        ),
        else_=GAUGE.c.newest_year,
    )
    return stmt.on_conflict_do_update(
        index_elements=["site_id"],
        set_={
            "reports": GAUGE.c.reports + bindparam("delta_reports"),
            "reports_with_errors": GAUGE.c.reports_with_errors + bindparam("delta_errors"),
            "newest_year": newest,
        },
    ).returning(GAUGE.c.reports_with_errors, GAUGE.c.newest_year)


# Keyed by "is it PostgreSQL": the upserts are spelled per dialect.
_VERSION_INSERT = {postgres: _version_insert(postgres) for postgres in (True, False)}
_GAUGE_UPSERT = {postgres: _gauge_upsert(postgres) for postgres in (True, False)}


@dataclass(frozen=True)
class StoreResult:
    report_id: int
    created: bool
    changed: bool
    failing_errors: int
    failing_warnings: int
    # The site's gauges after this write (from ``site_gauge``, read in the same transaction).
    site_reports_with_errors: int = 0
    site_newest_year: int | None = None


@dataclass
class _SiteChange:
    reports: int = 0
    errors: int = 0
    years: list[int] = field(default_factory=list)  # the years of the reports that changed the gauge
    moved_from: set[int] = field(default_factory=set)  # years that stored reports moved away from


@dataclass
class GaugeChanges:
    """The site gauge changes of several reports stored in one transaction, written by :meth:`apply` just
    before its commit: one upsert per site (in site order) with the summed deltas. Equal to applying them
    one report at a time (``tests/validator/test_store_bulk.py``)."""

    sites: dict[str, _SiteChange] = field(default_factory=dict)

    def add(self, site_id: str, *, reports: int, errors: int, year: int | None, moved_from: int | None) -> None:
        change = self.sites.setdefault(site_id, _SiteChange())
        change.reports += reports
        change.errors += errors
        if year is not None:
            change.years.append(year)
        if moved_from is not None:
            change.moved_from.add(moved_from)

    def touch(self, site_id: str) -> None:
        """A report of this site stored with no change to its gauge: :meth:`apply` reads the row for it."""
        self.sites.setdefault(site_id, _SiteChange())

    def apply(self, session: Session) -> dict[str, tuple[int, int | None]]:
        """Write the changes; each site's gauge (reports with errors, newest year) after them."""
        postgres = session.get_bind().dialect.name == "postgresql"
        after: dict[str, tuple[int, int | None]] = {}
        for site_id in sorted(self.sites):
            change = self.sites[site_id]
            if not (change.reports or change.errors or change.years or change.moved_from):
                after[site_id] = _read_gauge(session, site_id)
                continue
            after[site_id] = _upsert_gauge(
                session, site_id, postgres=postgres, delta_reports=change.reports, delta_errors=change.errors,
                newest_year=max(change.years, default=None), moved_from=change.moved_from,
            )  # fmt: skip
        return after


def _now() -> datetime:
    return datetime.now(UTC)


def _location(where: str | None) -> str:
    return where or ""


def report_fields(
    record: Record,
    *,
    raw_key: str,
    findings: Sequence[Finding],
    rules_version: str,
    blank_policy: dict[str, str],
    record_json: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report row's columns derived from a record and its findings (``record_json``: the record as
    JSON when the caller has it already, e.g. the message it came in; dumped from ``record`` otherwise)."""
    # Counted from what is stored (one finding per place): failing_errors + failing_warnings is the number of
    # the report's failing rows, which the findings lists' total adds up instead of counting rows.
    stored = _first_per_place(findings)
    failing = [f for f in stored if f.status == "fail"]
    passed = [f for f in stored if f.status == "pass"]
    return {
        "raw_key": raw_key,
        "content_sha256": content_sha256(record, raw_key),
        "title": record.title,
        "agency": record.agency.name,
        "year": record.year.value,
        "generation": record.generation.value,
        "index_no": record.metadata.index_no,
        "publish_date": record.metadata.publish_date,
        "parser_version": record.parser_version,
        "rules_version": rules_version,
        "blank_policy": blank_policy,
        "record": record_json if record_json is not None else record.model_dump(mode="json"),
        "passed": [_passed_entry(f) for f in passed],
        "passed_count": len(passed),
        "failing_errors": sum(1 for f in failing if f.severity == "error"),
        "failing_warnings": sum(1 for f in failing if f.severity != "error"),
    }


def content_sha256(record: Record, raw_key: str) -> str:
    """The report row's ``content_sha256``: the digest of the bytes the record was read from."""
    return record.source.content_sha256 or raw_key


@dataclass(frozen=True)
class NewReportWrite:
    """A new report's write on PostgreSQL, not executed yet: :func:`prepare_store` leaves it to the caller,
    who runs it later in the same transaction, alone (:meth:`execute`: ``pgwrite.new_report_statement``, one
    statement) while doing other work (e.g. :class:`~nianbao.validator.overlap.OverlappedStore`), or with
    other new reports of its batch (:func:`execute_new_reports`: one statement for all)."""

    report: dict[str, Any]  # the report row's columns
    value_rows: list[dict[str, Any]]  # its value rows and finding rows (those that do not pass), by column
    finding_rows: list[dict[str, Any]]
    failing: list[dict[str, Any]]  # the history row's failing findings
    failing_errors: int
    failing_warnings: int
    # False when the site's gauge is left to a GaugeChanges (the result's gauge fields are then 0 and None).
    writes_gauge: bool = True

    @property
    def params(self) -> dict[str, Any]:
        """The parameters of its statement alone."""
        params = {
            **self.report,
            "value_rows": jsontext.pg_json(self.value_rows),
            "finding_rows": jsontext.pg_json(self.finding_rows),
            "failing": self.failing,
        }
        if self.writes_gauge:
            params["with_errors"] = int(self.failing_errors > 0)
        return params

    def execute(self, session: Session) -> StoreResult:
        columns = tuple(self.report)
        statement = pgwrite.new_report_statement(columns, VALUE_COLUMNS, FINDING_COLUMNS, gauge=self.writes_gauge)
        row = session.execute(statement, self.params).one()
        with_errors, newest = (int(row[1]), row[2]) if self.writes_gauge else (0, None)
        return StoreResult(int(row[0]), True, True, self.failing_errors, self.failing_warnings, with_errors, newest)


def execute_new_reports(session: Session, writes: Sequence[NewReportWrite]) -> list[StoreResult]:
    """Several new reports' writes, their gauges left to a GaugeChanges, in one statement
    (``pgwrite.new_reports_statement``); their results, in order."""
    if any(write.writes_gauge for write in writes):
        raise ValueError("new reports written together leave their gauges to a GaugeChanges")
    if len(writes) <= 1:
        return [write.execute(session) for write in writes]
    statement = pgwrite.new_reports_statement(tuple(writes[0].report), VALUE_COLUMNS, FINDING_COLUMNS)
    # Each report's text on its own (a record jsontext hands to json.dumps, with an integer beyond 64 bits, does
    # not take the batch's texts with it), times as ISO text (which json.dumps cannot write).
    reports = [
        jsontext.dumps_bytes({"i": i, **{k: v.isoformat() if isinstance(v, datetime) else v
                                         for k, v in w.report.items()}, "failing": w.failing})
        for i, w in enumerate(writes)
    ]  # fmt: skip
    params = {
        "reports": jsontext.pg_json_text(b"[" + b",".join(reports) + b"]"),
        "value_rows": jsontext.pg_json([{"i": i, **row} for i, w in enumerate(writes) for row in w.value_rows]),
        "finding_rows": jsontext.pg_json([{"i": i, **row} for i, w in enumerate(writes) for row in w.finding_rows]),
    }
    ids = {int(row[0]): int(row[1]) for row in session.execute(statement, params)}
    return [StoreResult(ids[i], True, True, w.failing_errors, w.failing_warnings) for i, w in enumerate(writes)]


def store_validated(
    session: Session,
    *,
    site_id: str,
    url: str,
    raw_key: str,
    record: Record,
    findings: Sequence[Finding],
    rules_version: str,
    blank_policy: dict[str, str],
    record_json: dict[str, Any] | None = None,
) -> StoreResult:
    """Upsert the report, its values and its findings; append a history row for a new (content, parser
    version, rules version); keep the site's gauges. Writes nothing when nothing differs."""
    stored = prepare_store(
        session,
        site_id=site_id,
        url=url,
        raw_key=raw_key,
        record=record,
        findings=findings,
        rules_version=rules_version,
        blank_policy=blank_policy,
        record_json=record_json,
    )
    return finish_store(session, stored)


def finish_store(session: Session, stored: StoreResult | NewReportWrite) -> StoreResult:
    """What :func:`prepare_store` returned, written: a new report's statement executed on ``session``
    (the transaction it was prepared in), any other result as it is. The caller commits."""
    return stored.execute(session) if isinstance(stored, NewReportWrite) else stored


def prepare_store(
    session: Session,
    *,
    site_id: str,
    url: str,
    raw_key: str,
    record: Record,
    findings: Sequence[Finding],
    rules_version: str,
    blank_policy: dict[str, str],
    record_json: dict[str, Any] | None = None,
    gauges: GaugeChanges | None = None,
    reads: BatchReads | None = None,
) -> StoreResult | NewReportWrite:
    """:func:`store_validated`, except that a report not stored yet on PostgreSQL is not written: its one
    statement is returned, for the caller to ``execute`` on this session before committing. Everything
    else (a stored report, SQLite) is written here and its result returned. With ``gauges``, the site's
    gauge change is added there instead of written (the caller applies it before committing; the result's
    gauge fields are then 0 and None). ``reads``: what the report's batch read ahead (see ``reads``)."""
    fields = report_fields(
        record,
        raw_key=raw_key,
        findings=findings,
        rules_version=rules_version,
        blank_policy=blank_policy,
        record_json=record_json,
    )
    postgres = session.get_bind().dialect.name == "postgresql"
    key = ReportKey(site_id, url, fields["content_sha256"], fields["parser_version"], fields["rules_version"])
    keys = key._asdict()
    value_rows = _value_rows(record)
    finding_rows = _finding_rows(findings, rules_version)
    rows_sha256 = _rows_digest(value_rows, finding_rows)
    # Not locked: an unchanged report must not write, not even a lock.
    stored = reads.stored_row(key) if reads is not None else UNREAD
    if stored is UNREAD:
        stored = session.execute(STORED_REPORT, keys).first()
    now = _now()
    if stored is None and postgres:
        if gauges is not None:  # the statement leaves the gauge out: its change goes where the others go
            new = (fields["failing_errors"], fields["year"])
            _update_site_gauge(session, site_id, created=True, old=(None, None), new=new, postgres=True, gauges=gauges)
        return _new_report_write(
            site_id, url, now, rows_sha256, fields, value_rows, finding_rows, findings, gauge=gauges is None
        )
    if stored is None:
        report_id = session.execute(
            _INSERT_REPORT,
            {"site_id": site_id, "url": url, "created_at": now, "updated_at": now, "rows_sha256": rows_sha256,
             **fields},
        ).scalar_one()  # fmt: skip
        created = changed = True
        rows_current = False
        old_errors, old_year = None, None
        version_seen_before = False
    else:
        report_id = stored.id
        created = False
        texts = {name: jsontext.dumps(fields[name]) for name in JSON_FIELDS}
        diff = _changed_columns(stored, fields, texts)
        if (diff or stored.rows_sha256 != rows_sha256) and postgres:
            # Lock the row before writing the report or its rows. If a concurrent writer of this report
            # committed since it was read, diff against what it wrote (so none of its columns survive ours,
            # and its rows are read back by the sync below), and take the gauge's "before" from it.
            locked = session.execute(_LOCK_REPORT, {"report_id": report_id}).one()
            if tuple(locked) != (stored.updated_at, stored.rows_sha256):
                stored = session.execute(STORED_REPORT.with_for_update(of=REPORT), keys).one()
                diff = _changed_columns(stored, fields, texts)
        changed = bool(diff)
        old_errors, old_year = stored.failing_errors, stored.year
        rows_current = stored.rows_sha256 == rows_sha256
        if diff or not rows_current:
            # A digest-only write (rows stored before the digest existed) is bookkeeping: updated_at stays.
            stamp = {"updated_at": now} if diff else {}
            session.execute(
                update(REPORT).where(REPORT.c.id == report_id).values(rows_sha256=rows_sha256, **stamp, **diff)
            )
        version_seen_before = bool(stored.version_seen)
    if not rows_current:
        changed |= _sync(session, VALUE, VALUE_IDENTITY, VALUE_FIELDS, report_id, value_rows, new=created)
        changed |= _sync(
            session, FINDING, FINDING_IDENTITY, FINDING_FIELDS, report_id, finding_rows, new=created, now=now
        )
    if not version_seen_before:
        _record_version(session, report_id, fields, findings, postgres=postgres)
    with_errors, newest = _update_site_gauge(
        session,
        site_id,
        created=created,
        old=(old_errors, old_year),
        new=(fields["failing_errors"], fields["year"]),
        postgres=postgres,
        gauges=gauges,
    )
    return StoreResult(
        report_id, created, changed, fields["failing_errors"], fields["failing_warnings"], with_errors, newest
    )


def _changed_columns(stored: Any, fields: dict[str, Any], texts: dict[str, str]) -> dict[str, Any]:
    """The columns of ``fields`` whose stored value differs (``stored``: a row of ``STORED_REPORT``;
    ``texts``: each of ``JSON_FIELDS`` as ``jsontext`` writes it)."""
    row = stored._mapping
    diff = {name: value for name, value in fields.items() if name not in JSON_FIELDS and row[name] != value}
    for name in JSON_FIELDS:
        if not _same_json(row[f"{name}_text"], texts[name], fields[name]):
            diff[name] = fields[name]
    return diff


def _same_json(stored_text: str | None, text: str, value: Any) -> bool:
    """Whether a stored JSON column equals ``value`` (``text``: it as ``jsontext`` writes it): the same text
    is the same value (the serializer is deterministic); a different text may still be the same data
    (written by another serializer, or by migration 0012), so only then is it parsed back and compared."""
    if stored_text is None:
        return False
    return stored_text == text or json.loads(stored_text) == value


def _rows_digest(
    values: dict[tuple[str, str], tuple[Any, ...]], findings: dict[tuple[str, str], tuple[Any, ...]]
) -> str:
    """SHA-256 of a report's value and finding rows as :func:`_sync` writes them (identity and columns, in
    order): equal digests, equal rows. Any change of what is written changes it, which costs one full
    comparison of the rows, never a wrong skip."""
    rows = ([[*ident, *data] for ident, data in values.items()], [[*ident, *data] for ident, data in findings.items()])
    return hashlib.sha256(jsontext.dumps_bytes(rows)).hexdigest()


def _new_report_write(
    site_id: str,
    url: str,
    now: datetime,
    rows_sha256: str,
    fields: dict[str, Any],
    value_rows: dict[tuple[str, str], tuple[Any, ...]],
    finding_rows: dict[tuple[str, str], tuple[Any, ...]],
    findings: Sequence[Finding],
    *,
    gauge: bool = True,
) -> NewReportWrite:
    """PostgreSQL, a report not stored yet: its row, values, findings, first history row and (``gauge``) its
    site's gauge, to be written in one statement."""
    report = {"site_id": site_id, "url": url, "created_at": now, "updated_at": now, "rows_sha256": rows_sha256,
              **fields}  # fmt: skip
    return NewReportWrite(
        report,
        [_row_object(VALUE_COLUMNS, *row) for row in value_rows.items()],
        [_row_object(FINDING_COLUMNS, *row) for row in finding_rows.items()],
        _failing_entries(findings),
        fields["failing_errors"],
        fields["failing_warnings"],
        writes_gauge=gauge,
    )


def _failing_entries(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """The failing findings as a history row keeps them."""
    return [
        {"rule": f.rule, "where": f.where, "severity": f.severity, "lhs": f.lhs, "rhs": f.rhs}
        for f in findings
        if f.status == "fail"
    ]


def _record_version(
    session: Session, report_id: int, fields: dict[str, Any], findings: Sequence[Finding], *, postgres: bool
) -> None:
    """Append a history row the first time a (content, parser version, rules version) is stored."""
    failing = _failing_entries(findings)
    session.execute(
        _VERSION_INSERT[postgres],
        {
            "report_id": report_id,
            "content_sha256": fields["content_sha256"],
            "raw_key": fields["raw_key"],
            "parser_version": fields["parser_version"],
            "rules_version": fields["rules_version"],
            "failing": failing,
            "created_at": _now(),
        },
    )


def _stored_number(value: float | None) -> float | None:
    """A value or operand as its column holds it. A non-finite number fails here, clearly, on every
    database (JSON has no NaN, and the record holding it cannot be stored either)."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"non-finite number {value!r} cannot be stored")
    return number


def _value_rows(record: Record) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(table, key) → (value, status, raw, unit), in the order of ``VALUE_FIELDS``."""
    by_cell = {(c.table, c.key): c for c in record.cells}
    rows: dict[tuple[str, str], tuple[Any, ...]] = {}
    for table, values in record.tables.items():
        for key, value in values.items():
            cell = by_cell.get((table, key))
            rows[(table, key)] = (
                _stored_number(value),
                cell.status if cell else ("number" if value is not None else "missing"),
                cell.raw if cell else None,
                cell.unit if cell else None,
            )
    return rows


def _first_per_place(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per (rule, where), the first: what is stored of them (a duplicate would break the unique
    key of ``finding``, and is dropped from ``passed`` alike)."""
    first: dict[tuple[str, str], Finding] = {}
    for f in findings:
        first.setdefault((f.rule, _location(f.where)), f)
    return list(first.values())


def _finding_rows(findings: Sequence[Finding], rules_version: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    """(rule, where) → the stored columns of each finding that does not pass, in the order of
    ``FINDING_FIELDS`` (the ones that pass are the report's ``passed`` list)."""
    return {
        (f.rule, _location(f.where)): _finding_data(f, rules_version)
        for f in _first_per_place(findings)
        if f.status != "pass"
    }


def _passed_entry(f: Finding) -> dict[str, Any]:
    """A passing finding as an entry of ``report.passed``: the columns of its ``finding`` row from rule to
    message (the view ``finding_all`` reads them back as such)."""
    return {
        "rule": f.rule,
        "location": _location(f.where),
        "severity": f.severity,
        "lhs": _stored_number(f.lhs),
        "rhs": _stored_number(f.rhs),
        "delta": _stored_number(f.delta),
        "cells": list(f.cells),
        "message": f.message,
    }


def _finding_data(f: Finding, rules_version: str) -> tuple[Any, ...]:
    """The finding's stored columns, in the order of ``FINDING_FIELDS``."""
    return (
        f.severity,
        f.status,
        _stored_number(f.lhs),
        _stored_number(f.rhs),
        _stored_number(f.delta),
        list(f.cells),
        f.message,
        rules_version,
    )


def _sync(
    session: Session,
    table: Any,
    identity: tuple[str, str],
    fields: Sequence[str],
    report_id: int,
    wanted: dict[tuple[str, str], tuple[Any, ...]],
    *,
    new: bool,
    now: datetime | None = None,
) -> bool:
    """Make the report's rows of ``table`` (identity: report + the two ``identity`` columns) hold ``wanted``
    (identity → ``fields`` values): one SELECT of what is stored (skipped for a new report), then only the
    differences (:func:`_write`). ``now``: the table keeps created_at/updated_at. True when anything changed."""
    existing: dict[tuple[str, str], tuple[int, tuple[Any, ...]]] = {}
    if not new:
        query = select(table.c.id, *(table.c[c] for c in identity), *(table.c[f] for f in fields)).where(
            table.c.report_id == report_id
        )
        existing = {(row[1], row[2]): (row[0], tuple(row[3:])) for row in session.execute(query)}
    # What every new row of this report shares, and the columns each brings: built once per row, as sent.
    shared = {"report_id": report_id} if now is None else {"report_id": report_id, "created_at": now, "updated_at": now}
    columns = (*identity, *fields)
    touched = {} if now is None else {"updated_at": now}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for ident, data in wanted.items():
        found = existing.pop(ident, None)
        if found is None:
            inserts.append(_row_object(columns, ident, data))
        elif found[1] != data:
            updates.append({"_id": found[0], **touched, **dict(zip(fields, data, strict=True))})
    stale = [row_id for row_id, _data in existing.values()]
    _write(session, table, shared, inserts, updates, stale, (*fields, *touched))
    return bool(inserts or updates or stale)


def _row_object(columns: Sequence[str], ident: tuple[str, str], data: tuple[Any, ...]) -> dict[str, Any]:
    """A row to insert, by column name: its identity, then its data (``columns`` names both, in order)."""
    return dict(zip(columns, (*ident, *data), strict=True))


def _write(
    session: Session,
    table: Any,
    shared: dict[str, Any],
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    stale: list[int],
    update_fields: Sequence[str],
) -> None:
    """One INSERT of all new rows (``shared``: the columns they have in common), one executemany UPDATE (by
    id), one DELETE; each only when needed."""
    if inserts and session.get_bind().dialect.name == "postgresql":
        _insert_recordset(session, table, shared, inserts)
    elif inserts:
        session.execute(insert(table), [{**shared, **row} for row in inserts])  # SQLite: executemany, in process
    if updates:
        stmt = update(table).where(table.c.id == bindparam("_id")).values({f: bindparam(f) for f in update_fields})
        session.connection().execute(stmt, updates)
    if stale:
        session.execute(delete(table).where(table.c.id.in_(stale)))


def _insert_recordset(session: Session, table: Any, shared: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: all rows in one ``INSERT … SELECT … FROM json_to_recordset(:rows)`` (see ``pgwrite``), the
    rows sent as one JSON text and ``shared`` as parameters."""
    params: dict[str, Any] = {f"s_{name}": value for name, value in shared.items()}
    params["rows"] = jsontext.pg_json(rows)
    session.execute(pgwrite.recordset_insert(table, tuple(shared), tuple(rows[0])), params)


def _update_site_gauge(
    session: Session,
    site_id: str,
    *,
    created: bool,
    old: tuple[int | None, int | None],
    new: tuple[int, int | None],
    postgres: bool,
    gauges: GaugeChanges | None = None,
) -> tuple[int, int | None]:
    """Apply this report's change to the site's gauge row; (reports with errors, newest year) after it.

    Only a change is written: a report that keeps its error status and year reads the row instead. With
    ``gauges``, the change is added there and (0, None) returned (see :class:`GaugeChanges`)."""
    old_errors, old_year = old
    new_errors, new_year = new
    delta_reports = 1 if created else 0
    delta_errors = int(new_errors > 0) - int((old_errors or 0) > 0)
    year_moved = created or new_year != old_year
    moved_from = old_year if not created and old_year is not None and new_year != old_year else None
    if gauges is not None:
        if delta_reports or delta_errors or year_moved:
            gauges.add(site_id, reports=delta_reports, errors=delta_errors, year=new_year, moved_from=moved_from)
        else:
            gauges.touch(site_id)
        return 0, None
    if not (delta_reports or delta_errors or year_moved):
        return _read_gauge(session, site_id)
    return _upsert_gauge(
        session, site_id, postgres=postgres, delta_reports=delta_reports, delta_errors=delta_errors,
        newest_year=new_year, moved_from={moved_from} if moved_from is not None else set(),
    )  # fmt: skip


def _read_gauge(session: Session, site_id: str) -> tuple[int, int | None]:
    """The site's gauge row as it stands (reports with errors, newest year); rebuilt if the row was lost."""
    row = session.execute(_GAUGE, {"site_id": site_id}).first()
    if row is not None:
        return int(row[0]), row[1]
    return recount_site_gauges(session, site_id).get(site_id, (0, None))


def _upsert_gauge(
    session: Session,
    site_id: str,
    *,
    postgres: bool,
    delta_reports: int,
    delta_errors: int,
    newest_year: int | None,
    moved_from: set[int],
) -> tuple[int, int | None]:
    """Add deltas to the site's gauge row (created with them at the site's first report), the newest year a
    candidate for its maximum; the row after it. When a report left the year that is now the newest, the
    maximum may have dropped: recomputed from the site's reports."""
    params = {
        "site_id": site_id,
        "reports": delta_reports,
        "with_errors": max(0, delta_errors),
        "newest_year": newest_year,
        "delta_reports": delta_reports,
        "delta_errors": delta_errors,
    }
    with_errors, newest_year = session.execute(_GAUGE_UPSERT[postgres], params).one()
    if newest_year in moved_from:
        # A report held the newest year and moved away from it: the maximum may have dropped.
        newest_year = session.execute(
            update(GAUGE)
            .where(GAUGE.c.site_id == site_id)
            .values(newest_year=select(func.max(REPORT.c.year)).where(REPORT.c.site_id == site_id).scalar_subquery())
            .returning(GAUGE.c.newest_year)
        ).scalar_one()
    return int(with_errors), newest_year


def recount_site_gauges(session: Session, site_id: str | None = None) -> dict[str, tuple[int, int | None]]:
    """Recompute ``site_gauge`` from the stored reports (one site, or all); what it holds afterwards."""
    errors = func.sum(case((REPORT.c.failing_errors > 0, 1), else_=0))
    query = select(REPORT.c.site_id, func.count(), errors, func.max(REPORT.c.year)).group_by(REPORT.c.site_id)
    if site_id is not None:
        query = query.where(REPORT.c.site_id == site_id)
    counts = {row[0]: (int(row[1]), int(row[2] or 0), row[3]) for row in session.execute(query)}
    if site_id is not None:
        counts.setdefault(site_id, (0, 0, None))
    stale = delete(GAUGE) if site_id is None else delete(GAUGE).where(GAUGE.c.site_id == site_id)
    session.execute(stale)
    if counts:
        session.execute(
            insert(GAUGE),
            [
                {"site_id": s, "reports": n, "reports_with_errors": e, "newest_year": y}
                for s, (n, e, y) in counts.items()
            ],
        )
    return {s: (e, y) for s, (_n, e, y) in counts.items()}


def site_summary(session: Session, site_id: str) -> tuple[int, int | None]:
    """(reports with a failing error rule, newest covered year) for one site, aggregated over all its
    reports: O(site). The validator reads ``site_gauge`` instead; this is the reference it must match."""
    with_errors, newest = session.exec(
        sqlmodel_select(
            func.count(col(Report.id)).filter(col(Report.failing_errors) > 0),
            func.max(col(Report.year)),
        ).where(Report.site_id == site_id)
    ).one()
    return int(with_errors or 0), newest


__all__ = [
    "GaugeChanges",
    "NewReportWrite",
    "StoreResult",
    "content_sha256",
    "execute_new_reports",
    "finish_store",
    "prepare_store",
    "recount_site_gauges",
    "report_fields",
    "site_summary",
    "store_validated",
]
