"""The collector settings of nianbao's processes (nianbao.shared.gctune) and where they are applied."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator

import pytest

from nianbao.shared import gctune
from nianbao.shared.gctune import OLDER_THRESHOLDS, YOUNG_THRESHOLD, freeze_startup, tune_gc


@pytest.fixture
def restore_gc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    saved = gc.get_threshold()
    monkeypatch.setattr(gctune, "_tuned", False)
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*saved)


def test_tune_gc_freezes_what_is_alive_and_raises_the_thresholds_once(restore_gc: None) -> None:
    survivors = [[i] for i in range(1000)]
    tune_gc()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    frozen = gc.get_freeze_count()
    assert frozen > len(survivors)
    assert gc.isenabled()
    more = [[i] for i in range(5000)]
    tune_gc()  # a second call (every CLI command calls it) freezes nothing more
    # Not "== frozen": a frozen object that dies (another thread's, meanwhile) leaves the count, as seen in a
    # full run (602 292 → 602 289). A second freeze would have added the 5 000 lists made since.
    assert gc.get_freeze_count() < frozen + 1000 and len(more) == 5000


def test_garbage_is_collected_before_freezing_not_frozen_for_good(restore_gc: None) -> None:
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    gc.disable()  # so that the cycles below are garbage nobody collected yet when the freeze comes
    try:
        refs = [weakref.ref(Cycle()) for _ in range(1000)]
        assert all(ref() is not None for ref in refs)  # unreachable, but only the collector frees a cycle
        freeze_startup()
    finally:
        gc.enable()
    assert all(ref() is None for ref in refs)  # frozen garbage would stay alive until the process ends


def test_cycles_are_still_collected_after_tuning(restore_gc: None) -> None:
    """Raised thresholds delay the collection of cyclic garbage; they do not stop it."""
    tune_gc()

    class Node:
        def __init__(self) -> None:
            self.me = self

    before = sum(1 for o in gc.get_objects() if isinstance(o, Node))
    for _ in range(3 * YOUNG_THRESHOLD):  # cycles only the collector can free, past the threshold
        Node()
    alive = sum(1 for o in gc.get_objects() if isinstance(o, Node)) - before
    assert alive < 2 * YOUNG_THRESHOLD


def test_the_cli_applies_the_settings_before_any_command() -> None:
    """Every `nianbao` command runs with the tuned collector (the pipelines run inside commands)."""
    probe = (
        "import gc, sys\n"
        "from typer.testing import CliRunner\n"
        "from nianbao.app.cli import app\n"
        "assert gc.get_threshold() != (50_000, 20, 100), gc.get_threshold()\n"
        "result = CliRunner().invoke(app, ['config'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(gc.get_threshold(), gc.get_freeze_count() > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=os.environ)
    assert out.stdout.strip() == f"{(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)} True"
