"""The crawler's database writes and reads: ``site`` rows, ``fetch`` rows, conditional-GET state, the
hand-off outbox and the crawl-run checkpoint (the ``crawl_run`` row of a run: :mod:`nianbao.crawler.runs`).

Conditional-GET state of a URL is its latest successful fetch (outcome ok, unchanged or
not_modified); a 304 row copies the validators and hash it confirmed, so the latest row is always
self-contained.

A report candidate's fetch rows, its ``outbox`` row (when it is handed on) and its checkpoint mark are
written in one transaction (:meth:`CrawlState.commit_candidate`), with the run's ``crawl_run`` counts:
either the page is handled and its hand-off is durable, or neither, and the candidate is done again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from nianbao.crawler import runs
from nianbao.crawler.siteschema import SiteConfig
from nianbao.shared.contracts import Message, PageFetched
from nianbao.shared.db import session_scope, upsert
from nianbao.shared.models import CrawlCheckpoint, CrawlRun, Fetch, Outbox, Report, Site, TaskFailure

# A crawl run's checkpoint rows, and published outbox rows, are kept this long (for a late redelivery of
# a finished run, and to look at), then pruned at the site's next crawl.
RETENTION = timedelta(days=3)

SUCCESS_OUTCOMES = ("ok", "unchanged", "not_modified")


@dataclass(frozen=True)
class Validators:
    """What the last successful fetch of a URL left behind."""

    etag: str | None
    last_modified: str | None
    content_sha256: str | None
    raw_key: str | None
    media_type: str | None
    final_url: str | None = None


@dataclass(frozen=True)
class RunItem:
    """One candidate of a crawl run, as the checkpoint holds it."""

    id: int
    position: int
    url: str
    original_url: str
    title: str
    done: bool


@dataclass(frozen=True)
class PendingHandoff:
    """An outbox row to publish: not yet published, or published long ago without a report."""

    id: int
    task: str
    payload: dict[str, object]
    url: str


def _attachment_keys(attachments: Any) -> set[str]:
    """The raw-store keys of a JSON list of attachments (a hand-off's, or a stored record's)."""
    if not isinstance(attachments, list):
        return set()
    return {a["raw_key"] for a in attachments if isinstance(a, dict) and isinstance(a.get("raw_key"), str)}


class CrawlState:
    """Reads and writes through short transactions on ``database_url``."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def upsert_site(self, site: SiteConfig) -> None:
        row = {
            "id": site.id,
            "name": site.name,
            "family": site.family,
            "config": site.model_dump(mode="json"),
            "updated_at": datetime.now(UTC),
        }
        with session_scope(self.database_url) as session:
            upsert(session, Site, [row], conflict=["id"], update=["name", "family", "config", "updated_at"])

    def validators(self, url: str) -> Validators | None:
        with session_scope(self.database_url) as session:
            row = session.exec(
                select(Fetch)
                .where(Fetch.url == url, col(Fetch.outcome).in_(SUCCESS_OUTCOMES))
                .order_by(col(Fetch.fetched_at).desc(), col(Fetch.id).desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            return Validators(
                row.etag, row.last_modified, row.content_sha256, row.raw_key, row.media_type, row.final_url
            )

    def stored_elsewhere(self, site_id: str, content_sha256: str, url: str, *, document: bool = False) -> str | None:
        """Where else the site's bytes ``content_sha256`` are held, or None.

        For a report page (``document`` False): another page URL that fetched exactly these bytes (a
        mirror path, a moved page), so the report is already stored from there. For a document reached
        directly from a listing (``document`` True) also any URL that fetched them as a document, and any
        attachment of a report page, this URL included: the page hands them on with itself. The answer
        is the page URL for an attachment of a page, else the other URL."""
        with session_scope(self.database_url) as session:
            same_bytes = (
                Fetch.site_id == site_id,
                Fetch.content_sha256 == content_sha256,
                col(Fetch.outcome).in_(SUCCESS_OUTCOMES),
            )
            if document:
                attached = session.exec(
                    select(Fetch.parent_url).where(*same_bytes, col(Fetch.parent_url).is_not(None)).limit(1)
                ).first()
                if attached is not None:
                    return attached
                kinds: tuple[str, ...] = ("page", "attachment")
            else:
                kinds = ("page",)
            return session.exec(
                select(Fetch.url).where(*same_bytes, Fetch.url != url, col(Fetch.kind).in_(kinds)).limit(1)
            ).first()

    def attachment_hashes(self, site_id: str, parent_url: str) -> frozenset[str]:
        """Content hashes of every attachment held so far for the report page ``parent_url``."""
        with session_scope(self.database_url) as session:
            rows = session.exec(
                select(Fetch.content_sha256)
                .where(
                    Fetch.site_id == site_id,
                    Fetch.parent_url == parent_url,
                    col(Fetch.outcome).in_(SUCCESS_OUTCOMES),
                    col(Fetch.content_sha256).is_not(None),
                )
                .distinct()
            ).all()
            return frozenset(row for row in rows if row is not None)

    def record(self, row: Fetch) -> None:
        with session_scope(self.database_url) as session:
            session.add(row)

    # --- crawl runs (checkpoint) ----------------------------------------------------------------------

    def start_run(self, *, run_id: str, site_id: str, candidates: Sequence[tuple[str, str, str]], force: bool) -> None:
        """Record the candidates (url, original_url, title) of run ``run_id`` in crawl order. Idempotent:
        a second delivery that discovered at the same time adds nothing."""
        now = datetime.now(UTC)
        rows = [
            {
                "run_id": run_id,
                "site_id": site_id,
                "position": position,
                "url": url,
                "original_url": original_url,
                "title": title,
                "force": force,
                "created_at": now,
            }
            for position, (url, original_url, title) in enumerate(candidates)
        ]
        with session_scope(self.database_url) as session:
            upsert(session, CrawlCheckpoint, rows, conflict=["run_id", "position"], update=[])

    def run_items(self, run_id: str) -> list[RunItem]:
        """The candidates of run ``run_id`` in crawl order; empty for an unknown (or pruned) run."""
        with session_scope(self.database_url) as session:
            rows = session.exec(
                select(CrawlCheckpoint).where(CrawlCheckpoint.run_id == run_id).order_by(col(CrawlCheckpoint.position))
            ).all()
            return [
                RunItem(row.id or 0, row.position, row.url, row.original_url, row.title, row.done_at is not None)
                for row in rows
            ]

    def is_done(self, item_id: int) -> bool:
        """Whether a candidate was handled meanwhile (by another delivery of the same run)."""
        with session_scope(self.database_url) as session:
            done = session.exec(select(CrawlCheckpoint.done_at).where(CrawlCheckpoint.id == item_id)).first()
            return done is not None

    def commit_candidate(
        self,
        *,
        site_id: str,
        url: str,
        item_id: int | None,
        outcome: str,
        fetches: Sequence[Fetch],
        handoff: Message | None,
    ) -> int | None:
        """In one transaction: the candidate's fetch rows, its outbox row (when ``handoff`` is set) and its
        checkpoint mark. Returns the outbox row's id, to be marked published once the message is sent."""
        now = datetime.now(UTC)
        with session_scope(self.database_url) as session:
            session.add_all(fetches)
            outbox: Outbox | None = None
            if handoff is not None:
                outbox = Outbox(task=handoff.TASK, payload=handoff.to_payload(), site_id=site_id, url=url)
                session.add(outbox)
            if item_id is not None:
                session.execute(
                    update(CrawlCheckpoint)
                    .where(col(CrawlCheckpoint.id) == item_id)
                    .values(done_at=now, outcome=outcome[:30])
                )
                run_id = session.exec(select(CrawlCheckpoint.run_id).where(CrawlCheckpoint.id == item_id)).first()
                if run_id is not None:  # the run's crawl_run counts, in the same transaction as the mark
                    runs.recount(session, run_id)
            session.flush()
            return outbox.id if outbox is not None else None

    # --- outbox ---------------------------------------------------------------------------------------

    def unpublished(self, site_id: str) -> list[PendingHandoff]:
        """The site's hand-offs committed but not (known to be) published, oldest first."""
        return self._handoffs(Outbox.site_id == site_id, col(Outbox.published_at).is_(None))

    def mark_published(self, outbox_id: int) -> None:
        with session_scope(self.database_url) as session:
            session.execute(update(Outbox).where(col(Outbox.id) == outbox_id).values(published_at=datetime.now(UTC)))

    def stalled(
        self, site_id: str, *, published_before: datetime, lost_with_process: bool = False
    ) -> list[PendingHandoff]:
        """The site's page hand-offs published before ``published_before`` whose page has no report of the
        bytes they hand on (no report row, or one stored from other bytes: a changed page whose newer
        hand-off was lost while its older report stands; or one stored from the same page with other
        attachments: only an attachment changed), not published a second time yet, oldest first.
        Only a page's newest hand-off counts: an older one sent again would store older bytes over newer.

        ``lost_with_process`` (embedded runs, whose queue is the process's memory): also those published a
        second time already (a run killed twice), but not a page whose parse or check failed since its
        hand-off was published (that is recorded in ``task_failure``, and retried from there)."""
        newer = aliased(Outbox)
        has_newer = exists().where(
            col(newer.site_id) == col(Outbox.site_id),
            col(newer.url) == col(Outbox.url),
            col(newer.task) == col(Outbox.task),
            col(newer.id) > col(Outbox.id),
        )
        report_of_these_bytes = exists().where(
            col(Report.site_id) == col(Outbox.site_id),
            col(Report.url) == col(Outbox.url),
            col(Report.raw_key) == col(Outbox.payload)["raw_key"].as_string(),
        )
        failed_since = exists().where(
            col(TaskFailure.site_id) == col(Outbox.site_id),
            col(TaskFailure.payload)["url"].as_string() == col(Outbox.url),
            col(TaskFailure.created_at) >= col(Outbox.published_at),
        )
        conditions = (
            Outbox.site_id == site_id,
            Outbox.task == PageFetched.TASK,
            col(Outbox.published_at) < published_before,
            ~failed_since if lost_with_process else col(Outbox.rehanded_at).is_(None),
            ~has_newer,
        )
        stalled = self._handoffs(*conditions, ~report_of_these_bytes)
        return sorted(stalled + self._attachments_not_stored(conditions), key=lambda h: h.id)

    def _attachments_not_stored(self, conditions: Sequence[Any]) -> list[PendingHandoff]:
        """Hand-offs meeting ``conditions`` whose page has a report of the page's bytes but not of the
        attachments they hand on (the report names other attachment bytes: only an attachment changed).
        Only hand-offs with attachments are read (most pages have none); their keys are compared here
        rather than in SQL, both sides being JSON lists."""
        same_page_bytes = and_(
            col(Report.site_id) == col(Outbox.site_id),
            col(Report.url) == col(Outbox.url),
            col(Report.raw_key) == col(Outbox.payload)["raw_key"].as_string(),
            func.json_array_length(col(Outbox.payload)["attachments"]) > 0,
        )
        with session_scope(self.database_url) as session:
            rows = session.exec(
                select(Outbox, col(Report.record)["attachments"])
                .join(Report, same_page_bytes)
                .where(*conditions)
                .order_by(col(Outbox.id))
            ).all()
            return [
                PendingHandoff(row.id or 0, row.task, dict(row.payload), row.url)
                for row, stored in rows
                if _attachment_keys(row.payload.get("attachments")) != _attachment_keys(stored)
            ]

    def _handoffs(self, *conditions: Any) -> list[PendingHandoff]:
        """The outbox rows meeting ``conditions``, oldest first."""
        with session_scope(self.database_url) as session:
            rows = session.exec(select(Outbox).where(*conditions).order_by(col(Outbox.id))).all()
            return [PendingHandoff(row.id or 0, row.task, dict(row.payload), row.url) for row in rows]

    def mark_rehanded(self, outbox_id: int) -> None:
        with session_scope(self.database_url) as session:
            session.execute(update(Outbox).where(col(Outbox.id) == outbox_id).values(rehanded_at=datetime.now(UTC)))

    def drop_handoff(self, outbox_id: int) -> None:
        """Remove an outbox row that can never be published (recorded as a task failure by the caller)."""
        with session_scope(self.database_url) as session:
            session.execute(delete(Outbox).where(col(Outbox.id) == outbox_id))

    def prune(self, site_id: str, *, run_retention_days: float = 0) -> None:
        """Drop the site's checkpoint rows and published outbox rows older than :data:`RETENTION`, and its
        ``crawl_run`` rows started more than ``run_retention_days`` ago except its newest (0: keep them all)."""
        now = datetime.now(UTC)
        before = now - RETENTION
        with session_scope(self.database_url) as session:
            if run_retention_days > 0:
                newest = (
                    select(CrawlRun.id)
                    .where(CrawlRun.site_id == site_id)
                    .order_by(*runs.NEWEST_FIRST)
                    .limit(1)
                    .scalar_subquery()
                )
                session.execute(
                    delete(CrawlRun).where(
                        col(CrawlRun.site_id) == site_id,
                        col(CrawlRun.started_at) < now - timedelta(days=run_retention_days),
                        col(CrawlRun.id) != newest,
                    )
                )
            session.execute(
                delete(CrawlCheckpoint).where(
                    col(CrawlCheckpoint.site_id) == site_id, col(CrawlCheckpoint.created_at) < before
                )
            )
            session.execute(
                delete(Outbox).where(
                    col(Outbox.site_id) == site_id,
                    col(Outbox.published_at).is_not(None),
                    col(Outbox.published_at) < before,
                )
            )
