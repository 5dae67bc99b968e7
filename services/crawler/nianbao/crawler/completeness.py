"""Did a crawl's discovery find every record its columns announce? A pure judgement of one discovery log.

Verdicts (the ``crawl_run.verdict`` vocabulary, see :class:`nianbao.shared.models.CrawlRun`), first match wins:

* ``blocked``: no listing page could be read (challenge, robots.txt, HTTP error, refused, network); the
  reason names what stopped the first page.
* ``incomplete``: fewer distinct article links were found than the sum of the announced minimums; or a
  listing/proxy/API page failed after another was read (HTTP error, 5xx, network, challenge, robots,
  back-off); or a strategy recorded a listing short of its own total for a reason other than the run's
  page cap. Two failures are not faults: a page-2 *probe* (a TRS walk tries ``index_1`` and ``index_2``)
  and a 404/410 when the announced total was reached anyway (a walk that ran one page past the end).
* ``empty``: listing pages were read but held no article link at all.
* ``complete``: every start URL's listing announced a total, and at least the sum of their minimums was
  found (an :class:`~nianbao.crawler.discovery.base.Announcement` stated as pages x page size counts its
  sure minimum, (pages - 1) x size + 1).
* ``unknown``: nothing failed, but no total (or a total for only some columns) was announced, so found
  cannot be compared; or a *sampled* run (``sites check`` reads two listing pages) stopped at its page
  cap before reaching the total.

``announced`` is the sum of the minimums (what ``found`` must reach), ``announced_max`` the sum of the stated
counts; they differ only for page-count announcements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from nianbao.crawler.discovery.base import LISTING_BODY_OUTCOMES, DiscoveryLog, ListingVisit

Kind = Literal["complete", "incomplete", "unknown", "blocked", "empty"]
VERDICTS: tuple[Kind, ...] = ("complete", "incomplete", "unknown", "blocked", "empty")
GOOD: frozenset[str] = frozenset({"complete", "unknown"})  # verdicts that make a crawl or a check pass
END_STATUSES = (404, 410)  # a missing page: a fault only while the announced total is not reached
PAGE_CAP_NOTE = "page cap"  # listing.py notes "stopped at the page cap (N)"
TEXT_LIMIT = 1000  # a stored shortfall's URL and reason: a portal's odd URL must not bloat crawl_run


@dataclass(frozen=True)
class Verdict:
    """The judgement of one discovery: ``kind`` and the numbers behind it. ``reason`` says why a crawl is
    blocked or incomplete (the failing page, or the strategy's own words), or what a sample left out."""

    kind: Kind
    found: int
    kept: int
    announced: int | None = None  # sum of announced minimums; None when no listing states a total
    announced_max: int | None = None
    columns_announcing: int = 0
    columns: int = 0
    reason: str = ""
    shortfalls: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.kind in GOOD

    @property
    def announced_text(self) -> str:
        return announced_text(self.announced, self.announced_max)

    def __str__(self) -> str:
        if self.kind == "blocked":
            return f"blocked ({self.reason})"
        if self.kind == "empty":
            return f"empty ({self.reason})"
        if self.kind == "complete":
            return f"complete (found {self.found} of {self.announced_text})"
        if self.kind == "incomplete":
            counted = f"found {self.found} of {self.announced_text}" if self.announced is not None else ""
            return f"incomplete ({'; '.join(part for part in (counted, self.reason) if part)})"
        return f"unknown ({self.reason})"


def announced_text(announced: int | None, announced_max: int | None) -> str:
    """``nothing announced``, ``13 announced`` or, for a page-count statement, ``9–12 announced`` (the sure
    minimum and the stated maximum)."""
    if announced is None:
        return "nothing announced"
    if announced_max is not None and announced_max != announced:
        return f"{announced}–{announced_max} announced"
    return f"{announced} announced"


def judge(log: DiscoveryLog, *, found: int, columns: int, sampled: bool = False) -> Verdict:
    """Judge one discovery. ``found``: distinct article links seen (``DiscoveryContext.found``);
    ``columns``: the site's start URLs (a total must be announced for each to call the crawl complete);
    ``sampled``: a run capped on purpose (the dry run), whose stop at the page cap is not a fault."""
    kept = len(log.kept)
    announced = sum(a.minimum for a in log.announced) if log.announced else None
    announced_max = sum(a.count for a in log.announced) if log.announced else None
    shortfalls = tuple(
        {
            "start_url": s.start_url[:TEXT_LIMIT],
            "found": s.found,
            "expected": s.expected,
            "reason": s.reason[:TEXT_LIMIT],
            "capped": s.capped,
        }
        for s in log.incomplete
    )
    numbers: dict[str, Any] = {
        "found": found,
        "kept": kept,
        "announced": announced,
        "announced_max": announced_max,
        "columns_announcing": len({a.start_url for a in log.announced}),
        "columns": columns,
        "shortfalls": shortfalls,
    }
    read = [v for v in log.visits if v.outcome in LISTING_BODY_OUTCOMES]
    if not read:
        return Verdict("blocked", reason=_blocked_reason(log), **numbers)
    reached = announced is not None and found >= announced
    failures = [v for v in log.visits if _is_failure(v, reached=reached)]
    capped = any(s.capped for s in log.incomplete) or any(PAGE_CAP_NOTE in note for note in log.notes)
    short = [s for s in log.incomplete if not s.capped]
    reasons = [f"{s.reason} at {s.start_url}" for s in short] + [f"{describe(v)} at {v.url}" for v in failures[:3]]
    if len(failures) > 3:
        reasons.append(f"{len(failures) - 3} more failed listing page(s)")
    if short or failures:
        return Verdict("incomplete", reason="; ".join(reasons), **numbers)
    if announced is not None and not reached:
        if sampled and capped:
            why = f"sampled {len(read)} listing page(s): found {found} of {announced} announced, none failed"
            return Verdict("unknown", reason=why, **numbers)
        return Verdict("incomplete", **numbers)
    if found == 0:
        return Verdict("empty", reason=f"{len(read)} listing page(s) read, no article link", **numbers)
    if announced is not None and numbers["columns_announcing"] >= columns:
        return Verdict("complete", **numbers)
    if announced is not None:
        why = f"{numbers['columns_announcing']} of {columns} column(s) announce {announced}; found {found} in all"
        return Verdict("unknown", reason=why, **numbers)
    return Verdict("unknown", reason=f"no total announced; found {found}", **numbers)


def _is_failure(visit: ListingVisit, *, reached: bool) -> bool:
    if visit.outcome in LISTING_BODY_OUTCOMES:
        return False
    if (visit.note or "").startswith("probe"):
        return False  # a page-2 probe that missed: how a TRS walk finds its numbering
    return not (reached and visit.status in END_STATUSES)


def describe(visit: ListingVisit) -> str:
    """``http_error (HTTP 404)``, ``network_error``…: how one listing fetch ended."""
    return f"{visit.outcome} (HTTP {visit.status})" if visit.status else visit.outcome


def _blocked_reason(log: DiscoveryLog) -> str:
    if log.challenges:
        url, kind = log.challenges[0]
        return f"anti-bot challenge {kind} at {url}"
    if not log.visits:
        return "no listing page was fetched"
    first = log.visits[0]
    if first.outcome in ("robots_denied", "robots_unavailable"):
        return f"robots.txt: {first.outcome} at {first.url}"
    return f"{describe(first)} at {first.url}"
