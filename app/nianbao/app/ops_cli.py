"""Operator commands: ``nianbao failures list|retry`` and ``nianbao sites summary`` (registered in cli.py).

Exit status as everywhere: 0 done; 1 when a failure could not be retried (its stored payload is invalid,
truncated or cut: sending it would only fail again); 2 for an unknown failure id, site or filter value,
or a missing broker. Queries live in failures.py and summaries.py (the admin API uses the same).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Annotated, Any

import typer

failures_app = typer.Typer(help="Task failures recorded in the database (task_failure).", no_args_is_help=True)

Queue = Annotated[str | None, typer.Option("--queue", help="crawler | parser | validator")]
Site = Annotated[str | None, typer.Option("--site", help="Only this site.")]
Reason = Annotated[
    str | None,
    typer.Option(
        "--reason", help="permanent | retries_exhausted | invalid_message | time_limit | unknown_task | unreadable"
    ),
]
Task = Annotated[str | None, typer.Option("--task", help="Task name, e.g. nianbao.parser.parse_page.")]
Ids = Annotated[list[int] | None, typer.Argument(help="Failure ids (see `nianbao failures list`).")]
AllMatching = Annotated[
    bool, typer.Option("--all", help="Every failure matching the filters (all of them without filters).")
]


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _check(session: Any, site: str | None, queue: str | None, reason: str | None, task: str | None) -> None:
    from nianbao.app import cli
    from nianbao.app.failures import FilterError, check_filters

    try:
        check_filters(queue=queue, reason=reason, task=task)
    except FilterError as exc:
        raise cli._fail(str(exc)) from None
    _check_site(session, site)


def _check_site(session: Any, site: str | None) -> None:
    """Exit 2 for a site neither the registry nor the database (reports, crawl runs, failures) knows."""
    from nianbao.app import cli
    from nianbao.app.summaries import known_site_ids

    if site is not None and site not in known_site_ids(session, cli._known_sites(session)):
        raise cli._fail(f"unknown site {cli._quote(site)} (see `nianbao sites list` and `nianbao reports`)")


@failures_app.command("list")
def failures_list(
    queue: Queue = None,
    site: Site = None,
    reason: Reason = None,
    task: Task = None,
    limit: Annotated[int, typer.Option(help="At most this many (1..1000), newest first.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of tab-separated lines.")] = False,
) -> None:
    """List recorded task failures, newest first: id, when, task, queue, reason, site, page URL, error."""
    from nianbao.app import cli
    from nianbao.app.failures import MAX_LIMIT, list_failures

    if not 1 <= limit <= MAX_LIMIT:
        raise cli._fail(f"--limit must be 1..{MAX_LIMIT}")
    with cli._session() as session:
        _check(session, site, queue, reason, task)
        page = list_failures(session, queue=queue, site_id=site, reason=reason, task=task, limit=limit)
    if as_json:
        for row in page.failures:
            sys.stdout.write(_dump(asdict(row)) + "\n")
        return
    for f in page.failures:
        fields = (f.id, f.created_at.isoformat(timespec="seconds"), f.task, f.queue, f.reason, f.site_id or "-",
                  f.url or "-", f.error_summary)  # fmt: skip
        cli._say("\t".join(str(v).replace("\t", " ").replace("\n", " ") for v in fields))
    more = f" (newest {len(page.failures)} shown; --limit for more)" if page.total > len(page.failures) else ""
    cli.err.print(f"{page.total} task failure(s){more}", markup=False, highlight=False)


def _check_choice(ids: list[int] | None, all_matching: bool, *filters: str | None) -> None:
    """Exit 2 unless the failures are named either by id or by ``--all`` with optional filters."""
    from nianbao.app import cli

    if bool(ids) == all_matching:
        raise cli._fail("give failure ids, or --all (with --queue/--site/--reason/--task to narrow it)")
    if ids and any(v is not None for v in filters):
        raise cli._fail("--queue/--site/--reason/--task apply to --all only")


def _database() -> str:
    """The app's database URL with its schema brought up to date, once: the per-failure loops below open a
    transaction per failure (each stands alone) on it, where ``cli._session()`` would upgrade each time
    (~3 ms a failure, minutes for an ``--all`` over a flood of rows)."""
    from nianbao.app.settings import AppSettings
    from nianbao.shared.db import upgrade

    url = AppSettings().resolved_database_url()
    upgrade(url)
    return url


def _matching_ids(site: str | None, queue: str | None, reason: str | None, task: str | None) -> list[int]:
    """Every failure id the filters match (exit 2 for an unknown filter value), read by key 1 000 at a time
    so that rows handled meanwhile do not shift pages."""
    from nianbao.app import cli
    from nianbao.app.failures import list_failures

    ids: list[int] = []
    with cli._session() as session:
        _check(session, site, queue, reason, task)
        after: int | None = None
        while True:
            page = list_failures(session, queue=queue, site_id=site, reason=reason, task=task, limit=1000,
                                 after_id=after)  # fmt: skip
            ids += [f.id for f in page.failures]
            if len(page.failures) < 1000:
                return ids
            after = page.failures[-1].id


@failures_app.command("retry")
def failures_retry(
    ids: Ids = None,
    all_matching: AllMatching = False,
    queue: Queue = None,
    site: Site = None,
    reason: Reason = None,
    task: Task = None,
) -> None:
    """Re-enqueue failed messages to their tasks (needs NIANBAO_BROKER_URL). A retried failure's row is
    deleted once the broker took the message; if it fails again, a new row is recorded."""
    from nianbao.app import cli
    from nianbao.app.failures import NotRetryable, retry_failure, sender
    from nianbao.app.settings import AppSettings
    from nianbao.shared.bus import CeleryPublisher
    from nianbao.shared.celery_app import make_celery
    from nianbao.shared.db import session_scope

    _check_choice(ids, all_matching, queue, site, reason, task)
    broker = AppSettings().broker_url
    if not broker:
        raise cli._fail("retrying needs a broker: set NIANBAO_BROKER_URL (embedded mode: run or reparse again)")
    cli._ping_broker(broker)
    send = sender(CeleryPublisher(make_celery("nianbao-cli", broker)))
    if all_matching:
        ids = _matching_ids(site, queue, reason, task)
    url = _database()
    unknown = refused = 0
    for failure_id in ids or []:
        try:
            with session_scope(url) as session:  # one transaction per failure: each retry stands alone
                done = retry_failure(session, failure_id, send)
        except NotRetryable as exc:
            refused += 1
            cli._warn(f"failure {failure_id} not retried: {exc}")
            continue
        if done is None:
            unknown += 1
            cli.err.print(f"error: no task failure {failure_id}", markup=False, highlight=False)
            continue
        cli._say(f"retried failure {failure_id} ({done.task}) as task {done.task_id} on queue {done.queue}")
    if all_matching and not ids:
        cli._say("no task failure matches")
    raise typer.Exit(cli.EXIT_UNUSABLE if unknown else 1 if refused else 0)


def sites_summary(
    site_id: Annotated[str, typer.Argument(help="A site id (registry or database).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
) -> None:
    """One site: reports per year, failing findings per rule, the last crawl (announced/found), and the
    task failures still recorded."""
    from nianbao.app import cli
    from nianbao.app.summaries import site_summary

    with cli._session() as session:
        _check_site(session, site_id)
        summary = site_summary(session, site_id)
    if as_json:
        sys.stdout.write(_dump(asdict(summary)) + "\n")
        return
    say = cli._say
    say(f"site {summary.site_id}: {summary.reports} report(s), {summary.failing_findings} failing finding(s), "
        f"{summary.task_failures} task failure(s)")  # fmt: skip
    say("reports per year (year, reports, with a failing finding):")
    for y in summary.reports_per_year:
        say(f"  {y.year if y.year is not None else '?'}\t{y.reports}\t{y.failing_reports}")
    say("failing findings per rule (rule, severity, findings, reports):")
    for r in summary.failing_by_rule:
        say(f"  {r.rule}\t{r.severity}\t{r.failing}\t{r.reports}")
    crawl = summary.last_crawl
    if crawl is None:
        say(f"last crawl: none ({summary.last_crawl_note})")
        return
    counted = (
        f"found {crawl.found} of {crawl.announced_text}"
        if crawl.announced is not None
        else f"found {crawl.found}, nothing announced"
    )
    say(f"last crawl: {crawl.started_at.isoformat(timespec='seconds')} run {crawl.run_id}: {crawl.verdict}, "
        f"{counted}, kept {crawl.kept}, fetched {crawl.fetched}, "
        f"handed on {crawl.handed_on}")  # fmt: skip
    for s in crawl.shortfalls:
        say(f"  short: {s.get('start_url')} found {s.get('found')} of {s.get('expected')} ({s.get('reason')})")


@failures_app.command("delete")
def failures_delete(
    ids: Ids = None,
    all_matching: AllMatching = False,
    queue: Queue = None,
    site: Site = None,
    reason: Reason = None,
    task: Task = None,
) -> None:
    """Delete recorded failures that will not be retried (an `unreadable` message, a page since removed):
    `task_failure` lists what still needs attention. Each deletion is printed and logged."""
    from nianbao.app import cli
    from nianbao.app.failures import delete_failure
    from nianbao.shared.db import session_scope

    _check_choice(ids, all_matching, queue, site, reason, task)
    if all_matching:
        ids = _matching_ids(site, queue, reason, task)
    url = _database()
    unknown = 0
    for failure_id in ids or []:
        with session_scope(url) as session:  # one transaction per failure: each deletion stands alone
            deleted = delete_failure(session, failure_id)
        if deleted is None:
            unknown += 1
            cli.err.print(f"error: no task failure {failure_id}", markup=False, highlight=False)
            continue
        cli._say(f"deleted failure {failure_id} ({deleted.task}, {deleted.reason})")
    if all_matching and not ids:
        cli._say("no task failure matches")
    raise typer.Exit(cli.EXIT_UNUSABLE if unknown else 0)
