"""Benchmark: `nianbao export` (CSV and Parquet) at two site sizes on PostgreSQL, and its batch size.

For each size n (``--sizes``, default 1 000 and 3 000 reports in one site): a fresh database filled as
bench/findings does (200 generated reports through the pipeline, the rest server-side copies). Then
``nianbao.app.export.export`` into a temporary directory: seconds and ms per report, in CSV and Parquet;
and, at the largest size, CSV with each of ``--batches`` as ``EXPORT_BATCH``. Cost per report should not
grow with the size. (Memory: ``tests/app/test_export_streamed.py`` bounds it; ``tracemalloc`` here would
slow the export several times over.)

    uv run python bench/export/bench_export.py [--sizes 1000,3000] [--batches 50,200,1000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # so that `bench.*` imports work when run as a script

from bench.findings import bench_findings as findings  # noqa: E402  (fills a database as that bench does)
from bench.pipeline import bench_pipeline as pipeline  # noqa: E402


def _timed_export(url: str, fmt: str, batch: int | None = None) -> dict[str, Any]:
    from sqlalchemy import create_engine
    from sqlmodel import Session

    from nianbao.app import export as export_module

    saved = export_module.EXPORT_BATCH
    if batch is not None:
        export_module.EXPORT_BATCH = batch
    engine = create_engine(url)
    try:
        with tempfile.TemporaryDirectory() as out, Session(engine) as session:
            started = time.perf_counter()
            result = export_module.export(session, Path(out), fmt)  # type: ignore[arg-type]
            seconds = time.perf_counter() - started
            size_mb = sum(path.stat().st_size for path in result.files.values()) / 2**20
    finally:
        export_module.EXPORT_BATCH = saved
        engine.dispose()
    reports = result.rows["reports"]
    return {
        "format": fmt, "batch": batch or saved, "reports": reports, "rows": result.rows,
        "seconds": round(seconds, 2), "reports_per_s": round(reports / seconds, 1),
        "ms_per_report": round(seconds * 1000 / reports, 3), "files_mb": round(size_mb, 1),
    }  # fmt: skip


def measure(size: int, admin_url: str, batches: list[int]) -> list[dict[str, Any]]:
    with pipeline.fresh_database(admin_url, f"export{size}") as url, tempfile.TemporaryDirectory() as raw:
        findings.store_templates(url, Path(raw))
        if size > findings.TEMPLATES:
            pipeline.prefill(url, "bench", findings.TEMPLATES, size - findings.TEMPLATES)
        runs = [_timed_export(url, fmt) for fmt in ("csv", "parquet")]
        runs += [_timed_export(url, "csv", batch) for batch in batches]
        return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,3000", help="reports in the site, comma-separated")
    parser.add_argument("--batches", default="50,200,1000", help="EXPORT_BATCH values tried at the largest size")
    parser.add_argument("--postgres-admin-url", default=pipeline.ADMIN_URL)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    batches = [int(b) for b in args.batches.split(",")]
    runs: list[dict[str, Any]] = []
    for size in sizes:
        runs += measure(size, args.postgres_admin_url, batches if size == sizes[-1] else [])
    for run in runs:
        print(f"  {run['reports']:>7} reports {run['format']:7} batch {run['batch']:>5}: {run['seconds']:8.2f} s,"
              f" {run['ms_per_report']:.3f} ms/report, files {run['files_mb']} MB")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "load": pipeline.load()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
