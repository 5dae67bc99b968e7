"""Benchmark: our full PDF extraction (``pdf_document`` + ``analyze``) vs pdfplumber's own
``page.extract_tables()`` over every page of the same files.

The files are the devportal reports drawn as PDFs (``nianbao.devportal.render.pdfdoc``), plainly and
with every quirk switched on. Each time is the fastest of ``--repeat`` runs after a warm-up, all measured
in this one run. Target: ours ≤ 1.5× pdfplumber (both are dominated by pdfminer's layout analysis and the
table finder; ours runs them once per page and builds grids, text lines and the record on top).

    uv run python bench/pdf/bench_pdf.py [--repeat 5] [--json bench/results/pdf.json]
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import time
from collections.abc import Callable
from pathlib import Path

import pdfplumber

from nianbao.devportal.catalogue import REPORTS
from nianbao.devportal.render.layout import report_layout
from nianbao.devportal.render.pdfdoc import PdfOptions, report_pdf
from nianbao.parser.analyze import Budget, analyze
from nianbao.parser.pdfflow import pdf_document
from nianbao.parser.settings import ParserSettings
from nianbao.shared.record import Source

QUIRKS = PdfOptions(split_requests=True, vertical_label=True, boxed_paragraph=True, money_split=True)


def files() -> list[tuple[str, bytes]]:
    out = []
    for report in REPORTS:
        layout = report_layout(report)
        out.append((report.id, report_pdf(layout)))
        out.append((f"{report.id}+quirks", report_pdf(layout, QUIRKS)))
    return out


def ours(data: bytes, settings: ParserSettings) -> int:
    document = pdf_document(data, settings)
    source = Source(content_sha256="0" * 64, media_type="application/pdf")
    record = analyze(document, source=source, budget=Budget.of(settings.time_budget_s))
    return len(record.cells)


def plumber(data: bytes) -> int:
    cells = 0
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            cells += sum(len(row) for table in page.extract_tables() for row in table)
    return cells


def pages(data: bytes) -> int:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def best_ms(call: Callable[[], object], repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    settings = ParserSettings()
    rows: list[dict[str, str | int | float]] = []
    print(f"{'file':<24} {'pages':>5} {'ours ms':>9} {'pdfplumber ms':>14} {'ratio':>6} {'ours pages/s':>13}")
    for name, data in files():
        n_pages = pages(data)
        ours_ms = best_ms(lambda data=data: ours(data, settings), args.repeat)  # type: ignore[misc]
        theirs_ms = best_ms(lambda data=data: plumber(data), args.repeat)  # type: ignore[misc]
        ratio = ours_ms / theirs_ms
        rows.append({"file": name, "pages": n_pages, "ours_ms": round(ours_ms, 1),
                     "pdfplumber_ms": round(theirs_ms, 1), "ratio": round(ratio, 2)})  # fmt: skip
        print(f"{name:<24} {n_pages:>5} {ours_ms:>9.1f} {theirs_ms:>14.1f} {ratio:>6.2f} "
              f"{n_pages / ours_ms * 1000:>13.1f}")  # fmt: skip
    total_ours = sum(float(r["ours_ms"]) for r in rows)
    total_theirs = sum(float(r["pdfplumber_ms"]) for r in rows)
    total_pages = sum(int(r["pages"]) for r in rows)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = {
        "ours_ms": round(total_ours, 1),
        "pdfplumber_ms": round(total_theirs, 1),
        "ratio": round(total_ours / total_theirs, 2),
        "ours_pages_per_s": round(total_pages / total_ours * 1000, 1),
        "pdfplumber_pages_per_s": round(total_pages / total_theirs * 1000, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "repeat": args.repeat,
    }
    print(
        f"total: ours {total_ours:.0f} ms, pdfplumber {total_theirs:.0f} ms, ratio {summary['ratio']} "
        f"(target ≤ 1.5); ours {summary['ours_pages_per_s']} pages/s; peak RSS {peak_mb:.0f} MB"
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"files": rows, "summary": summary}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
