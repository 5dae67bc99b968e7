"""What the store reads before it writes a report: the report's stored row, and the same agency's report of
the year before (for the cross-year rules). One report at a time, or a whole batch's in two statements.

A report read alone costs two statements before its write (~0.25 ms of client and server CPU each, whatever
they return). The validator worker stores its messages in batches (``handlers.store_batch``), so it reads
every report's row in one statement and every previous year's record in another (:func:`read_batch`,
PostgreSQL; the embedded SQLite has no round trips to save).

A batch's reads must be what each report would read alone, in its turn, after the batch's reports before
it were written in the same transaction. So what another report of the batch may write is not read ahead:

* a batch holding one address twice (a report sent twice) reads nothing ahead: the second must see the
  first's write;
* a report's previous year is not read ahead when another report of the batch has, or had before this
  batch, that agency and year: its write may add, change or move the record the report would read.

What is not read ahead is read by the report itself when its turn comes (:meth:`BatchReads.stored_row` and
:meth:`BatchReads.previous_text` answer ``UNREAD``). ``tests/validator/test_store_batch.py`` checks that a
batch stores what one message at a time stores, with the cases above.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import JSON, Integer, Text, bindparam, cast, column, exists, func, select
from sqlmodel import Session

from nianbao.shared import jsontext
from nianbao.shared.models import Report, ReportVersion
from nianbao.shared.record import Record

REPORT = Report.__table__  # type: ignore[attr-defined]
VERSION = ReportVersion.__table__  # type: ignore[attr-defined]

# Columns of the report row a record determines, compared one by one with the stored row.
REPORT_FIELDS = (
    "raw_key", "content_sha256", "title", "agency", "year", "generation", "index_no", "publish_date",
    "parser_version", "rules_version", "blank_policy", "record", "passed", "passed_count", "failing_errors",
    "failing_warnings",
)  # fmt: skip
# Of those, the JSON columns: read and compared as their text (see ``store._same_json``).
JSON_FIELDS = ("record", "passed")


class ReportKey(NamedTuple):
    """What finds a report's stored row (site and address) and tells whether its history holds this version."""

    site_id: str
    url: str
    content_sha256: str
    parser_version: str
    rules_version: str


def _stored_report(key: Sequence[Any]) -> Any:
    """The stored row of the report ``key`` names (its columns: expressions in ``ReportKey``'s order) with every
    column a record determines (the JSON columns as their text: decoding 60 KB of JSON costs more than the rest
    of the row), the digest of its rows, and whether this version is in its history."""
    site_id, url, content_sha256, parser_version, rules_version = key
    version_seen = (
        exists()
        .where(
            VERSION.c.report_id == REPORT.c.id,
            VERSION.c.content_sha256 == content_sha256,
            VERSION.c.parser_version == parser_version,
            VERSION.c.rules_version == rules_version,
        )
        .label("version_seen")
    )
    return select(
        REPORT.c.id,
        REPORT.c.updated_at,
        *(REPORT.c[name] for name in REPORT_FIELDS if name not in JSON_FIELDS),
        *(cast(REPORT.c[name], Text).label(f"{name}_text") for name in JSON_FIELDS),
        REPORT.c.rows_sha256,
        version_seen,
    ).where(REPORT.c.site_id == site_id, REPORT.c.url == url)


def _previous_record(agency: Any, year: Any, url: Any) -> Any:
    """The record, as its JSON text (pydantic reads the text into a Record in one pass, twice as fast as
    json.loads + validation), of ``agency``'s report of ``year`` at another address than ``url``; the latest
    written if there are several."""
    return (
        select(cast(REPORT.c.record, Text))
        .where(REPORT.c.agency == agency, REPORT.c.year == year, REPORT.c.url != url)
        .order_by(REPORT.c.updated_at.desc())
        .limit(1)
    )


def _keys_relation(name: str, *columns: Any) -> Any:
    """``json_to_recordset(:keys) AS name(i int, columns…)``: the batch's keys, sent as one JSON text."""
    return (
        func.json_to_recordset(cast(bindparam("keys", type_=Text), JSON))
        .table_valued(column("i", Integer), *columns)
        .render_derived(name=name, with_types=True)
    )


# --- Statements, built once (building one costs more client CPU than executing it).

STORED_REPORT = _stored_report([bindparam(name) for name in ReportKey._fields])
_REPORT_KEYS = _keys_relation("k", *(column(name, Text) for name in ReportKey._fields))
# One row per stored report of the batch: ``i``, the key's index, then STORED_REPORT's columns.
_STORED_REPORTS = _stored_report([_REPORT_KEYS.c[name] for name in ReportKey._fields]).add_columns(_REPORT_KEYS.c.i)

PREVIOUS_RECORD = _previous_record(bindparam("agency"), bindparam("year"), bindparam("url"))
_PREVIOUS_KEYS = _keys_relation("p", column("agency", Text), column("year", Integer), column("url", Text))
# One row per key: its index and the record's text (or NULL).
_PREVIOUS_RECORDS = select(
    _PREVIOUS_KEYS.c.i,
    _previous_record(_PREVIOUS_KEYS.c.agency, _PREVIOUS_KEYS.c.year, _PREVIOUS_KEYS.c.url).scalar_subquery(),
)


class _Unread:
    def __repr__(self) -> str:
        return "UNREAD"


UNREAD: Any = _Unread()  # what a batch did not read ahead: the report reads it itself


@dataclass
class BatchReads:
    """What a batch read ahead for its reports (see the module's docstring); empty: everything is read alone."""

    stored: dict[ReportKey, Any] = field(default_factory=dict)  # a row of STORED_REPORT, or None: not stored
    previous: dict[tuple[str, int, str], str | None] = field(default_factory=dict)  # (agency, year, url) → text

    def stored_row(self, key: ReportKey) -> Any:
        """The report's stored row (None: not stored), or ``UNREAD``."""
        return self.stored.get(key, UNREAD)

    def previous_text(self, key: tuple[str, int, str]) -> str | None:
        """The record text of a :func:`previous_key` (None: there is none), or ``UNREAD``."""
        return self.previous.get(key, UNREAD)

    def complete(self, report: BatchReport) -> bool:
        """Whether everything ``report`` reads was read ahead (else it reads in its turn, and what the batch
        wrote before it must be written by then)."""
        if report.key not in self.stored:
            return False
        previous = previous_key(report.agency, report.year, report.key.url)
        return previous is None or previous in self.previous


def previous_key(agency: str | None, year: int | None, url: str) -> tuple[str, int, str] | None:
    """What the report at ``url`` of ``agency`` and ``year`` reads for the cross-year rules: ``agency``'s
    report of ``year - 1`` at another address, as (agency, year - 1, url); None when it reads nothing."""
    return (agency, year - 1, url) if agency and year is not None else None


class BatchReport(NamedTuple):
    """A report of a batch, as its reads need it: its key, and the agency and year of its record."""

    key: ReportKey
    agency: str | None
    year: int | None


def read_batch(session: Session, reports: Sequence[BatchReport]) -> BatchReads:
    """Read ahead, in two statements, what ``reports`` (in the order they will be stored, in ``session``'s
    transaction) each read before their write, except what another of them may write (module docstring).
    Nothing on SQLite, for fewer than two reports, or when an address is in the batch twice."""
    reads = BatchReads()
    addresses = {(r.key.site_id, r.key.url) for r in reports}
    if session.get_bind().dialect.name != "postgresql" or len(reports) < 2 or len(addresses) < len(reports):
        return reads
    keys = [r.key for r in reports]
    keys_json = jsontext.pg_json([{"i": i, **key._asdict()} for i, key in enumerate(keys)])
    rows = session.execute(_STORED_REPORTS, {"keys": keys_json})
    found = {row.i: row for row in rows}
    for i, key in enumerate(keys):
        reads.stored[key] = found.get(i)
    # Who holds each (agency, year) in this batch, now or once written: a report reading it waits its turn.
    holders: dict[tuple[str | None, int | None], set[str]] = defaultdict(set)
    for i, report in enumerate(reports):
        holders[(report.agency, report.year)].add(report.key.url)
        if (stored := found.get(i)) is not None:
            holders[(stored.agency, stored.year)].add(report.key.url)
    candidates = (previous_key(r.agency, r.year, r.key.url) for r in reports)
    wanted = [key for key in candidates if key is not None and not holders.get(key[:2], set()) - {key[2]}]
    if wanted:
        keys_json = jsontext.pg_json([{"i": i, "agency": a, "year": y, "url": u} for i, (a, y, u) in enumerate(wanted)])
        texts = session.execute(_PREVIOUS_RECORDS, {"keys": keys_json}).all()
        reads.previous = {wanted[i]: text for i, text in texts}
    return reads


def previous_record(
    session: Session, *, agency: str | None, year: int | None, exclude_url: str, reads: BatchReads | None = None
) -> Record | None:
    """The same agency's report for the year before ``year``, for the cross-year rules (read ahead in
    ``reads`` when its batch did). Raises pydantic's ``ValidationError`` when it no longer validates."""
    key = previous_key(agency, year, exclude_url)
    if key is None:
        return None
    text = reads.previous_text(key) if reads is not None else UNREAD
    if text is UNREAD:
        agency, year, url = key
        text = session.execute(PREVIOUS_RECORD, {"agency": agency, "year": year, "url": url}).scalar()
    return Record.model_validate_json(text) if text is not None else None


__all__ = [
    "JSON_FIELDS",
    "PREVIOUS_RECORD",
    "REPORT_FIELDS",
    "STORED_REPORT",
    "UNREAD",
    "BatchReads",
    "BatchReport",
    "ReportKey",
    "previous_key",
    "previous_record",
    "read_batch",
]
