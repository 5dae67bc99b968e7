"""Who reports on which year, in which format generation — each with the evidence that decided it.

Covered year: the title, else the 统计期限 sentence, else a ``编制…N年…报告`` phrase in the preamble,
else the publication or signature date minus one (report-format §1.3, §4.6). Agency: the title, the
preamble (``本报告由X根据…``, ``编制X2020年…报告``), the signature, then the 发布机构 field. A title that
names only a region (``重庆市2019年…``) stands for the region's government (``重庆市人民政府``).
Generation: labels first (gen2021 markers, then gen2019, then legacy), else inferred from the year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nianbao.parser.vocabulary import vocabulary
from nianbao.shared.record import Generation

_YEAR = r"(?P<year>(?:19|20)\d{2})\s*年度?"
_SUBJECT = r"(?:政府信息公开|政务信息公开|政务公开|信息公开)"
_TITLE_YEAR = re.compile(_YEAR)
_TITLE_SUFFIX = re.compile(rf"{_SUBJECT}.{{0,12}}(?:报告|年报)")
_PERIOD = re.compile(r"统计(?:期限|时限|时段|区间)\s*(?:为|是|自|从|:)?\s*(?P<year>(?:19|20)\d{2})\s*年")
_COMPILED_FOR = re.compile(
    rf"(?:编制|制作|形成|发布|公布|现将|特)\s*(?P<agency>[^,。;:《》()\s]{{2,40}}?)\s*{_YEAR}\s*{_SUBJECT}"
)
_REPORT_BY = re.compile(
    r"本(?:年度)?报告(?:是|系)?由\s*(?P<agency>[^,。;:《》()\s]{2,40}?)\s*(?:根据|依据|按照|依照|编制|制作)"
)
_FLIPBOOK = re.compile(r"^(?P<year>(?:19|20)\d{2})年报_(?P<agency>.+)$")
_REGION_ONLY = re.compile(r"^[\u4e00-\u9fff]{1,12}?(?:省|自治区|市|自治州|州|地区|盟|县|自治县|区|旗|镇|乡)$")
_AGENCY_WORDS = re.compile(r"(政府|局|委|办|厅|部|院|会|中心|处|室|所|站|队|组|署|街道|社区|公司|馆|社|集团|行|台)$")


@dataclass(frozen=True)
class Evidence:
    value: str | int | None
    source: str | None


def _agency_from_title(title: str) -> str | None:
    flip = _FLIPBOOK.match(title)
    if flip:
        return flip.group("agency").strip()
    year = _TITLE_YEAR.search(title)
    if year is None:
        head = _TITLE_SUFFIX.search(title)
        return title[: head.start()].strip() or None if head else None
    before, after = title[: year.start()].strip(), title[year.end() :]
    if before:
        return before
    suffix = _TITLE_SUFFIX.search(after)
    return after[: suffix.start()].strip() or None if suffix else None


def government_of(agency: str) -> str:
    """``重庆市`` → ``重庆市人民政府``: a bare region name reports as its government."""
    if _REGION_ONLY.match(agency) and not _AGENCY_WORDS.search(agency):
        return agency + "人民政府"
    return agency


def find_agency(
    *, title: str | None, preamble: str, signature_body: str | None, publisher: str | None
) -> Evidence:
    if title:
        agency = _agency_from_title(title)
        if agency:
            return Evidence(government_of(agency), "title")
    for pattern in (_REPORT_BY, _COMPILED_FOR):
        m = pattern.search(preamble)
        if m:
            return Evidence(government_of(m.group("agency")), "preamble")
    if signature_body:
        return Evidence(signature_body, "signature")
    if publisher:
        return Evidence(publisher, "metadata")
    return Evidence(None, None)


def find_year(
    *, title: str | None, preamble: str, publish_date: str | None, signature_date: str | None
) -> Evidence:
    if title:
        m = _TITLE_YEAR.search(title) or _FLIPBOOK.match(title)
        if m:
            return Evidence(int(m.group("year")), "title")
    m = _PERIOD.search(preamble)
    if m:
        return Evidence(int(m.group("year")), "period_sentence")
    m = _COMPILED_FOR.search(preamble)
    if m:
        return Evidence(int(m.group("year")), "preamble")
    if publish_date:
        return Evidence(int(publish_date[:4]) - 1, "publish_date")
    if signature_date:
        return Evidence(int(signature_date[:4]) - 1, "signature")
    return Evidence(None, None)


def generation_from_labels(compact_text: str) -> Generation | None:
    """The generation whose marker labels occur in the space-free, folded text (§1.3 order)."""
    markers = vocabulary().generation_markers
    order: tuple[Generation, ...] = ("gen2021", "gen2019", "legacy")
    for generation in order:
        if any(marker in compact_text for marker in markers[generation]):
            return generation
    return None


def generation_from_year(year: int | None) -> Generation | None:
    if year is None:
        return None
    if year <= 2018:
        return "legacy"
    return "gen2019" if year <= 2020 else "gen2021"
