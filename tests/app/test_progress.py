"""Progress of long CLI work: periodic lines on stderr when it is not a terminal, a progress bar when it
is; `run`/`recrawl` with a broker print the task id to follow."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import redis
import yaml

from nianbao.app import cli
from nianbao.app.embedded import run_embedded
from nianbao.app.progress import ProgressReporter
from nianbao.crawler.sites import SiteRegistry
from nianbao.devportal.server import DevPortal

from support import task_args

NIANBAO = str(Path(sys.executable).parent / "nianbao")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_lines_at_the_first_step_every_n_steps_every_s_seconds_and_at_the_end() -> None:
    out, clock = io.StringIO(), Clock()
    with ProgressReporter("reparse", stream=out, terminal=False, every_s=5, every_n=3, clock=clock) as progress:
        for n in range(1, 8):  # steps 1..7, one second apart; step 5 fails
            clock.now += 1
            progress(f"failed http://x/{n} (boom)" if n == 5 else f"parsed http://x/{n}")
        clock.now += 10
        progress("parsed http://x/8")  # 10 s later: a line although only 1 step since the last one
        clock.now += 0.5
    assert out.getvalue().splitlines() == [
        "reparse: 1 done, 0 failed, 1.0 s; last: parsed http://x/1",  # the first step
        "reparse: 4 done, 0 failed, 4.0 s; last: parsed http://x/4",  # 3 steps later
        "reparse: failed http://x/5 (boom)",  # a failure, at once
        "reparse: 7 done, 1 failed, 7.0 s; last: parsed http://x/7",
        "reparse: 8 done, 1 failed, 17.0 s; last: parsed http://x/8",  # 10 s later
        "reparse: finished: 8 done, 1 failed in 17.5 s",
    ]


def test_a_long_or_multiline_step_stays_one_bounded_line() -> None:
    out = io.StringIO()
    with ProgressReporter("export", stream=out, terminal=False) as progress:
        progress("wrote " + "x" * 5000 + "\ninjected line")
    first = out.getvalue().splitlines()[0]
    assert len(first) < 250 and first.endswith("…") and len(out.getvalue().splitlines()) == 2


def test_stopped_work_says_so() -> None:
    out = io.StringIO()
    try:
        with ProgressReporter("run", stream=out, terminal=False) as progress:
            progress("parsed a")
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert out.getvalue().splitlines()[-1].startswith("run: stopped: 1 done, 0 failed in ")


def _demo() -> None:
    with DevPortal() as portal:
        run_embedded(SiteRegistry.from_dict(cli.demo_registry(portal.column_url)), ["demo"])


def test_reparse_revalidate_and_export_write_progress_to_stderr_when_piped(tmp_path: Path) -> None:
    _demo()
    env = {**os.environ}
    reparse = subprocess.run([NIANBAO, "reparse"], capture_output=True, text=True, env=env, timeout=300)
    assert reparse.returncode == 0, reparse.stderr
    handled = json.loads(re.search(r"done: (\{.*\});", reparse.stdout).group(1).replace("'", '"'))  # type: ignore[union-attr]
    steps = sum(handled.values())
    assert steps >= 2  # a page parsed and validated at least
    assert re.search(r"^reparse: 1 done, 0 failed, [\d.]+ s; last: parsed http://127\.0\.0\.1:", reparse.stderr, re.M)
    assert re.search(rf"^reparse: finished: {steps} done, 0 failed in [\d.]+ s$", reparse.stderr, re.M)
    assert "reparse:" not in reparse.stdout  # the result stays alone on stdout

    revalidate = subprocess.run([NIANBAO, "revalidate", "--all"], capture_output=True, text=True, env=env, timeout=300)
    assert revalidate.returncode == 0, revalidate.stderr
    considered = int(revalidate.stdout.split()[0])
    assert re.search(rf"^revalidate: finished: {considered} done, 0 failed in ", revalidate.stderr, re.M)

    export = subprocess.run(
        [NIANBAO, "export", "--out", str(tmp_path / "o")], capture_output=True, text=True, env=env, timeout=300
    )
    assert export.returncode == 0, export.stderr
    # One step per batch of reports read (the demo's fit in one), then one per file written.
    assert re.search(r"^export: 1 done, 0 failed, [\d.]+ s; last: read (\d+) of \1 reports$", export.stderr, re.M)
    assert re.search(r"^export: finished: 5 done, 0 failed in ", export.stderr, re.M)


def test_a_terminal_gets_a_progress_bar(tmp_path: Path) -> None:
    _demo()
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [NIANBAO, "export", "--out", str(tmp_path / "o")],
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "200"},
    ) as proc:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(120)
    os.close(leader)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "\x1b[" in screen  # drawn with terminal control sequences, not periodic lines
    assert re.search(r"export.*5 done, 0 failed", screen)  # a batch of reports read, four files written
    assert "export: finished: 5 done, 0 failed in " in screen


def test_run_and_recrawl_print_the_task_id_to_follow(redis_url: str, tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "sites": [
                    {"id": "a", "name": "甲", "family": "trs", "start_urls": ["http://www.a.gov.cn/"]},
                    {"id": "b", "name": "乙", "family": "trs", "start_urls": ["http://www.b.gov.cn/"]},
                ],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "NIANBAO_BROKER_URL": redis_url, "NIANBAO_SITES_FILE": str(sites)}
    broker = redis.Redis.from_url(redis_url)
    for args, site_ids in ((["run"], ["a", "b"]), (["recrawl", "b"], ["b"])):
        broker.delete("crawler")
        result = subprocess.run([NIANBAO, *args], capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == 0, result.stderr
        sent = {}
        for raw in broker.lrange("crawler", 0, -1):
            envelope = json.loads(raw)
            sent[task_args(raw)[0]["site_id"]] = envelope["headers"]["id"]
        assert sorted(sent) == site_ids, (result.stdout, result.stderr, broker.keys("*"))
        for site_id, task_id in sent.items():
            assert f"enqueued crawl of {site_id} (force={args[0] == 'recrawl'}) on queue crawler as task {task_id}" in (
                result.stdout
            )
        assert "follow it:" in result.stdout and "nianbao sites summary" in result.stdout
