"""What every discovery strategy shares: the candidate model, the context that fetches listing pages and
judges links, and HTML helpers (link extraction, redirect shells).

A strategy walks listing pages or API pages of one start URL and *offers* every article link it sees;
the context applies the site's link patterns, host allow-list and title filters, dedupes on the
canonical URL and keeps a log that the dry run (``sitecheck``) prints.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from selectolax.lexbor import LexborHTMLParser, LexborNode

from nianbao.crawler.fetching import Page
from nianbao.crawler.siteschema import SiteConfig
from nianbao.crawler.titles import classify_title, publish_date
from nianbao.crawler.urls import absolute, canonical_url, dedupe_key, same_document

LISTING_BODY_OUTCOMES = ("ok", "unchanged", "not_modified")
_META_REFRESH = re.compile(
    r"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']?\s*\d*\s*;?\s*"""
    r"""url\s*=\s*([^"'>\s]+)""",
    re.IGNORECASE,
)
_JS_LOCATION = re.compile(r"""location(?:\.href)?(?:\.replace)?\s*(?:=|\()\s*["']([^"']+)["']""")
_DATE_TEXT = re.compile(r"(20\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


class ListingGet(Protocol):
    """How the context fetches: ``get(url, kind)`` for a GET, ``get(url, kind, form=…)`` to POST a small
    urlencoded form (``SiteFetcher.get``). The context passes ``form`` only when there is one, so a
    two-argument callable serves every strategy that only GETs."""

    def __call__(self, url: str, kind: str, /, *, form: Mapping[str, str] | None = None) -> Page: ...


@dataclass(frozen=True)
class Link:
    url: str
    title: str
    date_text: str | None = None


@dataclass(frozen=True)
class Candidate:
    """A listed link judged to be a report page."""

    url: str  # canonical URL to fetch
    original_url: str  # as listed
    title: str
    year: int | None
    published: date | None
    listed_on: str


@dataclass
class ListingVisit:
    url: str
    outcome: str
    status: int | None
    links: int = 0
    new_links: int = 0
    charset: str | None = None
    charset_source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Shortfall:
    """A listing whose own announced total was not reached: ``found`` of ``expected`` records read."""

    start_url: str
    found: int
    expected: int
    reason: str
    capped: bool = False  # stopped by the run's page cap (expected in a sampled dry run), not by the portal


@dataclass(frozen=True)
class Announcement:
    """A listing's own statement of how many records its column holds (``count``), and where that number
    was read (``source``: e.g. ``"trs createPageHTML 26 pages x 20"``, ``"hanweb totalRecord"``,
    ``"gkmlpt post_count"``)."""

    start_url: str
    count: int
    source: str
    at_least: int | None = None  # set when ``count`` is an upper bound (pages x page size): the sure minimum

    @property
    def minimum(self) -> int:
        """The fewest records that make the column complete: ``count`` when exact, else ``at_least``."""
        return self.count if self.at_least is None else self.at_least


@dataclass
class DiscoveryLog:
    visits: list[ListingVisit] = field(default_factory=list)
    announced: list[Announcement] = field(default_factory=list)  # one per start URL whose listing states a total
    incomplete: list[Shortfall] = field(default_factory=list)  # listings walked short of their total
    kept: list[Candidate] = field(default_factory=list)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (title, url, reason)
    notes: list[str] = field(default_factory=list)
    challenges: list[tuple[str, str]] = field(default_factory=list)  # (url, kind)


class DiscoveryContext:
    """Fetches listing pages through the site fetcher and judges the links strategies offer."""

    def __init__(self, site: SiteConfig, get: ListingGet, host_ok: Callable[[str], bool], *, max_pages: int) -> None:
        self.site = site
        self._get = get
        self.host_ok = host_ok
        self.max_pages = max_pages
        self.log = DiscoveryLog()
        self.last_html: str | None = None
        self._seen: set[str] = set()
        self._link_allow = [re.compile(p) for p in site.discovery.link_allow]

    def listing(self, url: str, *, note: str | None = None, form: Mapping[str, str] | None = None) -> Page:
        """Fetch one listing/API page and log the visit; with ``form``, POST it (the visit logs the URL)."""
        page = self._get(url, "listing") if form is None else self._get(url, "listing", form=form)
        visit = ListingVisit(url, page.outcome, page.status, note=note)
        if page.body is not None and page.outcome in LISTING_BODY_OUTCOMES:
            decoded = page.decoded(self.site.http.encoding)
            visit.charset, visit.charset_source = decoded.charset, decoded.source
            self.last_html = decoded.text
        if page.challenge:
            self.log.challenges.append((url, page.challenge))
        self.log.visits.append(visit)
        return page

    @staticmethod
    def usable(page: Page) -> bool:
        return page.body is not None and page.outcome in LISTING_BODY_OUTCOMES

    def offer_all(self, links: list[Link], listed_on: str) -> int:
        """Offer links; returns how many article links were not seen before (drives stop rules)."""
        new = sum(1 for link in links if self.offer(link, listed_on))
        if self.log.visits:  # counts belong to the page just visited
            self.log.visits[-1].links += sum(1 for link in links if self.is_article(link.url))
            self.log.visits[-1].new_links += new
        return new

    def is_article(self, url: str) -> bool:
        return not self._link_allow or any(p.search(url) for p in self._link_allow)

    def offer(self, link: Link, listed_on: str) -> bool:
        if not self.is_article(link.url) or not self.host_ok(link.url):
            return False
        key = dedupe_key(link.url)
        if key in self._seen:
            return False
        self._seen.add(key)
        title = " ".join(link.title.split())
        published = publish_date(link.date_text, link.url)
        if not title:
            self.log.rejected.append((title, link.url, "no_title"))
            return True
        decision = classify_title(title, self.site.filters, published=published)
        if not decision.keep:
            self.log.rejected.append((title, link.url, decision.reason))
            return True
        self.log.kept.append(Candidate(canonical_url(link.url), link.url, title, decision.year, published, listed_on))
        return True

    def seen(self, url: str) -> bool:
        return dedupe_key(url) in self._seen

    def announce(self, start_url: str, count: int, source: str, *, at_least: int | None = None) -> None:
        """Record the number of records the column at ``start_url`` says it holds. A strategy calls this
        once per start URL, as soon as it has read the total (a second call for the same URL replaces the
        first: the later page may state it more precisely). When the portal states only a page count,
        ``count`` is pages x page size and ``at_least`` is (pages - 1) x page size + 1."""
        self.log.announced = [a for a in self.log.announced if a.start_url != start_url]
        floor = None if at_least is None else max(0, min(at_least, count))
        self.log.announced.append(Announcement(start_url, max(0, count), source, floor))

    def announce_pages(self, start_url: str, pages: int, size: int, source: str) -> None:
        """Announce a column the portal describes only by its page count: ``pages`` x ``size`` records at
        most (the last page may be short), at least ``(pages - 1) x size + 1``. One page of ``size``
        records is exact."""
        if pages <= 0 or size <= 0:
            return
        label = f"{source} {pages} page(s) x {size}"
        if pages == 1:
            self.announce(start_url, size, label)
        else:
            self.announce(start_url, pages * size, label, at_least=(pages - 1) * size + 1)

    def announcement(self, start_url: str) -> Announcement | None:
        return next((a for a in self.log.announced if a.start_url == start_url), None)

    def settle(self, start_url: str, found: int, *, stop: str = "", capped: bool = False) -> Shortfall | None:
        """Close the walk of ``start_url`` that saw ``found`` distinct article links: when that is fewer than
        its announcement promises (the exact count, or the sure minimum of an upper bound), record a
        :class:`Shortfall` (``capped``: the run's page cap ended the walk) and a note, and return it. A
        walk stopped by the page cap is noted even when nothing was announced."""
        if capped:
            self.log.notes.append(f"{start_url}: stopped at the page cap ({self.max_pages}) after {found} link(s)")
        announced = self.announcement(start_url)
        if announced is None or found >= announced.minimum:
            if announced is not None:
                self.log.notes.append(f"{start_url}: found {found} of {announced.count} announced ({announced.source})")
            return None
        reason = stop or "the listing ended before its announced total"
        short = Shortfall(start_url, found, announced.minimum, reason, capped=capped)
        self.log.incomplete.append(short)
        bound = "" if announced.at_least is None else f" (at least {announced.at_least} of up to {announced.count})"
        self.log.notes.append(f"incomplete: found {found} of {announced.minimum}{bound} announced ({reason})")
        return short

    @property
    def announced_total(self) -> int | None:
        """Sum of the announced totals, or None when no listing of the site states one."""
        return sum(a.count for a in self.log.announced) if self.log.announced else None

    @property
    def found(self) -> int:
        """Distinct article links seen so far (report-titled or not): what ``announced`` is compared with."""
        return len(self._seen)


def html_links(html: str, base_url: str) -> list[Link]:
    """Every ``<a href>`` with its title (``title`` attribute first: inner text carries debris on some
    portals) and the text of its row, where listings put the date."""
    tree = LexborHTMLParser(html)
    links: list[Link] = []
    for anchor in tree.css("a[href]"):
        url = absolute(base_url, anchor.attributes.get("href") or "")
        if url is None:
            continue
        title = (anchor.attributes.get("title") or "").strip() or anchor.text(strip=True)
        links.append(Link(url, title, _row_date(anchor)))
    return links


def _row_date(anchor: LexborNode) -> str | None:
    node: LexborNode | None = anchor
    for _ in range(3):
        if node is None:
            break
        text = _short_text(node)
        if text is None:
            break
        match = _DATE_TEXT.search(text)
        if match:
            return match.group(0)
        node = node.parent
    return None


ROW_TEXT_CHARS = 600  # a listing row's text is short; a longer one is the whole list, not a row
ROW_NODES = 60


def _short_text(node: LexborNode) -> str | None:
    """The text of ``node`` when it is a row's worth (at most ``ROW_TEXT_CHARS`` characters in at most
    ``ROW_NODES`` nodes), else None. Stops reading as soon as it is more, so that asking it for every link of
    a page whose links share one huge parent stays linear."""
    parts: list[str] = []
    size = visited = 0
    stack = [node.iter(include_text=True)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        visited += 1
        if visited > ROW_NODES:
            return None
        if child.tag == "-text":
            text = child.text_content or ""
            size += len(text)
            if size > ROW_TEXT_CHARS:
                return None
            parts.append(text)
        elif child.tag not in ("-comment", "script", "style"):
            stack.append(child.iter(include_text=True))
    return "".join(parts)


def shell_target(html: str, base_url: str) -> str | None:
    """Where a meta-refresh or tiny ``location.replace`` shell sends the reader, if anywhere."""
    match = _META_REFRESH.search(html[:4096])
    if match is None and len(html) < 2048:
        match = _JS_LOCATION.search(html)
    if match is None:
        return None
    return absolute(base_url, match.group(1))


def refreshes_to(html: str, page_url: str, first_url: str) -> bool:
    """True when a listing page redirects back to itself or the first page (past-the-end marker)."""
    target = shell_target(html, page_url)
    return target is not None and (same_document(target, page_url) or same_document(target, first_url))
