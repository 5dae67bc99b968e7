"""ruff and mypy are part of the test suite, so "CI green" means "lint and types clean" too; and the
services never import each other (they meet only in nianbao.shared)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO_ROOT

BIN = Path(sys.executable).parent
SERVICES = ("crawler", "parser", "validator")


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_clean() -> None:
    result = _run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_clean() -> None:
    result = _run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_services_never_import_each_other(service: str) -> None:
    others = {f"nianbao.{s}" for s in SERVICES if s != service} | {"nianbao.app", "nianbao.devportal"}
    offenders = []
    for path in (REPO_ROOT / "services" / service).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if any(n == o or n.startswith(o + ".") for o in others)]
    assert offenders == []
