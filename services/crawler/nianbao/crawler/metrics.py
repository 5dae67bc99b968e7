"""Crawler metrics, declared once; the only module that imports prometheus_client.

Labels are bounded: ``site`` is a site id from sites.yaml, ``family`` one of the family names, and
``kind``/``outcome``/``status_class``/``challenge`` come from fixed vocabularies in this package. URLs and
hosts are never labels.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "nianbao_crawler_requests_total",
    "HTTP requests by site, request kind (listing|page|robots|attachment), outcome and status class.",
    ["site", "kind", "outcome", "status_class"],
)
RESPONSE_BYTES = Counter(
    "nianbao_crawler_response_bytes_total",
    "Decompressed response body bytes received, by site and request kind.",
    ["site", "kind"],
)
REQUEST_SECONDS = Histogram(
    "nianbao_crawler_request_seconds",
    "Wall time of one HTTP exchange including redirects and body, by request kind.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120),
)
NOT_MODIFIED = Counter("nianbao_crawler_not_modified_total", "Conditional GETs answered 304, by site.", ["site"])
ROBOTS_DENIALS = Counter(
    "nianbao_crawler_robots_denials_total",
    "URLs not fetched because of robots.txt (reason: rules | unavailable), by site.",
    ["site", "reason"],
)
BACKOFFS = Counter(
    "nianbao_crawler_backoffs_total",
    "Times a host was backed off after push-back, by site and status class.",
    ["site", "status_class"],
)
CHALLENGES = Counter(
    "nianbao_crawler_challenges_total",
    "Anti-bot challenge pages met, by site and challenge kind.",
    ["site", "challenge"],
)
REPORTS = Counter(
    "nianbao_crawler_reports_total",
    "Report pages by site, family and state (discovered | new | changed; changed also counts a page that is "
    "the same but whose attachments are new or changed).",
    ["site", "family", "state"],
)
LAST_SUCCESS = Gauge(
    "nianbao_crawler_last_success_timestamp_seconds",
    "Unix time of the last crawl of a site that reached its listing.",
    ["site"],
    multiprocess_mode="max",
)
TASKS = Counter(
    "nianbao_crawler_tasks_total",
    "Crawler task runs (crawl_site and continue_crawl) by outcome.",
    ["outcome"],
)
HANDOFFS = Counter(
    "nianbao_crawler_handoffs_total",
    "PageFetched hand-offs by site and outcome: published (right after the commit that recorded it), "
    "republished (an earlier one left unpublished, sent at the start of a crawl task), rehanded (one "
    "published more than handoff_recheck_s ago whose page has no report of its bytes, sent once more), failed (the "
    "publish raised; the outbox keeps it for the next crawl task).",
    ["site", "outcome"],
)
CHECKPOINTS = Counter(
    "nianbao_crawler_checkpoint_events_total",
    "Crawl-run checkpoint events by site: resumed (a crawl_site delivery found its run started by an "
    "earlier delivery, redelivered after its worker died or retried, and continued it), continued (a slice "
    "ended and handed the rest of its run to a continue_crawl task).",
    ["site", "event"],
)
HANDOFF_OUTCOMES = ("published", "republished", "rehanded", "failed")
CHECKPOINT_EVENTS = ("resumed", "continued")


def status_class(status: int | None) -> str:
    return f"{status // 100}xx" if status else "none"


LISTING_INCOMPLETE = Counter(
    "nianbao_crawler_listing_incomplete_total",
    "Listings walked short of the total they announce (a proxy/API page failed, or pages came back short), "
    "by site and family.",
    ["site", "family"],
)

# Discovery of a site's last crawl (set when its discovery ends; ``mostrecent`` across the worker's
# processes). Several crawler replicas each hold their own last value: rules pick the replica with the
# newest ``nianbao_crawler_discovery_timestamp_seconds``.
DISCOVERY_ANNOUNCED = Gauge(
    "nianbao_crawler_discovery_announced",
    "Records the site's columns announce in its last crawl (sum of the sure minimums); NaN when none states a total.",
    ["site"],
    multiprocess_mode="mostrecent",
)
DISCOVERY_FOUND = Gauge(
    "nianbao_crawler_discovery_found",
    "Distinct article links found by the site's last crawl (report-titled or not).",
    ["site"],
    multiprocess_mode="mostrecent",
)
DISCOVERY_KEPT = Gauge(
    "nianbao_crawler_discovery_kept",
    "Of those, report candidates kept by the title filters, in the site's last crawl.",
    ["site"],
    multiprocess_mode="mostrecent",
)
DISCOVERY_COMPLETE = Gauge(
    "nianbao_crawler_discovery_complete",
    "1 when the site's last crawl found every record announced (verdict complete) or nothing could be compared "
    "(unknown); 0 when it was incomplete, blocked or empty.",
    ["site"],
    multiprocess_mode="mostrecent",
)
DISCOVERY_TIMESTAMP = Gauge(
    "nianbao_crawler_discovery_timestamp_seconds",
    "Unix time the site's last crawl ended its discovery (the other discovery gauges are that crawl's).",
    ["site"],
    multiprocess_mode="mostrecent",
)


REGISTRY_OK = Gauge(
    "nianbao_crawler_sites_registry_ok",
    "1 when the last load of the site registry (NIANBAO_SITES_FILE) succeeded; 0 when it failed and the last "
    "good registry (if any) is still in use.",
    multiprocess_mode="livemostrecent",
)
REGISTRY_RELOADS = Counter(
    "nianbao_crawler_sites_registry_reloads_total",
    "Loads of the site registry after a change of the file or a SIGHUP, by outcome (ok | error).",
    ["outcome"],
)
REGISTRY_RELOAD_OUTCOMES = ("ok", "error")


NOT_A_REPORT = Counter(
    "nianbao_crawler_not_a_report_total",
    "Fetched candidate pages judged not to be reports (interpretations, notices, graphics, prose without the "
    "report's tables or section structure; see reportness.py): recorded, never handed on. By site.",
    ["site"],
)
