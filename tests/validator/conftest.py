"""Fixtures of the validator's tests."""

from __future__ import annotations

import pytest

from nianbao.shared.db import upgrade
from nianbao.validator.settings import ValidatorSettings


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The validator's database from its settings, at the head: the default SQLite file, or (second run)
    a throwaway PostgreSQL database named by ``NIANBAO_DATABASE_URL``."""
    if request.param == "postgresql":
        monkeypatch.setenv("NIANBAO_DATABASE_URL", request.getfixturevalue("postgres_url"))
    url = ValidatorSettings().resolved_database_url()
    upgrade(url)
    return url
