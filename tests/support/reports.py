"""Parsed devportal report pages for tests of what happens after the parse (storing, the embedded bus)."""

from __future__ import annotations

import dataclasses

from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.model import Report
from nianbao.devportal.render.article import report_page
from nianbao.parser.handlers import handle_page_fetched
from nianbao.parser.settings import ParserSettings
from nianbao.shared.bus import CollectingPublisher
from nianbao.shared.contracts import PageFetched, ReportParsed
from nianbao.shared.rawstore import RawStore

HTML_PAGES = [r for r in REPORTS if r.published_as == "html" and r.encoding == "utf-8"]
CITY_2019 = next(r for r in REPORTS if r.id == "city-2019")
# The same agency's next report in the same format: its cross-year rules compare it with CITY_2019 (the
# catalogue's own pair, 示例县 2018 and 2019, spans a format change, where those rules do not apply).
CITY_2020 = dataclasses.replace(CITY_2019, id="city-2020", year=2020, title=CITY_2019.title.replace("2019", "2020"))


def parse_page(page: Report, number: int, site: str = "demo") -> ReportParsed:
    """Devportal report ``page`` (revision ``number``) stored in the raw store as page ``number``'s bytes and
    parsed; its ``ReportParsed`` message."""
    store = RawStore(ParserSettings().resolved_raw_store_dir())
    key = store.put(report_page(page, revision=number).encode("utf-8"))
    url = f"http://127.0.0.1:8734/zfxxgknb/{number:03d}.html"
    published = CollectingPublisher()
    handle_page_fetched(PageFetched(site_id=site, url=url, final_url=url, raw_key=key, content_sha256=key),
                        store, published, ParserSettings())  # fmt: skip
    [message] = published.messages
    assert isinstance(message, ReportParsed)
    return message


def parsed_pages(count: int, site: str = "demo") -> list[ReportParsed]:
    """``count`` (≤ 6) devportal report pages parsed: CITY_2019, then CITY_2020, then the catalogue's other HTML
    pages (each agency and year once: with two reports of one agency and year, which one the next year's
    rules read depends on which was stored last)."""
    pages = [CITY_2019, CITY_2020, *(r for r in HTML_PAGES if r is not CITY_2019)]
    assert count <= len(pages)
    return [parse_page(pages[i], i, site) for i in range(count)]
