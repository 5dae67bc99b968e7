"""The report's skeleton: numbered part headings, title line, preamble, signature and the report's end.

Headings are matched by ordinal plus keyword, not by exact text (report-format §1.2): ``一、`` opens the
report, each later heading must follow its predecessor (one ordinal may be skipped) and name its subject
(``二`` 主动公开, ``三`` 申请, …), so that numbered sub-points inside a part and table row labels such as
``四、结转下年度继续办理`` are not taken for headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from nianbao.parser.dates import is_date_line, parse_date
from nianbao.parser.document import Item, Line
from nianbao.parser.normalize import label_key
from nianbao.parser.vocabulary import vocabulary

ORDINALS = "一二三四五六七八九十"
_HEADING = re.compile(r"^(?P<ord>[一二三四五六七八九十])\s*[、.]\s*(?P<title>\S.*)$")
_TITLE_WORDS = re.compile(r"(信息公开|政务公开|政务信息公开).{0,16}(报告|年报)")
_FLIPBOOK_TITLE = re.compile(r"^(?:19|20)\d{2}年报_\S+$")
_SENTENCE = re.compile(r"[,。;!?]|^(根据|按照|依据|本报告|本年度报告)")
_CHROME_MAX_LEN = 60  # chrome lines are short; report prose is not tested against every pattern
_SIGNATURE_BODY = re.compile(r"^[\u4e00-\u9fff()\s]{2,40}$")


@cache
def _chrome_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    chrome = vocabulary().section("chrome")
    return re.compile("|".join(f"(?:{p})" for p in chrome["line"])), re.compile(
        "|".join(f"(?:{p})" for p in chrome["end"])
    )


def is_chrome(text: str) -> bool:
    """Page chrome (share bars, print/close links, font size switches, view counters)."""
    return len(text) <= _CHROME_MAX_LEN and bool(_chrome_patterns()[0].search(text))


def is_report_end(text: str) -> bool:
    """A footer or exit line after which nothing belongs to the report."""
    return len(text) <= _CHROME_MAX_LEN and bool(_chrome_patterns()[1].search(text))


def is_title_line(text: str) -> bool:
    """A standalone report title such as ``昆明市政务服务管理局2019年政府信息公开年度报告``."""
    if len(text) > 80 or "|" in text or _SENTENCE.search(text):
        return False
    return bool(_TITLE_WORDS.search(text) and text.endswith(("报告", "年报", ")"))) or bool(
        _FLIPBOOK_TITLE.match(text)
    )


@dataclass(frozen=True)
class Heading:
    ordinal: str
    title: str
    index: int  # position in the document's items


@dataclass
class Layout:
    """Where the parts are. Section ranges are half-open item ranges after each heading."""

    headings: list[Heading] = field(default_factory=list)
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    title_index: int | None = None
    signature: tuple[str | None, str | None] = (None, None)
    signature_index: int | None = None
    end: int = 0  # first item index after the report text


def _heading(line: Line, index: int, previous: Heading | None) -> Heading | None:
    """The heading ``line`` opens, if it is one, given the heading before it."""
    if line.text[:1] not in ORDINALS or line.piped or "|" in line.text or not line.in_body:
        return None
    m = _HEADING.match(line.text)
    if not m:
        return None
    ordinal, title = m.group("ord"), m.group("title").strip()
    key = label_key(title)
    if len(key) > 40 or vocabulary().not_headings.match(key) is not None:
        return None
    n = ORDINALS.index(ordinal)
    if previous is None:
        if n == 0:
            return Heading(ordinal, title, index) if len(key) <= 30 else None
        if n > 1:
            return None
    elif not 0 < n - ORDINALS.index(previous.ordinal) <= 2:
        return None
    keywords = vocabulary().heading_keywords.get(ordinal, ())
    if n > 0 and not any(k in key for k in keywords):
        return None
    return Heading(ordinal, title, index)


def find_headings(items: list[Item]) -> list[Heading]:
    headings: list[Heading] = []
    for index, item in enumerate(items):
        # _heading's own first test, made here: it fails for almost every line, and the call is dearer.
        if isinstance(item, Line) and item.text[:1] in ORDINALS:
            found = _heading(item, index, headings[-1] if headings else None)
            if found is not None:
                headings.append(found)
    return headings


def _find_signature(items: list[Item], start: int, stop: int) -> tuple[int, str | None, str] | None:
    """``(index of the signature's first line, body, ISO date)`` of the first signature block."""
    for index in range(start, stop):
        item = items[index]
        if not isinstance(item, Line) or not is_date_line(item.text):
            continue
        date = parse_date(item.text)
        if date is None:
            continue
        previous = items[index - 1] if index > start else None
        if isinstance(previous, Line) and _SIGNATURE_BODY.match(previous.text) and not _HEADING.match(previous.text):
            return index - 1, previous.text.strip(), date
        return index, None, date
    return None


def layout(items: list[Item], *, legacy_table_start: int | None = None) -> Layout:
    """Locate headings, title, signature and the report's end in ``items``."""
    out = Layout(end=len(items))
    out.headings = find_headings(items)
    first = out.headings[0].index if out.headings else len(items)
    for index in range(first - 1, -1, -1):
        item = items[index]
        if isinstance(item, Line) and is_title_line(item.text):
            out.title_index = index
            break
    last_start = out.headings[-1].index + 1 if out.headings else first
    end = len(items)
    for index in range(last_start, len(items)):
        item = items[index]
        if isinstance(item, Line) and is_report_end(item.text):
            end = index
            break
    if legacy_table_start is not None and last_start <= legacy_table_start < end:
        end = legacy_table_start
    signature = _find_signature(items, last_start, end)
    if signature is not None:
        out.signature_index, body, date = signature
        out.signature = (body, date)
        end = out.signature_index
    out.end = end
    for i, heading in enumerate(out.headings):
        stop = out.headings[i + 1].index if i + 1 < len(out.headings) else end
        out.ranges.setdefault(heading.ordinal, (heading.index + 1, max(stop, heading.index + 1)))
    return out
