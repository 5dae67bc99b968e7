"""``nianbao show``: one stored report with every value, where it was read, and the failing findings
marked on the cells they are computed from. The same view is printed (render.py) or dumped (``--json``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from nianbao.app.export import row_label, value_unit
from nianbao.shared.models import FindingRow, Report, ReportValue
from nianbao.shared.rawstore import RawStore, RawStoreError
from nianbao.shared.record import CellLocation


@dataclass(frozen=True)
class RawCopy:
    """A stored raw document: its raw-store key, the file that holds it, and whether that file exists."""

    key: str
    path: str | None
    stored: bool


@dataclass(frozen=True)
class ShownValue:
    key: str
    label: str | None
    value: float | None
    value_unit: str
    status: str
    text_as_written: str | None
    unit_as_written: str | None
    source: str  # for people: `line 12`, `p.2 (x0,y0,x1,y1)`, `table 1 row 5 col 3`, then `in <url>`
    at: dict[str, Any]
    failing: list[str] = field(default_factory=list)  # `rule` or `rule(where)` of each failing finding


@dataclass(frozen=True)
class ShownTable:
    name: str
    read_from: str  # the page's URL or the attachment's
    values: list[ShownValue]


@dataclass(frozen=True)
class Operand:
    cell: str  # table.key
    value: float | None
    text_as_written: str | None
    source: str
    at: dict[str, Any] = field(default_factory=dict)  # the cell's position, as ShownValue.at (API, web view)


@dataclass(frozen=True)
class ShownFinding:
    rule: str
    where: str | None
    severity: str
    lhs: float | None
    rhs: float | None
    delta: float | None
    message: str
    operands: list[Operand]


@dataclass(frozen=True)
class ShownAttachment:
    url: str
    name: str | None
    outcome: str | None
    raw: RawCopy | None


@dataclass(frozen=True)
class ReportView:
    id: int
    site_id: str
    url: str
    title: str | None
    agency: str | None
    year: int | None
    generation: str | None
    metadata: dict[str, Any]
    raw: RawCopy
    parser_version: str
    rules_version: str
    attachments: list[ShownAttachment]
    findings: dict[str, int]  # status -> count
    failing: list[ShownFinding]
    tables: list[ShownTable]


def _raw_copy(store: RawStore, key: str) -> RawCopy:
    try:
        path = store._path(key)  # the store's own layout: the path printed is the one it reads
    except RawStoreError:
        return RawCopy(key, None, False)
    return RawCopy(key, str(path), path.is_file())


def _describe(at: dict[str, Any]) -> str:
    try:
        return CellLocation.model_validate(at).describe()
    except ValidationError:  # a record stored by an older parser with another shape of `at`
        return "?"


def _label(failing: FindingRow) -> str:
    return f"{failing.rule}({failing.location})" if failing.location else failing.rule


def build_view(session: Session, report: Report, *, raw_root: Path) -> ReportView:
    """Everything ``show`` prints about ``report``, read from the database and the raw store."""
    assert report.id is not None
    store = RawStore(raw_root)
    record = report.record
    cells = {(c.get("table"), c.get("key")): c for c in record.get("cells") or []}
    failing_rows = list(
        session.exec(
            select(FindingRow)
            .where(FindingRow.report_id == report.id, FindingRow.status == "fail")
            .order_by(col(FindingRow.rule), col(FindingRow.location))
        )
    )
    counts: dict[str, int] = {"pass": len(report.passed)} if report.passed else {}
    for status in session.exec(select(FindingRow.status).where(FindingRow.report_id == report.id)):
        counts[status] = counts.get(status, 0) + 1
    marks: dict[str, list[str]] = {}
    for f in failing_rows:
        for cell_name in f.cells:
            marks.setdefault(cell_name, []).append(_label(f))
    values = list(
        session.exec(select(ReportValue).where(ReportValue.report_id == report.id).order_by(col(ReportValue.id)))
    )
    stored = {(v.table_name, v.key): v for v in values}
    table_sources = record.get("table_sources") or {}
    tables: dict[str, list[ShownValue]] = {}
    for v in values:
        cell = cells.get((v.table_name, v.key), {})
        at = cell.get("at") or {}
        tables.setdefault(v.table_name, []).append(
            ShownValue(
                key=v.key,
                label=row_label(v.table_name, v.key),
                value=v.value,
                value_unit=value_unit(v.key),
                status=v.status,
                text_as_written=v.raw,
                unit_as_written=v.unit,
                source=_describe(at) if at else "?",
                at=at,
                failing=marks.get(f"{v.table_name}.{v.key}", []),
            )
        )
    failing = []
    for f in failing_rows:
        operands = []
        for cell_name in f.cells:
            table, _, key = cell_name.partition(".")
            value = stored.get((table, key))
            at = (cells.get((table, key)) or {}).get("at") or {}
            operands.append(
                Operand(
                    cell=cell_name,
                    value=value.value if value else None,
                    text_as_written=value.raw if value else None,
                    source=_describe(at) if at else "?",
                    at=at,
                )
            )
        failing.append(
            ShownFinding(
                rule=f.rule, where=f.location or None, severity=f.severity, lhs=f.lhs, rhs=f.rhs, delta=f.delta,
                message=f.message, operands=operands,
            )
        )  # fmt: skip
    attachments = [
        ShownAttachment(
            url=a.get("url", ""),
            name=a.get("name"),
            outcome=a.get("outcome"),
            raw=_raw_copy(store, a["raw_key"]) if a.get("raw_key") else None,
        )
        for a in record.get("attachments") or []
    ]
    return ReportView(
        id=report.id,
        site_id=report.site_id,
        url=report.url,
        title=report.title,
        agency=report.agency,
        year=report.year,
        generation=report.generation,
        metadata=dict(record.get("metadata") or {}),
        raw=_raw_copy(store, report.raw_key),
        parser_version=report.parser_version,
        rules_version=report.rules_version,
        attachments=attachments,
        findings=dict(sorted(counts.items())),
        failing=failing,
        tables=[
            ShownTable(name=name, read_from=table_sources.get(name) or report.url, values=rows)
            for name, rows in tables.items()
        ],
    )
