"""The Scrapy baseline of the benchmark: one Scrapy process crawling every farm portal with the
settings of ``scrapy_spider.scrapy_settings`` (per-host limits equivalent to the nianbao run).

    python -m bench.crawler.scrapy_worker --plan PLAN.json     (started by bench_crawl.py)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from scrapy import signals  # type: ignore[import-not-found, unused-ignore]
from scrapy.crawler import CrawlerProcess  # type: ignore[import-not-found, unused-ignore]

from bench.crawler.plan import Plan, report, wait_for_go
from bench.crawler.scrapy_spider import STARTS, FarmSpider, scrapy_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plan", type=Path, required=True)
    args = parser.parse_args()
    plan = Plan.load(args.plan)
    process = CrawlerProcess(scrapy_settings(plan))
    crawler = process.create_crawler(FarmSpider)
    closed: dict[str, Any] = {}

    def on_closed(spider: Any, reason: str) -> None:
        closed.update(at=time.monotonic(), reason=reason)

    crawler.signals.connect(on_closed, signal=signals.spider_closed)
    started_at = wait_for_go()
    process.crawl(crawler, farm_urls=[site.start_url for site in plan.sites])
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    errors = [f"{k}: {v}" for k, v in stats.items() if k.startswith(("log_count/ERROR", "downloader/exception_type"))]
    if closed.get("reason") != "finished":
        errors.append(f"spider closed: {closed.get('reason')}")
    report(
        {
            "index": 0,
            "threads": 1,
            "started_at": started_at,
            "finished_at": closed.get("at", time.monotonic()),
            "items": stats.get("item_scraped_count", 0),
            "requests": stats.get("downloader/request_count", 0),
            "errors": errors,
            "starts": STARTS,
        }
    )


if __name__ == "__main__":
    main()
