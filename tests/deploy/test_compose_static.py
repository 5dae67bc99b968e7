"""No Docker engine here: the compose file and Dockerfile are checked statically against the code."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
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
            one_shot = services[target].get("restart") == "no"
            expected = "service_completed_successfully" if one_shot else "service_healthy"
            assert rule["condition"] == expected, f"{name} → {target}: wait for {expected}"


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
    for secret in ("POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "GRAFANA_DB_PASSWORD", "NIANBAO_ADMIN_TOKEN"):
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


# --- services the operators rely on -------------------------------------------------------------------------

LONG_RUNNING = {"crawler", "parser", "validator", "beat", "admin"}
WORKERS = {"crawler", "parser", "validator"}


def _long_running(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in _nianbao_services(compose).items() if s.get("restart") != "no" and not s.get("profiles")}


def test_the_stack_runs_every_role(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(_long_running(compose)) == LONG_RUNNING
    assert services["beat"]["command"] == ["beat"]
    assert services["admin"]["command"] == ["admin", "--host", "0.0.0.0"]
    assert "NIANBAO_ADMIN_TOKEN" in services["admin"]["environment"]
    assert services["admin"]["environment"]["NIANBAO_ADMIN_TOKEN"].startswith("${NIANBAO_ADMIN_TOKEN:?")
    for tool in ("cli", "flower"):
        assert services[tool]["profiles"] == ["tools"], f"{tool} belongs to the tools profile"
    assert {"prometheus", "grafana", "redis", "postgres", "migrate"} <= set(services)


def test_published_ports_are_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_workers_can_be_scaled(compose: dict[str, Any]) -> None:
    # `docker compose up --scale parser=4` needs no fixed container name and no published port.
    for name in WORKERS:
        service = compose["services"][name]
        assert "container_name" not in service and "ports" not in service, f"{name} cannot be scaled"


def test_raw_store_volume_is_shared_by_crawler_and_parser(compose: dict[str, Any]) -> None:
    mounts = {}
    for name in ("crawler", "parser"):
        service = compose["services"][name]
        raw_dir = (
            service["environment"].get("NIANBAO_RAW_STORE_DIR") or f"{service['environment']['NIANBAO_DATA_DIR']}/raw"
        )
        mounts[name] = {v.split(":")[0] for v in service["volumes"] if v.split(":")[1] == raw_dir}
        assert mounts[name], f"{name} has no volume at its raw store {raw_dir}"
    assert mounts["crawler"] & mounts["parser"] & set(compose["volumes"]), "crawler and parser need the same volume"


def test_bind_mounts_exist(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"


def test_python_healthchecks_compile(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        test = (service.get("healthcheck") or {}).get("test") or []
        if test[:3] == ["CMD", "python", "-c"]:
            compile(test[3], f"{name} healthcheck", "exec")


# --- Prometheus ---------------------------------------------------------------------------------------------


def _prometheus() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    return data


def test_prometheus_scrapes_every_replica_of_every_service_and_itself(compose: dict[str, Any]) -> None:
    config = _prometheus()
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert "prometheus" in jobs
    expected = {n: s for n, s in _long_running(compose).items() if s["command"][0] in ("worker", "admin")}
    for name, service in expected.items():
        job = jobs.get(f"nianbao-{name}")
        assert job, f"no scrape job nianbao-{name}"
        [sd] = job["dns_sd_configs"]  # DNS discovery: one target per replica
        env = {**service["environment"]}
        port = env["NIANBAO_ADMIN_PORT"] if name == "admin" else env["NIANBAO_METRICS_PORT"]
        assert sd["names"] == [name] and str(sd["port"]) == str(port), f"nianbao-{name} scrapes the wrong place"
    assert jobs["nianbao-admin"]["metrics_path"] == "/metrics/"  # the queue exporter is mounted there
    for rule_file in config["rule_files"]:
        assert (DEPLOY / "prometheus" / rule_file).exists()
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./prometheus:/etc/prometheus:ro" in mounts
    assert "--config.file=/etc/prometheus/prometheus.yml" in compose["services"]["prometheus"]["command"]


def test_every_alert_has_a_summary_and_a_runbook_entry_in_the_readme() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Alerts runbook\n", 1)[1].split("\n## ", 1)[0]
    anchors = {
        re.sub(r"[^\w-]", "", h.strip().lower().replace(" ", "-")) for h in re.findall(r"^### (.+)$", section, re.M)
    }
    alerts = [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]
    assert len(alerts) >= 10
    for rule in alerts:
        annotations = rule.get("annotations", {})
        assert annotations.get("summary"), f"{rule['alert']} has no summary"
        assert annotations.get("runbook") == f"README.md#{rule['alert'].lower()}", f"{rule['alert']}: runbook"
        assert rule["alert"].lower() in anchors, f"README's Alerts runbook has no entry for {rule['alert']}"
        assert rule.get("labels", {}).get("severity") in {"warning", "critical"}
    assert anchors == {rule["alert"].lower() for rule in alerts}, "runbook entries for alerts that do not exist"


# --- Grafana ------------------------------------------------------------------------------------------------

GRAFANA = DEPLOY / "grafana"


def _datasources() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in (GRAFANA / "provisioning" / "datasources").glob("*.yml"):
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["datasources"]:
            found[source["uid"]] = source
    return found


def _dashboards() -> dict[str, dict[str, Any]]:
    boards = {}
    for path in sorted((GRAFANA / "dashboards").glob("*.json")):
        boards[path.name] = json.loads(path.read_text(encoding="utf-8"))
    return boards


def _all_panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for panel in panels for p in (panel, *_all_panels(panel.get("panels", [])))]


def test_grafana_is_provisioned_from_files(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    sources = _datasources()
    types = {s["type"] for s in sources.values()}
    assert {"prometheus", "grafana-postgresql-datasource"} <= types
    for source in sources.values():
        for value in (source.get("secureJsonData") or {}).values():
            for variable in re.findall(r"\$\{?(\w+)", str(value)):
                assert variable in grafana["environment"], f"grafana needs {variable} in its environment"
    prometheus = next(s for s in sources.values() if s["type"] == "prometheus")
    assert prometheus["url"] == "http://prometheus:9090"
    postgres = next(s for s in sources.values() if s["type"] == "grafana-postgresql-datasource")
    assert postgres["user"] == "grafana_reader"  # the read-only role of deploy/postgres/grafana-reader.sql
    assert "grafana_reader" in (DEPLOY / "postgres" / "grafana-reader.sql").read_text(encoding="utf-8")
    [provider_file] = (GRAFANA / "provisioning" / "dashboards").glob("*.yml")
    [provider] = yaml.safe_load(provider_file.read_text(encoding="utf-8"))["providers"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in grafana["volumes"]
    home = grafana["environment"].get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH", "")
    assert not home or (GRAFANA / "dashboards" / Path(home).name).exists()


def test_dashboards_are_well_formed_and_use_provisioned_datasources() -> None:
    sources = _datasources()
    boards = _dashboards()
    assert {"nianbao-pipeline", "nianbao-crawl", "nianbao-anomalies"} <= {b["uid"] for b in boards.values()}
    assert len({b["uid"] for b in boards.values()}) == len(boards)
    for file, board in boards.items():
        panels = _all_panels(board["panels"])
        ids = [p["id"] for p in panels]
        assert len(ids) == len(set(ids)), f"{file}: duplicate panel ids"
        variables = {v["name"] for v in board.get("templating", {}).get("list", [])}
        for panel in panels:
            if panel["type"] == "row":
                continue
            assert panel.get("title") and panel.get("gridPos") and panel.get("targets"), f"{file}: {panel}"
            for target in panel["targets"]:
                source = target.get("datasource") or panel["datasource"]
                assert source["uid"] in sources and sources[source["uid"]]["type"] == source["type"], (file, target)
                query = target.get("expr") or target.get("rawSql")
                assert query, f"{file}: {panel['title']}: empty query"
                for variable in re.findall(r"\$\{?(\w+)", query):
                    assert variable.startswith("__") or variable in variables, f"{file}: unknown ${variable}"


def test_latest_failing_findings_table_reads_postgres() -> None:
    tables = [(p, t["rawSql"]) for b in _dashboards().values() for p in _all_panels(b["panels"])
              for t in p.get("targets", []) if "rawSql" in t and p["type"] == "table"]  # fmt: skip
    latest = [sql for _, sql in tables if "status = 'fail'" in sql and re.search(r"JOIN report", sql)]
    assert latest, "no table panel lists failing findings from PostgreSQL"
    assert any(all(column in sql for column in ("r.title", "r.agency", "r.year", "r.url", "f.rule")) for sql in latest)


# --- image --------------------------------------------------------------------------------------------------


def test_dockerfile_follows_the_basics() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert not re.search(r"^ADD\s", text, re.M), "use COPY (ADD fetches URLs and unpacks archives)"
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.M | re.I))
    for source in re.findall(r"--from=(\S+)", text):
        assert source in stages, f"COPY --from={source}: no such stage"
    for line in re.findall(r"apt-get install[^\n]*", text):
        assert "--no-install-recommends" in line and "-y" in line
    assert 'ENTRYPOINT ["nianbao"]' in text


def test_build_context_keeps_what_the_dockerfile_copies() -> None:
    ignored = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {".git", ".venv", ".env"} <= set(ignored)
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    for line in re.findall(r"^COPY\s+(?!--from)(?:--\S+\s+)*(.+)$", text, re.M):
        for path in line.split()[:-1]:
            assert not any(fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/") for pattern in ignored), (
                f"the Dockerfile copies {path}, which Dockerfile.dockerignore drops"
            )


def test_ci_installs_system_packages_before_the_tests() -> None:
    # tests/integration/test_stack_observability.py needs Debian's prometheus package (prometheus, promtool);
    # the parser's DOC/WPS/XLS tests need LibreOffice (soffice), and must not be skipped in CI.
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    install = ci.find('apt-get install -y -qq --no-install-recommends "${packages[@]}"')
    tests = ci.find("\nuv run pytest")
    assert 0 <= ci.find("command -v promtool >/dev/null 2>&1 || packages+=(prometheus)") < install < tests
    assert 0 <= ci.find("command -v soffice >/dev/null 2>&1 || packages+=(libreoffice-writer-nogui") < install
    assert "policy-rc.d" in ci, "Debian's prometheus service must not be started on port 9090"
