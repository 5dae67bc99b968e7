"""Start driver processes, release them together, collect their results (the orchestrator side of
``plan.py``'s handshake). Every wait is bounded; a driver that overruns is killed by its pid."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bench.crawler.plan import GO, READY, RESULT

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    go_at: float
    finished_at: float  # the last driver's end of work (its own report), or when it was given up on
    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Child:
    """One driver process; its stdout lines arrive on a queue so every read can time out."""

    def __init__(self, module: str, args: list[str], *, log: Path) -> None:
        self.name = f"{module} {' '.join(args)}"
        self.log = log
        self._stderr = log.open("w", encoding="utf-8")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=REPO,
            env=env,
            text=True,
            encoding="utf-8",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: TextIO | None) -> None:
        if stream is not None:
            for line in stream:
                self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, prefix: str, *, deadline: float) -> str | None:
        """The first stdout line starting with ``prefix`` before ``deadline`` (monotonic), else None."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                return None
            if line is None:
                return None
            if line.startswith(prefix):
                return line

    def send(self, text: str) -> None:
        if self.process.stdin is not None:
            self.process.stdin.write(text + "\n")
            self.process.stdin.flush()

    def finish(self, *, timeout: float) -> None:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()  # this driver only, by its own pid
            self.process.wait(timeout=10)
        finally:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self._stderr.close()

    def stderr_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def run_together(
    specs: list[tuple[str, list[str]]], *, log_dir: Path, ready_timeout_s: float, run_timeout_s: float
) -> Outcome:
    """Start one process per ``(module, args)``, wait until all are READY, send GO to all at once, and
    gather each ``RESULT``. A driver that fails or overruns is reported in ``errors``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    children = [Child(module, args, log=log_dir / f"driver-{n}.log") for n, (module, args) in enumerate(specs)]
    errors: list[str] = []
    try:
        ready_deadline = time.monotonic() + ready_timeout_s
        for child in children:
            if child.expect(READY, deadline=ready_deadline) is None:
                raise RuntimeError(f"{child.name} did not get ready:\n{child.stderr_tail()}")
        go_at = time.monotonic()
        for child in children:
            child.send(GO)
        results: list[dict[str, Any]] = []
        run_deadline = go_at + run_timeout_s
        for child in children:
            line = child.expect(RESULT, deadline=run_deadline)
            if line is None:
                errors.append(
                    f"{child.name}: no result within {run_timeout_s:.0f}s or it failed; "
                    f"stderr (last lines):\n{child.stderr_tail()}"
                )
                continue
            results.append(json.loads(line[len(RESULT) :]))
        ends = [float(r["finished_at"]) for r in results]
        finished_at = max(ends) if ends and not errors else time.monotonic()
        return Outcome(go_at, finished_at, results, errors)
    finally:
        for child in children:
            child.finish(timeout=30)
