"""HTML listing pagination: TRS ``createPageHTML`` templates, "下一页" next links, and auto mode.

Pagination lies often enough that every walk checks each page: it stops on a failed fetch (404...), a
meta refresh back to the first page, a page identical to an earlier one, a page without new article
links (deep stub pages), the page count announced by the script, or the per-run page cap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from nianbao.crawler.discovery.base import DiscoveryContext, html_links, refreshes_to, shell_target
from nianbao.crawler.fetching import Page
from nianbao.crawler.urls import same_document

_CREATE_PAGE = re.compile(
    r"""createPage(?:HTML)?\s*\(\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*["'](\w+)["']\s*,\s*["'](\w+)["'])?"""
)
_TOTAL = re.compile(r"(?:totalPage|pageCount|countPage)\s*[=:]\s*['\"]?(\d+)")
SHELL_HOPS = 3


@dataclass(frozen=True)
class Template:
    directory: str  # URL of the column directory, ending in "/"
    prefix: str
    ext: str
    total: int | None  # pages including the first, when the page announces it

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


def template_of(html: str, base: str) -> Template | None:
    match = _CREATE_PAGE.search(html)
    directory = base if base.endswith("/") else base.rsplit("/", 1)[0] + "/"
    if match:
        prefix = match.group(3) or "index"
        ext = match.group(4) or _ext(base)
        return Template(directory, prefix, ext, int(match.group(1)))
    total = _TOTAL.search(html)
    if total:
        return Template(directory, "index", _ext(base), int(total.group(1)))
    return None


def _ext(url: str) -> str:
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1] if "." in name else "html"


def walk_listing(ctx: DiscoveryContext, start_url: str) -> tuple[str, str] | None:
    """Walk one HTML listing from ``start_url`` with the site's pagination mode; returns the first
    page's (text, URL) for callers that look for sub-columns, None if it could not be read."""
    opened = open_start(ctx, start_url)
    if opened is None:
        return None
    first, base = opened
    html = first.text(ctx.site.http.encoding)
    ctx.offer_all(html_links(html, base), base)
    mode = ctx.site.discovery.pagination
    if mode == "none":
        return html, base
    template = template_of(html, base)
    if template is None and mode == "template":
        template = Template(base if base.endswith("/") else base.rsplit("/", 1)[0] + "/", "index", _ext(base), None)
    if template is not None and mode in ("template", "auto"):
        walk_template(ctx, first, base, template)
    elif mode in ("next_link", "auto"):
        walk_next_links(ctx, html, base)
    return html, base


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


def walk_template(ctx: DiscoveryContext, first: Page, base: str, template: Template) -> None:
    """``index.html``, then ``index_<k>.html`` from the detected page-2 number on."""
    html = first.text(ctx.site.http.encoding)
    hashes = {first.content_sha256}
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
            return
        for probe in (1, 2):
            outcome = _visit(ctx, template.url(probe), base, hashes, note=f"probe page 2 = index_{probe}")
            if outcome == "continue":
                start = probe
                break
        if start is None:
            ctx.log.notes.append("no second page found (probed index_1 and index_2)")
            return
        ctx.log.notes.append(f"page 2 is {template.prefix}_{start}.{template.ext} (probed)")
        next_n = start + 1
    last = None if template.total is None else template.total - 2 + start
    pages = 1 + (next_n - start)
    while last is None or next_n <= last:
        if pages >= ctx.max_pages:
            ctx.log.notes.append(f"stopped at the page cap ({ctx.max_pages})")
            return
        outcome = _visit(ctx, template.url(next_n), base, hashes)
        pages += 1
        if outcome != "continue":
            ctx.log.notes.append(f"stopped at {template.url(next_n)}: {outcome}")
            return
        next_n += 1
    ctx.log.notes.append(f"walked all {template.total} pages announced by the page script")


def _visit(ctx: DiscoveryContext, url: str, first_url: str, hashes: set[str | None], *, note: str | None = None) -> str:
    """Fetch and offer one listing page; returns "continue" or why the walk should stop."""
    page = ctx.listing(url, note=note)
    if not ctx.usable(page):
        return f"{page.outcome} (HTTP {page.status})" if page.status else page.outcome
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


def walk_next_links(ctx: DiscoveryContext, html: str, base: str) -> None:
    """Follow "下一页"-style links (VSB and generic portals) until there is none or nothing new."""
    first = base
    visited = {base}
    hashes: set[str | None] = set()
    words = ctx.site.discovery.next_text
    for _ in range(ctx.max_pages - 1):
        nxt = next(
            (
                link.url
                for link in html_links(html, base)
                if link.title.strip() in words and link.url not in visited and ctx.host_ok(link.url)
            ),
            None,
        )
        if nxt is None:
            ctx.log.notes.append(f"no next link on {base}")
            return
        visited.add(nxt)
        outcome = _visit(ctx, nxt, first, hashes)
        if outcome != "continue":
            ctx.log.notes.append(f"stopped at {nxt}: {outcome}")
            return
        base = nxt
        html = ctx.last_html or ""
    ctx.log.notes.append(f"stopped at the page cap ({ctx.max_pages})")
