"""Benchmark: ``rules.evaluate`` in ms per report over the corpus seeds and the dev portal's HTML reports.

The records are parsed once; then every record is evaluated alone (only a report whose N−1 report is
among them gets its ``previous``) and, with ``--previous``, each with a copy of itself dated a year
earlier as ``previous`` (every ``xyear.*`` rule runs, ``xyear.copied_text`` on the full text). The time
is the process's CPU time, the fastest of ``--rounds`` rounds of ``--repeat`` passes, so that other work
on the machine does not count.

    uv run python bench/rules/bench_rules.py [--repeat 30] [--rounds 5] [--previous] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path

from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.render.article import report_page
from nianbao.parser.extract import parse_bytes, parse_file
from nianbao.shared.record import Record
from nianbao.validator.rules import evaluate

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "seeds"


def records() -> list[Record]:
    out = [parse_file(path) for path in sorted(CORPUS.glob("*.txt"))]
    for report in REPORTS:
        page = report_page(report).encode(report.encoding)
        out.append(parse_bytes(page, media_type="text/html", url="https://www.example.gov.cn/a.html"))
    return out


def year_earlier(record: Record) -> Record:
    year = record.year.model_copy(update={"value": (record.year.value or 2020) - 1})
    return record.model_copy(update={"year": year})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="passes over all records per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the fastest counts")
    parser.add_argument("--previous", action="store_true", help="give each record a copy of itself as N−1")
    parser.add_argument("--profile", action="store_true", help="also print cProfile's top functions")
    args = parser.parse_args()
    parsed = records()
    jobs: list[tuple[Record, Record | None]]
    if args.previous:
        jobs = [(record, year_earlier(record)) for record in parsed]
    else:
        by_year = {(r.agency.name, r.year.value): r for r in parsed}
        jobs = [(r, by_year.get((r.agency.name, (r.year.value or 0) - 1))) for r in parsed]

    def run() -> None:
        for record, previous in jobs:
            evaluate(record, previous=previous)

    run()  # warm-up
    best = float("inf")
    for _ in range(args.rounds):
        started = time.process_time()
        for _ in range(args.repeat):
            run()
        best = min(best, (time.process_time() - started) / (args.repeat * len(jobs)))
    with_previous = sum(previous is not None for _, previous in jobs)
    print(f"rules.evaluate: {best * 1000:.3f} ms per report (CPU time; {len(jobs)} reports, {with_previous} "
          f"with a previous report; fastest of {args.rounds} rounds of {args.repeat} passes)")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.repeat):
            run()
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
