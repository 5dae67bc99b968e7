"""Small pure pieces: URL layout, conditional-GET decisions, number printing, data validation, the PDF."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from nianbao.devportal.catalogue import report
from nianbao.devportal.conditional import not_modified
from nianbao.devportal.model import format_number
from nianbao.devportal.urls import article_path, attachment_path, page_count, page_number, page_path


def test_url_layout() -> None:
    assert article_path(date(2020, 3, 31), 123456) == "/zfxxgknb/202003/t20200331_123456.html"
    assert attachment_path(date(2020, 3, 31), "P020200331512345678901.pdf") == (
        "/zfxxgknb/202003/P020200331512345678901.pdf"
    )
    assert [page_path(i) for i in range(3)] == [
        "/zfxxgknb/index.html",
        "/zfxxgknb/index_1.html",
        "/zfxxgknb/index_2.html",
    ]
    assert page_number("/zfxxgknb/") == page_number("/zfxxgknb/index.html") == 0
    assert page_number("/zfxxgknb/index_2.html") == 2
    assert page_number("/zfxxgknb/index_0.html") is None
    assert page_number("/zfxxgknb/index_01.html") is None
    assert page_number("/other/index.html") is None
    assert [page_count(n) for n in (0, 1, 4, 5, 8, 9)] == [1, 1, 1, 2, 2, 3]


MODIFIED = datetime(2022, 1, 26, 3, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("if_none_match", "if_modified_since", "expected"),
    [
        ('"abc"', None, True),
        ('W/"abc"', None, True),
        ('"x", "abc"', None, True),
        ("*", None, True),
        ('"x"', None, False),
        ('"x"', "Wed, 26 Jan 2022 03:20:00 GMT", False),  # If-None-Match wins
        (None, "Wed, 26 Jan 2022 03:20:00 GMT", True),
        (None, "Thu, 27 Jan 2022 00:00:00 GMT", True),
        (None, "Wed, 26 Jan 2022 03:19:59 GMT", False),
        (None, "not a date", False),
        (None, None, False),
    ],
)
def test_not_modified(if_none_match: str | None, if_modified_since: str | None, expected: bool) -> None:
    decided = not_modified(
        etag='"abc"', last_modified=MODIFIED, if_none_match=if_none_match, if_modified_since=if_modified_since
    )
    assert decided is expected


def test_format_number() -> None:
    assert [format_number(v) for v in (0, -3, 12580.36, 368500.0, 6.5, 0.0, None)] == [
        "0",
        "-3",
        "12580.36",
        "368500",
        "6.5",
        "0",
        "",
    ]


def test_report_refuses_unknown_and_missing_keys() -> None:
    good = report("county-2019")
    requests = dict(good.tables["requests"])
    del requests["other.total"]
    with pytest.raises(ValueError, match="requests keys differ"):
        replace(good, tables={**good.tables, "requests": requests})
    with pytest.raises(ValueError, match="unknown cell"):
        replace(good, raw={"active/no.such": "1"})
    with pytest.raises(ValueError, match="active keys differ"):
        replace(good, generation="gen2021")


def test_blank_cells_cannot_print_a_value() -> None:
    legacy = report("county-2018")
    with pytest.raises(ValueError, match="blank"):
        replace(legacy, raw={"legacy/requests_fax": "3"})
