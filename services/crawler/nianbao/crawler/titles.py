"""Decide from a listing entry whether it is a report: title rules, report year, year range.

The year is the *report* year, taken from the title (``2023年度…报告`` → 2023). Without one, a report
published in January–April covers the previous year (the legal deadlines are 31 January and 31 March).
The 索引号 and the directory year are publish years and are never used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from nianbao.crawler.siteschema import Filters

_TITLE_YEAR = re.compile(r"(20\d\d|19\d\d)\s*年\s*(度)?")
_URL_DATE = re.compile(r"/t(20\d\d)(\d\d)(\d\d)_")
_ISO_DATE = re.compile(r"(20\d\d)[-/.年]\s*(\d{1,2})[-/.月]\s*(\d{1,2})")


@dataclass(frozen=True)
class TitleDecision:
    keep: bool
    reason: str  # included | excluded:<pattern> | no_include_match | year_out_of_range:<year>
    year: int | None


def report_year(title: str, published: date | None) -> int | None:
    match = _TITLE_YEAR.search(title)
    if match:
        return int(match.group(1))
    if published is not None and published.month <= 4:
        return published.year - 1
    return None


def publish_date(*texts: str | None) -> date | None:
    """First date found in a listing date cell or a TRS ``tYYYYMMDD_`` URL."""
    for text in texts:
        if not text:
            continue
        for pattern in (_URL_DATE, _ISO_DATE):
            match = pattern.search(text)
            if match:
                try:
                    return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
                except ValueError:
                    continue
    return None


def classify_title(title: str, filters: Filters, *, published: date | None = None) -> TitleDecision:
    """Exclusions win over inclusions; an empty include list keeps everything not excluded."""
    title = " ".join(title.split())
    year = report_year(title, published)
    for pattern in filters.title_exclude:
        if re.search(pattern, title):
            return TitleDecision(False, f"excluded:{pattern}", year)
    if filters.title_include and not any(re.search(p, title) for p in filters.title_include):
        return TitleDecision(False, "no_include_match", year)
    low, high = filters.year_range
    if year is not None and ((low is not None and year < low) or (high is not None and year > high)):
        return TitleDecision(False, f"year_out_of_range:{year}", year)
    return TitleDecision(True, "included", year)


def fingerprint_hits(text: str, markers: list[str]) -> int:
    """How many template markers a page body contains (the post-2019 content fingerprint)."""
    return sum(1 for marker in markers if marker in text)
