"""The compose stack's monitoring, checked on real processes (CI has no Docker engine).

The long-running nianbao services of ``deploy/compose.yml`` (three workers, beat, admin API) are started
with the commands compose gives them, on the machine's Redis and PostgreSQL; they crawl the local demo
portal (plus a site that does not exist and a few malformed messages, so that failure series exist). A real
Prometheus runs the repo's ``prometheus.yml`` with DNS discovery replaced by static loopback targets and
the repo's ``alerts.yml``. Then every expression of the Grafana dashboards and of the alert rules must
return data (or be listed below with the reason it may not), every metric name they use must be declared
by the code, promtool must accept the config and rules and pass ``alerts.test.yml``, which must make every
alert fire, and the dashboards' SQL must run as the read-only role Grafana uses.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from nianbao.app.cli import demo_registry
from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.server import DevPortal
from nianbao.shared.celery_app import make_celery
from nianbao.shared.contracts import PageFetched, ReportParsed

from integration_support import NIANBAO, Stack, wait_until
from support import REPO_ROOT, free_port, skip_or_fail

pytestmark = pytest.mark.integration

DEPLOY = REPO_ROOT / "deploy"
PROMETHEUS_DIR = DEPLOY / "prometheus"
DASHBOARD_FILES = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
METRICS_SOURCES = [
    *(REPO_ROOT / "services" / s / "nianbao" / s / "metrics.py" for s in ("crawler", "parser", "validator")),
    REPO_ROOT / "app" / "nianbao" / "app" / "queue_metrics.py",
]
# Series Prometheus makes itself, which rules and dashboards may use besides the declared ones.
PROMETHEUS_SERIES = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped"}
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "${site:regex}": ".*", "${site}": ".*", "$site": ".*"}
TASK_FAILURES = 'outcome=~"permanent|retries_exhausted|invalid_message"'

# Dashboard expressions that may return nothing in this run, and why. None: every series a panel or an
# alert reads exists at 0 on a fresh worker (app/nianbao/app/metric_zeros.py), so a panel shows 0, never
# "No data", even for events the demo portal never causes (challenges, back-offs, robots denials).
DASHBOARD_ALLOWED_EMPTY: dict[str, str] = {}
# Alert operands (an alert's expression split at its top-level comparisons and and/or/unless, thresholds
# dropped) that may return nothing in this run, and why.
ALERT_ALLOWED_EMPTY: dict[str, str] = {
    **{f'absent(up{{job="nianbao-{s}"}})': "absent() is empty while the service is scraped"
       for s in ("crawler", "parser", "validator", "admin")},
}  # fmt: skip
# Declared metrics that get no series at all in this run. None, for the same reason.
METRICS_ALLOWED_ABSENT: dict[str, str] = {}


# --- reading the repo's rules and dashboards ---------------------------------------------------------------


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in _yaml(PROMETHEUS_DIR / "alerts.yml")["groups"] for rule in group["rules"]]


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(where, kind, query) for every query of every dashboard: kind is promql, sql or variable."""
    found: list[tuple[str, str, str]] = []
    for path in DASHBOARD_FILES:
        board = json.loads(path.read_text(encoding="utf-8"))
        for panel in _panels(board["panels"]):
            for target in panel.get("targets", []):
                where = f"{path.name}: {panel['title']!r} {target['refId']}"
                if "expr" in target:
                    found.append((where, "promql", target["expr"]))
                if "rawSql" in target:
                    found.append((where, "sql", target["rawSql"]))
        for variable in board.get("templating", {}).get("list", []):
            if variable.get("type") == "query":
                query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
                found.append((f"{path.name}: variable {variable['name']}", "variable", query))
    return found


def grafana_substitute(query: str) -> str:
    for name in sorted(GRAFANA_VARIABLES, key=len, reverse=True):
        query = query.replace(name, GRAFANA_VARIABLES[name])
    assert "$" not in query.replace("$'", "").replace("'$", "").replace(")$", ""), f"unknown variable in {query}"
    return query


def variable_expression(query: str) -> str:
    """``label_values(metric, label)`` as the PromQL that returns its values."""
    match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", query.strip())
    assert match, f"unsupported variable query {query!r}"
    return f"count by ({match.group(2)}) ({match.group(1)})"


def promql_expressions() -> list[tuple[str, str]]:
    """(where, expression) of every alert rule and every dashboard PromQL query (variables substituted)."""
    found = [(f"alert {rule['alert']}", str(rule["expr"])) for rule in alert_rules()]
    for where, kind, query in dashboard_queries():
        if kind == "promql":
            found.append((where, grafana_substitute(query)))
        elif kind == "variable":
            found.append((where, variable_expression(query)))
    return found


# --- a little PromQL lexing (enough for names, selectors and top-level operators) -----------------------------

_SELECTOR = re.compile(r"(?<![\w:.$])([a-zA-Z_:][\w:]*)\s*(\{[^{}]*\})?")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
             "offset", "inf", "nan"}  # fmt: skip
_MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_TOP_OPERATOR = re.compile(
    r"(?:==|!=|>=|<=|>|<|\band\b|\bor\b|\bunless\b)\s*(?:bool\b)?\s*(?:(?:on|ignoring)\s*\([^()]*\))?"
    r"\s*(?:(?:group_left|group_right)\s*(?:\([^()]*\))?)?"
)
_CONSTANT = re.compile(r"[\d\s.eE+*/()-]+")


def _mask_strings_outside_braces(expr: str) -> str:
    out, depth, i = [], 0, 0
    while i < len(expr):
        c = expr[i]
        if c in "\"'`":
            end = i + 1
            while end < len(expr) and expr[end] != c:
                end += 2 if expr[end] == "\\" else 1
            literal = expr[i : end + 1]
            out.append(literal if depth else c + " " * (len(literal) - 2) + c)
            i = end + 1
            continue
        depth += {"{": 1, "}": -1}.get(c, 0)
        out.append(c)
        i += 1
    return "".join(out)


def selectors(expr: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Every vector selector in ``expr``: (metric name, [(label, operator, value)])."""
    cleaned = re.sub(r"\[[^\[\]]*\]", " ", _GROUPING.sub(" ", _mask_strings_outside_braces(expr)))
    found = []
    for match in _SELECTOR.finditer(cleaned):
        name = match.group(1)
        if name.lower() in _KEYWORDS or re.match(r"\s*\(", cleaned[match.end(1) :]):
            continue  # a keyword, or a function / aggregation call
        found.append((name, _MATCHER.findall(match.group(2) or "")))
    return found


def grouping_labels(expr: str) -> set[str]:
    """Labels named in ``by``/``without``/``on``/``ignoring``/``group_*`` lists."""
    lists = _GROUPING.findall(_mask_strings_outside_braces(expr))
    return {label.strip() for labels in lists for label in labels.split(",") if label.strip()}


def _split_top_level(expr: str) -> list[str]:
    parts, depth, start, i = [], 0, 0, 0
    while i < len(expr):
        c = expr[i]
        if c in "\"'`":
            i = expr.index(c, i + 1) + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and (match := _TOP_OPERATOR.match(expr, i)):
            parts.append(expr[start:i])
            start = i = match.end()
            continue
        i += 1
    parts.append(expr[start:])
    return parts


def _wrapped(expr: str) -> bool:
    if not (expr.startswith("(") and expr.endswith(")")):
        return False
    depth = 0
    for i, c in enumerate(expr):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0 and i < len(expr) - 1:
            return False
    return True


def operands(expr: str) -> list[str]:
    """``expr`` split at its top-level comparisons and set operators, constants dropped, whitespace
    normalised: the series an alert condition is computed from."""
    found: list[str] = []
    for part in _split_top_level(expr):
        part = " ".join(part.split())
        if not part or _CONSTANT.fullmatch(part):
            continue
        if _wrapped(part):
            found.extend(operands(part[1:-1]))
        else:
            found.append(part)
    return found


def declared_metric_names() -> set[str]:
    """Names the code can expose, with the suffixes prometheus_client adds per metric type."""
    names: set[str] = set()
    pattern = re.compile(r"\b(Counter|Gauge|Histogram|Summary|GaugeMetricFamily|CounterMetricFamily)\(\s*\"(\w+)\"")
    for source in METRICS_SOURCES:
        assert source.exists(), f"{source} is missing"
        for kind, name in pattern.findall(source.read_text(encoding="utf-8")):
            base = name.removesuffix("_total")
            if kind in ("Counter", "CounterMetricFamily"):
                names |= {f"{base}_total", f"{base}_created"}
            elif kind == "Histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count", f"{name}_created"}
            elif kind == "Summary":
                names |= {name, f"{name}_sum", f"{name}_count", f"{name}_created"}
            else:
                names.add(name)
    return names


def _binaries() -> tuple[str, str]:
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if not (prometheus and promtool):
        skip_or_fail("prometheus/promtool not found: install Debian's prometheus package (apt-get install prometheus)")
    assert prometheus and promtool
    return prometheus, promtool


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


# --- static checks -------------------------------------------------------------------------------------------


def test_lexer_finds_names_selectors_and_operands() -> None:
    expr = (
        'sum by (job) (rate(a_total{outcome=~"x|y", job!=""}[5m])) / on (job) group_left b '
        '> 0.1 and on () month() <= 4 or absent(up{job="c"}) unless label_replace(d, "n", "v", "s", "r")'
    )
    assert [name for name, _ in selectors(expr)] == ["a_total", "b", "up", "d"]
    assert selectors(expr)[0][1] == [("outcome", "=~", "x|y"), ("job", "!=", "")]
    assert operands(expr) == [
        'sum by (job) (rate(a_total{outcome=~"x|y", job!=""}[5m])) / on (job) group_left b',
        "month()",
        'absent(up{job="c"})',
        'label_replace(d, "n", "v", "s", "r")',
    ]
    assert operands("(x > 5 * 86400) and (y or z * 0)") == ["x", "y", "z * 0"]
    assert grouping_labels(expr) == {"job"}
    assert grouping_labels("sum by (le, kind) (rate(x[1m])) and on () y") == {"le", "kind"}


def test_rules_and_dashboards_use_only_declared_metrics() -> None:
    declared = declared_metric_names() | PROMETHEUS_SERIES
    expressions = promql_expressions()
    assert len(expressions) > 20
    undeclared = {(where, name) for where, expr in expressions for name, _ in selectors(expr) if name not in declared}
    assert not undeclared, f"metric names no metrics.py declares: {sorted(undeclared)}"


def test_promtool_accepts_config_and_rules() -> None:
    _, promtool = _binaries()
    for args in (("check", "config", str(PROMETHEUS_DIR / "prometheus.yml")),
                 ("check", "rules", str(PROMETHEUS_DIR / "alerts.yml"))):  # fmt: skip
        result = _run(promtool, *args)
        assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}"


def test_promtool_unit_tests_pass_and_fire_every_alert() -> None:
    _, promtool = _binaries()
    tests = _yaml(PROMETHEUS_DIR / "alerts.test.yml")
    fired = {case["alertname"] for group in tests["tests"] for case in group.get("alert_rule_test", [])
             if case.get("exp_alerts")}  # fmt: skip
    missing = {rule["alert"] for rule in alert_rules()} - fired
    assert not missing, f"alerts.test.yml has no case in which these alerts fire: {sorted(missing)}"
    result = _run(promtool, "test", "rules", str(PROMETHEUS_DIR / "alerts.test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


# --- the live stack ----------------------------------------------------------------------------------------


def _long_running_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in compose["services"].items()
            if str(service.get("image", "")).startswith("nianbao:") and service.get("restart") != "no"
            and not service.get("profiles")}  # fmt: skip


def _healthcheck_code(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], f"expected a python healthcheck, got {test}"
    return str(test[3])


class Services:
    """The compose services' commands as local processes (registered with the Stack, which stops them)."""

    def __init__(self, stack: Stack, compose: dict[str, Any]) -> None:
        self.stack = stack
        self.compose = compose
        self.ports: dict[str, int] = {}
        self.env: dict[str, dict[str, str]] = {}

    def start(self, name: str, service: dict[str, Any]) -> None:
        command = [str(word) for word in service["command"]]
        env = dict(self.stack.env, NIANBAO_WORKER_CONCURRENCY="1")
        if command[0] == "worker":
            self.ports[name] = free_port()
            env.update(NIANBAO_METRICS_PORT=str(self.ports[name]), NIANBAO_METRICS_HOST="127.0.0.1")
        elif command[0] == "admin":
            self.ports[name] = free_port()
            env.update(NIANBAO_ADMIN_TOKEN=uuid.uuid4().hex, NIANBAO_ADMIN_PORT=str(self.ports[name]))
            command = ["127.0.0.1" if word == "0.0.0.0" else word for word in command]  # loopback only here
        elif command[0] != "beat":
            raise AssertionError(f"service {name}: no local recipe for `nianbao {' '.join(command)}`")
        log = self.stack.data_dir / f"{name}.log"
        self.stack.logs[name] = log
        self.env[name] = env
        with log.open("wb") as out:
            self.stack.procs[name] = subprocess.Popen(
                [NIANBAO, *command], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_healthy(self, timeout: float = 90) -> None:
        """Each service's own compose healthcheck passes (and workers have joined their queue)."""
        pending = set(self.env)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for name in sorted(pending):
                proc = self.stack.procs[name]
                if proc.poll() is not None:
                    raise AssertionError(f"{name} exited {proc.returncode}:\n{self.stack.log_tail(name)}")
                service = self.compose["services"][name]
                check = subprocess.run([sys.executable, "-c", _healthcheck_code(service)], env=self.env[name],
                                       capture_output=True, timeout=30, check=False)  # fmt: skip
                is_worker = service["command"][0] == "worker"
                if check.returncode == 0 and (not is_worker or " ready." in self.stack.logs[name].read_text()):
                    pending.discard(name)
            time.sleep(0.3)
        assert not pending, "not healthy in time: " + "\n".join(f"{n}:\n{self.stack.log_tail(n)}" for n in pending)


class Prometheus:
    """A real Prometheus on a free loopback port, with its own storage."""

    def __init__(self, binary: str, config: Path, workdir: Path, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "prometheus.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def wait_ready(self) -> None:
        def ready() -> bool:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                return httpx.get(f"{self.base}/-/ready", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(ready, 30, lambda: self.log.read_text())

    def api(self, path: str, **params: str) -> Any:
        response = httpx.get(f"{self.base}/api/v1/{path}", params=params, timeout=10).json()
        assert response["status"] == "success", f"{path} {params}: {response}"
        return response["data"]

    def query(self, expr: str) -> list[Any]:
        data = self.api("query", query=expr)
        return [data["result"]] if data["resultType"] in ("scalar", "string") else list(data["result"])

    def value(self, expr: str) -> float:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else 0.0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def _prometheus_config(tmp: Path, prometheus_port: int, services: Services) -> Path:
    """The repo's prometheus.yml with 1 s intervals and each DNS-discovered job pointed at the local process
    of the compose service it names; the rules are the repo's, with per-group intervals dropped."""
    config = _yaml(PROMETHEUS_DIR / "prometheus.yml")
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    rules = _yaml(PROMETHEUS_DIR / "alerts.yml")
    for group in rules["groups"]:
        group.pop("interval", None)
    (tmp / "alerts.yml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    config["rule_files"] = [str(tmp / "alerts.yml")]
    for job in config["scrape_configs"]:
        if job["job_name"] == "prometheus":
            job["static_configs"] = [{"targets": [f"127.0.0.1:{prometheus_port}"]}]
            continue
        [sd] = job.pop("dns_sd_configs")
        [name] = sd["names"]
        assert name in services.ports, f"job {job['job_name']} scrapes {name}, which no started service is"
        env = services.compose["services"][name]["environment"]
        assert str(sd["port"]) in (env.get("NIANBAO_METRICS_PORT"), env.get("NIANBAO_ADMIN_PORT")), (
            f"job {job['job_name']} scrapes port {sd['port']}, where {name} does not listen"
        )
        job["static_configs"] = [{"targets": [f"127.0.0.1:{services.ports[name]}"]}]
    scraped = {job["static_configs"][0]["targets"][0] for job in config["scrape_configs"]}
    unscraped = {n for n, p in services.ports.items() if f"127.0.0.1:{p}" not in scraped}
    assert not unscraped, f"no scrape job for {unscraped}"
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _inject_failures(broker_url: str) -> None:
    """One malformed message for the parser and the validator, and a page whose raw bytes are missing."""
    app = make_celery("nianbao-test", broker_url)
    app.send_task(PageFetched.TASK, args=[{"schema_version": 1, "unexpected": True}], queue=PageFetched.QUEUE)
    app.send_task(ReportParsed.TASK, args=[{"schema_version": 1, "unexpected": True}], queue=ReportParsed.QUEUE)
    missing = PageFetched(site_id="demo", url="http://127.0.0.1/missing.html", final_url="http://127.0.0.1/missing.html",
                          raw_key="0" * 64, content_sha256="0" * 64)  # fmt: skip
    app.send_task(PageFetched.TASK, args=[missing.to_payload()], queue=PageFetched.QUEUE)


def _failures_seen(prom: Prometheus, count: int) -> bool:
    return all(
        prom.value(f"sum(nianbao_{stage}_tasks_total{{{TASK_FAILURES}}})") >= n
        for stage, n in (("crawler", count), ("parser", 2 * count), ("validator", count))
    )


def _check_sql_as_grafana_reader(postgres_url: str) -> None:
    """The dashboards' SQL, run as the role deploy/postgres/grafana-reader.sql creates."""
    psql = shutil.which("psql") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))), None)
    if psql is None:
        skip_or_fail("psql not found: install the PostgreSQL client (Debian: postgresql-client)")
    url = make_url(postgres_url)
    role, password = f"grafana_reader_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    libpq_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = create_engine(postgres_url)
    try:
        for _ in range(2):  # idempotent: the db-readonly service runs it on every `up`
            variables = ("ON_ERROR_STOP=1", f"reader_password={password}", f"reader_role={role}")
            options = [arg for variable in variables for arg in ("-v", variable)]
            result = _run(str(psql), libpq_url, *options, "-f", str(DEPLOY / "postgres" / "grafana-reader.sql"))
            assert result.returncode == 0, result.stdout + result.stderr
        reader = create_engine(url.set(username=role, password=password))
        try:
            with reader.connect() as conn:
                for where, kind, query in dashboard_queries():
                    if kind != "sql":
                        continue
                    rows = conn.execute(text(grafana_substitute(query).replace(":", r"\:"))).mappings().all()
                    assert rows, f"{where}: no rows"
                    if "url" in rows[0]:
                        failing = next(r for r in rows if r["rule"] == "requests.balance")
                        assert failing["title"] and failing["agency"] and failing["year"], failing
                        assert str(failing["url"]).startswith("http://127.0.0.1:"), failing
                with pytest.raises(DBAPIError, match="read-only"):
                    conn.execute(text("DELETE FROM finding"))
        finally:
            reader.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def test_stack_feeds_every_dashboard_and_alert(
    stack_factory: Callable[[dict[str, object]], Stack], redis_url: str, postgres_url: str, tmp_path: Path
) -> None:
    prometheus_binary, promtool = _binaries()
    compose = _yaml(DEPLOY / "compose.yml")
    with DevPortal() as portal:
        registry = demo_registry(portal.column_url)
        # A deep copy: nested dicts shared with the first site would be dumped as YAML anchors (refused).
        broken = dict(
            copy.deepcopy(registry["sites"][0]), id="gone", name="一个已下线的栏目",
            start_urls=[portal.url("/no-such-column/")],
        )  # fmt: skip
        registry["sites"].append(broken)
        stack = stack_factory(registry)
        stack.cli("db", "upgrade")  # what the one-shot migrate service does
        services = Services(stack, compose)
        for name, service in _long_running_services(compose).items():
            services.start(name, service)
        services.wait_healthy()

        prom_port = free_port()
        workdir = tmp_path / "prometheus"
        workdir.mkdir()
        config = _prometheus_config(workdir, prom_port, services)
        result = _run(promtool, "check", "config", str(config))
        assert result.returncode == 0, result.stdout + result.stderr
        prom = Prometheus(prometheus_binary, config, workdir, prom_port)
        try:
            prom.wait_ready()
            wait_until(lambda: len(prom.query("up == 1")) == len(config_jobs(config)), 30,
                       lambda: f"targets: {prom.api('targets')['activeTargets']}")  # fmt: skip

            # Round 1: crawl both sites, feed the parser and validator malformed messages.
            stack.cli("run")
            _inject_failures(redis_url)
            n = len(REPORTS)
            wait_until(
                lambda: prom.value('sum(nianbao_validator_tasks_total{outcome="ok"})') >= n and _failures_seen(prom, 1),
                90,
                lambda: f"{stack.log_tail('crawler')}\n{stack.log_tail('parser')}\n{stack.log_tail('validator')}",
            )
            # Round 2, after Prometheus saw round 1 (a counter's first increment is its first sample, which
            # rate() cannot see): the same failures again, and an unforced recrawl that meets 304s.
            stack.cli("run")
            _inject_failures(redis_url)
            wait_until(lambda: prom.value('sum(nianbao_crawler_tasks_total{outcome="ok"})') >= 2
                       and _failures_seen(prom, 2), 90, lambda: stack.log_tail("crawler"))  # fmt: skip
            wait_until(lambda: prom.value("sum(nianbao_crawler_not_modified_total)") > 0, 10, lambda: "no 304 seen")
            time.sleep(2)  # a few more scrapes and rule evaluations of the final state

            problems = _check_prometheus(prom)
            assert not problems, "\n".join(problems)
        finally:
            prom.stop()
        _check_sql_as_grafana_reader(postgres_url)


def config_jobs(config: Path) -> list[str]:
    return [job["job_name"] for job in _yaml(config)["scrape_configs"]]


def _check_prometheus(prom: Prometheus) -> list[str]:
    """Everything the dashboards and alerts read is there; returns what is not."""
    problems: list[str] = []
    down = [s["metric"] for s in prom.query("up") if s["value"][1] != "1"]
    if down:
        problems.append(f"targets down: {down}")

    seen: set[str] = set()
    for where, expr in promql_expressions():
        try:
            result = prom.query(expr)
        except AssertionError as exc:
            problems.append(f"{where}: query failed: {exc}")
            continue
        checked = operands(expr) if where.startswith("alert ") else [" ".join(expr.split())]
        allowed = ALERT_ALLOWED_EMPTY if where.startswith("alert ") else DASHBOARD_ALLOWED_EMPTY
        for query in checked:
            seen.add(query)
            has_data = bool(prom.query(query) if where.startswith("alert ") else result)
            if not has_data and query not in allowed:
                problems.append(f"{where}: returns nothing: {query}")
            elif has_data and query in allowed:
                problems.append(f"{where}: returns data now, drop it from the allowed-empty list: {query}")
    stale = (set(ALERT_ALLOWED_EMPTY) | set(DASHBOARD_ALLOWED_EMPTY)) - seen
    if stale:
        problems.append(f"allowed-empty entries that no rule or dashboard has: {sorted(stale)}")

    for where, expr in promql_expressions():
        for name, matchers in selectors(expr):
            if name in METRICS_ALLOWED_ABSENT:
                continue
            if not prom.query(f"count({name})"):
                problems.append(f"{where}: metric {name} has no series")
                continue
            for label, _, _ in matchers:
                if label != "__name__" and not prom.query(f'count({name}{{{label}!=""}})'):
                    problems.append(f"{where}: no series of {name} has label {label}")
        # Labels the expression groups or matches by are on at least one of its metrics.
        present = [name for name, _ in selectors(expr) if name not in METRICS_ALLOWED_ABSENT]
        for label in grouping_labels(expr):
            if present and not any(prom.query(f'count({name}{{{label}!=""}})') for name in present):
                problems.append(f"{where}: groups by {label}, which none of {sorted(set(present))} has")
    for name in METRICS_ALLOWED_ABSENT:
        if prom.query(f"count({name})"):
            problems.append(f"{name} is listed in METRICS_ALLOWED_ABSENT but has series: drop it from the list")

    # Every rule was evaluated without error; nothing fires in a run this short, but the task failures
    # injected above make the failure-ratio alert pending for every stage.
    for group in prom.api("rules")["groups"]:
        for rule in group["rules"]:
            if rule.get("health") != "ok":
                problems.append(f"rule {rule['name']}: health {rule.get('health')}: {rule.get('lastError')}")
    firing = prom.query('ALERTS{alertstate="firing"}')
    if firing:
        problems.append(f"alerts firing in a healthy run: {[a['metric'] for a in firing]}")
    pending = {a["metric"]["job"] for a in prom.query('ALERTS{alertname="NianbaoTaskFailureRatioHigh"}')}
    if pending != {"nianbao-crawler", "nianbao-parser", "nianbao-validator"}:
        problems.append(f"NianbaoTaskFailureRatioHigh should be pending for every stage, is for {pending}")
    return problems
