"""The Scrapy side of the benchmark: the spider, a timed download handler and the settings.

The spider asks for what the nianbao crawler asks for: robots.txt (Scrapy's RobotsTxtMiddleware), every
listing page announced by ``createPageHTML``, and every listed article whose title nianbao's title
filters keep (the same :func:`nianbao.crawler.titles.classify_title`). The settings are the per-host
limits of the nianbao run in Scrapy's terms. Scrapy keys its download slots on the host name, so with one
loopback address per portal its per-domain limits are per host.

Kept apart from ``scrapy_worker.py`` because Scrapy imports the handler by its dotted path: run as
``-m``, the worker module would be ``__main__`` and the handler's record would live in another copy.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

# Scrapy is in the `bench` dependency group only; mypy runs without it in CI, with it after a bench run.
import scrapy  # type: ignore[import-not-found, unused-ignore]
from scrapy.core.downloader.handlers.http11 import (  # type: ignore[import-not-found, unused-ignore]
    HTTP11DownloadHandler,
)
from scrapy.http import Response  # type: ignore[import-not-found, unused-ignore]
from scrapy.settings import default_settings  # type: ignore[import-not-found, unused-ignore]

from bench.crawler.plan import Plan
from nianbao.crawler.families import TITLE_EXCLUDE, TITLE_INCLUDE
from nianbao.crawler.siteschema import Filters
from nianbao.crawler.titles import classify_title

ARTICLE = re.compile(r"/t\d{8}_\d+\.html$")  # the TRS article URL shape (nianbao's trs link_allow)
CREATE_PAGE = re.compile(r"""createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["'](\w+)["']\s*,\s*["'](\w+)["']""")
FILTERS = Filters(title_include=TITLE_INCLUDE, title_exclude=TITLE_EXCLUDE)
STARTS: dict[str, list[float]] = {}  # host -> when the downloader handed each request to HTTP


class TimedHttpHandler(HTTP11DownloadHandler):  # type: ignore[misc, unused-ignore]
    """Scrapy's HTTP/1.1 handler, noting when each download starts (after the slot's delay)."""

    async def download_request(self, request: Any) -> Any:
        STARTS.setdefault(urlsplit(request.url).hostname or "", []).append(time.monotonic())
        return await super().download_request(request)


class FarmSpider(scrapy.Spider):  # type: ignore[misc, unused-ignore]
    name = "farm"

    def __init__(self, farm_urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.farm_urls = farm_urls

    async def start(self) -> AsyncIterator[Any]:
        for url in self.farm_urls:
            yield scrapy.Request(url, callback=self.parse_listing, cb_kwargs={"first": True})

    def parse_listing(self, response: Response, first: bool) -> Iterator[Any]:
        for link in response.css("ul.list li a"):
            href = link.attrib.get("href") or ""
            title = link.attrib.get("title") or link.css("::text").get() or ""
            if ARTICLE.search(href) and classify_title(title, FILTERS).keep:
                yield response.follow(href, callback=self.parse_report)
        pager = CREATE_PAGE.search(response.text) if first else None
        if pager is not None:
            pages, prefix, ext = int(pager.group(1)), pager.group(3), pager.group(4)
            for n in range(1, pages):
                yield response.follow(f"{prefix}_{n}.{ext}", callback=self.parse_listing, cb_kwargs={"first": False})

    def parse_report(self, response: Response) -> Iterator[dict[str, Any]]:
        yield {"url": response.url, "bytes": len(response.body)}


def scrapy_settings(plan: Plan) -> dict[str, Any]:
    """One request start per ``min_delay_s`` and one request in flight per host, no jitter, robots.txt
    obeyed, no AutoThrottle, and a global concurrency high enough never to be the bottleneck."""
    return {
        "BOT_NAME": "nianbao-bench-scrapy",
        "USER_AGENT": "nianbao-bench-scrapy (+https://github.com/nianbao/nianbao)",
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_DELAY": plan.min_delay_s,
        # RANDOMIZE_DOWNLOAD_DELAY=False; recent Scrapy deprecates it for DOWNLOAD_DELAY_JITTER=0.
        **(
            {"DOWNLOAD_DELAY_JITTER": 0.0}
            if hasattr(default_settings, "DOWNLOAD_DELAY_JITTER")
            else {"RANDOMIZE_DOWNLOAD_DELAY": False}
        ),
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "CONCURRENT_REQUESTS_PER_IP": 0,
        "CONCURRENT_REQUESTS": max(256, 16 * len(plan.sites)),
        "AUTOTHROTTLE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "DOWNLOAD_TIMEOUT": 30,
        "CLOSESPIDER_TIMEOUT": plan.deadline_s,
        "DOWNLOAD_HANDLERS": {"http": f"{__name__}.TimedHttpHandler"},
    }
