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
