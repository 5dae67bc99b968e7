"""PostgreSQL statements that hand the server many rows as one JSON text.

``json_to_recordset(:rows)`` turns one JSON array (sent as a ``json`` parameter by ``jsontext.pg_json``:
orjson's bytes) into typed rows in C, which was the cheapest way found to send ~170 values or a report's
findings: psycopg dumps array parameters in Python, and picking columns out of ``json_array_elements`` with
``->>`` re-scanned each row's text once per column (three times the server's work). Each statement has one
text whatever the row count, so it is prepared once per connection and built once per process
(``functools.cache``): building a statement costs more client CPU than executing it.

:func:`new_report_statement` writes a report that is not stored yet, with everything that goes with it, in
one statement and one round trip instead of five (report row, values, findings, history row, site gauge);
:func:`new_reports_statement` writes several (a validator batch's new reports) in one.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, TypeDecorator, bindparam, text

from nianbao.shared.models import FindingRow, Report, ReportValue

REPORT = Report.__table__  # type: ignore[attr-defined]
VALUE = ReportValue.__table__  # type: ignore[attr-defined]
FINDING = FindingRow.__table__  # type: ignore[attr-defined]


def pg_type(column_type: Any) -> str:
    """The type a ``json_to_recordset`` column is read as, for a column of this SQLAlchemy type."""
    if isinstance(column_type, TypeDecorator):  # e.g. the aware timestamps (sqlmodel's UTCDateTime)
        column_type = column_type.impl_instance
    if isinstance(column_type, JSON):
        return "json"
    if isinstance(column_type, Float):
        return "float8"
    if isinstance(column_type, DateTime):
        return "timestamptz" if column_type.timezone else "timestamp"
    return "bigint" if isinstance(column_type, Integer) else "text"


def _names(columns: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in columns)


def _recordset(table: Any, columns: Sequence[str], param: str, *, name: str = "x", extra: str = "") -> str:
    """``json_to_recordset(:param) AS name(…)``: the rows of one JSON parameter as typed columns of ``table``
    (``extra``: more columns first, as ``"name type, …"``)."""
    shape = ", ".join([*filter(None, [extra]), *(f'"{n}" {pg_type(table.c[n].type)}' for n in columns)])
    return f"json_to_recordset(CAST(:{param} AS json)) AS {name}({shape})"


def _picks(columns: Sequence[str]) -> str:
    return ", ".join(f'x."{n}"' for n in columns)


@functools.cache
def recordset_insert(table: Any, scalars: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    """``INSERT INTO table (scalars…, columns…) SELECT :s_<scalar>…, x.<column>… FROM json_to_recordset(:rows)``:
    rows of one report (``columns`` from the JSON text in ``rows``, ``scalars`` the same for every row, as
    parameters named ``s_<column>``)."""
    binds = [bindparam(f"s_{n}", type_=table.c[n].type) for n in scalars]
    picked = ", ".join([f":s_{n}" for n in scalars] + [f'x."{n}"' for n in columns])
    return text(
        f"INSERT INTO {table.name} ({_names((*scalars, *columns))}) "
        f"SELECT {picked} FROM {_recordset(table, columns, 'rows')}"
    ).bindparams(*binds)


@functools.cache
def new_report_statement(
    report_columns: tuple[str, ...],
    value_columns: tuple[str, ...],
    finding_columns: tuple[str, ...],
    *,
    gauge: bool = True,
) -> Any:
    """One statement storing a new report: its row (``report_columns``, each a parameter of that name), its
    values and its findings (``value_rows`` and ``finding_rows``: JSON arrays of objects with
    ``value_columns`` and ``finding_columns``; an empty array inserts none), its first history row
    (``content_sha256``, ``raw_key``, ``parser_version``, ``rules_version``, ``failing``, all at
    ``created_at``) and its site's gauge (one report more; ``with_errors``: 1 if it fails an error rule;
    ``year``: newest year candidate). Returns one row: the report's id and the site's gauge after it
    (reports with errors, newest year). Without ``gauge`` the site's gauge is left to the caller (see
    ``store.GaugeChanges``) and the row holds the report's id only.

    The data-modifying CTEs run as one statement, so the report and its rows are written together or not at
    all: a concurrent first writer of the same report makes the whole statement fail on the report's unique
    key (the caller retries, as with separate statements)."""
    report_binds = [bindparam(n, type_=REPORT.c[n].type) for n in report_columns]
    gauge_cte = """, g AS (
    INSERT INTO site_gauge (site_id, reports, reports_with_errors, newest_year)
    VALUES (:site_id, 1, :with_errors, :year)
    ON CONFLICT (site_id) DO UPDATE SET
        reports = site_gauge.reports + 1,
        reports_with_errors = site_gauge.reports_with_errors + EXCLUDED.reports_with_errors,
        newest_year = CASE
            WHEN site_gauge.newest_year IS NULL OR EXCLUDED.newest_year > site_gauge.newest_year
            THEN EXCLUDED.newest_year ELSE site_gauge.newest_year END
    RETURNING reports_with_errors, newest_year
)"""
    gauge_cte = gauge_cte if gauge else ""
    gauge_columns = ", g.reports_with_errors, g.newest_year" if gauge else ""
    gauge_join = " CROSS JOIN g" if gauge else ""
    sql = f"""
WITH r AS (
    INSERT INTO report ({_names(report_columns)})
    VALUES ({", ".join(f":{n}" for n in report_columns)})
    RETURNING id
), v AS (
    INSERT INTO report_value (report_id, {_names(value_columns)})
    SELECT r.id, {_picks(value_columns)} FROM r CROSS JOIN {_recordset(VALUE, value_columns, "value_rows")}
), f AS (
    INSERT INTO finding (report_id, created_at, updated_at, {_names(finding_columns)})
    SELECT r.id, :created_at, :created_at, {_picks(finding_columns)}
    FROM r CROSS JOIN {_recordset(FINDING, finding_columns, "finding_rows")}
), h AS (
    INSERT INTO report_version (report_id, content_sha256, raw_key, parser_version, rules_version, failing, created_at)
    SELECT r.id, :content_sha256, :raw_key, :parser_version, :rules_version, :failing, :created_at FROM r
){gauge_cte}
SELECT r.id{gauge_columns} FROM r{gauge_join}
"""
    # The history row's and the gauge's parameters named like a report column (content_sha256, year, …) are
    # that column's value, bound once with its type.
    return text(sql).bindparams(*report_binds, bindparam("failing", type_=JSON))


@functools.cache
def new_reports_statement(
    report_columns: tuple[str, ...], value_columns: tuple[str, ...], finding_columns: tuple[str, ...]
) -> Any:
    """:func:`new_report_statement` for several new reports at once (a batch's), without the site gauge
    (the batch writes it: ``store.GaugeChanges``). Three JSON parameters: ``reports``, an array of objects
    with ``i`` (the report's index), ``report_columns`` and the history row's ``failing``; ``value_rows`` and
    ``finding_rows``, arrays of objects with ``i`` (whose report they are) and ``value_columns`` or
    ``finding_columns``. Returns one row per report: ``i`` and the report's id.

    One statement: the reports and all their rows are written together or not at all (a concurrent first
    writer of any of them fails it on the report's unique key; the batch's messages then run alone)."""
    reports = _recordset(REPORT, report_columns, "reports", name="k", extra='"i" int, "failing" json')
    values = _recordset(VALUE, value_columns, "value_rows", extra='"i" int')
    findings = _recordset(FINDING, finding_columns, "finding_rows", extra='"i" int')
    sql = f"""
WITH k AS MATERIALIZED (
    SELECT * FROM {reports}
), r AS (
    INSERT INTO report ({_names(report_columns)})
    SELECT {", ".join(f'k."{n}"' for n in report_columns)} FROM k ORDER BY k.i
    RETURNING id, site_id, url
), ri AS (
    SELECT k.i, r.id, k.created_at FROM r JOIN k ON k.site_id = r.site_id AND k.url = r.url
), v AS (
    INSERT INTO report_value (report_id, {_names(value_columns)})
    SELECT ri.id, {_picks(value_columns)} FROM {values} JOIN ri ON ri.i = x.i
), f AS (
    INSERT INTO finding (report_id, created_at, updated_at, {_names(finding_columns)})
    SELECT ri.id, ri.created_at, ri.created_at, {_picks(finding_columns)} FROM {findings} JOIN ri ON ri.i = x.i
), h AS (
    INSERT INTO report_version (report_id, content_sha256, raw_key, parser_version, rules_version, failing, created_at)
    SELECT ri.id, k.content_sha256, k.raw_key, k.parser_version, k.rules_version, k.failing, k.created_at
    FROM ri JOIN k ON k.i = ri.i
)
SELECT i, id FROM ri ORDER BY i
"""
    return text(sql)
