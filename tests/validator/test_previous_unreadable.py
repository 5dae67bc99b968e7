"""A stored N−1 report that no longer reads as a canonical record (written by an older parser) does not
stop the next year's report: it is checked and stored, and its cross-year rules say why they could not run,
in the database (findings) and in the findings metric."""

from __future__ import annotations

from sqlalchemy import text

from nianbao.shared.db import session_scope
from nianbao.validator import metrics
from nianbao.validator.handlers import handle_report_parsed
from nianbao.validator.settings import ValidatorSettings

from support.reports import CITY_2019, CITY_2020, parse_page


def _not_assessable(rule: str) -> float:
    return metrics.FINDINGS.labels(rule=rule, severity="warn", status="not_assessable")._value.get()


def test_the_next_report_is_stored_with_its_cross_year_rules_not_assessable(database: str) -> None:
    earlier, later = parse_page(CITY_2019, 0), parse_page(CITY_2020, 1)
    handle_report_parsed(earlier, ValidatorSettings())
    # What an older parser's record may look like to today's model: a field of another type.
    record = '{"year": "two thousand nineteen"}'
    json = "CAST(:record AS json)" if database.startswith("postgresql") else ":record"
    with session_scope(database) as session:
        session.execute(text(f"UPDATE report SET record = {json} WHERE url = :url"),
                        {"record": record, "url": earlier.url})  # fmt: skip
    before = _not_assessable("xyear.carry")

    result = handle_report_parsed(later, ValidatorSettings())

    assert result.created
    with session_scope(database) as session:
        rows = session.execute(
            text("SELECT f.rule, f.status, f.location, f.message FROM finding f JOIN report r ON r.id = f.report_id"
                 " WHERE r.url = :url AND f.rule LIKE 'xyear.%' ORDER BY f.rule"),
            {"url": later.url},
        ).all()  # fmt: skip
    assert [row[0] for row in rows] == ["xyear.carry", "xyear.copied_tables", "xyear.copied_text", "xyear.items19"]
    for _rule, status, location, message in rows:
        assert (status, location) == ("not_assessable", "")
        assert "the 2019 report stored for this agency does not match the canonical record" in message
        assert "nianbao reparse" in message
    assert _not_assessable("xyear.carry") == before + 1
