"""No Docker engine here: the compose file and Dockerfile are checked statically against the code."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from typer.main import get_command

from nianbao.app.cli import app

from support import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yml").read_text(encoding="utf-8"))
    return data


def _nianbao_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose["services"].items() if str(s.get("image", "")).startswith("nianbao:")}


def test_every_nianbao_command_exists_in_the_cli(compose: dict[str, Any]) -> None:
    cli = get_command(app)
    for name, service in _nianbao_services(compose).items():
        words = [w for w in service["command"] if not w.startswith("-")]
        group: Any = cli
        for word in words:
            if not hasattr(group, "commands"):
                break  # arguments of a leaf command
            assert word in group.commands, f"service {name}: `nianbao {' '.join(words)}` is not a command"
            group = group.commands[word]


def test_depends_on_targets_exist_and_conditions_are_explicit(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for target, rule in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert rule["condition"] in {"service_healthy", "service_completed_successfully"}
            if target == "migrate":
                assert rule["condition"] == "service_completed_successfully"


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        one_shot = service.get("restart") == "no"
        if not one_shot:
            check = service.get("healthcheck") or {}
            assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_third_party_images_are_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = str(service.get("image", ""))
        if image.startswith("nianbao:"):
            continue
        assert re.search(r":[\w.-]*\d[\w.-]*$", image) and not image.endswith(":latest"), f"{name}: {image} unpinned"


def test_workers_that_touch_the_database_wait_for_migrations(compose: dict[str, Any]) -> None:
    for name, service in _nianbao_services(compose).items():
        if name == "migrate":
            continue
        assert "migrate" in service.get("depends_on", {}), f"{name} does not wait for migrate"


def test_secrets_only_from_environment(compose: dict[str, Any]) -> None:
    text = (DEPLOY / "compose.yml").read_text(encoding="utf-8")
    for secret in ("POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD"):
        assert re.search(r"\$\{" + secret + r":\?", text), f"{secret} must be required from the environment"
    documented = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    for variable in set(re.findall(r"\$\{(\w+)", text)):
        assert re.search(rf"^{variable}=", documented, re.M), f"{variable} missing from .env.example"


def test_dockerfile_is_multistage_locked_and_non_root() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert len(stages) >= 2
    assert all(":" in image and not image.endswith(":latest") for image in stages)
    assert "uv sync --locked" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in {"root", "0"}
    for path in re.findall(r"^COPY\s+(?:--\S+\s+)*(\S+)\s", text, re.M):
        if not path.startswith("/"):
            assert (REPO_ROOT / path).exists(), f"Dockerfile copies missing path {path}"
