"""What one simulated TRS portal of the farm serves, by path (no HTTP here; see ``farm.py``).

Each host has the 年报 column of the dev portal's layout (``nianbao.devportal.urls``): listing pages
``/zfxxgknb/index.html``, ``index_1.html`` … with the TRS ``createPageHTML(pages, page, "index", "html")``
pager, each listing ``per_page`` report links plus one notice that a crawler must drop by its title, and
report article pages ``/zfxxgknb/YYYYMM/tYYYYMMDD_<docid>.html``. Report pages are the dev portal's six
synthetic reports (50–70 KB, one of them GBK), each copy made unique by a trailing comment, so content
hashes differ as on a real portal. Articles carry ETag and Last-Modified, like static TRS pages.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from nianbao.devportal.catalogue import REPORTS, Entry
from nianbao.devportal.model import Report
from nianbao.devportal.render.article import notice_page, report_page
from nianbao.devportal.render.listing import column_page, home_page, not_found_page
from nianbao.devportal.reports.notices import NOTICES
from nianbao.devportal.site import Resource
from nianbao.devportal.urls import article_path, page_number, page_path

ROBOTS_TXT = b"User-agent: *\nDisallow: /search/\nAllow: /\n"
HTML_UTF8 = "text/html; charset=utf-8"
AGENCIES = (
    "人民政府办公室",
    "发展和改革委员会",
    "教育局",
    "公安局",
    "民政局",
    "司法局",
    "财政局",
    "人力资源和社会保障局",
    "自然资源局",
    "生态环境局",
    "住房和城乡建设局",
    "交通运输局",
    "水利局",
    "农业农村局",
    "商务局",
    "文化广电旅游局",
    "卫生健康委员会",
    "应急管理局",
    "审计局",
    "市场监督管理局",
)


@cache
def _report_template(index: int) -> tuple[Report, bytes]:
    report = REPORTS[index % len(REPORTS)]
    return report, report_page(report).encode(report.encoding)


@cache
def _notice_body(index: int) -> bytes:
    return notice_page(NOTICES[index % len(NOTICES)]).encode("utf-8")


class TrsPortal:
    """The pages of host number ``number`` (0-based): ``pages`` listing pages of ``per_page`` reports."""

    def __init__(self, *, number: int, pages: int, per_page: int) -> None:
        self.number = number
        self.pages = pages
        self.city = f"示例{number + 1}市"
        entries: list[Entry] = []
        self._reports: dict[str, tuple[int, date]] = {}  # path -> (template index, publish day)
        self._notices: dict[str, tuple[int, date]] = {}
        day = date(2024, 3, 31)
        for page in range(pages):
            for slot in range(per_page + 1):
                k = page * (per_page + 1) + slot
                doc_id = 100000 * (number + 1) + k
                day -= timedelta(days=3)
                path = article_path(day, doc_id)
                if slot == per_page:  # one notice per listing page: same column, excluded by its title
                    notice = NOTICES[k % len(NOTICES)]
                    entries.append(Entry(title=notice.title, path=path, published=day, item=notice))
                    self._notices[path] = (k, day)
                    continue
                report, _ = _report_template(k)
                year = 2023 - (k % 5)
                title = f"{self.city}{AGENCIES[k % len(AGENCIES)]}{year}年政府信息公开工作年度报告"
                entries.append(Entry(title=title, path=path, published=day, item=report))
                self._reports[path] = (k, day)
        self._entries = tuple(entries)
        self._per_listing = per_page + 1
        self._listings: dict[int, bytes] = {}  # rendered once: the farm's event loop should stay idle

    @property
    def report_paths(self) -> list[str]:
        return list(self._reports)

    @property
    def listing_paths(self) -> list[str]:
        return [page_path(n) for n in range(self.pages)]

    def expected_paths(self) -> set[str]:
        """What a complete polite crawl of the column asks for: robots.txt, every listing page, every report."""
        return {"/robots.txt", *self.listing_paths, *self.report_paths}

    def resolve(self, path: str) -> Resource:
        """The resource at ``path`` (query string removed); unknown paths give the 404 page."""
        if path == "/robots.txt":
            return Resource(200, "text/plain; charset=utf-8", ROBOTS_TXT)
        if path in ("/", "/index.html"):
            return Resource(200, HTML_UTF8, home_page().encode("utf-8"))
        page = page_number(path)
        if page is not None and page < self.pages:
            if page not in self._listings:
                chunk = self._entries[page * self._per_listing : (page + 1) * self._per_listing]
                self._listings[page] = column_page(chunk, page=page, pages=self.pages).encode("utf-8")
            return Resource(200, HTML_UTF8, self._listings[page])
        if path in self._reports:
            index, day = self._reports[path]
            report, template = _report_template(index)
            cut = template.rindex(b"</body>")
            mark = f"<!-- host {self.number} {path} -->".encode("ascii")
            body = template[:cut] + mark + template[cut:]
            content_type = HTML_UTF8 if report.encoding == "utf-8" else "text/html"  # GBK: <meta> only
            return _validated(content_type, body, day)
        if path in self._notices:
            index, day = self._notices[path]
            return _validated(HTML_UTF8, _notice_body(index), day)
        return Resource(404, HTML_UTF8, not_found_page().encode("utf-8"))


def _validated(content_type: str, body: bytes, modified: date) -> Resource:
    etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
    # Published at 09:00 UTC of that day.
    return Resource(200, content_type, body, etag=etag, last_modified=datetime.combine(modified, time(9, 0), UTC))
