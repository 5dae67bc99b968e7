"""Create, at 0, every counter series a dashboard panel or an alert reads, when a worker starts.

Prometheus' ``rate()``/``increase()`` need two samples of a series: a series born at its first increment
hides that increment, so the first failure after a deploy would never show. And a panel or an alert over
a metric with no series at all says "No data" instead of 0. So each worker creates, before its first task:

- every service: ``*_tasks_total`` for each task outcome;
- crawler: per configured site (the site registry, ``NIANBAO_SITES_FILE``) the request, byte, 304,
  robots, back-off, challenge and report counters for their fixed vocabularies; the request histogram per
  request kind;
- parser: parse outcomes by generation, documents by format and outcome, warnings by catalogued code;
- validator: validations by generation and outcome, findings by catalogued rule, its severity and status.

Gauges are not zeroed: 0 is a lie for them (``nianbao_crawler_last_success_timestamp_seconds`` at 0 would
fire NianbaoSiteStale; ``nianbao_validator_reports_with_errors`` is ``mostrecent`` across processes, so
a 0 written at start would hide a real count until the next validation; the ``nianbao_crawler_discovery_*``
gauges describe a site's last crawl, and ``..._complete`` at 0 would fire NianbaoDiscoveryIncomplete). They
are exempted, by name, in ``tests/app/test_metric_zeros.py``.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, get_args

log = logging.getLogger(__name__)

# Vocabularies of the label values. Those a service module exports are imported; the crawler's request
# kinds and challenge kinds are documented in fetching.py/challenge.py and repeated here.
REQUEST_KINDS = ("listing", "page", "robots", "attachment")
CHALLENGE_KINDS = ("jiasule", "ruishu", "edgeone", "wzws", "js_cookie")
REPORT_STATES = ("discovered", "new", "changed")
ROBOTS_REASONS = ("rules", "unavailable")
BACKOFF_CLASSES = ("4xx", "5xx", "none")
# (outcome, status class) of requests zeroed per site and kind: the success the denominators count and the
# common failures NianbaoCrawlErrors counts.
REQUEST_OUTCOMES = (("ok", "2xx"), ("network_error", "none"), ("server_error", "5xx"), ("challenge", "4xx"))
PARSE_OUTCOMES = ("clean", "warnings", "unusable", "blob_missing")
VALIDATION_OUTCOMES = ("clean", "failing")


def zero_metrics(service: str, settings: Any) -> None:
    """Create the series of ``service`` at 0 (call after multiprocess mode is set up, before tasks run)."""
    from nianbao.shared.taskrunner import OUTCOMES

    metrics = importlib.import_module(f"nianbao.{service}.metrics")
    for outcome in OUTCOMES:
        metrics.TASKS.labels(outcome)
    if service == "crawler":
        _zero_crawler(metrics, _sites(settings))
    elif service == "parser":
        _zero_parser(metrics)
    elif service == "validator":
        _zero_validator(metrics)


def _sites(settings: Any) -> list[tuple[str, str]]:
    """(id, family) of every configured site; none when the registry cannot be read (the crawl task
    reports that itself, the worker still starts)."""
    from nianbao.crawler.sites import SiteConfigError, load_sites

    path = getattr(settings, "sites_file", None)
    if path is None:
        return []
    try:
        return [(s.id, s.family) for s in load_sites(path).sites]
    except (OSError, SiteConfigError) as exc:
        log.warning("metrics not zeroed per site: site registry %s unreadable: %s", path, str(exc)[:300])
        return []


def _zero_crawler(m: Any, sites: list[tuple[str, str]]) -> None:
    for kind in REQUEST_KINDS:
        m.REQUEST_SECONDS.labels(kind)
    for site, family in sites:
        m.NOT_MODIFIED.labels(site)
        for kind in REQUEST_KINDS:
            m.RESPONSE_BYTES.labels(site, kind)
            for outcome, status_class in REQUEST_OUTCOMES:
                m.REQUESTS.labels(site, kind, outcome, status_class)
        for reason in ROBOTS_REASONS:
            m.ROBOTS_DENIALS.labels(site, reason)
        for status_class in BACKOFF_CLASSES:
            m.BACKOFFS.labels(site, status_class)
        for challenge in CHALLENGE_KINDS:
            m.CHALLENGES.labels(site, challenge)
        for state in REPORT_STATES:
            m.REPORTS.labels(site, family, state)


def _zero_parser(m: Any) -> None:
    from nianbao.parser.warning_codes import OTHER, WARNING_CODES
    from nianbao.shared.record import Generation

    for generation in (*get_args(Generation), "unknown"):
        for outcome in PARSE_OUTCOMES:
            m.REPORTS_PARSED.labels(generation, outcome)
    from nianbao.parser.formats import Format
    from nianbao.parser.merge import DOCUMENT_OUTCOMES

    for fmt in get_args(Format):
        for outcome in DOCUMENT_OUTCOMES:
            m.DOCUMENTS.labels(fmt, outcome)
    for code in (*WARNING_CODES, OTHER):
        m.WARNINGS.labels(code)


def _zero_validator(m: Any) -> None:
    from nianbao.shared.record import FindingStatus, Generation
    from nianbao.validator.rules.catalogue import CATALOGUE

    for generation in (*get_args(Generation), "unknown"):
        for outcome in VALIDATION_OUTCOMES:
            m.REPORTS_VALIDATED.labels(generation, outcome)
    for spec in CATALOGUE:
        for status in get_args(FindingStatus):
            m.FINDINGS.labels(spec.id, spec.severity, status)
    for outcome in m.BATCH_OUTCOMES:
        m.BATCHES.labels(outcome)
