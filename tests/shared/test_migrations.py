"""The Alembic history creates exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

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
