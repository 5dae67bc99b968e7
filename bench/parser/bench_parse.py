"""Benchmark: full extraction vs a bare selectolax parse vs ``pandas.read_html`` on the same pages.

Pages are synthetic but shaped like portal pages (tests/parser/builders.py): chrome, a metadata grid,
the report's prose and its tables with the official spans, in several sizes and all three generations.
Each time is the fastest of ``--repeat`` runs (after a warm-up), all measured in this one run;
peak memory is tracemalloc's peak for one call. Targets: extraction ≤ 2× the bare parse, and faster
than pandas.read_html on every page.

    uv run python bench/parser/bench_parse.py [--repeat 30] [--clock wall|cpu] [--json bench/results/parser.json]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # for tests.parser.builders

import pandas as pd  # noqa: E402
from selectolax.lexbor import LexborHTMLParser  # noqa: E402

from nianbao.parser.extract import parse_bytes  # noqa: E402
from nianbao.parser.settings import ParserSettings  # noqa: E402
from tests.parser.builders import make_report, render_html  # noqa: E402

# (name, generation, nav links, prose paragraphs in part 一)
PAGES = [
    ("small-2019", "gen2019", 30, 4),
    ("small-2021", "gen2021", 30, 4),
    ("medium-2019", "gen2019", 300, 40),
    ("medium-2021", "gen2021", 300, 40),
    ("medium-legacy", "legacy", 300, 40),
    ("large-2021", "gen2021", 1200, 200),
    ("xlarge-2019", "gen2019", 3000, 700),
]


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter  # --clock cpu: the process's CPU time, for a machine busy with other work


def best_ms(call: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs after a warm-up: the least disturbed by other work on the machine."""
    call()
    times = []
    for _ in range(repeat):
        started = clock()
        call()
        times.append(clock() - started)
    return min(times) * 1000


def peak_mib(call: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def measure(name: str, generation: Any, nav: int, prose: int, repeat: int) -> dict[str, Any]:
    report = make_report(generation, seed=len(name))
    report.prose_paragraphs = prose
    data = render_html(report, nav_links=nav, split_requests_at="refused_petition" if "2019" in name else None,
                       layout_table=name.startswith("xlarge")).encode("utf-8")
    text = data.decode("utf-8")
    settings = ParserSettings()
    record = parse_bytes(data, media_type="text/html", settings=settings)
    expected = sum(len(v) for v in report.values.values())
    got = sum(1 for t, v in report.values.items() for k in v if record.tables.get(t, {}).get(k, "x") == v[k])
    extract = best_ms(lambda: parse_bytes(data, media_type="text/html", settings=settings), repeat)
    bare = best_ms(lambda: LexborHTMLParser(data), repeat)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pandas = best_ms(lambda: pd.read_html(io.StringIO(text), flavor="lxml"), max(3, repeat // 3))
    return {
        "page": name, "bytes": len(data), "values_right": f"{got}/{expected}",
        "selectolax_ms": round(bare, 3), "extract_ms": round(extract, 3), "pandas_ms": round(pandas, 3),
        "extract_vs_parse": round(extract / bare, 2), "extract_vs_pandas": round(extract / pandas, 3),
        "peak_mib_extract": round(peak_mib(lambda: parse_bytes(data, media_type="text/html", settings=settings)), 2),
        "peak_mib_parse": round(peak_mib(lambda: LexborHTMLParser(data)), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time (default), or this process's CPU time when other work shares the machine")
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    rows = [measure(*page, repeat=args.repeat) for page in PAGES]
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print("  ".join(c.rjust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row[c]).rjust(widths[c]) for c in columns))
    within_2x = sum(r["extract_vs_parse"] <= 2 for r in rows)
    faster = sum(r["extract_vs_pandas"] < 1 for r in rows)
    print(f"\nextraction ≤ 2× bare parse on {within_2x}/{len(rows)} pages; "
          f"faster than pandas.read_html on {faster}/{len(rows)} pages")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
