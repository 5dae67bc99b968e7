"""The portal's URL layout, in the TRS WCM shape (portals.md §2.1).

/robots.txt                                  allow all
/                                            home page, links the column
/zfxxgknb/ and /zfxxgknb/index.html          column page 1 (createPageHTML(<pages>, 0, "index", "html"))
/zfxxgknb/index_1.html, index_2.html …       further pages; past the last page: 404
/zfxxgknb/YYYYMM/tYYYYMMDD_<docid>.html      an article (YYYYMMDD = publish date)
/zfxxgknb/YYYYMM/P0YYYYMMDD<digits>.pdf      an attachment, linked from its article as ./P0….pdf
"""

from __future__ import annotations

import re
from datetime import date

COLUMN_DIR = "/zfxxgknb/"
COLUMN_PATH = COLUMN_DIR + "index.html"
PAGE_SIZE = 4  # small on purpose, so the demo column has several pages

_PAGE_RE = re.compile(r"^/zfxxgknb/index_(\d+)\.html$")


def page_path(page: int) -> str:
    """Page 0 is ``index.html``, page N ≥ 1 is ``index_N.html`` (the common TRS numbering)."""
    return COLUMN_PATH if page == 0 else f"{COLUMN_DIR}index_{page}.html"


def page_number(path: str) -> int | None:
    """The page index a listing path names, or ``None`` if it is not a listing path.

    ``index_0.html`` is not a TRS page name, so it is not a listing path either.
    """
    if path in (COLUMN_DIR, COLUMN_PATH):
        return 0
    match = _PAGE_RE.match(path)
    if match is None or match.group(1).startswith("0"):
        return None
    return int(match.group(1))


def article_path(published: date, doc_id: int) -> str:
    return f"{COLUMN_DIR}{published:%Y%m}/t{published:%Y%m%d}_{doc_id}.html"


def attachment_path(published: date, filename: str) -> str:
    return f"{COLUMN_DIR}{published:%Y%m}/{filename}"


def page_count(items: int) -> int:
    """Pages needed for ``items`` list entries; an empty column still has its first page."""
    return max(1, -(-items // PAGE_SIZE))
