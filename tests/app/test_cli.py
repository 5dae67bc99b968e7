"""The CLI as a user runs it: real subprocesses of the installed `nianbao` entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NIANBAO = str(Path(sys.executable).parent / "nianbao")
COMMANDS = [
    "demo",
    "run",
    "recrawl",
    "worker",
    "parse",
    "check",
    "eval",
    "rules",
    "reports",
    "findings",
    "db upgrade",
    "sites check",
    "revalidate",
    "reparse",
    "export",
    "beat",
    "admin",
    "sites list",
    "config",
]


def nianbao(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NIANBAO, *args], capture_output=True, text=True, timeout=timeout, env=os.environ.copy())


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = nianbao(*command.split(), "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_check_seed_001_fails_requests_balance_for_natural(corpus_dir: Path) -> None:
    seed = corpus_dir / "seeds" / "001_bf80b47987e57cd0.txt"
    result = nianbao("check", str(seed), "--json")
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)["findings"]
    failing = {(f["rule"], f["where"]) for f in findings if f["status"] == "fail"}
    assert ("requests.balance", "natural") in failing
    assert ("requests.balance", "total") not in failing  # the 总计 column balances: 1 + 0 = 1 + 0
    human = nianbao("check", str(seed))
    assert human.returncode == 1 and "requests.balance" in human.stdout and "natural" in human.stdout


def test_check_exit_codes_for_clean_and_unusable_input(corpus_dir: Path, tmp_path: Path) -> None:
    clean = nianbao("check", str(corpus_dir / "seeds" / "004_392dabf3539690db.txt"))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    unusable = nianbao("check", str(empty))
    assert unusable.returncode == 2
    assert "unusable input" in unusable.stderr
    missing = nianbao("check", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_demo_prints_summary_with_failing_balance() -> None:
    result = nianbao("demo")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "reports found:" in out
    assert "requests.balance" in out
    assert "database: sqlite:///" in out


def test_unknown_site_is_a_clear_error(tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text("version: 1\nsites: []\n", encoding="utf-8")
    result = nianbao("recrawl", "nope", "--sites-file", str(sites))
    assert result.returncode == 2
    assert "unknown site 'nope'" in result.stderr


def test_check_reports_exactly_the_expected_failures_of_every_seed(corpus_dir: Path) -> None:
    seeds = sorted((corpus_dir / "seeds").glob("*.txt"))
    assert seeds
    for seed in seeds:
        expected = json.loads(seed.with_suffix(".expected.json").read_text(encoding="utf-8"))["expected_findings"]
        result = nianbao("check", str(seed), "--json")
        got = {(f["rule"], f["where"]) for f in json.loads(result.stdout)["findings"] if f["status"] == "fail"}
        assert got == {(f["rule"], f["where"]) for f in expected}, seed.name
        assert result.returncode == (1 if expected else 0), seed.name
