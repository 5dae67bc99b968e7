"""Read-side queries the CLI prints: reports and findings held in the database."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlmodel import Session, col, func, select

from nianbao.shared.models import FINDING_ALL, FindingRow, Report


@dataclass(frozen=True)
class ReportRow:
    id: int
    site_id: str
    agency: str | None
    year: int | None
    generation: str | None
    index_no: str | None
    title: str | None
    url: str
    tables: list[str]
    failing: dict[str, list[str]]  # rule id -> the `where` of each failing instance ("-" for whole-report rules)
    # The document each table was read from, where it is not the report's own page (an attachment).
    from_attachment: dict[str, str] = field(default_factory=dict)


# What a report listing reads of each report: its columns, and of its record only the tables' names and
# sources (JSON paths, so the ~60 KB record itself is not sent).
_REPORT_LISTING = (
    col(Report.id), col(Report.site_id), col(Report.agency), col(Report.year), col(Report.generation),
    col(Report.index_no), col(Report.title), col(Report.url),
    col(Report.record)["tables"], col(Report.record)["table_sources"],
)  # fmt: skip
_REPORT_ORDER = (col(Report.site_id), col(Report.year), col(Report.agency), col(Report.id))
# Rows fetched from the database at a time when reports or findings are streamed (a server-side cursor on
# PostgreSQL): what the client holds however many the list has.
STREAM_BATCH = 1_000


def count_reports(session: Session, site_id: str | None = None) -> int:
    """How many reports :func:`list_reports` lists with the same filter."""
    query = select(func.count()).select_from(Report)
    if site_id:
        query = query.where(col(Report.site_id) == site_id)
    return int(session.exec(query).one())


def list_reports(
    session: Session, site_id: str | None = None, *, offset: int = 0, limit: int | None = None
) -> list[ReportRow]:
    """Reports by site, year, agency (and id: a total order), with the rules each fails; ``offset`` and
    ``limit`` page in SQL. Reads no whole record, and the failing findings of the listed reports only.
    Without ``limit``, :func:`iter_reports` (streamed) gathered into a list."""
    if limit is None:
        return list(islice(iter_reports(session, site_id), offset, None))
    # The page's ids first, then the listing columns of those rows only: PostgreSQL would otherwise evaluate
    # the JSON paths (decompressing each record) on every report before sorting (2.7 s for 100 of 3 000).
    page = sa_select(col(Report.id)).order_by(*_REPORT_ORDER).offset(offset).limit(limit)
    if site_id:
        page = page.where(col(Report.site_id) == site_id)
    ids = page.subquery()
    query = sa_select(*_REPORT_LISTING).join_from(Report, ids, ids.c.id == col(Report.id)).order_by(*_REPORT_ORDER)
    return _report_rows(session, session.execute(query).all())


def iter_reports(session: Session, site_id: str | None = None) -> Iterator[ReportRow]:
    """Every report (of ``site_id``) in :func:`list_reports`' order, read ``STREAM_BATCH`` at a time from one
    cursor (server-side on PostgreSQL), with the failing findings of each batch: any number of reports in
    bounded memory (``nianbao reports``)."""
    query = sa_select(*_REPORT_LISTING).order_by(*_REPORT_ORDER)
    if site_id:
        query = query.where(col(Report.site_id) == site_id)
    result = session.execute(query, execution_options={"stream_results": True, "yield_per": STREAM_BATCH})
    for batch in result.partitions():
        yield from _report_rows(session, batch)


def _report_rows(session: Session, listed: Sequence[Any]) -> list[ReportRow]:
    """The listing rows ``listed`` (``_REPORT_LISTING``'s columns) as ReportRows, with their failing findings
    (one query by their ids: at most ``STREAM_BATCH`` or a page's limit of them)."""
    if not listed:
        return []
    fails = (
        sa_select(col(FindingRow.report_id), col(FindingRow.rule), col(FindingRow.location))
        .where(col(FindingRow.status) == "fail", col(FindingRow.report_id).in_([r[0] for r in listed]))
        .order_by(col(FindingRow.rule), col(FindingRow.location))
    )
    failing: dict[int, dict[str, list[str]]] = {}
    for report_id, rule, location in session.execute(fails):
        failing.setdefault(report_id, {}).setdefault(rule, []).append(location or "-")
    return [
        ReportRow(
            id=report_id,
            site_id=site,
            agency=agency,
            year=year,
            generation=generation,
            index_no=index_no,
            title=title,
            url=url,
            tables=sorted((tables or {}).keys()),
            failing=dict(sorted(failing.get(report_id, {}).items())),
            from_attachment={
                table: source for table, source in sorted((sources or {}).items()) if source and source != url
            },
        )
        for report_id, site, agency, year, generation, index_no, title, url, tables, sources in listed
    ]


@dataclass(frozen=True)
class FindingListRow:
    report_id: int
    site_id: str
    agency: str | None
    year: int | None
    rule: str
    where: str | None
    severity: str
    status: str
    lhs: float | None
    rhs: float | None
    message: str
    url: str


# Findings are read from the view of every finding (the ``finding`` rows and each report's ``passed`` list);
# filtered on a status other than "pass", the database skips the passed lists.
FINDING = FINDING_ALL.c


def _finding_conditions(site_id: str | None, rule: str | None, status: str | None) -> list[Any]:
    conditions: list[Any] = []
    if site_id:
        conditions.append(col(Report.site_id) == site_id)
    if rule:
        conditions.append(FINDING.rule == rule)
    if status:
        conditions.append(FINDING.status == status)
    return conditions


def count_findings(
    session: Session, *, site_id: str | None = None, rule: str | None = None, status: str | None = "fail"
) -> int:
    """How many findings :func:`list_findings` lists with the same filters. Without a rule, the failing and
    the passing findings are added up from each report's counts (``failing_errors`` + ``failing_warnings``,
    ``passed_count``: one row a report). Findings that do not pass (failing or not assessable) are rows
    only, so with a rule, or for the not-assessable ones, those rows are counted (by the rule's partial
    index); only one rule's passing findings, or all of them, need the reports' lists read."""
    if status is not None and status != "pass" and (rule or status != "fail"):
        rows_only = select(func.count()).select_from(FindingRow).where(col(FindingRow.status) == status)
        if rule:
            rows_only = rows_only.where(col(FindingRow.rule) == rule)
        if site_id:
            rows_only = rows_only.join(Report, col(Report.id) == FindingRow.report_id)
            rows_only = rows_only.where(col(Report.site_id) == site_id)
        return int(session.exec(rows_only).one())
    if rule:
        query = select(func.count()).select_from(FINDING_ALL).join(Report, col(Report.id) == FINDING.report_id)
        return int(session.exec(query.where(*_finding_conditions(site_id, rule, status))).one())
    on_site = [col(Report.site_id) == site_id] if site_id else []
    rows = 0
    if status is None:  # every finding: the rows (none pass since migration 0012) and the lists
        joined = select(func.count()).select_from(FindingRow).join(Report, col(Report.id) == FindingRow.report_id)
        rows = int(session.exec(joined.where(*on_site)).one())
    per_report = Report.failing_errors + Report.failing_warnings if status == "fail" else Report.passed_count
    summed = session.exec(select(func.coalesce(func.sum(per_report), 0)).where(*on_site)).one()
    return rows + int(summed)


# The findings list's order: the reports list's (site, year, agency, report), then rule, place and position
# within a report. A page walks ``ix_report_listing`` in that order and reads each report's findings (its
# rows by the unique key (report, rule, place), its passed list) until the page is full: the cost of its
# offset and size, not a sort of every matching finding. (The view ``finding_all`` cannot be used for this:
# neither database pushes a join into it, so it would be expanded whole.)
_LISTED = "r.id, r.site_id, r.agency, r.year, r.url, f.rule, f.location, f.severity, f.status, f.lhs, f.rhs, f.message"
_PG_ROWS = (
    "SELECT rule, location, severity, status, lhs, rhs, message, CAST(id AS bigint) AS position"
    " FROM finding WHERE finding.report_id = r.id"
)
_PG_PASSED = (
    "SELECT p.rule, p.location, p.severity, 'pass' AS status, p.lhs, p.rhs, p.message, p.position FROM ROWS FROM"
    " (json_to_recordset(r.passed) AS (rule varchar, location varchar, severity varchar, lhs float8, rhs float8,"
    " message varchar)) WITH ORDINALITY AS p(rule, location, severity, lhs, rhs, message, position) WHERE TRUE"
)
# SQLite has no LATERAL: a compound of the two joins, which it merges in order (each arm walks the index;
# the passed lists' arm still sorts its entries, so status pass/all stays linear there).
_SQLITE_ROWS = (
    "SELECT r.id AS id, r.site_id AS site_id, r.agency AS agency, r.year AS year, r.url AS url, f.rule AS rule,"
    " f.location AS location, f.severity AS severity, f.status AS status, f.lhs AS lhs, f.rhs AS rhs,"
    " f.message AS message, f.id AS position FROM report r JOIN finding f ON f.report_id = r.id WHERE 1 = 1"
)
_SQLITE_PASSED = (
    "SELECT r.id AS id, r.site_id AS site_id, r.agency AS agency, r.year AS year, r.url AS url,"
    + ", ".join(f"json_extract(p.value, '$.{name}') AS {name}" for name in ("rule", "location", "severity"))
    + ", 'pass' AS status, "
    + ", ".join(f"json_extract(p.value, '$.{name}') AS {name}" for name in ("lhs", "rhs", "message"))
    + ", p.key + 1 AS position FROM report r, json_each(r.passed) AS p WHERE 1 = 1"
)


def _findings_query(
    postgres: bool, site_id: str | None, rule: str | None, status: str | None, offset: int, limit: int | None
) -> Any:
    """The findings list's statement; ``:site_id``, ``:rule`` and ``:status`` are bound by the caller."""
    rows, passed = (_PG_ROWS, _PG_PASSED) if postgres else (_SQLITE_ROWS, _SQLITE_PASSED)
    row, entry_rule = ("finding", "p.rule") if postgres else ("f", "json_extract(p.value, '$.rule')")
    parts = []
    if status != "pass":  # since migration 0012 a passing finding is never a row
        parts.append(rows + (f" AND {row}.status = :status" if status else "")
                     + (f" AND {row}.rule = :rule" if rule else ""))  # fmt: skip
    if status in (None, "pass"):
        parts.append(passed + (f" AND {entry_rule} = :rule" if rule else ""))
    on_site = " AND r.site_id = :site_id" if site_id else ""
    if postgres:
        sql = (f"SELECT {_LISTED} FROM report r CROSS JOIN LATERAL ({' UNION ALL '.join(parts)}) AS f WHERE 1 = 1"
               f"{on_site} ORDER BY r.site_id, r.year, r.agency, r.id, f.rule, f.location, f.position"
               " OFFSET :offset LIMIT :limit")  # fmt: skip
    else:
        sql = (" UNION ALL ".join(part + on_site for part in parts)
               + " ORDER BY site_id, year, agency, id, rule, location, position LIMIT :limit OFFSET :offset")
    return text(sql).bindparams(offset=offset, limit=limit if limit is not None or postgres else -1)


def list_findings(
    session: Session,
    *,
    site_id: str | None = None,
    rule: str | None = None,
    status: str | None = "fail",
    offset: int = 0,
    limit: int | None = None,
) -> list[FindingListRow]:
    """Findings (failing ones by default) with their report, in the reports list's order (site, year,
    agency, report), then by rule and place; ``offset`` and ``limit`` page through them (the order is total:
    a finding's position in its report breaks ties). ``status`` None: every finding."""
    return list(iter_findings(session, site_id=site_id, rule=rule, status=status, offset=offset, limit=limit))




def iter_findings(
    session: Session,
    *,
    site_id: str | None = None,
    rule: str | None = None,
    status: str | None = "fail",
    offset: int = 0,
    limit: int | None = None,
) -> Iterator[FindingListRow]:
    """:func:`list_findings`, one row at a time, read ``STREAM_BATCH`` rows at a time: every finding of a
    large database (``nianbao findings``) without holding them all."""
    postgres = session.get_bind().dialect.name == "postgresql"
    query = _findings_query(postgres, site_id, rule, status, offset, limit)
    params = {"site_id": site_id, "rule": rule, "status": status}
    rows = session.execute(query, params, execution_options={"stream_results": True, "yield_per": STREAM_BATCH})
    for report_id, site, agency, year, url, rule_id, location, severity, finding_status, lhs, rhs, message, *_ in rows:
        yield FindingListRow(
            report_id=report_id,
            site_id=site,
            agency=agency,
            year=year,
            rule=rule_id,
            where=location or None,
            severity=severity,
            status=finding_status,
            lhs=lhs,
            rhs=rhs,
            message=message,
            url=url,
        )


def find_report(session: Session, ref: str) -> Report | None:
    """The stored report ``ref`` names: its id (digits) or its page URL (the oldest such report when
    several sites link the same URL)."""
    ref = ref.strip()
    if ref.isdigit():
        return session.get(Report, int(ref))
    query = select(Report).where(Report.url == ref).order_by(col(Report.id))
    return session.exec(query).first()
