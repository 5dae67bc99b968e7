"""HTML listing pagination: TRS ``createPageHTML`` templates (and gov.cn ``home_N.htm`` pagers), "下一页"
next links (VSB, generic portals), and auto mode.

Pagination lies often enough that every walk checks each page: it stops on a meta refresh back to the
first page, a page identical to an earlier one, a page without new article links (deep stub pages), the
page count announced by the script, or the per-run page cap. A page that fails (500, 404…) ends a
next-link walk (its next link is on that page); a template walk whose last page is known steps over it
and goes on (three failures in a row end it).

What the column announces is read from its first page and recorded with ``ctx.announce``: a record count
the page states (``createPageHTML``'s sixth argument, "共N条") is exact; a page count
(``createPageHTML(pages, …)``, "共N页", "1/N", a "尾页" link, a VSB next link) times the number of article
links on the first page is an upper bound whose sure minimum is (pages - 1) x size + 1. At the end of the
walk ``ctx.settle`` compares what was found with it and records a shortfall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from nianbao.crawler.discovery.base import (
    LISTING_BODY_OUTCOMES,
    DiscoveryContext,
    Link,
    ListingVisit,
    html_links,
    refreshes_to,
    shell_target,
)
from nianbao.crawler.fetching import Page
from nianbao.crawler.urls import same_document

# createPageHTML(26, 0, "index", "html") / createPage(26, 0, 'index', 'html') and the gov.cn-style
# createPageHTML('page_div', 26, 0, 'home', 'htm', 516) whose last argument is the record count.
_CREATE_PAGE = re.compile(
    r"""createPage(?:HTML)?\s*\(\s*(?:["'][\w-]*["']\s*,\s*)?(\d+)\s*,\s*(\d+)\s*"""
    r"""(?:,\s*["'](\w+)["']\s*,\s*["'](\w+)["'](?:\s*,\s*["']?(\d+))?)?"""
)
_TOTAL = re.compile(r"(?:totalPage|pageCount|countPage)\s*[=:]\s*['\"]?(\d+)")
_RECORDS_TEXT = re.compile(r"共\s*(\d{1,7})\s*条")
_PAGES_TEXT = re.compile(
    r"共\s*(\d{1,6})\s*页|第?\s*1\s*/\s*(\d{1,6})\s*页|^[ \t]*1\s*/\s*(\d{1,6})[ \t]*$", re.MULTILINE
)
LAST_WORDS = ("尾页", "末页", "最后一页", "尾頁")
SHELL_HOPS = 3
MAX_FAILED = 3  # failed pages in a row that end a template walk whose last page is known


@dataclass(frozen=True)
class Template:
    directory: str  # URL of the column directory, ending in "/"
    prefix: str
    ext: str
    total: int | None  # pages including the first, when the page announces it
    records: int | None = None  # records, when the page script states them
    source: str = "createPageHTML"

    def url(self, n: int) -> str:
        return urljoin(self.directory, f"{self.prefix}_{n}.{self.ext}")


def open_start(ctx: DiscoveryContext, url: str) -> tuple[Page, str] | None:
    """Fetch a start URL, following up to three meta-refresh/``location`` shells to the real list."""
    current = url
    for _ in range(SHELL_HOPS + 1):
        page = ctx.listing(current)
        if not ctx.usable(page):
            return None
        base = page.final_url or current
        target = shell_target(page.text(ctx.site.http.encoding), base)
        if target is None or same_document(target, base) or not ctx.host_ok(target):
            return page, base
        ctx.log.notes.append(f"{base} is a redirect shell to {target}")
        current = target
    return None


def _directory(base: str) -> str:
    return base if base.endswith("/") else base.rsplit("/", 1)[0] + "/"


def _stem(base: str) -> str:
    name = urlsplit(base).path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else "index"


def template_of(html: str, base: str) -> Template | None:
    """The ``<prefix>_<n>.<ext>`` shape of the column's pages: from the page script, else from the pager's
    links (``home_1.htm`` … next to ``home.htm``, the "尾页" link giving the page count)."""
    directory = _directory(base)
    match = _CREATE_PAGE.search(html)
    if match:
        prefix = match.group(3) or "index"
        ext = match.group(4) or _ext(base)
        records = int(match.group(5)) if match.group(5) else None
        return Template(directory, prefix, ext, int(match.group(1)), records)
    total = _TOTAL.search(html)
    if total:
        return Template(directory, "index", _ext(base), int(total.group(1)), source="page script")
    return _template_from_links(html, base)


def _template_from_links(html: str, base: str) -> Template | None:
    directory, stem, ext = _directory(base), _stem(base), _ext(base)
    pattern = re.compile(re.escape(stem) + r"_(\d+)\." + re.escape(ext) + r"(?:$|[?#])")
    numbers: set[int] = set()
    last: int | None = None
    for link in html_links(html, directory):
        if not link.url.startswith(directory) or not (m := pattern.search(link.url)):
            continue
        numbers.add(int(m.group(1)))
        if link.title.strip() in LAST_WORDS:
            last = int(m.group(1))
    if not numbers:
        return None
    first = min(numbers)
    pages = last - first + 2 if last is not None and first in (1, 2) and last >= first else None
    return Template(directory, stem, ext, pages, source="pager links")


def _ext(url: str) -> str:
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1] if "." in name else "html"


def pager_text(html: str) -> str:
    """The page's text outside links, one text node a line: where pagers state "共N条" / "共N页" / "1/N"
    (link text, such as a report title, never counts). Parsed, not matched: a regular expression over
    unclosed ``<a>`` tags would take quadratic time."""
    tree = LexborHTMLParser(html)
    tree.strip_tags(["a"])
    node = tree.body or tree.root
    return node.text(separator="\n") if node is not None else ""


def stated_records(html: str) -> int | None:
    match = _RECORDS_TEXT.search(pager_text(html))
    return int(match.group(1)) if match else None


def stated_pages(html: str) -> int | None:
    match = _PAGES_TEXT.search(pager_text(html))
    return int(next(g for g in match.groups() if g)) if match else None


def walk_listing(ctx: DiscoveryContext, start_url: str) -> tuple[str, str] | None:
    """Walk one HTML listing from ``start_url`` with the site's pagination mode; returns the first
    page's (text, URL) for callers that look for sub-columns, None if it could not be read."""
    opened = open_start(ctx, start_url)
    if opened is None:
        return None
    first, base = opened
    walk_opened(ctx, start_url, first, base)
    return first.text(ctx.site.http.encoding), base


def walk_opened(ctx: DiscoveryContext, start_url: str, first: Page, base: str) -> None:
    """Walk the listing whose first page (reached from ``start_url``) is ``first`` at ``base``: offer its
    links, announce what it states, page on, and settle found against announced."""
    before = ctx.found
    html = first.text(ctx.site.http.encoding)
    size = ctx.offer_all(html_links(html, base), base)
    mode = ctx.site.discovery.pagination
    template = template_of(html, base) if mode in ("template", "auto") else None
    if template is None and mode == "template":
        template = Template(_directory(base), "index", _ext(base), None, source="configured")
    next_url = _next_link(ctx, html, base, {base}) if template is None and mode in ("next_link", "auto") else None
    by_pages = _announce(ctx, start_url, html, base, size, template, next_url)
    walked_from = len(ctx.log.visits)
    stop, capped = "", False
    if template is not None:
        stop, capped = walk_template(ctx, first, base, template)
    elif mode in ("next_link", "auto"):
        stop, capped = walk_next_links(ctx, html, base)
    if by_pages is not None:
        _resize(ctx, start_url, by_pages, size, ctx.log.visits[walked_from:])
    ctx.settle(start_url, ctx.found - before, stop=stop, capped=capped)


def _resize(
    ctx: DiscoveryContext, start_url: str, by_pages: tuple[int, str], size: int, walk: list[ListingVisit]
) -> None:
    """A page-count announcement's page size, taken again from page 2 when that is smaller: links a column
    repeats on every page (a sidebar of recent articles) are new on page 1 only, so page 2 counts the list
    alone. Needs three pages or more (page 2 then is full), and page 2 showing page 1's extra links again
    (a page 2 that is merely short says nothing about the page size)."""
    pages, source = by_pages
    second = next((v for v in walk if v.outcome in LISTING_BODY_OUTCOMES), None)
    if second is None or pages < 3 or not 0 < second.new_links < size:
        return
    if second.links - second.new_links >= size - second.new_links:  # the difference is links shown again
        ctx.log.notes.append(f"page size {second.new_links} from page 2 ({size} new links on page 1)")
        ctx.announce_pages(start_url, pages, second.new_links, source)


def _announce(
    ctx: DiscoveryContext, start_url: str, html: str, base: str, size: int, template: Template | None, nxt: str | None
) -> tuple[int, str] | None:
    """Record what the first page says the column holds (see the module docstring); returns (pages,
    source) when that is a page count, whose page size may be corrected after page 2."""
    records = stated_records(html)
    found: tuple[int, str] | None = None
    if template is not None and template.records is not None:
        ctx.announce(start_url, template.records, f"{template.source} records")
    elif records is not None:
        ctx.announce(start_url, records, "pager 共N条")
    elif template is not None and template.total is not None:
        found = template.total, template.source
    elif (pages := stated_pages(html)) is not None:
        found = pages, "pager"
    elif nxt is not None and (pages := _vsb_pages(base, nxt)) is not None:
        found = pages, "vsb pager"
    if found is not None:
        ctx.announce_pages(start_url, found[0], size, found[1])
    return found


def _vsb_pages(base: str, nxt: str) -> int | None:
    """VSB numbers its pages backwards: after ``list.htm`` come ``list/<pages-1>.htm`` … ``list/1.htm``, so
    the first page's next link tells the page count."""
    column = base.rsplit(".", 1)[0] + "/"
    tail = nxt[len(column) :] if nxt.startswith(column) else ""
    match = re.fullmatch(r"(\d+)\.s?html?", tail)
    return int(match.group(1)) + 1 if match else None


def _page2_from_links(html: str, template: Template) -> int | None:
    pattern = re.compile(re.escape(template.prefix) + r"_(\d+)\." + re.escape(template.ext) + r"(?:$|[?#])")
    numbers = sorted(
        {
            int(m.group(1))
            for link in html_links(html, template.directory)
            if (m := pattern.search(link.url)) and link.url.startswith(template.directory)
        }
    )
    return numbers[0] if numbers and numbers[0] in (1, 2) else None


def walk_template(ctx: DiscoveryContext, first: Page, base: str, template: Template) -> tuple[str, bool]:
    """``index.html``, then ``index_<k>.html`` from the detected page-2 number on. Returns why the walk
    stopped short ("" when it ended normally) and whether the page cap stopped it."""
    html = first.text(ctx.site.http.encoding)
    hashes = {first.content_sha256}
    failed: list[str] = []
    configured = ctx.site.discovery.page2_index
    start: int | None = configured if configured != "auto" else _page2_from_links(html, template)
    next_n: int
    if start is not None:
        ctx.log.notes.append(
            f"page 2 is {template.prefix}_{start}.{template.ext} "
            f"({'configured' if configured != 'auto' else 'from a page link'})"
        )
        next_n = start
    else:
        if template.total is not None and template.total <= 1:
            ctx.log.notes.append("single page (page count 1)")
            return "", False
        for probe in (1, 2):
            outcome = _visit(ctx, template.url(probe), base, hashes, note=f"probe page 2 = index_{probe}")
            if outcome == "continue":
                start = probe
                break
            if probe == 1 and "(HTTP 5" in outcome and template.total is not None and template.total > 2:
                # index_1 is there but failed (a missing one answers 404): page 2 is index_1, step over it
                start = 1
                failed.append(f"{template.url(probe)} {outcome}")
                ctx.log.notes.append(f"skipped {template.url(probe)}: {outcome}")
                break
        if start is None:
            stop = "no second page found (probed index_1 and index_2)"
            ctx.log.notes.append(stop)
            return stop, False
        ctx.log.notes.append(f"page 2 is {template.prefix}_{start}.{template.ext} (probed)")
        next_n = start + 1
    last = None if template.total is None else template.total - 2 + start
    pages = 1 + (next_n - start)
    in_a_row = len(failed)
    while last is None or next_n <= last:
        if pages >= ctx.max_pages:
            stop = f"stopped at the page cap ({ctx.max_pages})"
            ctx.log.notes.append(stop)
            return _with_failed(stop, failed), True
        url = template.url(next_n)
        outcome = _visit(ctx, url, base, hashes)
        pages += 1
        if outcome.startswith("failed:") and last is not None and next_n < last and in_a_row + 1 < MAX_FAILED:
            # the script says more pages follow: step over this one (it is counted as missing)
            in_a_row += 1
            failed.append(f"{url} {outcome}")
            ctx.log.notes.append(f"skipped {url}: {outcome}")
            next_n += 1
            continue
        if outcome != "continue":
            stop = f"stopped at {url}: {outcome}"
            ctx.log.notes.append(stop)
            return _with_failed(stop, failed), False
        in_a_row = 0
        next_n += 1
    ctx.log.notes.append(f"walked all {template.total} pages announced by the page script")
    return _with_failed("", failed), False


def _with_failed(stop: str, failed: list[str]) -> str:
    if not failed:
        return stop
    skipped = f"{len(failed)} page(s) failed: " + "; ".join(failed[:3]) + ("; …" if len(failed) > 3 else "")
    return f"{skipped}; {stop}" if stop else skipped


def _visit(ctx: DiscoveryContext, url: str, first_url: str, hashes: set[str | None], *, note: str | None = None) -> str:
    """Fetch and offer one listing page; returns "continue" or why the walk should stop ("failed: …" when
    the page could not be read)."""
    page = ctx.listing(url, note=note)
    if not ctx.usable(page):
        return f"failed: {page.outcome}" + (f" (HTTP {page.status})" if page.status else "")
    html = page.text(ctx.site.http.encoding)
    if page.final_url and page.final_url != url and same_document(page.final_url, first_url):
        return "redirected to the first page"
    if refreshes_to(html, url, first_url):
        return "meta refresh to the first page"
    if page.content_sha256 in hashes:
        return "same content as an earlier page"
    hashes.add(page.content_sha256)
    if ctx.offer_all(html_links(html, page.final_url or url), url) == 0:
        return "no new article links"
    return "continue"


def _next_link(ctx: DiscoveryContext, html: str, base: str, visited: set[str]) -> str | None:
    words = ctx.site.discovery.next_text
    links: list[Link] = html_links(html, base)
    wanted = (link.url for link in links if link.title.strip() in words and link.url not in visited)
    return next((url for url in wanted if ctx.host_ok(url)), None)


def walk_next_links(ctx: DiscoveryContext, html: str, base: str) -> tuple[str, bool]:
    """Follow "下一页"-style links (VSB and generic portals) until there is none or nothing new. Returns
    why the walk stopped short ("" when the last page has no next link) and whether the cap stopped it."""
    first = base
    visited = {base}
    hashes: set[str | None] = set()
    for _ in range(ctx.max_pages - 1):
        nxt = _next_link(ctx, html, base, visited)
        if nxt is None:
            ctx.log.notes.append(f"no next link on {base}")
            return "", False
        visited.add(nxt)
        outcome = _visit(ctx, nxt, first, hashes)
        if outcome != "continue":
            stop = f"stopped at {nxt}: {outcome}"
            ctx.log.notes.append(stop)
            return stop, False
        base = nxt
        html = ctx.last_html or ""
    if _next_link(ctx, html, base, visited) is None:
        ctx.log.notes.append(f"no next link on {base}")
        return "", False
    stop = f"stopped at the page cap ({ctx.max_pages})"
    ctx.log.notes.append(stop)
    return stop, True
