"""Operator mistakes at the CLI: exit statuses 0/1/2/3, no traceback without --debug, no rich markup
interpretation of user data, no hard wrapping when piped, one-line connection errors naming the setting."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

NIANBAO = str(Path(sys.executable).parent / "nianbao")
SEED = "001_bf80b47987e57cd0.txt"  # fails requests.balance: exit 1
SITES = "version: 1\nsites:\n  - {id: demo, name: 示例, family: trs, start_urls: ['http://www.example.gov.cn/']}\n"


def nianbao(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NIANBAO, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "80", **(env or {})})  # fmt: skip


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout
    assert "╭" not in result.stderr  # no rich traceback/panel either


def test_huge_numbers_are_a_finding_not_a_crash(corpus_dir: Path, tmp_path: Path) -> None:
    text = (corpus_dir / "seeds" / SEED).read_text(encoding="utf-8")
    match = re.search(r"(?<=\s)\d+(?=\s)", text[2000:])
    assert match
    start = 2000 + match.start()
    huge = tmp_path / "huge.txt"
    huge.write_text(text[:start] + "9" * 450 + text[start + len(match.group()) :], encoding="utf-8")
    result = nianbao("check", str(huge))
    assert result.returncode in (0, 1), result.stderr
    assert_no_traceback(result)
    assert len(max(result.stdout.splitlines(), key=len)) < 2000  # the 450 digits are cut in text output


def test_markup_in_a_path_is_text(corpus_dir: Path, tmp_path: Path) -> None:
    odd = tmp_path / "x[red]["  # with the file name below, the path holds "[/bold]"
    odd.mkdir()
    seed = odd / "bold].txt"
    seed.write_bytes((corpus_dir / "seeds" / SEED).read_bytes())
    assert "[/bold]" in str(seed)
    result = nianbao("check", str(seed))
    assert result.returncode == 1, result.stderr
    missing = nianbao("check", str(odd / "bold]nope.txt"))
    assert missing.returncode == 2
    assert f"{odd / 'bold]nope.txt'}: no such file" in missing.stderr
    assert_no_traceback(missing)


def test_long_path_is_one_line_when_piped(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120) / ("e" * 120) / "missing.txt"
    result = nianbao("check", str(deep))
    assert result.returncode == 2
    assert f"error: {deep}: no such file\n" in result.stderr


def test_usage_errors_exit_2_without_traceback() -> None:
    for args in (["check"], ["nosuchcommand"], ["findings", "--nosuchoption"], ["worker"]):
        result = nianbao(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert_no_traceback(result)
        assert "Error:" in result.stderr


def test_internal_error_is_one_line_and_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from nianbao.app import cli, render

    def boom(*_: object) -> None:
        raise RuntimeError("boom [/bold] " + "x" * 1000)

    monkeypatch.setattr(render, "print_rules", boom)
    with pytest.raises(SystemExit) as exited:
        cli.main(["rules"])
    assert exited.value.code == 3
    err = capsys.readouterr().err
    assert err.startswith("internal error: RuntimeError: boom [/bold] x")
    assert "Traceback" not in err and "--debug" in err and len(err.splitlines()[0]) < 400
    with pytest.raises(SystemExit) as exited:
        cli.main(["--debug", "rules"])
    assert exited.value.code == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "internal error: RuntimeError" in err


def test_unreachable_database_names_the_setting() -> None:
    result = nianbao("reports", env={"NIANBAO_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    assert result.returncode == 2
    assert_no_traceback(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "NIANBAO_DATABASE_URL" in lines[0]
    bad_url = nianbao("reports", env={"NIANBAO_DATABASE_URL": "nosuchdialect://x"})
    assert bad_url.returncode == 2 and "NIANBAO_DATABASE_URL" in bad_url.stderr
    assert_no_traceback(bad_url)


def test_database_password_is_not_printed() -> None:
    result = nianbao("reports", env={"NIANBAO_DATABASE_URL": "postgresql+psycopg://u:s3cret@127.0.0.1:1/none"})
    assert result.returncode == 2 and "s3cret" not in result.stderr


def test_unreachable_broker_names_the_setting(tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES, encoding="utf-8")
    for args in (["run"], ["recrawl", "demo"]):
        result = nianbao(*args, "--sites-file", str(sites), env={"NIANBAO_BROKER_URL": "redis://:pw@127.0.0.1:1/0"})
        assert result.returncode == 2, result.stderr
        assert_no_traceback(result)
        assert "NIANBAO_BROKER_URL" in result.stderr and ":pw@" not in result.stderr


def test_enqueue_without_a_worker_warns(redis_url: str, tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES, encoding="utf-8")
    result = nianbao("recrawl", "demo", "--sites-file", str(sites), env={"NIANBAO_BROKER_URL": redis_url})
    assert result.returncode == 0, result.stderr
    assert "enqueued crawl of demo" in result.stdout
    assert "no worker consumes queue 'crawler'" in result.stderr


def test_views_refuse_unknown_sites_rules_and_statuses(sqlite_url: str, tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES, encoding="utf-8")
    env = {"NIANBAO_DATABASE_URL": sqlite_url, "NIANBAO_SITES_FILE": str(sites)}
    for args in (["reports", "--site", "nosuch"], ["findings", "--site", "nosuch"],
                 ["export", "--out", str(tmp_path / "o"), "--site", "nosuch"]):  # fmt: skip
        result = nianbao(*args, env=env)
        assert result.returncode == 2, (args, result.stderr)
        assert "unknown site 'nosuch'; known sites: demo" in result.stderr
    status = nianbao("findings", "--status", "failed", env=env)
    assert status.returncode == 2 and "fail, pass, not_assessable, all" in status.stderr
    rule = nianbao("findings", "--rule", "no.such.rule", env=env)
    assert rule.returncode == 2 and "requests.balance" in rule.stderr
    ok = nianbao("findings", "--site", "demo", "--rule", "requests.balance", "--status", "all", env=env)
    assert ok.returncode == 0, ok.stderr


def test_markup_in_a_site_registry_is_text(tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text(SITES.replace("示例", "'[/bold]示例[red]'"), encoding="utf-8")
    listed = nianbao("sites", "list", "--sites-file", str(sites))
    assert listed.returncode == 0 and "demo\ttrs\t[/bold]示例[red]\t" in listed.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        SITES.rstrip("\n") + ", filters: {title_include: ['[/bold](']}}\n".replace("}}", "}"), encoding="utf-8"
    )
    result = nianbao("sites", "list", "--sites-file", str(bad))
    assert result.returncode == 2
    assert_no_traceback(result)


def test_rules_piped_is_not_wrapped() -> None:
    result = nianbao("rules")
    assert result.returncode == 0
    assert all("\t" in line for line in result.stdout.splitlines()[1:])
