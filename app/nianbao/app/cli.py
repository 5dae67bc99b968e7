"""The ``nianbao`` command line. Every command has ``--help``; heavy imports happen inside commands so
that ``nianbao worker`` can prepare Prometheus multiprocess mode before any metric is created.

Exit status of every command: 0 done (nothing fails), 1 a finding or a task fails, 2 unusable input, usage
or configuration (including a database or broker that cannot be reached), 3 internal error. No traceback
unless ``--debug`` is given: an unexpected exception prints one line ``internal error: …``. Text that
comes from users or documents is never interpreted as rich markup.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape

from nianbao.app.ops_cli import failures_app, sites_summary
from nianbao.app.pages_cli import pages
from nianbao.app.settings import AppSettings

app = typer.Typer(
    help="nianbao: collect and check government information-disclosure annual reports (政府信息公开工作年度报告).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # main() prints one line, or the traceback with --debug
)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
sites_app = typer.Typer(help="The site registry (sites.yaml).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(sites_app, name="sites")
app.add_typer(failures_app, name="failures")
sites_app.command("summary")(sites_summary)
app.command("pages")(pages)

# Soft wrap: never hard-wrap output (a path longer than the width must stay one line when piped).
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True, highlight=False)

EXIT_OK, EXIT_FAILING, EXIT_UNUSABLE, EXIT_INTERNAL = 0, 1, 2, 3
FINDING_STATUSES = ("fail", "pass", "not_assessable", "all")
_state = {"debug": False}

SitesFile = Annotated[
    Path | None, typer.Option("--sites-file", help="Site registry to use (default: NIANBAO_SITES_FILE or sites.yaml).")
]


@app.callback()
def _configure_logging(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an internal error (exit status 3).")
    ] = False,
) -> None:
    """Log records go to stderr at NIANBAO_LOG_LEVEL; progress and results go to stdout."""
    import logging

    from nianbao.shared.gctune import tune_gc

    tune_gc()  # every command may run the pipeline in this process (see gctune for why)

    _state["debug"] = _state["debug"] or debug

    level = AppSettings().log_level.upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Request-level chatter of the HTTP client would drown the crawl's own log lines.
    for chatty in ("httpx", "httpcore", "alembic"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))


def _progress(line: str) -> None:
    console.print(f"  {line}", soft_wrap=True, highlight=False, markup=False)


def _say(line: str) -> None:
    """A result line that holds user data (ids, names, paths, URLs): printed as is, never as markup, tabs
    kept (rich would expand them)."""
    console.file.write(line + "\n")


_FILE_HELP = "A report: HTML, text, PDF, DOCX or XLSX; DOC, WPS, RTF, XLS and ET need LibreOffice (soffice)."
# Warnings that mean nothing of the document could be read here: `check` exits 2 on them (no tables).
_UNREADABLE = ("converter_missing", "scanned_document", "unsupported_format")


def _fail(message: str, code: int = EXIT_UNUSABLE) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(code)


def _warn(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {escape(message)}")


def _registry(sites_file: Path | None) -> Any:
    from nianbao.crawler.sites import SiteConfigError, load_sites

    path = sites_file or AppSettings().sites_file
    try:
        return load_sites(path)
    except FileNotFoundError:
        raise _fail(f"site registry {path} not found (set NIANBAO_SITES_FILE or pass --sites-file)") from None
    except SiteConfigError as exc:
        raise _fail(f"invalid site registry {path}:\n{exc}") from None


def _registry_or_warn(path: Path) -> None:
    """Warn (the worker still starts: the registry is read again at each crawl) when ``path`` does not load."""
    from nianbao.crawler.sites import SiteConfigError, load_sites

    try:
        registry = load_sites(path)
    except FileNotFoundError:
        _warn(f"site registry {path} not found: crawls fail until it exists (set NIANBAO_SITES_FILE or "
              "pass --sites-file)")  # fmt: skip
    except SiteConfigError as exc:
        _warn(f"invalid site registry {path}: crawls use it once it is fixed:\n{exc}")
    else:
        _say(f"site registry {path.absolute()}: {len(registry.sites)} site(s) (reloaded when the file changes)")


def _session() -> Any:
    from nianbao.shared.db import session_scope, upgrade

    url = AppSettings().resolved_database_url()
    upgrade(url)
    return session_scope(url)


# --- pipeline -------------------------------------------------------------------------------------------


@app.command()
def demo() -> None:
    """Start the local demo portal, crawl it in embedded mode and print what was found and checked."""
    from nianbao.app.embedded import run_embedded
    from nianbao.app.render import print_demo_summary
    from nianbao.crawler.sites import SiteRegistry
    from nianbao.devportal.server import DevPortal

    settings = AppSettings()
    # A stable port keeps the demo's report URLs, and so its stored reports, the same from run to run.
    try:
        portal = DevPortal(port=DEMO_PORT).start()
    except OSError:
        portal = DevPortal().start()
    try:
        console.print(f"demo portal serving at [bold]{escape(portal.base_url)}[/bold]")
        registry = SiteRegistry.from_dict(demo_registry(portal.column_url))
        stats = run_embedded(registry, ["demo"], force=True, progress=_progress)
    finally:
        portal.stop()
    with _session() as session:
        from nianbao.app.queries import list_reports

        reports = list_reports(session, "demo")
    print_demo_summary(console, reports, stats, settings)


DEMO_PORT = 8734  # preferred loopback port of the demo portal; any free port if it is taken


def demo_registry(column_url: str) -> dict[str, Any]:
    """The one-site registry the demo crawls (loopback is allowed for this site only)."""
    return {
        "version": 1,
        "sites": [
            {
                "id": "demo",
                "name": "示例市人民政府（本地演示门户）",
                "family": "trs",
                "start_urls": [column_url],
                "allowed_hosts": ["127.0.0.1"],
                "allow_private_addresses": True,
                "politeness": {"min_delay_s": 0.02, "jitter_s": 0.0},
            }
        ],
    }


@app.command()
def run(
    site: Annotated[
        list[str] | None, typer.Option("--site", help="Site id to crawl (repeatable); default all.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Bypass freshness caches (conditional GET, content hashes).")] = False,
    sites_file: SitesFile = None,
) -> None:
    """Crawl the configured sites: in this process (embedded) unless NIANBAO_BROKER_URL is set, in
    which case one crawl task per site is enqueued for the workers."""
    registry = _registry(sites_file)
    site_ids = list(site) if site else [s.id for s in registry.sites]
    for site_id in site_ids:
        _check_site(registry, site_id)
    settings = AppSettings()
    if settings.broker_url:
        _enqueue(site_ids, force=force, reason="cli", sites_file=sites_file or settings.sites_file)
        return
    from nianbao.app.embedded import run_embedded
    from nianbao.app.progress import ProgressReporter

    with ProgressReporter("run") as progress:
        stats = run_embedded(registry, site_ids, force=force, progress=progress)
    console.print(f"done: {stats.handled}; failures: {len(stats.failures)}")
    if stats.failures:
        raise typer.Exit(1)


@app.command()
def recrawl(site_id: str, sites_file: SitesFile = None) -> None:
    """Enqueue a fresh crawl of one site, bypassing freshness caches (needs NIANBAO_BROKER_URL;
    without a broker the crawl runs here, embedded)."""
    registry = _registry(sites_file)
    _check_site(registry, site_id)
    if AppSettings().broker_url:
        _enqueue([site_id], force=True, reason="cli", sites_file=sites_file or AppSettings().sites_file)
        return
    from nianbao.app.embedded import run_embedded
    from nianbao.app.progress import ProgressReporter

    with ProgressReporter("recrawl") as progress:
        stats = run_embedded(registry, [site_id], force=True, progress=progress)
    console.print(f"done: {stats.handled}; failures: {len(stats.failures)}")


def _check_site(registry: Any, site_id: str) -> None:
    from nianbao.crawler.sites import UnknownSite

    try:
        registry.get(site_id)
    except UnknownSite:
        known = ", ".join(s.id for s in registry.sites) or "(none)"
        raise _fail(f"unknown site {_quote(site_id)}; configured sites: {known}") from None


def _enqueue(site_ids: list[str], *, force: bool, reason: Literal["cli", "api"], sites_file: Path) -> None:
    from nianbao.shared.bus import CeleryPublisher
    from nianbao.shared.celery_app import make_celery
    from nianbao.shared.contracts import CrawlRequested

    settings = AppSettings()
    assert settings.broker_url
    _ping_broker(settings.broker_url)
    celery_app = make_celery("nianbao-cli", settings.broker_url)
    from nianbao.app.failures import sender

    send = sender(CeleryPublisher(celery_app))
    for site_id in site_ids:
        task_id = send(CrawlRequested(site_id=site_id, force=force, reason=reason))
        _say(f"enqueued crawl of {site_id} (force={force}) on queue {CrawlRequested.QUEUE} as task {task_id}")
    _say(FOLLOW_HINT)
    _warn(
        f"the crawler workers look the site(s) up in their own registry: they must read the same file "
        f"({sites_file.absolute()}), through NIANBAO_SITES_FILE or `nianbao worker crawler --sites-file`; "
        "a site they do not know fails its crawl (recorded in task_failure)"
    )
    if not _queue_has_consumer(celery_app, CrawlRequested.QUEUE):
        _warn(
            f"no worker consumes queue {CrawlRequested.QUEUE!r} (none answered `celery inspect` within "
            f"{CONSUMER_TIMEOUT_S:g} s): the crawl waits until `nianbao worker crawler` runs"
        )


FOLLOW_HINT = (
    "follow it: the crawler worker's log lines name the task id, and the crawl run it records has that id "
    "(`nianbao sites summary SITE_ID` shows the last crawl's run id, found and announced)"
)
CONSUMER_TIMEOUT_S = 1.5  # how long `run`/`recrawl` wait for workers to say which queues they consume


def _ping_broker(url: str) -> None:
    """Exit 2 naming NIANBAO_BROKER_URL when the Redis broker does not answer (instead of Celery's retries)."""
    import redis

    if not url.startswith(("redis://", "rediss://", "unix://")):
        return
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (redis.exceptions.RedisError, ValueError, OSError) as exc:
        problem = f"cannot reach the broker at {_redact(url)} ({_first_line(exc)}): check NIANBAO_BROKER_URL"
        raise _fail(problem) from None


def _queue_has_consumer(celery_app: Any, queue: str) -> bool:
    try:
        replies = celery_app.control.inspect(timeout=CONSUMER_TIMEOUT_S).active_queues() or {}
    except Exception:  # the broker answered the ping; a failed inspect only means "unknown": warn
        return False
    return any(q.get("name") == queue for queues in replies.values() for q in (queues or []))


@app.command()
def worker(
    service: Annotated[str, typer.Argument(help="crawler | parser | validator")],
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Processes (parser, validator: NIANBAO_WORKER_CONCURRENCY) or threads "
            "(crawler: NIANBAO_CRAWLER_THREADS)."
        ),
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve /metrics here (default NIANBAO_METRICS_PORT).")
    ] = None,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
    sites_file: Annotated[
        Path | None,
        typer.Option(
            "--sites-file",
            help="Site registry the crawler worker reads (sets NIANBAO_SITES_FILE for this worker; default: "
            "NIANBAO_SITES_FILE or sites.yaml). Reloaded when the file changes or on SIGHUP.",
        ),
    ] = None,
) -> None:
    """Start one service's Celery worker (consumes the queue named after the service)."""
    import os

    from nianbao.app.worker import WorkerConfigError, run_worker

    if sites_file is not None:
        os.environ["NIANBAO_SITES_FILE"] = str(sites_file.absolute())  # the worker's settings read it
    settings = AppSettings()
    if service == "crawler":
        _registry_or_warn(settings.sites_file)
    try:
        default = settings.crawler_threads if service == "crawler" else settings.worker_concurrency
        run_worker(service, concurrency=concurrency or default, metrics_port=metrics_port, loglevel=loglevel)
    except WorkerConfigError as exc:
        raise _fail(str(exc)) from None


@app.command()
def beat(
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
    sites_file: SitesFile = None,
) -> None:
    """Run the crawl scheduler (Celery beat): each site crawled often January–April, rarely otherwise."""
    from nianbao.app.worker import WorkerConfigError, run_beat

    _registry(sites_file)  # refuse to start on a registry that does not load
    try:
        run_beat(sites_file or AppSettings().sites_file, loglevel=loglevel)
    except WorkerConfigError as exc:
        raise _fail(str(exc)) from None


@app.command()
def admin(
    host: Annotated[str | None, typer.Option(help="Bind address (default NIANBAO_ADMIN_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default NIANBAO_ADMIN_PORT, 8080).")] = None,
    sites_file: SitesFile = None,
) -> None:
    """Serve the admin HTTP API (sites, reports, findings, recrawl); needs NIANBAO_ADMIN_TOKEN."""
    import uvicorn

    from nianbao.app.admin_api import AdminConfigError, create_app
    from nianbao.crawler.registry import install_sighup, shared_source
    from nianbao.shared.bus import CeleryPublisher
    from nianbao.shared.celery_app import make_celery
    from nianbao.shared.db import upgrade

    settings = AppSettings()
    _registry(sites_file)  # refuse to start on a registry that does not load
    registry = shared_source(sites_file or settings.sites_file)  # then follow its changes (and SIGHUP)
    install_sighup()
    publisher = CeleryPublisher(make_celery("nianbao-admin", settings.broker_url)) if settings.broker_url else None
    try:
        api = create_app(settings, registry, publisher)
    except AdminConfigError as exc:
        raise _fail(str(exc)) from None
    upgrade(settings.resolved_database_url())
    uvicorn.run(api, host=host or settings.admin_host, port=port or settings.admin_port, log_level="info")


# --- single documents ------------------------------------------------------------------------------------


def _parse_file(path: Path) -> Any:
    from nianbao.parser.errors import UnusableInput
    from nianbao.parser.extract import parse_file

    if not path.is_file():
        raise _fail(f"{path}: no such file")
    try:
        return parse_file(path)
    except UnusableInput as exc:
        raise _fail(f"{path}: unusable input: {exc}") from None


@app.command()
def parse(
    file: Annotated[Path, typer.Argument(help=_FILE_HELP)],
    as_json: Annotated[bool, typer.Option("--json", help="Print the canonical record as JSON.")] = False,
) -> None:
    """Print the canonical record of one local file."""
    from nianbao.app.render import print_record

    record = _parse_file(file)
    if as_json:
        sys.stdout.write(json.dumps(record.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n")
        return
    print_record(console, record)


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help=_FILE_HELP)],
    as_json: Annotated[bool, typer.Option("--json", help="Print every finding as JSON.")] = False,
) -> None:
    """Parse and validate one local file (HTML, text, PDF, DOCX, XLSX; DOC/WPS/RTF/XLS/ET with LibreOffice)
    and print its findings, each failing cell with its source (line, page and box, or table/row/column).

    Exit status: 0 when no finding fails, 1 when one does, 2 on unusable input (including a scan, a format
    that needs a converter that is not installed, or one nianbao cannot read), 3 on an internal error."""
    from nianbao.app.render import print_findings
    from nianbao.parser.warning_codes import WARNING_CODES
    from nianbao.validator.rules import evaluate

    record = _parse_file(file)
    unreadable = [w for w in record.warnings if w.code in _UNREADABLE and not record.tables]
    if unreadable:
        w = unreadable[0]
        raise _fail(f"{file}: {w.code}: {w.detail or WARNING_CODES.get(w.code, '')}")
    evaluation = evaluate(record)
    failing = [f for f in evaluation.findings if f.status == "fail"]
    if as_json:
        out = {
            "file": str(file),
            "blank_policy": evaluation.blank_policy,
            "rules_version": evaluation.rules_version,
            "findings": [f.model_dump(mode="json") for f in evaluation.findings],
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    else:
        print_findings(console, record, evaluation.findings)
    raise typer.Exit(1 if failing else 0)


@app.command("eval")
def eval_corpus(
    directory: Annotated[Path, typer.Argument(help="A corpus directory (documents with .expected.json beside).")],
) -> None:
    """Measure parser accuracy against every document with an expected record."""
    from nianbao.parser.evaluate import evaluate_corpus, render_eval

    if not directory.is_dir():
        raise _fail(f"{directory}: not a directory")
    result = evaluate_corpus(directory)
    sys.stdout.write(render_eval(result) + "\n")


@app.command()
def rules() -> None:
    """List the rule catalogue (id, severity, generations, version, description)."""
    from nianbao.app.render import print_rules
    from nianbao.validator.rules import CATALOGUE, RULES_VERSION

    print_rules(console, CATALOGUE, RULES_VERSION)


def _quote(value: str, limit: int = 80) -> str:
    """``value`` quoted for a message, cut to ``limit`` characters."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _known_sites(session: Any) -> list[str]:
    """Site ids the registry configures or the database holds reports of (the demo site is only there)."""
    from sqlmodel import col, select

    from nianbao.shared.models import Report

    known = set(session.exec(select(col(Report.site_id)).distinct()))
    try:
        from nianbao.crawler.sites import load_sites

        known |= {s.id for s in load_sites(AppSettings().sites_file).sites}
    except Exception:  # no or broken registry: the stored sites still count
        pass
    return sorted(known)


def _check_stored_site(session: Any, site: str | None) -> None:
    if site is None:
        return
    known = _known_sites(session)
    if site not in known:
        listed = ", ".join(known[:50]) + (f", … {len(known) - 50} more" if len(known) > 50 else "")
        raise _fail(f"unknown site {_quote(site)}; known sites: {listed or '(none)'}")


def _check_rule(session: Any, rule: str | None) -> None:
    if rule is None:
        return
    from sqlmodel import col, select

    from nianbao.shared.models import FindingRow
    from nianbao.validator.rules import CATALOGUE

    known = {spec.id for spec in CATALOGUE} | set(session.exec(select(col(FindingRow.rule)).distinct()))
    if rule not in known:
        raise _fail(f"unknown rule {_quote(rule)}; rule ids (see `nianbao rules`): {', '.join(sorted(known))}")


def _print_json_lines(rows: Iterable[Any]) -> None:
    """One JSON object per dataclass row, for scripts (``--json``)."""
    from dataclasses import asdict

    for row in rows:
        sys.stdout.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")


# --- database views --------------------------------------------------------------------------------------


@app.command()
def reports(
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """List the reports the database holds."""
    from nianbao.app.queries import iter_reports
    from nianbao.app.render import print_reports

    with _session() as session:
        _check_stored_site(session, site)
        # Streamed from the database as they are printed: any number of reports in bounded memory.
        rows = iter_reports(session, site)
        if as_json:
            _print_json_lines(rows)
            return
        print_reports(console, rows)


@app.command()
def findings(
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule id.")] = None,
    status: Annotated[str, typer.Option(help="fail | pass | not_assessable | all")] = "fail",
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """List stored findings (failing ones by default)."""
    from nianbao.app.queries import count_findings, iter_findings
    from nianbao.app.render import print_finding_rows

    if status not in FINDING_STATUSES:
        raise _fail(f"--status must be one of {', '.join(FINDING_STATUSES)}, not {_quote(status)}")
    wanted = None if status == "all" else status
    with _session() as session:
        _check_stored_site(session, site)
        _check_rule(session, rule)
        # Streamed from the database as they are printed: any number of findings in bounded memory.
        rows = iter_findings(session, site_id=site, rule=rule, status=wanted)
        if as_json:
            _print_json_lines(rows)
            return
        print_finding_rows(console, count_findings(session, site_id=site, rule=rule, status=wanted), rows)


@app.command()
def show(
    report: Annotated[str, typer.Argument(help="A stored report: its id (see `nianbao reports`) or its page URL.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the same as one JSON object.")] = False,
) -> None:
    """One stored report: agency, year, generation, metadata, source URL and raw copy, its failing findings
    with their operands, and every value with its label and where it was read (line, page and box, or
    table/row/column, and the attachment it came from)."""
    from dataclasses import asdict

    from nianbao.app.queries import find_report
    from nianbao.app.render import print_report_view
    from nianbao.app.show import build_view

    with _session() as session:
        stored = find_report(session, report)
        if stored is None:
            raise _fail(f"no stored report {_quote(report)} (give a report id or URL from `nianbao reports`)")
        view = build_view(session, stored, raw_root=AppSettings().resolved_raw_store_dir())
    if as_json:
        sys.stdout.write(json.dumps(asdict(view), ensure_ascii=False, indent=2) + "\n")
        return
    print_report_view(console, view)


@app.command()
def revalidate(
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    all_reports: Annotated[
        bool, typer.Option("--all", help="Every report, not only those checked by an older rules version.")
    ] = False,
) -> None:
    """Re-run the rule catalogue over stored records (no refetch, no reparse); findings are updated in
    place, never duplicated."""
    from nianbao.shared.db import upgrade
    from nianbao.validator.maintenance import revalidate as run_revalidate
    from nianbao.validator.settings import ValidatorSettings

    settings = ValidatorSettings()
    upgrade(settings.resolved_database_url())
    from nianbao.app.progress import ProgressReporter

    with ProgressReporter("revalidate") as progress:
        stats = run_revalidate(settings, site_id=site, only_stale=not all_reports, progress=progress)
    console.print(
        f"{stats.considered} stored report(s), {stats.revalidated} revalidated, {stats.changed} changed, "
        f"{len(stats.errors)} error(s)"
    )
    if stats.errors:
        raise typer.Exit(1)


@app.command()
def reparse(site: Annotated[str | None, typer.Option(help="Only this site.")] = None) -> None:
    """Re-parse stored raw pages with the current parser and re-validate them (no refetch)."""
    from nianbao.app.maintenance import reparse as run_reparse
    from nianbao.app.progress import ProgressReporter

    with ProgressReporter("reparse") as progress:
        stats = run_reparse(site, progress=progress)
    console.print(f"done: {stats.handled}; failures: {len(stats.failures)}")
    if stats.failures:
        raise typer.Exit(1)


@app.command()
def export(
    out: Annotated[Path | None, typer.Option("--out", help="Directory to write into (created if missing).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv | parquet")] = "csv",
    site: Annotated[str | None, typer.Option(help="Only this site.")] = None,
    bom: Annotated[
        bool, typer.Option("--bom", help="Start each CSV file with a UTF-8 BOM (for spreadsheet programs).")
    ] = False,
    describe: Annotated[
        bool, typer.Option("--describe", help="Print the data dictionary (every column of every file) instead.")
    ] = False,
) -> None:
    """Write reports, values (long and wide) and findings as CSV or Parquet files with stable columns.

    CSV cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
    return) are written with a leading ' (numbers stay numbers)."""
    from nianbao.app.export import describe_markdown
    from nianbao.app.export import export as run_export

    if describe:
        sys.stdout.write(describe_markdown() + "\n")
        return
    if out is None:
        raise _fail("--out DIR is required (or --describe for the data dictionary)")
    if fmt not in ("csv", "parquet"):
        raise _fail(f"--format must be csv or parquet, not {_quote(fmt)}")
    if bom and fmt != "csv":
        raise _fail("--bom applies to --format csv only")
    with _session() as session:
        _check_stored_site(session, site)
        from nianbao.app.progress import ProgressReporter

        with ProgressReporter("export") as progress:
            result = run_export(session, out, fmt, site, bom=bom, progress=progress)  # type: ignore[arg-type]
    for name, path in result.files.items():
        _say(f"{path}\t{result.rows[name]} row(s)")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to NIANBAO_DATABASE_URL (or the embedded SQLite file)."""
    from nianbao.shared.db import upgrade

    url = AppSettings().resolved_database_url()
    upgrade(url)
    _say(f"database at {_redact(url)} is up to date")


def _redact(url: str) -> str:
    """``url`` without its password (database or broker URL), for messages."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.rpartition("@")
        user = netloc[0].partition(":")[0]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[2]}"))
    except ValueError:
        return "(unparseable URL)"


@app.command()
def config(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the reference table (defaults) instead.")] = False,
) -> None:
    """Show every setting with its effective value here (secrets redacted), or the reference table."""
    from nianbao.app.config_doc import effective_values, markdown_table

    if markdown:
        sys.stdout.write(markdown_table() + "\n")
        return
    for env, value in effective_values().items():
        sys.stdout.write(f"{env}={value}\n")


@sites_app.command("list")
def sites_list(sites_file: SitesFile = None) -> None:
    """List the configured sites."""
    registry = _registry(sites_file)
    for site in registry.sites:
        _say(f"{site.id}\t{site.family}\t{site.name}\t{' '.join(site.start_urls)}")


@sites_app.command("check")
def sites_check(
    site_id: str,
    sites_file: SitesFile = None,
    full: Annotated[
        bool, typer.Option("--full", help="Walk every listing page (up to the site's page cap), not a sample of 2.")
    ] = False,
) -> None:
    """Dry run of one site: family sniffed, page-1/page-2 samples, pagination offset, titles kept and
    rejected with the reason, charset decisions, challenges seen, and the completeness verdict (complete,
    incomplete, blocked, empty, unknown). Stores nothing. Exit 0 when it looks crawlable, else 1."""
    from nianbao.crawler.settings import CrawlerSettings
    from nianbao.crawler.sitecheck import check_site

    registry = _registry(sites_file)
    _check_site(registry, site_id)
    report = check_site(registry.get(site_id), CrawlerSettings(), full=full)
    sys.stdout.write(report.render() + "\n")
    raise typer.Exit(0 if report.ok else 1)


def _first_line(exc: BaseException, limit: int = 300) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[:limit] + "…"


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    node: BaseException | None = exc
    while node is not None and node not in chain and len(chain) < 10:
        chain.append(node)
        node = node.__cause__ or node.__context__
    return chain


def _config_problem(exc: BaseException) -> str | None:
    """One line naming the setting to fix when ``exc`` is a database, broker or settings problem."""
    import pydantic
    import redis
    import sqlalchemy.exc
    from kombu.exceptions import OperationalError as KombuOperationalError

    for e in _causes(exc):
        if isinstance(e, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
            url = _redact(_safe_database_url())
            return f"cannot use the database at {url} ({_first_line(e.orig or e)}): check NIANBAO_DATABASE_URL"
        if isinstance(e, sqlalchemy.exc.ArgumentError | sqlalchemy.exc.NoSuchModuleError):
            return f"NIANBAO_DATABASE_URL is not a usable database URL: {_first_line(e)}"
        if isinstance(e, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError | KombuOperationalError):
            return f"cannot reach the broker ({_first_line(e)}): check NIANBAO_BROKER_URL"
        if isinstance(e, pydantic.ValidationError) and "Settings" in e.title:
            problems = "; ".join(
                f"NIANBAO_{'_'.join(map(str, err['loc'])).upper()}: {err['msg']}" for err in e.errors()[:5]
            )
            return f"invalid setting: {problems}"
    return None


def _safe_database_url() -> str:
    try:
        return AppSettings().resolved_database_url()
    except Exception:
        return "(NIANBAO_DATABASE_URL)"


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the command and turn every outcome into the documented exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    _state["debug"] = "--debug" in args[: next((i for i, a in enumerate(args) if not a.startswith("-")), len(args))]
    try:
        code = app(args=args, prog_name="nianbao", standalone_mode=False)
    except typer.TyperException as exc:  # usage (typer's click): unknown option, bad value, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err.print(f"error: {_first_line(exc)}", markup=False, highlight=False)
        code = EXIT_UNUSABLE
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted", markup=False)
        code = 130
    except Exception as exc:
        problem = _config_problem(exc)
        if _state["debug"]:
            traceback.print_exc()
        if problem is not None:
            err.print(f"error: {problem}", markup=False, highlight=False)
            code = EXIT_UNUSABLE
        else:
            err.print(f"internal error: {type(exc).__name__}: {_first_line(exc)}", markup=False, highlight=False)
            if not _state["debug"]:
                err.print("(run with --debug for the traceback)", markup=False, highlight=False)
            code = EXIT_INTERNAL
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":
    main()
