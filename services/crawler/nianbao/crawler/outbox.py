"""Hand-offs through the outbox: a message is published after the commit that recorded it, and every one
left unpublished (a publish that raised, a worker killed between commit and publish) is published again
at the start of the site's next crawl task.

A hand-off may so be published twice (killed after the publish, before marking it); the parser and the
validator are idempotent (unique keys and upserts). It is never lost while its row is in the database.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from nianbao.crawler import metrics
from nianbao.crawler.state import CrawlState
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
        message_cls = _BY_TASK.get(row.task)
        try:
            if message_cls is None:
                raise ValueError(f"no message type for task {row.task!r}")
            # sent_at is when it goes on the queue now (the queue-age metrics measure the wait there).
            message = message_cls.model_validate({**row.payload, "sent_at": utcnow()})
        except (ValidationError, ValueError) as exc:
            # A row this code cannot read (written by an incompatible version): kept as a task failure
            # an operator can see and re-enqueue, instead of blocking the site's crawls forever.
            record_failure(settings, task=row.task, queue="crawler", reason="invalid_message",
                           error=f"outbox row {row.id}: {exc}", payload=row.payload)  # fmt: skip
            state.drop_handoff(row.id)
            continue
        _publish(publisher, message, site_id=site_id, url=row.url)
        state.mark_published(row.id)
        metrics.HANDOFFS.labels(site_id, "republished").inc()
        published += 1
    if published:
        log.info("%s: %d hand-off(s) left unpublished earlier are published now", site_id, published)
    return published


def _publish(publisher: Publisher, message: Message, *, site_id: str, url: str) -> None:
    try:
        publisher.publish(message)
    except Exception as exc:  # any broker trouble: the outbox row keeps the hand-off
        metrics.HANDOFFS.labels(site_id, "failed").inc()
        raise TransientError(
            f"site {site_id}: hand-off of {url} not published ({type(exc).__name__}: {exc}); "
            "kept in the outbox for the next crawl task"
        ) from exc
