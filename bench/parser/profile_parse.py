"""Where parse time goes: the share of each stage of ``parse_bytes`` on the bench pages (bench_parse.py).

Each stage's functions are wrapped with a timer of the process's CPU time (the wrapped calls are few per
page, so the timers cost little next to what they time); what no stage claims is "other" (the glue in
``html_document`` and ``analyze``, sections, warnings, attachments). ``--handler`` times the handler's
end of work too: the record turned into the JSON-able dict of ``ReportParsed`` (as
``handlers.handle_page_fetched`` does) and that message into the task's payload (``Message.to_payload``,
what ``CeleryPublisher`` sends). ``--cprofile`` prints cProfile's top functions instead, for finding what
to change inside a stage.

    uv run python bench/parser/profile_parse.py [--repeat 20] [--rounds 10] [--page medium-2019] [--handler]
                                                [--cprofile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # for tests.parser.builders and the bench's pages

from bench.parser.bench_parse import PAGES  # noqa: E402
from nianbao.parser import analyze, extract, htmlflow  # noqa: E402
from nianbao.parser.extract import parse_bytes  # noqa: E402
from nianbao.parser.settings import ParserSettings  # noqa: E402
from nianbao.shared.contracts import ReportParsed  # noqa: E402
from nianbao.shared.record import Record  # noqa: E402
from tests.parser.builders import make_report, render_html  # noqa: E402

# stage → (module, names in it): each name is a function the module calls, timed where it is called.
STAGES: dict[str, tuple[ModuleType, tuple[str, ...]]] = {
    "input checks + decode": (extract, ("check_bytes", "sniff_html", "check_html", "decode", "check_text")),
    "lexbor parse (C)": (htmlflow, ("LexborHTMLParser",)),
    "html: meta, links, chrome, body container": (
        htmlflow, ("_meta", "_attachments", "_drop_chrome", "_data_tables", "_body_root")
    ),
    "html: table cells → grids": (htmlflow, ("read_rows", "build_grid")),
    "html: text flow → lines": (htmlflow, ("_flow_text", "_outside_and_body", "_split_flow")),
    "layout, metadata, identity": (
        analyze,
        ("layout", "_legacy_anchor", "read_metadata", "_metadata_lines", "find_year", "find_agency", "_compact",
         "generation_from_labels"),
    ),
    "grids → token streams": (analyze, ("grid_regions", "text_regions")),
    "table readers (labels, values, provenance)": (
        analyze, ("read_requests", "read_active", "read_review", "read_legacy")
    ),
    "record validation (pydantic)": (analyze, ("Record",)),
}  # fmt: skip


OTHER = "other (glue, sections, warnings, attachments, SHA-256)"
# --handler: the handler's end of work after parse_bytes, each step timed as a stage of its own.
DUMP = "handler: record → JSON dict (model_dump)"
PAYLOAD = "publish: ReportParsed.to_payload (shared)"

# CPU time of this process, not wall time: the shares stay right on a machine shared with other work,
# where a wall-clock round often includes time the process was not running.
CLOCK = time.process_time


def record_json(record: Record) -> dict[str, Any]:
    """What ``handle_page_fetched`` puts into ``ReportParsed.record``."""
    return record.model_dump(mode="json")


def payload(record: dict[str, Any]) -> dict[str, Any]:
    """What ``CeleryPublisher`` sends for that record."""
    return ReportParsed(site_id="bench", url="bench", raw_key="bench", record=record).to_payload()


def page_bytes(name: str, generation: Any, nav: int, prose: int) -> bytes:
    report = make_report(generation, seed=len(name))
    report.prose_paragraphs = prose
    return render_html(
        report,
        nav_links=nav,
        split_requests_at="refused_petition" if "2019" in name else None,
        layout_table=name.startswith("xlarge"),
    ).encode("utf-8")


_inside: list[str] = []  # the stage being timed: a timed call inside it (_flow_text in _outside_and_body) is its


def _timed(spent: defaultdict[str, float], stage: str, call: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        if _inside:
            return call(*args, **kwargs)
        _inside.append(stage)
        started = CLOCK()
        try:
            return call(*args, **kwargs)
        finally:
            spent[stage] += CLOCK() - started
            _inside.pop()

    return timed


def instrument(spent: defaultdict[str, float]) -> None:
    for stage, (module, names) in STAGES.items():
        for name in names:
            original = getattr(module, name)
            if name == "Record":  # only its model_validate is called in analyze
                setattr(module, name, SimpleNamespace(model_validate=_timed(spent, stage, original.model_validate)))
            else:
                setattr(module, name, _timed(spent, stage, original))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="parses per round")
    parser.add_argument("--rounds", type=int, default=10, help="rounds per page; the fastest is shown")
    parser.add_argument("--page", action="append", help="only these bench pages (default: all)")
    parser.add_argument("--handler", action="store_true", help="time the handler's record → JSON and payload too")
    parser.add_argument("--cprofile", action="store_true", help="print cProfile's top functions instead")
    args = parser.parse_args()
    pages = [p for p in PAGES if not args.page or p[0] in args.page]
    settings = ParserSettings()
    data = [page_bytes(*page) for page in pages]
    spent: defaultdict[str, float] = defaultdict(float)
    dump, publish = record_json, payload
    if args.handler and not args.cprofile:
        dump, publish = _timed(spent, DUMP, record_json), _timed(spent, PAYLOAD, payload)

    def work(page: bytes) -> None:
        record = parse_bytes(page, media_type="text/html", settings=settings)
        if args.handler:
            publish(dump(record))

    for page in data:  # warm-up: imports, caches, vocabulary
        work(page)
    if args.cprofile:
        profile = cProfile.Profile()
        profile.enable()
        for page in data:
            for _ in range(args.repeat):
                work(page)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(40)
        return 0
    instrument(spent)
    stages = [*STAGES, *((DUMP, PAYLOAD) if args.handler else ())]
    shares: dict[str, dict[str, float]] = {}  # page → stage → seconds per parse
    for (name, *_), page in zip(pages, data, strict=True):
        for _ in range(args.rounds):  # the least disturbed round counts, as in bench_parse.py
            spent.clear()
            started = CLOCK()
            for _ in range(args.repeat):
                work(page)
            total = CLOCK() - started
            if name not in shares or total / args.repeat < sum(shares[name].values()):
                shares[name] = {stage: spent[stage] / args.repeat for stage in stages}
                shares[name][OTHER] = (total - sum(spent.values())) / args.repeat
    unit = "page (parse + handler end)" if args.handler else "parse"
    print(
        f"% of {unit} time per stage (CPU time; the fastest of {args.rounds} rounds of {args.repeat} parses per page)\n"
    )
    print("| stage | " + " | ".join(shares) + " |")
    print("|---|" + "---|" * len(shares))
    for stage in [*stages, OTHER]:
        cells = (100 * by_stage[stage] / sum(by_stage.values()) for by_stage in shares.values())
        print(f"| {stage} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
    totals = (1000 * sum(by_stage.values()) for by_stage in shares.values())
    print(f"| **ms per {unit}** | " + " | ".join(f"{t:.3f}" for t in totals) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
