"""Start one service's Celery worker, with a Prometheus endpoint that is correct under prefork.

A worker refuses to start unless the database schema is at the Alembic head (``nianbao db upgrade``):
one started before the migrations would fail every message it takes, and could not record the failures.

Order matters: the multiprocess sample directory is exported before any service module (and so
prometheus_client) is imported, the endpoint is started in the parent, and each forked child drops the
database connections it inherited.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any

from nianbao.shared.celery_app import make_celery
from nianbao.shared.contracts import CRAWLER_QUEUE, PARSER_QUEUE, VALIDATOR_QUEUE
from nianbao.shared.metrics_http import enable_multiprocess, mark_process_dead, start_metrics_server


@dataclass(frozen=True)
class ServiceSpec:
    settings_path: str  # "module:Class"
    tasks_module: str
    queue: str
    # The crawler waits on the network and on per-host spacing, one site per task: threads let one
    # process crawl many sites at once (measured in bench/crawler). Parsing and validating are CPU-bound:
    # processes.
    pool: str = "prefork"


SERVICES: dict[str, ServiceSpec] = {
    "crawler": ServiceSpec(
        "nianbao.crawler.settings:CrawlerSettings", "nianbao.crawler.tasks", CRAWLER_QUEUE, pool="threads"
    ),
    "parser": ServiceSpec("nianbao.parser.settings:ParserSettings", "nianbao.parser.tasks", PARSER_QUEUE),
    "validator": ServiceSpec(
        "nianbao.validator.settings:ValidatorSettings", "nianbao.validator.tasks", VALIDATOR_QUEUE
    ),
}


class WorkerConfigError(Exception):
    """The worker cannot start as configured (no broker, unknown service)."""


def load_settings(service: str) -> Any:
    spec = SERVICES[service]
    module_name, class_name = spec.settings_path.split(":")
    return getattr(importlib.import_module(module_name), class_name)()


def build_app(service: str, settings: Any) -> Any:
    """The Celery app of one service with its tasks registered (also used by tests)."""
    app = make_celery(f"nianbao-{service}", settings.broker_url, settings)
    importlib.import_module(SERVICES[service].tasks_module).register_tasks(app, settings)
    return app


def run_worker(service: str, *, concurrency: int, metrics_port: int | None, loglevel: str) -> None:
    if service not in SERVICES:
        raise WorkerConfigError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
    settings = load_settings(service)
    if not settings.broker_url:
        raise WorkerConfigError(
            "NIANBAO_BROKER_URL is not set: workers need a broker (e.g. redis://127.0.0.1:6379/0). "
            "Without one, use `nianbao run` (embedded mode)."
        )
    from nianbao.shared.db import SchemaNotCurrent, check_schema

    try:
        check_schema(settings.resolved_database_url(), wait_s=settings.startup_db_wait_s)
    except SchemaNotCurrent as exc:
        raise WorkerConfigError(f"worker {service} not started: {exc}") from exc
    port = metrics_port if metrics_port is not None else settings.metrics_port
    if port is not None:
        enable_multiprocess((settings.data_dir / "metrics" / f"{service}-{os.getpid()}").resolve())
        start_metrics_server(port, settings.metrics_host)

    from celery import signals

    from nianbao.shared.db import dispose_engines
    from nianbao.shared.gctune import freeze_startup, tune_gc
    from nianbao.shared.unrunnable import recording_consumer

    def _child_init(**_: Any) -> None:
        dispose_engines()

    def _child_exit(pid: int | None = None, **_: Any) -> None:
        mark_process_dead(pid or os.getpid())

    def _hard_time_limit(sender: Any = None, exception: BaseException | None = None, args: Any = None,
                         **_: Any) -> None:  # fmt: skip
        # Celery acks a task killed at its hard limit (retrying a page that hangs in C code would loop):
        # record it, so it is not acked into nowhere. Other failures never reach here (the task runner
        # turns them into retries, requeues or records).
        from celery.exceptions import TimeLimitExceeded

        from nianbao.shared.taskrunner import record_failure

        if isinstance(exception, TimeLimitExceeded) and sender is not None:
            record_failure(settings, task=sender.name, queue=SERVICES[service].queue, reason="time_limit",
                           error=f"killed after {settings.task_time_limit_s:g}s (task_time_limit_s)",
                           payload=(args or [None])[0])  # fmt: skip

    def _reload_registry_on_hup(**_: Any) -> None:
        # Celery makes SIGHUP restart a detached worker; the crawler reloads its site registry instead
        # (installed once the worker is ready, after Celery's own handlers).
        from nianbao.crawler.registry import install_sighup

        install_sighup()

    if service == "crawler":
        signals.worker_ready.connect(_reload_registry_on_hup, weak=False)
    signals.worker_process_init.connect(_child_init, weak=False)
    signals.worker_process_shutdown.connect(_child_exit, weak=False)
    signals.task_failure.connect(_hard_time_limit, weak=False)
    app = build_app(service, settings)
    importlib.import_module("nianbao.app.metric_zeros").zero_metrics(service, settings)
    # A message this worker cannot run (another service's task, an unreadable body) is stored in
    # task_failure before Celery drops it, and counted as a message given up on (outcome invalid_message).
    tasks_total = importlib.import_module(f"nianbao.{service}.metrics").TASKS
    app.conf.worker_consumer = recording_consumer(
        settings, queue=SERVICES[service].queue, on_recorded=lambda: tasks_total.labels("invalid_message").inc()
    )
    tune_gc()  # done by the CLI already; here too for a worker started from Python (tests, embedding)
    freeze_startup()  # start-up is done: the prefork children inherit the frozen objects
    app.worker_main(
        [
            "worker",
            f"--queues={SERVICES[service].queue}",
            f"--pool={SERVICES[service].pool}",
            f"--concurrency={concurrency}",
            f"--hostname={service}-{os.getpid()}@%h",
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def run_beat(sites_file: Any, *, loglevel: str) -> None:
    """Run Celery beat with one crawl schedule per site (dense in the publication season). The schedule
    follows the registry file: reloaded when it changes or on SIGHUP, without restarting beat."""
    from nianbao.crawler.registry import install_sighup, shared_source
    from nianbao.crawler.schedule import registry_scheduler
    from nianbao.shared.settings import CommonSettings

    settings = CommonSettings()
    if not settings.broker_url:
        raise WorkerConfigError("NIANBAO_BROKER_URL is not set: beat enqueues crawls on a broker")
    source = shared_source(sites_file)
    app = make_celery("nianbao-beat", settings.broker_url, settings)
    state = (settings.data_dir / "celerybeat-schedule").resolve()
    state.parent.mkdir(parents=True, exist_ok=True)
    install_sighup()
    app.Beat(loglevel=loglevel, schedule=str(state), scheduler=registry_scheduler(source)).run()
