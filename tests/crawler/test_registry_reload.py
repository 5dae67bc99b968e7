"""The site registry is reloaded when its file changes or on SIGHUP; a broken edit keeps the last good one
and is visible (log line, gauge, counter, status)."""

from __future__ import annotations

import copy
import logging
import os
import signal
import time
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from nianbao.crawler.registry import RegistrySource, install_sighup, shared_source
from nianbao.crawler.settings import CrawlerSettings
from nianbao.crawler.sites import SiteConfigError
from nianbao.crawler.tasks import current_registry
from nianbao.shared.errors import PermanentError


def _yaml(*ids: str) -> str:
    entries = "".join(
        f"  - {{id: {i}, name: 站点{i}, family: trs, start_urls: ['http://www.{i}.gov.cn/nb/']}}\n" for i in ids
    )
    return f"version: 1\nsites:\n{entries}"


def _ids(source: RegistrySource) -> list[str]:
    return [s.id for s in source.current().sites]


def _ok_gauge() -> float | None:
    return REGISTRY.get_sample_value("nianbao_crawler_sites_registry_ok")


def _reloads(outcome: str) -> float:
    return REGISTRY.get_sample_value("nianbao_crawler_sites_registry_reloads_total", {"outcome": outcome}) or 0.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sites(tmp_path: Path) -> Path:
    path = tmp_path / "sites.yaml"
    path.write_text(_yaml("alpha"), encoding="utf-8")
    return path


def test_a_changed_file_is_reloaded_after_the_check_interval(sites: Path) -> None:
    clock = Clock()
    source = RegistrySource(sites, check_interval_s=2.0, clock=clock)
    assert _ids(source) == ["alpha"]
    sites.write_text(_yaml("alpha", "beta"), encoding="utf-8")
    clock.now += 1.0
    assert _ids(source) == ["alpha"]  # not checked yet: at most one stat per interval
    clock.now += 1.5
    assert _ids(source) == ["alpha", "beta"]
    assert source.loads == 2


def test_an_unchanged_file_is_not_parsed_again(sites: Path) -> None:
    clock = Clock()
    source = RegistrySource(sites, check_interval_s=0.5, clock=clock)
    for _ in range(50):
        source.current()
        clock.now += 1.0
    assert source.loads == 1
    os.utime(sites, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))  # touched: stat differs, hash same
    clock.now += 1.0
    assert _ids(source) == ["alpha"] and source.loads == 1


def test_an_invalid_edit_keeps_the_last_good_registry_and_is_visible(
    sites: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    source = RegistrySource(sites, check_interval_s=1.0, clock=clock)
    assert _ids(source) == ["alpha"] and _ok_gauge() == 1.0
    errors_before = _reloads("error")
    sites.write_text(_yaml("alpha", "beta") + "  - {id: [unclosed\n", encoding="utf-8")
    clock.now += 1.0
    with caplog.at_level(logging.ERROR, logger="nianbao.crawler.registry"):
        assert _ids(source) == ["alpha"]
        for _ in range(5):  # the same broken content is reported once, not at every check
            clock.now += 1.0
            source.current()
    status = source.status()
    assert (status.ok, status.sites) == (False, 1)
    assert status.error is not None and "line 6" in status.error and "not valid YAML" in status.error
    assert _ok_gauge() == 0.0
    assert _reloads("error") == errors_before + 1
    logged = [r.getMessage() for r in caplog.records if "could not be loaded" in r.getMessage()]
    assert len(logged) == 1 and "keeping the last good registry (1 sites" in logged[0]
    # fixed: the new content is in use and the error is gone
    sites.write_text(_yaml("alpha", "beta"), encoding="utf-8")
    clock.now += 1.0
    assert _ids(source) == ["alpha", "beta"]
    assert source.status().ok is True and source.status().error is None and _ok_gauge() == 1.0


def test_a_schema_error_is_kept_out_too(sites: Path) -> None:
    clock = Clock()
    source = RegistrySource(sites, check_interval_s=1.0, clock=clock)
    source.current()
    sites.write_text(_yaml("alpha").replace("family: trs", "family: nosuch"), encoding="utf-8")
    clock.now += 1.0
    assert _ids(source) == ["alpha"]
    assert source.current().get("alpha").family == "trs"
    assert "unknown family" in (source.status().error or "") or "family" in (source.status().error or "")


def test_a_deleted_file_keeps_the_last_good_registry(sites: Path) -> None:
    clock = Clock()
    source = RegistrySource(sites, check_interval_s=1.0, clock=clock)
    source.current()
    sites.unlink()
    clock.now += 1.0
    assert _ids(source) == ["alpha"]
    assert source.status().error is not None and "not found" in (source.status().error or "")


def test_without_a_good_load_the_error_is_raised(tmp_path: Path) -> None:
    missing = RegistrySource(tmp_path / "nope.yaml")
    with pytest.raises(FileNotFoundError):
        missing.current()
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nsites: [\n", encoding="utf-8")
    with pytest.raises(SiteConfigError, match="not valid YAML"):
        RegistrySource(broken).current()


def test_crawl_task_registry_fails_permanently_only_when_nothing_ever_loaded(tmp_path: Path) -> None:
    path = tmp_path / "task-sites.yaml"
    settings = CrawlerSettings(_env_file=None, sites_file=path, data_dir=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(PermanentError, match="not found"):
        current_registry(settings)
    path.write_text(_yaml("gamma"), encoding="utf-8")
    shared_source(path).request_reload()
    assert [s.id for s in current_registry(settings).sites] == ["gamma"]


def test_sighup_forces_a_reload_that_stat_cannot_see(sites: Path) -> None:
    source = shared_source(sites)
    source.check_interval_s = 3600.0  # no periodic check during the test
    assert _ids(source) == ["alpha"]
    stat = sites.stat()
    sites.write_text(_yaml("omega"), encoding="utf-8")  # same size as "alpha"
    os.utime(sites, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old mtime: invisible to stat
    assert sites.stat().st_size == stat.st_size
    assert _ids(source) == ["alpha"]
    previous = signal.getsignal(signal.SIGHUP)
    try:
        assert install_sighup()
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.05)
        assert _ids(source) == ["omega"]
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_the_watcher_sees_a_broken_edit_without_any_task(sites: Path) -> None:
    source = RegistrySource(sites, check_interval_s=0.1)
    source.current()
    source.start_watching()
    errors_before = _reloads("error")
    sites.write_text("version: 1\nsites: [\n", encoding="utf-8")
    deadline = time.monotonic() + 5
    while _reloads("error") == errors_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _reloads("error") == errors_before + 1 and _ok_gauge() == 0.0
    sites.write_text(_yaml("alpha", "delta"), encoding="utf-8")
    deadline = time.monotonic() + 5
    while _ok_gauge() != 1.0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [s.id for s in source.current().sites] == ["alpha", "delta"]


# --- beat and the admin API follow the same file ----------------------------------------------------------


def test_beat_schedule_follows_the_registry(sites: Path, tmp_path: Path) -> None:
    from celery import Celery

    from nianbao.crawler.schedule import beat_schedule, registry_scheduler

    source = RegistrySource(sites, check_interval_s=0.0)
    app = Celery("beat-test", broker="memory://")
    scheduler = registry_scheduler(source)(app=app, schedule_filename=str(tmp_path / "beat-state"), lazy=False)
    try:
        def crawl_entries() -> set[str]:
            return {name for name in scheduler.schedule if name.startswith("crawl:")}

        assert crawl_entries() == {"crawl:alpha:peak", "crawl:alpha:off-peak"}
        assert scheduler.sync_registry() is False  # nothing changed
        sites.write_text(_yaml("beta", "gamma"), encoding="utf-8")
        assert scheduler.sync_registry() is True
        registry = source.current()
        assert crawl_entries() == set(beat_schedule(registry))  # alpha gone, beta and gamma scheduled
        assert "crawl:alpha:peak" not in crawl_entries()
        assert scheduler.schedule["crawl:beta:peak"].args == [
            {"site_id": "beta", "force": False, "reason": "schedule", "schema_version": 1}]
        sites.write_text("version: 1\nsites: [\n", encoding="utf-8")  # broken: the schedule stays
        assert scheduler.sync_registry() is False
        assert crawl_entries() == set(beat_schedule(registry))
        assert scheduler.tick() <= 5.0  # beat wakes often enough to see the next edit
    finally:
        scheduler.close()


def test_admin_api_lists_the_reloaded_registry_and_its_status(sites: Path, sqlite_url: str) -> None:
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from nianbao.app.admin_api import create_app
    from nianbao.app.settings import AppSettings
    from nianbao.shared.db import upgrade

    upgrade(sqlite_url)
    settings = AppSettings(admin_token=SecretStr("tok"), database_url=sqlite_url)  # type: ignore[call-arg]
    source = RegistrySource(sites, check_interval_s=0.0)
    auth = {"Authorization": "Bearer tok"}
    with TestClient(create_app(settings, source, None), raise_server_exceptions=False) as client:
        body = client.get("/sites", headers=auth).json()
        assert [s["id"] for s in body["sites"]] == ["alpha"] and body["registry"]["ok"] is True
        sites.write_text(_yaml("alpha", "beta"), encoding="utf-8")
        assert [s["id"] for s in client.get("/sites", headers=auth).json()["sites"]] == ["alpha", "beta"]
        assert client.post("/sites/beta/recrawl", headers=auth).status_code == 503  # known now; no broker here
        sites.write_text("version: 1\nsites: [\n", encoding="utf-8")
        body = client.get("/sites", headers=auth).json()
        assert [s["id"] for s in body["sites"]] == ["alpha", "beta"]  # the last good registry
        assert body["registry"]["ok"] is False and "not valid YAML" in body["registry"]["error"]
        assert client.post("/sites/nosuch/recrawl", headers=auth).status_code == 404


# --- a real crawler worker ----------------------------------------------------------------------------------


@pytest.mark.integration
def test_running_crawler_worker_follows_the_file_and_sighup(redis_url: str, postgres_url: str, tmp_path: Path) -> None:
    """A site added after the worker started is crawled; SIGHUP reloads instead of restarting the worker; a
    broken edit is counted on /metrics and the last good registry keeps crawling."""
    import yaml
    from sqlmodel import col, select

    from nianbao.app.cli import demo_registry
    from nianbao.devportal.server import DevPortal
    from nianbao.shared.db import session_scope
    from nianbao.shared.models import Fetch, TaskFailure

    from integration_support import Stack, metric_value, wait_until

    def fetched(site_id: str) -> int:
        with session_scope(postgres_url) as session:
            return len(session.exec(select(Fetch.id).where(col(Fetch.site_id) == site_id)).all())

    with DevPortal() as portal:
        registry = demo_registry(portal.column_url)
        one = dict(registry["sites"][0], id="one")  # type: ignore[index]
        two = copy.deepcopy(dict(one, id="two"))  # shared sub-objects would be dumped as anchors (refused)
        sites_file = tmp_path / "sites.yaml"
        sites_file.write_text(yaml.safe_dump({"version": 1, "sites": [one]}, allow_unicode=True), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("NIANBAO_")}
        env.update({"NIANBAO_BROKER_URL": redis_url, "NIANBAO_DATABASE_URL": postgres_url,
                    "NIANBAO_DATA_DIR": str(tmp_path / "data"), "NIANBAO_SITES_FILE": str(sites_file)})  # fmt: skip
        stack = Stack(env=env, data_dir=tmp_path)
        try:
            stack.cli("db", "upgrade")
            stack.start_worker("crawler")
            stack.wait_ready()
            pid = stack.procs["crawler"].pid
            # added while the worker runs, then a SIGHUP: reloaded at once, the worker is not restarted
            sites_file.write_text(yaml.safe_dump({"version": 1, "sites": [one, two]}, allow_unicode=True), "utf-8")
            os.kill(pid, signal.SIGHUP)
            time.sleep(1.0)
            assert stack.procs["crawler"].poll() is None
            assert "Restarting celery worker" not in stack.log_tail("crawler", 400)
            stack.cli("recrawl", "two", "--sites-file", str(sites_file))
            wait_until(lambda: fetched("two") > 0, 60, lambda: stack.log_tail("crawler"))
            # a broken edit: counted at once by the watcher; the last good registry still crawls "two"
            before = metric_value(stack.metrics("crawler"), "nianbao_crawler_sites_registry_reloads_total",
                                  outcome="error")  # fmt: skip
            sites_file.write_text("version: 1\nsites: [\n", encoding="utf-8")
            wait_until(
                lambda: metric_value(stack.metrics("crawler"), "nianbao_crawler_sites_registry_ok") == 0.0,
                15, lambda: stack.metrics("crawler"),
            )  # fmt: skip
            assert metric_value(stack.metrics("crawler"), "nianbao_crawler_sites_registry_reloads_total",
                                outcome="error") == before + 1  # fmt: skip
            assert "could not be loaded, keeping the last good registry (2 sites" in stack.log_tail("crawler", 400)
            with session_scope(postgres_url) as session:
                assert session.exec(select(TaskFailure)).all() == []
            assert stack.procs["crawler"].pid == pid and stack.procs["crawler"].poll() is None
        finally:
            stack.stop()


# --- the CLI: --sites-file, unknown sites, the broker warning -----------------------------------------------


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from nianbao.app.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, " ".join(err.split())


@pytest.mark.parametrize("command", [["recrawl", "nosuch"], ["run", "--site", "nosuch"]])
def test_run_and_recrawl_refuse_a_site_the_registry_does_not_have(
    command: list[str], sites: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli([*command, "--sites-file", str(sites)], capsys)
    assert code == 2
    assert "unknown site 'nosuch'; configured sites: alpha" in err


def test_recrawl_with_a_broker_warns_that_workers_need_the_same_registry(
    sites: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NIANBAO_BROKER_URL", redis_url)
    code, out, err = _cli(["recrawl", "alpha", "--sites-file", str(sites)], capsys)
    assert code == 0 and "enqueued crawl of alpha" in out
    assert f"they must read the same file ({sites.absolute()})" in err
    assert "NIANBAO_SITES_FILE or `nianbao worker crawler --sites-file`" in err


def test_worker_sites_file_option_sets_the_registry_of_the_worker(
    sites: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import nianbao.app.worker as worker

    seen: dict[str, object] = {}
    monkeypatch.setenv("NIANBAO_SITES_FILE", "elsewhere.yaml")  # the option wins; restored after the test

    def fake_run_worker(service: str, **_: object) -> None:  # records what the real one would read
        seen["service"] = service
        seen["sites_file"] = CrawlerSettings(_env_file=None).sites_file  # type: ignore[call-arg]

    monkeypatch.setattr(worker, "run_worker", fake_run_worker)
    code, out, _ = _cli(["worker", "crawler", "--sites-file", str(sites)], capsys)
    assert code == 0 and seen == {"service": "crawler", "sites_file": sites.absolute()}
    assert f"site registry {sites.absolute()}: 1 site(s)" in out
    monkeypatch.delenv("NIANBAO_SITES_FILE")
    # a registry that does not load is a warning: the worker starts and reads the file again at each crawl
    code, _, err = _cli(["worker", "crawler", "--sites-file", str(sites.parent / "missing.yaml")], capsys)
    assert code == 0 and "missing.yaml not found" in err
    monkeypatch.delenv("NIANBAO_SITES_FILE")
