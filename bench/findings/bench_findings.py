"""Benchmark: the findings list (web view, admin API, CLI) and its total at two site sizes on PostgreSQL.

For each size n (``--sizes``, default 2 000 and 20 000 reports in one site): a fresh database; 200 generated
reports (bench/pipeline's generator: corpus seeds with agencies renamed and counts shifted) parsed, checked
and stored by the pipeline; the site grown to n by server-side copies (bench/pipeline's prefill, which ends
with VACUUM ANALYZE). Then ``nianbao.app.queries.list_findings`` (a page of 50) at offsets 0 and 5 000 and
``count_findings``, for failing findings and for every finding (and the totals of one rule's failing findings
and of the not-assessable ones): the median ms of ``--repeat`` runs. The ratio
of the largest size to the smallest says whether a page costs the same on a large database.

    uv run python bench/findings/bench_findings.py [--sizes 2000,20000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # so that `bench.pipeline.*` imports work when run as a script

from bench.pipeline import bench_pipeline as pipeline  # noqa: E402  (the generator, the database, the prefill)

TEMPLATES = 200
PAGE = 50
OFFSETS = (0, 5_000)
STATUSES = ("fail", None)  # failing findings (the default list), every finding (status=all)
ONE_RULE = "requests.balance"  # the total of one rule's failing findings (the web view's rule filter)


def _median_ms(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def store_templates(url: str, raw_dir: Path) -> None:
    """TEMPLATES generated reports through the parser's and the validator's handlers, into site ``bench``."""
    from nianbao.parser.handlers import handle_page_fetched
    from nianbao.parser.settings import ParserSettings
    from nianbao.shared.bus import CollectingPublisher
    from nianbao.shared.contracts import ReportParsed
    from nianbao.shared.rawstore import RawStore
    from nianbao.validator.handlers import handle_report_parsed
    from nianbao.validator.settings import ValidatorSettings

    with pipeline.environment({"NIANBAO_DATABASE_URL": url, "NIANBAO_RAW_STORE_DIR": str(raw_dir)}):
        store, parser, validator = RawStore(raw_dir), ParserSettings(), ValidatorSettings()
        for message in pipeline.store_reports(TEMPLATES, pipeline.load_seeds(), raw_dir):
            published = CollectingPublisher()
            handle_page_fetched(message, store, published, parser)
            for parsed in published.messages:
                assert isinstance(parsed, ReportParsed)
                handle_report_parsed(parsed, validator)


def measure(size: int, admin_url: str, repeat: int) -> dict[str, Any]:
    from sqlalchemy import create_engine
    from sqlmodel import Session

    from nianbao.app.queries import count_findings, list_findings

    with pipeline.fresh_database(admin_url, f"findings{size}") as url, tempfile.TemporaryDirectory() as raw:
        store_templates(url, Path(raw))
        if size > TEMPLATES:
            pipeline.prefill(url, "bench", TEMPLATES, size - TEMPLATES)
        engine = create_engine(url)
        figures: dict[str, Any] = {"reports": size}
        with Session(engine) as session:
            for status in STATUSES:
                label = status or "all"

                def count(status: str | None = status) -> int:
                    return count_findings(session, site_id="bench", status=status)

                def page(offset: int, status: str | None = status) -> object:
                    return list_findings(session, site_id="bench", status=status, offset=offset, limit=PAGE)

                figures[f"count_{label}"] = count()
                figures[f"count_{label}_ms"] = _median_ms(count, repeat)
                for offset in OFFSETS:
                    figures[f"page_{label}_offset{offset}_ms"] = _median_ms(partial(page, offset), repeat)
            for label, rule, status in (("rule_fail", ONE_RULE, "fail"), ("not_assessable", None, "not_assessable")):

                def narrowed(rule: str | None = rule, status: str = status) -> int:
                    return count_findings(session, site_id="bench", rule=rule, status=status)

                figures[f"count_{label}"] = narrowed()
                figures[f"count_{label}_ms"] = _median_ms(narrowed, repeat)
        engine.dispose()
        return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2000,20000", help="reports in the site, comma-separated")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres-admin-url", default=pipeline.ADMIN_URL)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    runs = [measure(size, args.postgres_admin_url, args.repeat) for size in sizes]
    for run in runs:
        print(f"[{run['reports']} reports]")
        for key, value in run.items():
            print(f"  {key:28} {value}")
    small, large = runs[0], runs[-1]
    ratios = {key: round(large[key] / small[key], 2) for key in small if key.endswith("_ms") and small[key]}
    print(f"[{large['reports']} ÷ {small['reports']} reports, ms]")
    for key, value in ratios.items():
        print(f"  {key:28} {value}")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "ratios": ratios, "load": pipeline.load()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
