"""Hand-offs through the outbox: a message is published after the commit that recorded it, and every one
left unpublished (a publish that raised, a worker killed between commit and publish) is published again
at the start of the site's next crawl task.

A published page hand-off whose page still has no report of the bytes it hands on ``handoff_recheck_s``
later (6 hours by default: no report, or a changed page's older report) is published once more at the
start of a crawl task: the broker can lose a message it took (kombu's Redis transport pops a message before
it records it as unacknowledged; Redis dying between the two loses it). Once per row, and only a page's
newest hand-off, so a page whose parse fails for good costs one more recorded failure, not one per crawl.
What this does not see: a lost hand-off of a page whose own bytes did not change (only an attachment did).
An embedded run's queue is its process's memory, so there a hand-off published by an earlier process and
without a report is lost for sure: each embedded run hands those on again first (``lost_before``).

A hand-off may so be published twice (killed after the publish, before marking it); the parser and the
validator are idempotent (unique keys and upserts). It is never lost while its row is in the database
(published rows are kept for three days, see ``CrawlState.prune``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from nianbao.crawler import metrics
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.state import CrawlState, PendingHandoff
from nianbao.shared.bus import Publisher
from nianbao.shared.contracts import MESSAGE_TYPES, Message, utcnow
from nianbao.shared.errors import TransientError
from nianbao.shared.settings import CommonSettings
from nianbao.shared.taskrunner import record_failure

log = logging.getLogger(__name__)

_BY_TASK: dict[str, type[Message]] = {m.TASK: m for m in MESSAGE_TYPES}


def hand_on(state: CrawlState, publisher: Publisher, *, outbox_id: int, message: Message, site_id: str) -> None:
    """Publish a message whose outbox row ``outbox_id`` is committed, then mark the row published.
    Raises TransientError when the publish fails: the row stays for the next crawl task of the site."""
    _publish(publisher, message, site_id=site_id, url=getattr(message, "url", ""))
    state.mark_published(outbox_id)
    metrics.HANDOFFS.labels(site_id, "published").inc()


def publish_pending(state: CrawlState, publisher: Publisher, *, site_id: str, settings: CommonSettings) -> int:
    """Publish every unpublished outbox row of the site, oldest first; returns how many. Raises
    TransientError at the first publish that fails (the rest stay for the next try)."""
    published = 0
    for row in state.unpublished(site_id):
        message = _message_of(row, settings)
        if message is None:
            state.drop_handoff(row.id)  # recorded as a task failure: not blocking the site's crawls forever
            continue
        _publish(publisher, message, site_id=site_id, url=row.url)
        state.mark_published(row.id)
        metrics.HANDOFFS.labels(site_id, "republished").inc()
        published += 1
    if published:
        log.info("%s: %d hand-off(s) left unpublished earlier are published now", site_id, published)
    return published


def publish_stalled(
    state: CrawlState,
    publisher: Publisher,
    *,
    site_id: str,
    settings: CrawlerSettings,
    lost_before: datetime | None = None,
) -> int:
    """Publish once more every page hand-off of the site published more than ``handoff_recheck_s`` ago whose
    page has no report, oldest first; returns how many. Raises TransientError at the first publish that
    fails (that row and the rest stay for the next try). ``lost_before`` (embedded runs): instead, every
    hand-off published before that moment, by an earlier process whose in-memory queue it was lost with
    (see ``CrawlState.stalled``'s ``lost_with_process``)."""
    if lost_before is None and settings.handoff_recheck_s <= 0:
        return 0
    before = lost_before or datetime.now(UTC) - timedelta(seconds=settings.handoff_recheck_s)
    rehanded = 0
    for row in state.stalled(site_id, published_before=before, lost_with_process=lost_before is not None):
        message = _message_of(row, settings)
        if message is None:
            state.mark_rehanded(row.id)  # recorded as a task failure: not read again
            continue
        _publish(publisher, message, site_id=site_id, url=row.url)
        state.mark_rehanded(row.id)
        metrics.HANDOFFS.labels(site_id, "rehanded").inc()
        rehanded += 1
    if rehanded:
        log.warning("%s: %d page(s) handed on without a report since; handed on once more", site_id, rehanded)
    return rehanded


def _message_of(row: PendingHandoff, settings: CommonSettings) -> Message | None:
    """The message an outbox row holds, its ``sent_at`` now (the queue-age metrics measure the wait on the
    queue); None for a row this code cannot read (written by an incompatible version), recorded as a task
    failure an operator can see and re-enqueue."""
    message_cls = _BY_TASK.get(row.task)
    try:
        if message_cls is None:
            raise ValueError(f"no message type for task {row.task!r}")
        return message_cls.model_validate({**row.payload, "sent_at": utcnow()})
    except (ValidationError, ValueError) as exc:
        record_failure(settings, task=row.task, queue="crawler", reason="invalid_message",
                       error=f"outbox row {row.id}: {exc}", payload=row.payload)  # fmt: skip
        return None


def _publish(publisher: Publisher, message: Message, *, site_id: str, url: str) -> None:
    try:
        publisher.publish(message)
    except Exception as exc:  # any broker trouble: the outbox row keeps the hand-off
        metrics.HANDOFFS.labels(site_id, "failed").inc()
        raise TransientError(
            f"site {site_id}: hand-off of {url} not published ({type(exc).__name__}: {exc}); "
            "kept in the outbox for the next crawl task"
        ) from exc
