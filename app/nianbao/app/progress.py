"""Progress of long CLI work (crawl, reparse, revalidate, export) on stderr, so stdout keeps the result.

The work reports each step done by calling the reporter with one line (``parsed <url>``, ``failed …``),
the ``progress`` callable the embedded bus, ``reparse``, ``revalidate`` and ``export`` already take. On a
terminal the reporter shows a rich progress bar (steps done, failures, elapsed time, the last step);
otherwise (a log file, CI, a pipe) it writes a line at the first step, then every ``every_s`` seconds
or ``every_n`` steps, whichever comes first, and a last line at the end::

    reparse: 1 done, 0 failed, 0.4 s; last: parsed http://…
    reparse: 100 done, 1 failed, 12.0 s; last: validated and stored http://…
    reparse: finished: 180 done, 1 failed in 21.5 s

A step whose line starts with ``failed`` counts as a failure and is always written at once, in full.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

EVERY_S = 5.0
EVERY_N = 100
_LAST_CHARS = 160  # of the last step in a periodic line (a URL can be long)


class ProgressReporter:
    """Call it with one line per step done; use it as a context manager around the work."""

    def __init__(
        self,
        label: str,
        *,
        stream: TextIO | None = None,
        terminal: bool | None = None,
        every_s: float = EVERY_S,
        every_n: int = EVERY_N,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.every_s, self.every_n, self.clock = every_s, max(1, every_n), clock
        self.done = self.failed = 0
        self.last = ""
        self._started = self._printed_at = clock()
        self._printed_done = 0
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressReporter:
        self._started = self._printed_at = self.clock()
        if self.terminal:
            console = Console(file=self.stream, highlight=False)
            bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                TextColumn("{task.completed} done, {task.fields[failed]} failed"), TimeElapsedColumn(),
                TextColumn("{task.fields[last]}", markup=False), console=console, transient=False,
            )  # fmt: skip
            bar.start()
            self._task = bar.add_task(self.label, total=None, failed=0, last="")
            self._bar = bar
        return self

    def __call__(self, line: str) -> None:
        self.done += 1
        self.last = line
        failed = line.startswith("failed")
        self.failed += failed
        if self._bar is not None and self._task is not None:
            if failed:
                self._bar.console.print(f"{self.label}: {line}", markup=False)
            self._bar.update(self._task, advance=1, failed=self.failed, last=_short(line, 60))
            return
        if failed:
            self._write(f"{self.label}: {line}")
        now = self.clock()
        if (
            self._printed_done == 0
            or self.done - self._printed_done >= self.every_n
            or now - self._printed_at >= self.every_s
        ):
            self._write(f"{self.label}: {self._counts(now)}; last: {_short(line, _LAST_CHARS)}")
            self._printed_at, self._printed_done = now, self.done

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
        verb = "stopped" if exc_type is not None else "finished"
        self._write(f"{self.label}: {verb}: {self._counts(self.clock(), final=True)}")

    def _counts(self, now: float, *, final: bool = False) -> str:
        return f"{self.done} done, {self.failed} failed{' in' if final else ','} {now - self._started:.1f} s"

    def _write(self, text: str) -> None:
        self.stream.write(text.replace("\n", " ") + "\n")
        self.stream.flush()


def _short(line: str, limit: int) -> str:
    line = line.replace("\n", " ")
    return line if len(line) <= limit else line[: limit - 1] + "…"
