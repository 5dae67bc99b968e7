"""The Alembic history creates exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from nianbao.shared.db import upgrade


@pytest.mark.parametrize("backend", ["sqlite_url", "postgres_url"])
def test_migrations_match_models(backend: str, request: pytest.FixtureRequest) -> None:
    url: str = request.getfixturevalue(backend)
    upgrade(url)
    upgrade(url)  # idempotent
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    engine.dispose()
    assert diff == []


@pytest.mark.parametrize("backend", ["sqlite_url", "postgres_url"])
def test_migration_0008_leaves_one_partial_index_on_findings_and_round_trips(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Value and finding rows enter fewer indexes (compare_metadata does not compare partial predicates, so
    the predicate is read from the database); downgrade restores the four indexes and upgrade drops them."""
    from sqlalchemy import inspect, text

    from nianbao.shared.db import alembic_config

    url: str = request.getfixturevalue(backend)
    upgrade(url)
    engine = create_engine(url)

    def indexes() -> dict[str, set[str]]:
        inspector = inspect(engine)
        return {
            t: {i["name"] for i in inspector.get_indexes(t) if i["name"].startswith("ix_")}
            for t in ("finding", "report_value")
        }

    assert indexes() == {"finding": {"ix_finding_rule_not_pass"}, "report_value": {"ix_report_value_key"}}
    with engine.connect() as conn:
        if backend == "postgres_url":
            name = "'ix_finding_rule_not_pass'"
            definition = conn.execute(text(f"SELECT indexdef FROM pg_indexes WHERE indexname = {name}"))
            assert "WHERE ((status)::text <> 'pass'::text)" in definition.scalar_one()
            compression = conn.execute(text(
                "SELECT attcompression FROM pg_attribute WHERE attrelid = 'report'::regclass AND attname = 'record'"
            )).scalar_one()  # fmt: skip
            assert compression == "l"  # lz4
        else:
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'ix_finding_rule_not_pass'"))
            assert "WHERE status <> 'pass'" in sql.scalar_one()
    from alembic import command

    command.downgrade(alembic_config(url), "0007")
    assert indexes() == {
        "finding": {"ix_finding_report_id", "ix_finding_rule", "ix_finding_status"},
        "report_value": {"ix_report_value_key", "ix_report_value_report_id"},
    }
    upgrade(url)
    assert indexes()["finding"] == {"ix_finding_rule_not_pass"}
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite_url", "postgres_url"])
def test_migration_0011_cascades_report_deletes_by_trigger_and_round_trips(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Value and finding rows carry no foreign key (checked per inserted row, it was a third of their insert
    cost), yet deleting a report still deletes them; downgrade restores the keys, upgrade drops them again."""
    from alembic import command
    from sqlalchemy import inspect, text

    from nianbao.shared.db import alembic_config

    url: str = request.getfixturevalue(backend)
    upgrade(url)
    engine = create_engine(url)
    if backend == "sqlite_url":
        from sqlalchemy import event

        event.listen(engine, "connect", lambda conn, _record: conn.execute("PRAGMA foreign_keys=ON"))

    def foreign_keys() -> dict[str, list[str]]:
        inspector = inspect(engine)
        return {t: [fk["referred_table"] for fk in inspector.get_foreign_keys(t)] for t in ("report_value", "finding")}

    def store_two_reports() -> None:
        with engine.begin() as conn:
            for table in ("report_value", "finding", "report"):
                conn.execute(text(f"DELETE FROM {table}"))
            for rid in (1, 2):
                conn.execute(text(
                    "INSERT INTO report (id, site_id, url, raw_key, content_sha256, parser_version, rules_version,"
                    " blank_policy, record, failing_errors, failing_warnings, created_at, updated_at) VALUES"
                    f" ({rid}, 's', 'http://x/{rid}', 'k', 'k', 'p', 'r', '{{}}', '{{}}', 0, 0,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ))  # fmt: skip
                conn.execute(text(
                    f"INSERT INTO report_value (report_id, table_name, key, status) VALUES ({rid}, 't', 'k', 'number')"
                ))  # fmt: skip
                conn.execute(text(
                    "INSERT INTO finding (report_id, rule, location, severity, status, cells, message, rule_version,"
                    f" created_at, updated_at) VALUES ({rid}, 'r', '', 'error', 'fail', '[]', '', '',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ))  # fmt: skip

    def children() -> tuple[list[int], list[int]]:
        with engine.connect() as conn:
            values = [r[0] for r in conn.execute(text("SELECT report_id FROM report_value ORDER BY 1"))]
            findings = [r[0] for r in conn.execute(text("SELECT report_id FROM finding ORDER BY 1"))]
        return values, findings

    assert foreign_keys() == {"report_value": [], "finding": []}
    store_two_reports()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM report WHERE id = 1"))
    assert children() == ([2], [2])

    command.downgrade(alembic_config(url), "0010")
    engine.dispose()
    assert foreign_keys() == {"report_value": ["report"], "finding": ["report"]}
    store_two_reports()
    with engine.begin() as conn:  # the restored key cascades, and no trigger is left to do it twice
        conn.execute(text("DELETE FROM report WHERE id = 2"))
    assert children() == ([1], [1])

    upgrade(url)
    engine.dispose()
    assert foreign_keys() == {"report_value": [], "finding": []}
    store_two_reports()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM report"))
    assert children() == ([], [])
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite_url", "postgres_url"])
def test_migration_0012_moves_passing_findings_into_the_report_and_back(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Passing finding rows become the report's ``passed`` list (in row order, with their columns; the row
    digest forgotten), the others stay rows, ``finding_all`` reads both; downgrade makes them rows again."""
    from alembic import command
    from sqlalchemy import select, text

    from nianbao.shared.db import alembic_config
    from nianbao.shared.models import FINDING_ALL

    url: str = request.getfixturevalue(backend)
    command.upgrade(alembic_config(url), "0011")
    engine = create_engine(url)
    findings = [  # (rule, location, status, lhs, cells): two pass, one fails, one more passes
        ("requests.balance", "natural", "pass", 5.0, '["requests.new.natural"]'),
        ("requests.balance", "legal", "fail", 2.0, '["requests.new.legal"]'),
        ("meta.year", "", "pass", None, "[]"),
        ("active.nonneg", "rules.made", "pass", 0.0, '["active.rules.made"]'),
    ]
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO report (id, site_id, url, raw_key, content_sha256, parser_version, rules_version,"
            " blank_policy, record, failing_errors, failing_warnings, rows_sha256, created_at, updated_at)"
            " VALUES (1, 's', 'http://x/1', 'k', 'k', 'p', 'r7', '{}', '{}', 1, 0, 'digest',"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        for rule, location, status, lhs, cells in findings:
            conn.execute(
                text(
                    "INSERT INTO finding (report_id, rule, location, severity, status, lhs, cells, message,"
                    " rule_version, created_at, updated_at) VALUES (1, :rule, :location, 'error', :status, :lhs,"
                    " :cells, 'm', 'r7', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"rule": rule, "location": location, "status": status, "lhs": lhs, "cells": cells},
            )
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT rule, location, status FROM finding")).all()
        passed_text, digest = conn.execute(text("SELECT passed, rows_sha256 FROM report")).one()
        every = conn.execute(select(FINDING_ALL).order_by(FINDING_ALL.c.position)).mappings().all()
    assert [tuple(r) for r in rows] == [("requests.balance", "legal", "fail")]
    passed = json.loads(passed_text) if isinstance(passed_text, str) else passed_text
    assert passed == [
        {"rule": "requests.balance", "location": "natural", "severity": "error", "lhs": 5, "rhs": None,
         "delta": None, "cells": ["requests.new.natural"], "message": "m"},
        {"rule": "meta.year", "location": "", "severity": "error", "lhs": None, "rhs": None, "delta": None,
         "cells": [], "message": "m"},
        {"rule": "active.nonneg", "location": "rules.made", "severity": "error", "lhs": 0, "rhs": None,
         "delta": None, "cells": ["active.rules.made"], "message": "m"},
    ]  # fmt: skip
    assert digest is None
    by_place = {(f["rule"], f["location"]): f for f in every}
    assert len(every) == 4 and {(r, loc, s) for r, loc, s, _l, _c in findings} == {
        (f["rule"], f["location"], f["status"]) for f in every
    }
    assert by_place[("active.nonneg", "rules.made")]["cells"] == ["active.rules.made"]
    assert {f["rule_version"] for f in every} == {"r7"} and {f["report_id"] for f in every} == {1}

    command.downgrade(alembic_config(url), "0011")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT rule, location, status, lhs, cells, rule_version FROM finding ORDER BY id"))
        restored = [(r, loc, s, lhs, json.loads(c) if isinstance(c, str) else c, v) for r, loc, s, lhs, c, v in rows]
    assert sorted(restored) == sorted(
        (rule, location, status, lhs, json.loads(cells), "r7") for rule, location, status, lhs, cells in findings
    )
    upgrade(url)
    engine.dispose()


def test_the_reports_large_json_columns_are_lz4_compressed_on_postgresql(postgres_url: str) -> None:
    """Migrations 0008 and 0012: the record and the passed list, a report's two large values, are compressed
    with lz4 where the server has it (this machine's and CI's PostgreSQL do): half pglz's server time."""
    from sqlalchemy import text

    upgrade(postgres_url)
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        has_lz4 = conn.execute(text(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )).scalar_one()  # fmt: skip
        columns = dict(conn.execute(text(
            "SELECT attname, attcompression FROM pg_attribute WHERE attrelid = 'report'::regclass"
            " AND attname IN ('record', 'passed')"
        )).all())  # fmt: skip
    engine.dispose()
    expected = "l" if has_lz4 else ""  # a server built without lz4 keeps its default (pglz)
    assert columns == {"record": expected, "passed": expected}


@pytest.mark.parametrize("backend", ["sqlite_url", "postgres_url"])
def test_migration_0013_counts_each_reports_passed_list_and_indexes_the_listing_order(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """A report stored before 0013 gets ``passed_count`` = the length of its list (so the store finds it
    unchanged and the findings total stays right); the listing index replaces site_id's; downgrade undoes."""
    from alembic import command
    from sqlalchemy import inspect, text

    from nianbao.shared.db import alembic_config

    url: str = request.getfixturevalue(backend)
    command.upgrade(alembic_config(url), "0012")
    engine = create_engine(url)
    with engine.begin() as conn:
        for number, passed in ((1, '[{"rule": "a"}, {"rule": "b"}]'), (2, "[]")):
            conn.execute(text(
                "INSERT INTO report (id, site_id, url, raw_key, content_sha256, parser_version, rules_version,"
                " blank_policy, record, passed, failing_errors, failing_warnings, created_at, updated_at)"
                f" VALUES ({number}, 's', 'http://x/{number}', 'k', 'k', 'p', 'r', '{{}}', '{{}}', :passed, 0, 0,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ), {"passed": passed})  # fmt: skip

    def report_indexes() -> set[str]:
        return {i["name"] for i in inspect(engine).get_indexes("report") if i["name"].startswith("ix_report_")}

    upgrade(url)
    with engine.connect() as conn:
        counts = conn.execute(text("SELECT id, passed_count FROM report ORDER BY id")).all()
    assert [tuple(row) for row in counts] == [(1, 2), (2, 0)]
    assert report_indexes() == {"ix_report_agency", "ix_report_year", "ix_report_listing"}
    command.downgrade(alembic_config(url), "0012")
    columns = {c["name"] for c in inspect(engine).get_columns("report")}
    assert "passed_count" not in columns and "passed" in columns
    assert report_indexes() == {"ix_report_agency", "ix_report_year", "ix_report_site_id"}
    engine.dispose()
