"""Discovery: from a site's start URLs to the candidate report pages, one strategy per family.

:func:`discover` picks the strategy (HTML listing with pagination, Hanweb datastore, gkmlpt/UCAP JSON,
gov.cn feed or pager as its column page says) and, in ``tree`` mode, descends from the start page into
sub-columns (years, unit types) whose links match ``discovery.descend_link_pattern``, walking each as a
listing. Every strategy announces the total its column states (``ctx.announce``) and settles what it
found against it (``ctx.settle``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from nianbao.crawler.discovery.apis import discover_gkmlpt, discover_govcn, discover_ucap
from nianbao.crawler.discovery.base import Candidate, DiscoveryContext, DiscoveryLog, html_links
from nianbao.crawler.discovery.hanweb import discover_hanweb
from nianbao.crawler.discovery.listing import walk_listing
from nianbao.crawler.urls import dedupe_key

__all__ = ["Candidate", "DiscoveryContext", "DiscoveryLog", "discover"]

Strategy = Callable[[DiscoveryContext, str], object]


def _strategy(ctx: DiscoveryContext, start_url: str) -> Strategy:
    family = ctx.site.family
    if family == "hanweb_jpage":
        return discover_hanweb
    if family == "gkmlpt":
        return discover_gkmlpt
    if family == "ucap":
        return discover_ucap
    if family == "govcn":  # feed or pager: the column page decides
        return discover_govcn
    return walk_listing


def discover(ctx: DiscoveryContext) -> list[Candidate]:
    """Walk every start URL; returns the kept candidates (the log holds the rest)."""
    for start_url in ctx.site.start_urls:
        if ctx.site.discovery.mode == "tree":
            walk_tree(ctx, start_url)
        else:
            _strategy(ctx, start_url)(ctx, start_url)
    return ctx.log.kept


def walk_tree(ctx: DiscoveryContext, root: str) -> None:
    """Breadth-first over sub-columns up to ``discovery.max_depth`` levels below ``root``."""
    pattern_text = ctx.site.discovery.descend_link_pattern
    pattern = re.compile(pattern_text) if pattern_text else None
    visited = {dedupe_key(root)}
    level = [root]
    for depth in range(ctx.site.discovery.max_depth + 1):
        next_level: list[str] = []
        for url in level:
            first = walk_listing(ctx, url)
            if first is None or pattern is None or depth == ctx.site.discovery.max_depth:
                continue
            html, base = first
            for link in html_links(html, base):
                key = dedupe_key(link.url)
                if key not in visited and pattern.search(link.url) and ctx.host_ok(link.url):
                    visited.add(key)
                    next_level.append(link.url)
        if next_level:
            ctx.log.notes.append(f"tree level {depth + 1}: {len(next_level)} sub-column(s)")
        level = next_level
