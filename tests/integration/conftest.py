"""Fixtures that start real nianbao worker processes against real Redis and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from integration_support import Stack


@pytest.fixture
def stack_factory(redis_url: str, postgres_url: str, tmp_path: Path) -> Iterator[Callable[[dict[str, object]], Stack]]:
    """Build a Stack whose CLI and workers share one broker, one database and one data directory."""
    stacks: list[Stack] = []

    def make(registry: dict[str, object]) -> Stack:
        data_dir = tmp_path / "stack"
        data_dir.mkdir(exist_ok=True)
        sites_file = data_dir / "sites.yaml"
        sites_file.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_") or k.startswith("NIANBAO_TEST_")}
        env.update(
            {
                "NIANBAO_BROKER_URL": redis_url,
                "NIANBAO_DATABASE_URL": postgres_url,
                "NIANBAO_DATA_DIR": str(data_dir),
                "NIANBAO_SITES_FILE": str(sites_file),
                "NIANBAO_TASK_RETRY_BACKOFF_S": "0.2",
            }
        )
        stack = Stack(env=env, data_dir=data_dir)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()
