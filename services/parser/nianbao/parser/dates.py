"""Dates as documents write them → ISO ``YYYY-MM-DD`` (portals.md §5.3).

Accepted: ``2020-03-31[ 15:47[:00]]``, ``2020/3/31``, ``2020年1月17日``, ``2019.1.20``, Chinese numerals
``二〇二〇年一月十七日``. Impossible dates (month 13, 30 February) and damaged ones (``2021926``) give None.
"""

from __future__ import annotations

import datetime as dt
import re

_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "o": 0, "Ｏ": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "〇○零OoＯ一二三四五六七八九十"

_NUMERIC = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<time>\d{1,2}:\d{2}(?::\d{2})?))?"
)
_CHINESE = re.compile(rf"(?P<y>[{_CN}]{{4}})\s*年\s*(?P<m>[{_CN}]{{1,2}})\s*月\s*(?P<d>[{_CN}]{{1,3}})\s*日")
_DATE_ONLY = re.compile(
    rf"^\s*(?:(?:19|20)\d{{2}}\s*(?:年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日|[-/.]\d{{1,2}}[-/.]\d{{1,2}})"
    rf"|[{_CN}]{{4}}\s*年\s*[{_CN}]{{1,2}}\s*月\s*[{_CN}]{{1,3}}\s*日)\s*$"
)


def _cn_number(text: str) -> int | None:
    """Chinese numerals up to 31: 十 → 10, 十七 → 17, 二十 → 20, 三十一 → 31; digit strings as read."""
    if "十" in text:
        tens, _, units = text.partition("十")
        t = _CN_DIGITS.get(tens, -1) if tens else 1
        u = _CN_DIGITS.get(units, -1) if units else 0
        return None if t < 0 or u < 0 else t * 10 + u
    out = 0
    for ch in text:
        if ch not in _CN_DIGITS:
            return None
        out = out * 10 + _CN_DIGITS[ch]
    return out


def _iso(year: int | None, month: int | None, day: int | None) -> str | None:
    if year is None or month is None or day is None:
        return None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(text: str) -> str | None:
    """The first date in ``text`` as ISO, or None."""
    m = _NUMERIC.search(text)
    if m:
        return _iso(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    m = _CHINESE.search(text)
    if m:
        return _iso(_cn_number(m.group("y")), _cn_number(m.group("m")), _cn_number(m.group("d")))
    return None


def is_date_line(text: str) -> bool:
    """Whether a whole line is one date (a signature's date line)."""
    return bool(_DATE_ONLY.match(text))
