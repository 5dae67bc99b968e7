"""Database schema (SQLModel tables). Alembic migrations in ``migrations/`` create and evolve it.

Idempotency lives here: every natural identity has a unique constraint and writers upsert on it.

* ``site``: one row per configured site (id from sites.yaml).
* ``fetch``: one row per HTTP fetch attempt (a log; conditional-GET state is read from the latest row).
* ``report``: one row per report page, identity (site_id, url); a changed page updates it in place.
* ``report_value``: one row per table value, identity (report_id, table_name, key).
* ``finding``: one row per rule instance, identity (report_id, rule, location); ``location`` is the
  finding's ``where`` with ``""`` standing for null (SQL unique constraints treat NULLs as distinct).
* ``outbox``: a message the crawler hands on, written in the transaction of the fetches it reports.
* ``crawl_checkpoint``: one row per candidate of a crawl run, identity (run_id, position).
* ``crawl_run``: one row per crawl run (announced vs found), identity run_id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Float, Index, Integer, MetaData, String, Table, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class Site(SQLModel, table=True):
    __tablename__ = "site"

    id: str = Field(primary_key=True, max_length=100)
    name: str = ""
    family: str = ""
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)


class Fetch(SQLModel, table=True):
    __tablename__ = "fetch"

    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(index=True, max_length=100)
    url: str = Field(index=True)
    final_url: str | None = None
    kind: str = Field(default="page", max_length=20)  # listing | page | robots | attachment
    outcome: str = Field(max_length=30)  # ok | not_modified | unchanged | http_error | error | refused | ...
    status_code: int | None = None
    content_sha256: str | None = Field(default=None, max_length=64)
    raw_key: str | None = Field(default=None, max_length=64)
    etag: str | None = None
    last_modified: str | None = None
    media_type: str | None = None
    bytes: int | None = None
    elapsed_ms: int | None = None
    error: str | None = None
    forced: bool = False
    fetched_at: datetime = Field(default_factory=_now, index=True)
    parent_url: str | None = Field(default=None, index=True)  # the report page an attachment was linked from


class Report(SQLModel, table=True):
    __tablename__ = "report"
    __table_args__ = (
        UniqueConstraint("site_id", "url", name="uq_report_site_url"),
        # The listing order of reports and findings (queries.py): a page walks it instead of sorting (0013).
        Index("ix_report_listing", "site_id", "year", "agency", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(max_length=100)
    url: str
    raw_key: str = Field(max_length=64)
    content_sha256: str = Field(max_length=64)
    title: str | None = None
    agency: str | None = Field(default=None, index=True)
    year: int | None = Field(default=None, index=True)
    generation: str | None = Field(default=None, max_length=10)
    index_no: str | None = None
    publish_date: str | None = Field(default=None, max_length=10)
    parser_version: str = ""
    rules_version: str = ""
    blank_policy: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    record: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The findings that pass (~70 % of a report's), as a JSON list of objects with the columns of ``finding``
    # from ``rule`` to ``message`` (status "pass", rule_version the report's): one column instead of ~70 rows
    # a report to insert and index. The other findings are ``finding`` rows; ``FINDING_ALL`` reads both.
    passed: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default=text("'[]'"))
    )
    # len(passed), so that counting the passing findings adds numbers instead of expanding every list (0013).
    passed_count: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    failing_errors: int = 0
    failing_warnings: int = 0
    # SHA-256 of the report's value and finding rows as last written, in the same transaction: the store
    # skips reading them back when the rows it would write have this digest. Null: not known yet.
    rows_sha256: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)


class ReportValue(SQLModel, table=True):
    __tablename__ = "report_value"
    # No index on report_id alone: the unique key leads with it (one index fewer to keep per value row).
    __table_args__ = (UniqueConstraint("report_id", "table_name", "key", name="uq_value_report_table_key"),)

    id: int | None = Field(default=None, primary_key=True)
    # No foreign key: checked per inserted row it cost a third of the insert; the store writes these rows
    # only under their report, and a trigger on report deletes them with it (migration 0011).
    report_id: int
    table_name: str = Field(max_length=30)
    key: str = Field(max_length=100, index=True)
    value: float | None = None
    status: str = Field(max_length=20)
    raw: str | None = None
    unit: str | None = None


class FindingRow(SQLModel, table=True):
    __tablename__ = "finding"
    # Most findings pass, and the lists ask for the others (``findings`` defaults to failing ones): one
    # partial index on rule over the findings that do not pass, instead of an index each on rule and status
    # that every passing row had to enter; none on report_id alone, the unique key leads with it.
    __table_args__ = (
        UniqueConstraint("report_id", "rule", "location", name="uq_finding_report_rule_where"),
        Index(
            "ix_finding_rule_not_pass",
            "rule",
            postgresql_where=text("status <> 'pass'"),
            sqlite_where=text("status <> 'pass'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No foreign key: checked per inserted row it cost a third of the insert; the store writes these rows
    # only under their report, and a trigger on report deletes them with it (migration 0011).
    report_id: int
    rule: str = Field(max_length=60)
    location: str = Field(default="", max_length=100)
    severity: str = Field(max_length=10)
    status: str = Field(max_length=20)
    lhs: float | None = None
    rhs: float | None = None
    delta: float | None = None
    cells: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    message: str = ""
    rule_version: str = ""
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)


class TaskFailure(SQLModel, table=True):
    """A message a task gave up on: a permanent error, or a transient one that exhausted its retries."""

    __tablename__ = "task_failure"

    id: int | None = Field(default=None, primary_key=True)
    task: str = Field(max_length=100, index=True)
    queue: str = Field(max_length=30)
    reason: str = Field(max_length=30)  # permanent | retries_exhausted | invalid_message
    error: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    site_id: str | None = Field(default=None, max_length=100, index=True)
    created_at: datetime = Field(default_factory=_now, index=True)


class ReportVersion(SQLModel, table=True):
    """History of a report: one row per distinct (content, parser version, rules version) it was stored
    with, and what the rules said then. The ``report`` row always holds the latest."""

    __tablename__ = "report_version"
    __table_args__ = (
        UniqueConstraint(
            "report_id", "content_sha256", "parser_version", "rules_version", name="uq_report_version_identity"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True, ondelete="CASCADE")
    content_sha256: str = Field(max_length=64)
    raw_key: str = Field(max_length=64)
    parser_version: str = ""
    rules_version: str = ""
    failing: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=_now)


class Outbox(SQLModel, table=True):
    """A message to hand on, written in the same transaction as the fetch rows it reports, published after
    that commit; ``published_at`` stays null until the broker (or the in-process bus) took it. The crawler
    publishes a site's unpublished rows again at the start of every crawl task of that site."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    task: str = Field(max_length=100)  # the message's TASK name
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    site_id: str = Field(index=True, max_length=100)
    url: str
    created_at: datetime = Field(default_factory=_now)
    published_at: datetime | None = Field(default=None, index=True)
    # Set when a published hand-off whose page never became a report was published once more (the broker
    # lost it): at most once per row (see the crawler's ``outbox`` module).
    rehanded_at: datetime | None = None


class CrawlCheckpoint(SQLModel, table=True):
    """One candidate report URL of one crawl run (``run_id``: the crawl task's id, the same for every
    delivery and retry of it), in discovery order. ``done_at`` is set in the transaction that stores the
    candidate's fetches and hand-off, so a redelivered crawl continues after the last one done."""

    __tablename__ = "crawl_checkpoint"
    __table_args__ = (UniqueConstraint("run_id", "position", name="uq_crawl_checkpoint_run_position"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(max_length=100)
    site_id: str = Field(index=True, max_length=100)
    position: int
    url: str
    original_url: str
    title: str = ""
    force: bool = False
    outcome: str | None = Field(default=None, max_length=30)  # how the candidate ended; null while to do
    done_at: datetime | None = None
    created_at: datetime = Field(default_factory=_now, index=True)


class CrawlRun(SQLModel, table=True):
    """What one crawl run of one site saw: how many report pages its columns announce, and how many it
    found, kept, fetched and handed on. One row per run (``run_id``: the crawl task's id, or an embedded
    run's own id), upserted as the run goes, so a redelivered crawl updates the same row.

    ``announced`` is null when no listing of the site states a total (a plain pager without a count), else
    the sure minimum; ``announced_max`` the stated maximum (the same unless a listing gives only a page count);
    ``verdict`` is ``complete`` (found >= announced), ``incomplete`` (found < announced, or a listing
    page failed part way), ``unknown`` (nothing announced and nothing failed), ``blocked`` (no listing
    could be read: challenge, robots, HTTP error) or ``empty`` (listings read, no report link).
    ``shortfalls`` holds one entry per listing short of its total: start_url, found, expected, reason.
    """

    __tablename__ = "crawl_run"
    __table_args__ = (UniqueConstraint("run_id", name="uq_crawl_run_run_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(max_length=100)
    site_id: str = Field(index=True, max_length=100)
    family: str = Field(default="", max_length=30)
    announced: int | None = None
    # the sum of the stated totals: above ``announced`` when a listing states only a page count (pages x page
    # size, of which (pages - 1) x size + 1 are sure); null with ``announced`` (migration 0007)
    announced_max: int | None = None
    found: int = 0  # distinct article links listed (report-titled or not)
    kept: int = 0  # of those, judged report candidates by title and date
    fetched: int = 0  # candidates whose page was fetched (any outcome)
    handed_on: int = 0  # pages handed to the parser as reports
    not_a_report: int = 0  # fetched pages judged not to be reports (解读, 通知, prose without tables …)
    verdict: str = Field(default="unknown", max_length=20)
    shortfalls: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    started_at: datetime = Field(default_factory=_now, index=True)
    finished_at: datetime | None = None


class SiteGauge(SQLModel, table=True):
    """Per-site figures behind the validator's gauges, kept by delta in the transaction that stores a
    report (so no aggregate over the whole site per report): stored reports, reports with at least one
    failing error-severity rule, newest covered year. Identity site_id; rebuilt from ``report`` by
    migration 0006 and by ``nianbao.validator.store.recount_site_gauges``."""

    __tablename__ = "site_gauge"

    site_id: str = Field(primary_key=True, max_length=100)
    reports: int = 0
    reports_with_errors: int = 0
    newest_year: int | None = None


# Every finding of every report, as one relation: the ``finding`` rows and each report's ``passed`` list
# expanded (a view, created per dialect by migration 0012; in its own metadata, so the schema comparison
# with the migrations leaves it alone). ``position`` orders the findings of one report: a row's id, or the
# entry's index in ``passed``.
FINDING_ALL = Table(
    "finding_all",
    MetaData(),
    Column("report_id", Integer),
    Column("rule", String),
    Column("location", String),
    Column("severity", String),
    Column("status", String),
    Column("lhs", Float),
    Column("rhs", Float),
    Column("delta", Float),
    Column("cells", JSON),
    Column("message", String),
    Column("rule_version", String),
    Column("position", Integer),
)
