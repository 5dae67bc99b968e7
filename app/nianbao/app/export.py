"""Exports for people who analyse the data: reports, values (long and wide) and findings.

Column names are stable (documented in the README). CSV is UTF-8 with a header row (``bom=True`` puts a
UTF-8 byte-order mark first, so spreadsheet programs read it as UTF-8); Parquet keeps types (integers stay
integers where a column holds only counts, values are float64 because money is decimal).

CSV formula injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
(a title such as ``=HYPERLINK(…)`` taken from a portal) would be run as a formula by a spreadsheet. Such a
cell is written with a leading ``'`` (OWASP's advice); numbers, and text that is just a number (``-3``),
are written as they are. Parquet stores strings unchanged.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlmodel import Session, col, select

from nianbao.shared.models import FindingRow, Report, ReportValue
from nianbao.shared.record import Generation, table_keys

Format = Literal["csv", "parquet"]

REPORT_COLUMNS = (
    "report_id", "site_id", "url", "title", "agency", "year", "generation", "index_no", "publish_date",
    "content_sha256", "parser_version", "rules_version", "failing_errors", "failing_warnings", "updated_at",
)  # fmt: skip
VALUE_COLUMNS = (
    "report_id", "site_id", "agency", "year", "generation", "table", "key", "value", "status", "raw", "unit",
)  # fmt: skip
FINDING_COLUMNS = (
    "report_id", "site_id", "agency", "year", "rule", "where", "severity", "status", "lhs", "rhs", "delta",
    "cells", "message", "rule_version",
)  # fmt: skip
WIDE_ID_COLUMNS = ("report_id", "site_id", "agency", "year", "generation")
TABLE_ORDER = ("active", "requests", "review_litigation", "legacy")


@dataclass(frozen=True)
class ExportResult:
    files: dict[str, Path]
    rows: dict[str, int]


def _wide_columns(reports: Sequence[Report], present: set[str]) -> list[str]:
    """Every table.key column present in the data, in catalogue order (gen2021-only keys after)."""
    ordered: list[str] = []
    for table in TABLE_ORDER:
        generations: tuple[Generation, ...] = ("gen2019", "gen2021", "legacy")
        for generation in generations:
            for key in table_keys(table, generation):
                name = f"{table}.{key}"
                if name in present and name not in ordered:
                    ordered.append(name)
    ordered += sorted(present - set(ordered))  # extra.* rows and anything else, deterministically
    return ordered


def collect(session: Session, site_id: str | None = None) -> dict[str, tuple[Sequence[str], list[dict[str, Any]]]]:
    query = select(Report).order_by(col(Report.site_id), col(Report.year), col(Report.id))
    if site_id:
        query = query.where(Report.site_id == site_id)
    reports = list(session.exec(query))
    by_id = {r.id: r for r in reports}
    report_rows = [
        {"report_id": r.id, **{c: getattr(r, c) for c in REPORT_COLUMNS if c != "report_id"}} for r in reports
    ]
    for row in report_rows:
        row["updated_at"] = row["updated_at"].isoformat() if row["updated_at"] else None
    value_rows: list[dict[str, Any]] = []
    wide: dict[int, dict[str, Any]] = {}
    values = session.exec(
        select(ReportValue).where(col(ReportValue.report_id).in_(list(by_id))).order_by(col(ReportValue.id))
    )
    for v in values:
        r = by_id[v.report_id]
        value_rows.append({
            "report_id": r.id, "site_id": r.site_id, "agency": r.agency, "year": r.year,
            "generation": r.generation, "table": v.table_name, "key": v.key, "value": v.value,
            "status": v.status, "raw": v.raw, "unit": v.unit,
        })  # fmt: skip
        row = wide.setdefault(v.report_id, {c: getattr(r, c, None) for c in WIDE_ID_COLUMNS[1:]})
        row[f"{v.table_name}.{v.key}"] = v.value
    present = {k for row in wide.values() for k in row if k not in WIDE_ID_COLUMNS}
    wide_columns = [*WIDE_ID_COLUMNS, *_wide_columns(reports, present)]
    wide_rows = [{"report_id": rid, **row} for rid, row in sorted(wide.items())]
    finding_rows = []
    findings = session.exec(
        select(FindingRow)
        .where(col(FindingRow.report_id).in_(list(by_id)))
        .order_by(col(FindingRow.report_id), col(FindingRow.rule), col(FindingRow.location))
    )
    for f in findings:
        r = by_id[f.report_id]
        finding_rows.append({
            "report_id": r.id, "site_id": r.site_id, "agency": r.agency, "year": r.year, "rule": f.rule,
            "where": f.location or None, "severity": f.severity, "status": f.status, "lhs": f.lhs, "rhs": f.rhs,
            "delta": f.delta, "cells": ";".join(f.cells), "message": f.message, "rule_version": f.rule_version,
        })  # fmt: skip
    return {
        "reports": (REPORT_COLUMNS, report_rows),
        "values_long": (VALUE_COLUMNS, value_rows),
        "values_wide": (wide_columns, wide_rows),
        "findings": (FINDING_COLUMNS, finding_rows),
    }


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """``value`` safe for a spreadsheet cell: text a spreadsheet would read as a formula gets a leading
    ``'``; numbers, numeric text (``-3``, ``+1.5``), None and other text are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict[str, Any]], *, bom: bool = False) -> None:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[neutralise(c) for c in columns], extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({neutralise(c): neutralise(row.get(c)) for c in columns})


def _write_parquet(path: Path, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    numeric = {"value", "lhs", "rhs", "delta"} | {c for c in columns if "." in c}
    integer = {"report_id", "year", "failing_errors", "failing_warnings"}
    fields = [
        pa.field(c, pa.float64() if c in numeric else pa.int64() if c in integer else pa.string()) for c in columns
    ]
    schema = pa.schema(fields)
    table = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows], schema=schema)
    pq.write_table(table, path)


def export(
    session: Session, out_dir: Path, fmt: Format, site_id: str | None = None, *, bom: bool = False
) -> ExportResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    counts: dict[str, int] = {}
    for name, (columns, rows) in collect(session, site_id).items():
        path = out_dir / f"{name}.{fmt}"
        if fmt == "csv":
            _write_csv(path, columns, rows, bom=bom)
        else:
            _write_parquet(path, columns, rows)
        files[name] = path
        counts[name] = len(rows)
    return ExportResult(files, counts)
