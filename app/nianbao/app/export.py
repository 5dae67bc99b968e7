"""Exports for people who analyse the data: reports, values (long and wide) and findings.

Every column of every file is declared once, in ``FILES`` (name, type, meaning): the writers, ``nianbao
export --describe`` and the README's data dictionary all come from it. Column names are stable; new columns
are only ever appended. CSV is UTF-8 with a header row (``bom=True`` puts a UTF-8 byte-order mark first, so
spreadsheet programs read it as UTF-8); Parquet keeps the declared types (``int`` → int64, ``float`` →
float64 because money is decimal, ``date`` → date32, ``timestamp`` → UTC timestamp).

Every value is traceable: a ``values_long`` row names the report page (``source_url``), the document the
value was read from (``cell_source``: the page or an attachment) and its raw-store key, the text as
written and where it sits in that document (line; page and box; or table, row and column).

CSV formula injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
(a title such as ``=HYPERLINK(…)`` taken from a portal) would be run as a formula by a spreadsheet. Such a
cell is written with a leading ``'`` (OWASP's advice); numbers, and text that is just a number (``-3``),
are written as they are. Parquet stores strings unchanged.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from nianbao.shared.models import FINDING_ALL, Report, ReportValue
from nianbao.shared.record import Generation, table_keys

Format = Literal["csv", "parquet"]
ColumnType = Literal["int", "float", "string", "date", "timestamp"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str


_ID = (
    Column("report_id", "int", "Report id in the database (`nianbao show REPORT_ID`)."),
    Column("site_id", "string", "Site id from `sites.yaml`."),
    Column("agency", "string", "Reporting agency (发布机构) as the report names it."),
    Column("year", "int", "The year the report covers."),
)
_GENERATION = Column("generation", "string", "Report template: `gen2019`, `gen2021` or `legacy`.")

REPORT_SPEC: tuple[Column, ...] = (
    _ID[0], _ID[1],
    Column("url", "string", "The report page's URL."),
    Column("title", "string", "The report's title."),
    _ID[2], _ID[3], _GENERATION,
    Column("index_no", "string", "索引号 as printed on the page."),
    Column("publish_date", "date", "发布日期 (YYYY-MM-DD)."),
    Column("content_sha256", "string", "SHA-256 of the stored page bytes."),
    Column("parser_version", "string", "Parser version that produced the stored record."),
    Column("rules_version", "string", "Rule catalogue version of the stored findings."),
    Column("failing_errors", "int", "Failing findings of severity `error`."),
    Column("failing_warnings", "int", "Failing findings of severity `warn`."),
    Column("updated_at", "timestamp", "When the stored report last changed (UTC; ISO 8601 in CSV)."),
)  # fmt: skip
VALUE_SPEC: tuple[Column, ...] = (
    *_ID, _GENERATION,
    Column("table", "string", "Table: `active`, `requests`, `review_litigation` or `legacy`."),
    Column("key", "string", "Value key within the table (`<row>.<column>`, e.g. `new.natural`)."),
    Column("value", "float", "The number; empty when the cell is blank or missing (never 0)."),
    Column("status", "string", "`number`, `placeholder` (read as 0), `blank`, `missing` or `unparseable`."),
    Column("raw", "string", "Same as `text_as_written` (kept for compatibility)."),
    Column("unit", "string", "Same as `unit_as_written` (kept for compatibility)."),
    Column("source_url", "string", "The report page's URL."),
    Column("raw_key", "string", "Raw-store key (SHA-256) of the stored bytes of the document in `cell_source`."),
    Column("row_label", "string", "Chinese label of the row (and column) in the template, where known."),
    Column("text_as_written", "string", "The cell's text exactly as the document prints it."),
    Column("value_unit", "string", "Unit of `value`: `万元` for money keys (ending `_wan`), else `count`."),
    Column("unit_as_written", "string", "Unit the document prints with the cell, if any."),
    Column("cell_source", "string", "URL of the document the value was read from: the page or an attachment."),
    Column("line", "int", "Text: 1-based line of the value."),
    Column("page", "int", "PDF: 1-based page of the value."),
    Column("x0", "float", "PDF: left of the cell's box, in points from the page's left edge."),
    Column("y0", "float", "PDF: top of the cell's box, in points from the page's top edge."),
    Column("x1", "float", "PDF: right of the cell's box."),
    Column("y1", "float", "PDF: bottom of the cell's box."),
    Column("table_index", "int", "Grid: 1-based table in the document (a spreadsheet: the sheet)."),
    Column("row", "int", "Grid: 0-based row after span expansion."),
    Column("col", "int", "Grid: 0-based column after span expansion."),
)  # fmt: skip
WIDE_SPEC: tuple[Column, ...] = (
    *_ID[:2], _ID[2], _ID[3], _GENERATION,
    Column("<table>.<key>", "float", "One column per value key present (e.g. `requests.new.total`), catalogue order."),
)  # fmt: skip
FINDING_SPEC: tuple[Column, ...] = (
    *_ID,
    Column("rule", "string", "Rule id (`nianbao rules`)."),
    Column("where", "string", "Which instance of the rule (a column, row or group key); empty for whole-report rules."),
    Column("severity", "string", "`error`, `warn` or `info`."),
    Column("status", "string", "`pass`, `fail` or `not_assessable`."),
    Column("lhs", "float", "Left-hand side of the rule's equation."),
    Column("rhs", "float", "Right-hand side of the rule's equation."),
    Column("delta", "float", "`lhs - rhs`."),
    Column("cells", "string", "The operands, `;`-joined `table.key` (find them in `values_long`)."),
    Column("message", "string", "What the rule checks, in words."),
    Column("rule_version", "string", "Version of the rule that produced the finding."),
    Column("source_url", "string", "The report page's URL."),
    Column(
        "cells_at", "string",
        "The operands with their sources: a JSON array, one object per `cells` entry, in that order, with "
        "keys `cell` (`table.key`), `value`, `text_as_written`, `cell_source`, `raw_key`, `line`, `page`, "
        "`bbox` (`[x0, y0, x1, y1]`), `table_index`, `row`, `col` (null where they do not apply; the same "
        "meanings as in `values_long`).",
    ),
)  # fmt: skip

FILES: dict[str, tuple[Column, ...]] = {
    "reports": REPORT_SPEC,
    "values_long": VALUE_SPEC,
    "values_wide": WIDE_SPEC,
    "findings": FINDING_SPEC,
}
REPORT_COLUMNS = tuple(c.name for c in REPORT_SPEC)
VALUE_COLUMNS = tuple(c.name for c in VALUE_SPEC)
FINDING_COLUMNS = tuple(c.name for c in FINDING_SPEC)
WIDE_ID_COLUMNS = tuple(c.name for c in WIDE_SPEC[:-1])
TABLE_ORDER = ("active", "requests", "review_litigation", "legacy")
MONEY_UNIT = "万元"


def describe_markdown() -> str:
    """The data dictionary: one Markdown table row per column of every file (README "Exports")."""
    lines = ["| file | column | type | meaning |", "|---|---|---|---|"]
    for name, spec in FILES.items():
        lines += [f"| `{name}` | `{c.name}` | {c.type} | {c.description} |" for c in spec]
    return "\n".join(lines)


def value_unit(key: str) -> str:
    """The unit of a stored value: money keys of the catalogue end in ``_wan`` (万元), the rest are counts."""
    return MONEY_UNIT if key.rpartition(".")[2].endswith("_wan") else "count"


def row_label(table: str, key: str) -> str | None:
    """The template's Chinese label of a key's row (and column), from the validator's label tables."""
    from nianbao.validator.rules.labels import (
        ACTIVE_ROW_LABELS,
        LEGACY_LABELS,
        REQUEST_COLUMN_LABELS,
        REQUEST_ROW_LABELS,
        REVIEW_GROUP_LABELS,
    )

    row, _, column = key.partition(".")
    if table == "requests":
        label = REQUEST_ROW_LABELS.get(row)
        return f"{label} · {REQUEST_COLUMN_LABELS[column]}" if label and column in REQUEST_COLUMN_LABELS else label
    if table == "active":
        return ACTIVE_ROW_LABELS.get(row)
    if table == "review_litigation":
        return REVIEW_GROUP_LABELS.get(row)
    if table == "legacy":
        return LEGACY_LABELS.get(key)
    return None


def cell_position(record: dict[str, Any], report_url: str, table: str, at: dict[str, Any]) -> dict[str, Any]:
    """The position columns of one cell (``at`` of the stored record), with the document it was read from
    and that document's raw-store key (an attachment's own key when the parser read a stored attachment)."""
    source = at.get("source") or (record.get("table_sources") or {}).get(table) or report_url
    bbox = at.get("bbox") or (None, None, None, None)
    return {
        "cell_source": source,
        "line": at.get("line"), "page": at.get("page"),
        "x0": bbox[0], "y0": bbox[1], "x1": bbox[2], "y1": bbox[3],
        "table_index": at.get("table_index"), "row": at.get("row"), "col": at.get("col"),
    }  # fmt: skip


def _attachment_keys(record: dict[str, Any]) -> dict[str, str]:
    return {a["url"]: a["raw_key"] for a in record.get("attachments") or [] if a.get("url") and a.get("raw_key")}


@dataclass(frozen=True)
class ExportResult:
    files: dict[str, Path]
    rows: dict[str, int]


def _wide_columns(present: set[str]) -> list[str]:
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


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:  # a malformed date on a page: the column is typed, so it stays empty
        return None


def _source(r: Report, table: str, cell: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The position columns of a cell and the raw-store key of the document it was read from."""
    position = cell_position(r.record, r.url, table, cell.get("at") or {})
    source = position["cell_source"]
    return position, r.raw_key if source == r.url else _attachment_keys(r.record).get(source)


def cells_at(
    r: Report, names: Sequence[str], cells: dict[tuple[str, str], dict[str, Any]], values: dict[str, ReportValue]
) -> list[dict[str, Any]]:
    """The findings export's ``cells_at``: each operand ``table.key`` with its stored value, its text as
    written, the document it was read from (and that document's raw key) and its position there. An
    operand the report lacks (a missing cell) keeps its name with nulls."""
    out = []
    for name in names:
        table, _, key = name.partition(".")
        cell = cells.get((table, key))
        value = values.get(name)
        position, raw_key = _source(r, table, cell) if cell is not None else ({}, None)
        x0 = position.get("x0")
        out.append({
            "cell": name, "value": value.value if value else None, "text_as_written": value.raw if value else None,
            "cell_source": position.get("cell_source"), "raw_key": raw_key, "line": position.get("line"),
            "page": position.get("page"),
            "bbox": None if x0 is None else [x0, position["y0"], position["x1"], position["y1"]],
            "table_index": position.get("table_index"), "row": position.get("row"), "col": position.get("col"),
        })  # fmt: skip
    return out


def _value_row(r: Report, v: ReportValue, cells: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    position, raw_key = _source(r, v.table_name, cells.get((v.table_name, v.key), {}))
    return {
        "report_id": r.id, "site_id": r.site_id, "agency": r.agency, "year": r.year,
        "generation": r.generation, "table": v.table_name, "key": v.key, "value": v.value,
        "status": v.status, "raw": v.raw, "unit": v.unit, "source_url": r.url, "raw_key": raw_key,
        "row_label": row_label(v.table_name, v.key), "text_as_written": v.raw, "value_unit": value_unit(v.key),
        "unit_as_written": v.unit, **position,
    }  # fmt: skip


# Reports read, turned into rows and written at a time: what an export holds in memory (their records, values
# and findings), however many reports the database has; and how many ids one query names.
EXPORT_BATCH = 200


def _report_ids(session: Session, site_id: str | None) -> list[int]:
    query = sa_select(col(Report.id)).order_by(col(Report.id))
    if site_id:
        query = query.where(col(Report.site_id) == site_id)
    return [int(i) for i in session.execute(query).scalars()]


def _present_value_columns(session: Session, site_id: str | None) -> set[str]:
    """Every ``table.key`` stored for the exported reports: the wide file's columns, known before its header."""
    query = sa_select(col(ReportValue.table_name), col(ReportValue.key)).distinct()
    if site_id:
        query = query.join(Report, col(Report.id) == col(ReportValue.report_id)).where(col(Report.site_id) == site_id)
    return {f"{table}.{key}" for table, key in session.execute(query)}


def _report_row_batches(session: Session, site_id: str | None, size: int) -> Iterator[list[dict[str, Any]]]:
    """The reports file, by site, year and id, ``size`` rows at a time from one cursor: the report's columns
    only, never its record."""
    query = sa_select(*(col(getattr(Report, "id" if c == "report_id" else c)) for c in REPORT_COLUMNS)).order_by(
        col(Report.site_id), col(Report.year), col(Report.id)
    )
    if site_id:
        query = query.where(col(Report.site_id) == site_id)
    for partition in session.execute(query, execution_options={"yield_per": size}).partitions():
        rows = [dict(zip(REPORT_COLUMNS, values, strict=True)) for values in partition]
        for row in rows:
            row["publish_date"] = _date(row["publish_date"])
        yield rows


def _batch_rows(session: Session, ids: Sequence[int]) -> dict[str, list[dict[str, Any]]]:
    """The values (long and wide) and findings rows of the reports ``ids`` (ascending): values by report and
    value id, wide rows by report id, findings by report, rule and place."""
    reports = {r.id: r for r in session.exec(select(Report).where(col(Report.id).in_(ids)))}
    cells: dict[int, dict[tuple[str, str], dict[str, Any]]] = {
        rid: {(c.get("table"), c.get("key")): c for c in r.record.get("cells") or []} for rid, r in reports.items()
        if rid is not None
    }  # fmt: skip
    value_rows: list[dict[str, Any]] = []
    wide: dict[int, dict[str, Any]] = {}
    stored: dict[int, dict[str, ReportValue]] = {}
    values = session.exec(
        select(ReportValue).where(col(ReportValue.report_id).in_(ids))
        .order_by(col(ReportValue.report_id), col(ReportValue.id))
    )  # fmt: skip
    for v in values:
        r = reports[v.report_id]
        stored.setdefault(v.report_id, {})[f"{v.table_name}.{v.key}"] = v
        value_rows.append(_value_row(r, v, cells.get(v.report_id, {})))
        row = wide.setdefault(v.report_id, {c: getattr(r, c, None) for c in WIDE_ID_COLUMNS[1:]})
        row[f"{v.table_name}.{v.key}"] = v.value
    finding_rows = []
    findings = session.execute(  # every finding: the rows and the reports' passed lists (the view)
        sa_select(FINDING_ALL)
        .where(FINDING_ALL.c.report_id.in_(ids))
        .order_by(FINDING_ALL.c.report_id, FINDING_ALL.c.rule, FINDING_ALL.c.location)
    )
    for f in findings:
        r = reports[f.report_id]
        finding_rows.append({
            "report_id": r.id, "site_id": r.site_id, "agency": r.agency, "year": r.year, "rule": f.rule,
            "where": f.location or None, "severity": f.severity, "status": f.status, "lhs": f.lhs, "rhs": f.rhs,
            "delta": f.delta, "cells": ";".join(f.cells), "message": f.message, "rule_version": f.rule_version,
            "source_url": r.url,
            "cells_at": json.dumps(
                cells_at(r, f.cells, cells.get(f.report_id, {}), stored.get(f.report_id, {})), ensure_ascii=False
            ),
        })  # fmt: skip
    return {
        "values_long": value_rows,
        "values_wide": [{"report_id": rid, **row} for rid, row in sorted(wide.items())],
        "findings": finding_rows,
    }


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """``value`` safe for a spreadsheet cell: text a spreadsheet would read as a formula gets a leading
    ``'``; numbers, numeric text (``-3``, ``+1.5``), None and other text are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _csv_cell(value: Any) -> Any:
    if isinstance(value, date):  # datetime is a date too: both as ISO 8601
        return value.isoformat()
    return neutralise(value)


class _CsvFile:
    def __init__(self, path: Path, columns: Sequence[str], *, bom: bool) -> None:
        self.columns = columns
        self._fh = path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="")
        self._writer = csv.DictWriter(self._fh, fieldnames=[neutralise(c) for c in columns], extrasaction="raise")
        self._writer.writeheader()

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        columns = self.columns
        self._writer.writerows({neutralise(c): _csv_cell(row.get(c)) for c in columns} for row in rows)

    def close(self) -> None:
        self._fh.close()


def column_types(name: str, columns: Sequence[str]) -> dict[str, ColumnType]:
    """The declared type of every column of file ``name`` (``values_wide`` value columns are floats)."""
    declared = {c.name: c.type for c in FILES[name]}
    return {c: declared.get(c, "float") for c in columns}


class _ParquetFile:
    """One row group per batch written: the file grows as the export goes, with the declared types."""

    def __init__(self, path: Path, name: str, columns: Sequence[str]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrow = {
            "int": pa.int64(), "float": pa.float64(), "string": pa.string(), "date": pa.date32(),
            "timestamp": pa.timestamp("us", tz="UTC"),
        }  # fmt: skip
        self.columns = columns
        self._schema = pa.schema([pa.field(c, arrow[t]) for c, t in column_types(name, columns).items()])
        self._table = pa.Table.from_pylist
        self._writer = pq.ParquetWriter(path, self._schema)

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        batch = [{c: row.get(c) for c in self.columns} for row in rows]
        if batch:
            self._writer.write_table(self._table(batch, schema=self._schema))

    def close(self) -> None:
        self._writer.close()


def export(
    session: Session,
    out_dir: Path,
    fmt: Format,
    site_id: str | None = None,
    *,
    bom: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Write the four files into ``out_dir``; ``progress`` (optional) hears of reports read and files written.

    Streamed: the reports file from one cursor, the others ``EXPORT_BATCH`` reports at a time (their records,
    values and findings read, written, dropped), so memory does not grow with the database and no query
    names more than ``EXPORT_BATCH`` ids (PostgreSQL refuses a statement with more than 65 535 parameters)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = _report_ids(session, site_id)
    columns: dict[str, Sequence[str]] = {
        "reports": REPORT_COLUMNS,
        "values_long": VALUE_COLUMNS,
        "values_wide": [*WIDE_ID_COLUMNS, *_wide_columns(_present_value_columns(session, site_id))],
        "findings": FINDING_COLUMNS,
    }
    files = {name: out_dir / f"{name}.{fmt}" for name in columns}
    rows = dict.fromkeys(columns, 0)
    writers = {
        name: _CsvFile(files[name], cols, bom=bom) if fmt == "csv" else _ParquetFile(files[name], name, cols)
        for name, cols in columns.items()
    }
    try:
        for start in range(0, len(ids), EXPORT_BATCH):
            for name, batch in _batch_rows(session, ids[start : start + EXPORT_BATCH]).items():
                writers[name].write(batch)
                rows[name] += len(batch)
            session.expunge_all()  # the batch's reports and values: nothing keeps them now
            if progress is not None:
                progress(f"read {min(start + EXPORT_BATCH, len(ids))} of {len(ids)} reports")
        for report_batch in _report_row_batches(session, site_id, EXPORT_BATCH * 10):
            writers["reports"].write(report_batch)
            rows["reports"] += len(report_batch)
    finally:
        for writer in writers.values():
            writer.close()
    if progress is not None:
        for name, path in files.items():
            progress(f"wrote {path} ({rows[name]} rows)")
    return ExportResult(files, rows)
