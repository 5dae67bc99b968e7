"""The ``crawl_run`` table: one row per crawl run, what its discovery announced and found, and what its
candidates came to.

The row is written at the end of discovery (:func:`record_discovery`, an upsert on ``run_id``, so a
retried discovery of the same run rewrites it), its ``fetched``/``handed_on``/``not_a_report`` counts
are recomputed from the run's checkpoint rows in the transaction that marks each candidate done
(:func:`recount`, called by :meth:`nianbao.crawler.state.CrawlState.commit_candidate`), and
:func:`finish_run` stamps ``finished_at`` after the last candidate. Counting from the checkpoint, never
incrementing, keeps the numbers right when a redelivered crawl continues the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from nianbao.shared.db import session_scope, upsert
from nianbao.shared.models import CrawlCheckpoint, CrawlRun

if TYPE_CHECKING:  # completeness imports discovery, which imports the fetcher, which imports state and so this
    from nianbao.crawler.completeness import Verdict

# A site's runs, newest first (the id breaks a tie of start times): the order "the last crawl" is read in.
NEWEST_FIRST = (col(CrawlRun.started_at).desc(), col(CrawlRun.id).desc())
INT32_MAX = 2**31 - 1  # the columns are SQL INTEGER: a portal announcing 10^11 records must not fail the crawl
DISCOVERY_COLUMNS = (
    "site_id", "family", "announced", "announced_max", "found", "kept", "verdict", "shortfalls", "finished_at",
)  # fmt: skip


@dataclass(frozen=True)
class Progress:
    """What the handled candidates of a run came to, by their checkpoint outcome."""

    fetched: int = 0  # handled, any outcome
    handed_on: int = 0  # handed to the parser as reports
    not_a_report: int = 0  # fetched and judged not to be a report page


@dataclass(frozen=True)
class RunRecord:
    """A ``crawl_run`` row as read back."""

    run_id: str
    site_id: str
    family: str
    announced: int | None
    found: int
    kept: int
    fetched: int
    handed_on: int
    not_a_report: int
    verdict: str
    started_at: datetime
    finished_at: datetime | None
    announced_max: int | None = None


def record_discovery(
    database_url: str, *, run_id: str, site_id: str, family: str, verdict: Verdict, started_at: datetime,
    finished: bool = False,
) -> None:  # fmt: skip
    """Upsert run ``run_id`` with its discovery's numbers and verdict. ``finished``: the run ends here (no
    listing could be read, so no candidate follows)."""
    row = {
        "run_id": run_id[:100],
        "site_id": site_id,
        "family": family[:30],
        "announced": None if verdict.announced is None else _int32(verdict.announced),
        "announced_max": None if verdict.announced_max is None else _int32(verdict.announced_max),
        "found": _int32(verdict.found),
        "kept": _int32(verdict.kept),
        "verdict": verdict.kind,
        "shortfalls": list(verdict.shortfalls),
        "started_at": started_at,
        "finished_at": datetime.now(UTC) if finished else None,
    }
    with session_scope(database_url) as session:
        upsert(session, CrawlRun, [row], conflict=["run_id"], update=list(DISCOVERY_COLUMNS))


def _int32(value: int) -> int:
    return max(0, min(value, INT32_MAX))


def counts(session: Session, run_id: str) -> Progress:
    """The run's handled candidates by outcome, from its checkpoint rows."""
    rows = session.exec(
        select(CrawlCheckpoint.outcome, func.count())
        .where(CrawlCheckpoint.run_id == run_id, col(CrawlCheckpoint.done_at).is_not(None))
        .group_by(col(CrawlCheckpoint.outcome))
    ).all()
    by_outcome = {outcome: int(n) for outcome, n in rows}
    return Progress(sum(by_outcome.values()), by_outcome.get("handed_on", 0), by_outcome.get("not_a_report", 0))


def recount(session: Session, run_id: str, *, finished: bool = False) -> Progress:
    """Recompute the run's candidate counts inside ``session`` (a no-op for a run without a row)."""
    progress = counts(session, run_id)
    values: dict[str, object] = {
        "fetched": progress.fetched,
        "handed_on": progress.handed_on,
        "not_a_report": progress.not_a_report,
    }
    if finished:
        values["finished_at"] = datetime.now(UTC)
    session.execute(update(CrawlRun).where(col(CrawlRun.run_id) == run_id).values(**values))
    return progress


def finish_run(database_url: str, run_id: str) -> RunRecord | None:
    """Final counts and ``finished_at`` of run ``run_id``; returns the row (None if it has none)."""
    with session_scope(database_url) as session:
        recount(session, run_id, finished=True)
    return get_run(database_url, run_id)


def get_run(database_url: str, run_id: str) -> RunRecord | None:
    with session_scope(database_url) as session:
        row = session.exec(select(CrawlRun).where(CrawlRun.run_id == run_id)).first()
        return None if row is None else _record(row)


def latest_runs(database_url: str, site_id: str | None = None, *, limit: int = 20) -> list[RunRecord]:
    """The newest runs first, of one site or of all."""
    with session_scope(database_url) as session:
        query = select(CrawlRun)
        if site_id is not None:
            query = query.where(CrawlRun.site_id == site_id)
        rows = session.exec(query.order_by(*NEWEST_FIRST).limit(limit))
        return [_record(row) for row in rows.all()]


def _record(row: CrawlRun) -> RunRecord:
    return RunRecord(
        row.run_id, row.site_id, row.family, row.announced, row.found, row.kept, row.fetched, row.handed_on,
        row.not_a_report, row.verdict, row.started_at, row.finished_at, row.announced_max,
    )  # fmt: skip
