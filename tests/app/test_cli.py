"""The CLI as a user runs it: real subprocesses of the installed `nianbao` entry point."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

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
    "show",
    "export",
    "beat",
    "admin",
    "sites list",
    "sites summary",
    "pages",
    "failures list",
    "failures retry",
    "failures delete",
    "config",
]


def _registered(group: Any, prefix: str = "") -> set[str]:
    """Every leaf command of the CLI's click group (typer may ship its own click: duck-typed)."""
    names: set[str] = set()
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            names |= _registered(command, f"{prefix}{name} ")
        else:
            names.add(f"{prefix}{name}")
    return names


def test_the_help_test_covers_every_registered_command() -> None:
    from nianbao.app.cli import app

    assert _registered(typer.main.get_command(app)) == set(COMMANDS)


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


def test_check_documents_shows_each_failing_cell_where_it_is(tmp_path: Path) -> None:
    from parser.pdf_fixtures import scanned_pdf

    from nianbao.devportal.catalogue import report
    from nianbao.devportal.render.docxdoc import report_docx
    from nianbao.devportal.render.layout import report_layout
    from nianbao.devportal.render.pdfdoc import PdfOptions, report_pdf

    unbalanced = report_layout(report("transport-2020"))  # requests.balance fails for natural and total
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report_pdf(unbalanced, PdfOptions(split_requests=True)))
    result = nianbao("check", str(pdf))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "requests.balance" in result.stdout
    assert re.search(r"requests\.new\.natural=5 @ p\.\d+ \([\d.]+,[\d.]+,[\d.]+,[\d.]+\)", result.stdout), result.stdout

    docx = tmp_path / "report.docx"
    docx.write_bytes(report_docx(unbalanced))
    result = nianbao("check", str(docx))
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"requests\.new\.natural=5 @ table \d+ row \d+ col \d+", result.stdout), result.stdout

    clean = tmp_path / "clean.docx"
    clean.write_bytes(report_docx(report_layout(report("town-2019"))))
    assert nianbao("check", str(clean)).returncode == 0

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(scanned_pdf(text_pages=0, image_pages=3))
    result = nianbao("check", str(scan))
    assert result.returncode == 2 and "scanned_document" in result.stderr, result.stdout + result.stderr

    doc = tmp_path / "report.doc"
    doc.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "WordDocument".encode("utf-16-le"))
    env = {**os.environ, "NIANBAO_CONVERTER_COMMAND": "nianbao-no-such-converter"}
    result = subprocess.run([NIANBAO, "check", str(doc)], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 2 and "converter_missing" in result.stderr, result.stdout + result.stderr


def test_check_a_word_97_doc_through_libreoffice(tmp_path: Path) -> None:
    import shutil

    from nianbao.devportal.catalogue import report
    from nianbao.devportal.render.docxdoc import report_doc
    from nianbao.devportal.render.layout import report_layout

    if shutil.which("soffice") is None:
        message = "LibreOffice (soffice) is not installed"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    doc = tmp_path / "report.doc"
    doc.write_bytes(report_doc(report_layout(report("transport-2020"))))
    result = nianbao("check", str(doc), "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    failing = {(f["rule"], f["where"]) for f in json.loads(result.stdout)["findings"] if f["status"] == "fail"}
    assert failing == {("requests.balance", "natural"), ("requests.balance", "total")}


def test_a_200_mb_attachment_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.pdf"
    with huge.open("wb") as out:  # sparse: 200 MB on paper, nothing on disk
        out.write(b"%PDF-1.7\n")
        out.truncate(200 * 1024 * 1024)
    result = subprocess.run(
        [sys.executable, "-c", (
            "import resource, subprocess, sys;"
            f"r = subprocess.run([{NIANBAO!r}, 'check', {str(huge)!r}], capture_output=True, text=True);"
            "print(r.returncode); print(r.stderr.strip());"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    code, message, peak_kib = result.stdout.strip().splitlines()
    assert code == "2" and "unusable input" in message and "over the limit" in message, result.stdout
    assert int(peak_kib) < 300 * 1024, f"peak RSS {int(peak_kib) // 1024} MiB: the file was read"
