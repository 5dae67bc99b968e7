"""What the dev portal serves: the synthetic reports (the ground truth for tests) and the non-report items.

``REPORTS`` is the public ground truth: each ``Report`` answers ``expected_tables()``,
``expected_failing_rules()`` and ``expected_metadata()``. ``ENTRIES`` is the 年报 column, newest first.

| id | agency | year | generation | encoding | intended failing findings |
|---|---|---|---|---|---|
| county-2018 | 示例县人民政府 | 2018 | legacy | utf-8 | none (blanks, blank_as_zero) |
| county-2019 | 示例县人民政府 | 2019 | gen2019 | utf-8 | none |
| city-2019 | 示例市人民政府 | 2019 | gen2019 | utf-8 | none (annotated cells, 亿元) |
| transport-2020 | 示例市交通运输局 | 2020 | gen2019 | utf-8 | requests.balance natural, total |
| market-2021 | 示例市市场监督管理局 | 2021 | gen2021 | utf-8 | none |
| district-2022 | 示例市示范区人民政府 | 2022 | gen2021 | gbk (meta only) | none |
| water-2020 | 示例市水务局 | 2020 | gen2019 | tables only in a PDF attachment | requests.balance natural, total |
| town-2019 | 示例县东坝镇人民政府 | 2019 | gen2019 | tables only in a DOCX attachment | none |
| ecology-2021 | 示例市生态环境局 | 2021 | gen2021 | tables only in a DOC attachment | none |

county-2019 and city-2019 also link a PDF of the whole report, so their tables are read twice and compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from nianbao.devportal.model import Notice, Report
from nianbao.devportal.reports import (
    attached,
    city_2019,
    county_2018,
    county_2019,
    district_2022,
    market_2021,
    transport_2020,
)
from nianbao.devportal.reports.notices import NOTICES
from nianbao.devportal.urls import article_path

REPORTS: tuple[Report, ...] = (
    county_2018.REPORT,
    county_2019.REPORT,
    city_2019.REPORT,
    transport_2020.REPORT,
    market_2021.REPORT,
    district_2022.REPORT,
    *attached.REPORTS,
)


@dataclass(frozen=True)
class Entry:
    """One line of the column listing; ``item`` is the report or notice the link leads to."""

    title: str
    path: str
    published: date
    item: Report | Notice


def _entries() -> tuple[Entry, ...]:
    items: list[Report | Notice] = [*REPORTS, *NOTICES]
    entries = [
        Entry(title=i.title, path=article_path(i.publish_date, i.doc_id), published=i.publish_date, item=i)
        for i in items
    ]
    # Newest first, as portals list them; the doc id breaks ties so the order never depends on the tuples.
    entries.sort(key=lambda e: (e.published, e.item.doc_id), reverse=True)
    paths = [e.path for e in entries]
    if len(set(paths)) != len(paths):
        raise ValueError("two catalogue items share an article URL")
    return tuple(entries)


ENTRIES: tuple[Entry, ...] = _entries()


def report(report_id: str) -> Report:
    """The report with ``report_id``; ``KeyError`` names the known ids when there is none."""
    for r in REPORTS:
        if r.id == report_id:
            return r
    raise KeyError(f"no report {report_id!r}; known: {', '.join(r.id for r in REPORTS)}")
