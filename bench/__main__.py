"""`make bench` (python -m bench [--quick] [--size N] [--writers W] [--keep] [section ...]).

Against the configured database's engine and server (a throwaway database beside it, see
bench/db.py): seeds the bench's plans through the services, fills up to a small size in bulk and
takes every page's query count, fills up to the full size (default 10,000 plans of 5 steps, a
third reviewed, 100,000 audit entries) and takes the query counts again, then times every
section. Every time is reported against a baseline measured in the same run. Writes
bench/results.json and prints a table. Sections (all by default; `waiting` only when named or
at full size): pages, http, writes, notify, markdown, export, waiting.

Exit status 1 when a section could not run (the harness is broken), never because of a figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path

import django

# Always the bench's settings (the app's, with the bare view's urlconf and DEBUG off).
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
django.setup()
logging.getLogger("celery").setLevel(logging.WARNING)  # keep the report readable

from django.db import connection  # noqa: E402

from bench import (  # noqa: E402
    audit_export,
    dataset,
    db,
    http_rps,
    markdown,
    notify_latency,
    page_times,
    report,
    waiting,
    writes,
)

SECTIONS = ("pages", "http", "writes", "notify", "markdown", "export", "waiting")
ALIASES = {"queries": "pages", "transitions": "writes", "notify_latency": "notify",
           "audit_export": "export", "http_rps": "http"}
NEEDS_DATA = {"pages", "http", "writes", "notify", "export"}
RESULTS = Path(__file__).resolve().parent / "results.json"

#: (plans, audit entries) of the small dataset (query counts), and run lengths per mode.
SMALL = (20, 300)
MODES = {
    "quick": {"size": 60, "rounds": 1, "samples": 3, "http_rounds": 1, "http_seconds": 1.0,
              "write_rounds": 2, "cycles": 3, "writer_rounds": 2, "writer_seconds": 2.0,
              "transitions": 5, "markdown_rounds": 2},
    "full": {"size": 10_000, "rounds": 3, "samples": 8, "http_rounds": 7, "http_seconds": 3.0,
             "write_rounds": 5, "cycles": 20, "writer_rounds": 5, "writer_seconds": 2.0,
             "transitions": 200, "markdown_rounds": 5},
}


def _arguments(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small dataset, short runs")
    parser.add_argument("--size", type=int, help="plans in the full dataset (default 10,000)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--writers", type=int, default=writes.WRITERS,
                        help="processes writing at once (default: the CPU cores, at least 2)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("sections", nargs="*", help=", ".join(SECTIONS))
    args = parser.parse_args(argv)
    if not 2 <= args.writers <= writes.MAX_WRITERS:
        parser.error(f"--writers: between 2 and {writes.MAX_WRITERS}")
    chosen = [ALIASES.get(name, name) for name in args.sections]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)} (choose from "
                     f"{', '.join(SECTIONS)})")
    mode = dict(MODES["quick" if args.quick else "full"])
    if args.size:
        mode["size"] = args.size
    if chosen:
        args.run = set(chosen)
    else:
        args.run = set(SECTIONS) - ({"waiting"} if args.quick else set())
    args.mode = mode
    return args


class Bench:
    def __init__(self, args):
        self.args = args
        self.mode = args.mode
        self.results: dict = {
            "size": self.mode["size"], "mode": "quick" if args.quick else "full",
            "database": connection.vendor, "baseline": None, "pages": {}, "queries": {},
            "http": None, "transitions_per_s": None, "transition_ratio_to_save": None,
            "transitions_per_s_concurrent": None,
            "notify_latency_ms": None, "markdown": None, "export_peak_mb": None, "notes": [],
        }
        self.failed: list[str] = []

    def section(self, name: str, function) -> None:
        if name not in self.args.run:
            return
        began = time.monotonic()
        print(f"== {name}", flush=True)
        try:
            function()
        except Exception:
            self.failed.append(name)
            self.results.setdefault("errors", {})[name] = traceback.format_exc()[-3000:]
            traceback.print_exc()
        self.results.setdefault("seconds", {})[name] = round(time.monotonic() - began, 1)

    def run(self) -> int:
        started = time.monotonic()
        if self.args.run & NEEDS_DATA:
            with db.bench_broker() as queue, db.bench_database(keep=self.args.keep) as url:
                self.with_data(url, queue)
        self.section("markdown", self.markdown)
        self.section("waiting", self.waiting)
        self.results["seconds_total"] = round(time.monotonic() - started, 1)
        self.results["targets"] = report.targets(self.results)
        self.args.output.write_text(json.dumps(self.results, indent=2, default=str) + "\n")
        print(report.table(self.results))
        print(f"\nWrote {self.args.output}")
        if self.failed:
            print(f"FAILED sections: {', '.join(self.failed)}", file=sys.stderr)
        return 1 if self.failed else 0

    # --- sections on the bench database --------------------------------------------------------
    def with_data(self, url: str, queue: str) -> None:
        began = time.monotonic()
        fx = dataset.seed_fixtures(writers=self.args.writers)
        small = dataset.fill(plans=SMALL[0], audit_entries=SMALL[1], fx=fx)
        urls, skipped = page_times.resolve(fx)
        self.results["notes"] += [f"page {name} skipped: {why}" for name, why in skipped.items()]
        signed_in = page_times.clients(fx)
        small_counts = {}
        if "pages" in self.args.run:
            small_counts, _ = page_times.query_counts(fx, urls, signed_in)
        size = self.mode["size"]
        large = dataset.fill(plans=size, audit_entries=size * 10, fx=fx)
        self.results["dataset"] = {"small": small, "large": large,
                                   "seed_seconds": round(time.monotonic() - began, 1)}
        print(f"   seeded {large} in {self.results['dataset']['seed_seconds']} s", flush=True)
        self.section("pages", lambda: self.pages(fx, urls, signed_in, small_counts))
        self.section("http", lambda: self.http(fx, url, queue))
        self.section("writes", lambda: self.writes(fx, url, queue))
        self.section("notify", lambda: self.notify(fx, url))
        self.section("export", self.export)

    def pages(self, fx, urls, signed_in, small_counts) -> None:
        large_counts, errors = page_times.query_counts(fx, urls, signed_in)
        for name, error in errors.items():
            self.results["notes"].append(f"page {name} failed: {error}")
        self.results["page_errors"] = errors
        self.results["queries"] = {
            name: {"small": small_counts.get(name), "large": large_counts[name]}
            for name in large_counts
        }
        timed = {name: urls[name] for name in urls if name not in errors}
        figures = page_times.timings(fx, timed, signed_in, rounds=self.mode["rounds"],
                                     samples=self.mode["samples"])
        self.results["baseline"] = {**figures["baseline"],
                                    "queries": large_counts.get("bare")}
        self.results["pages"] = figures["pages"]

    def http(self, fx, url: str, queue: str) -> None:
        self.results["http"] = http_rps.run(fx, database_url=url, queue=queue,
                                            rounds=self.mode["http_rounds"],
                                            seconds=self.mode["http_seconds"])

    def writes(self, fx, url: str, queue: str) -> None:
        figures = writes.run(fx, rounds=self.mode["write_rounds"], cycles=self.mode["cycles"])
        self.results["writes"] = figures
        self.results["transitions_per_s"] = figures["transitions_per_s"]
        self.results["transition_ratio_to_save"] = figures["transition_ratio_to_save"]
        concurrent = writes.concurrent(
            fx, database_url=url, queue=queue, rounds=self.mode["writer_rounds"],
            seconds=self.mode["writer_seconds"],
            single_transitions_per_s=figures["transitions_per_s"])
        figures["concurrent"] = concurrent
        self.results["transitions_per_s_concurrent"] = concurrent.get("transitions_per_s")
        if "skipped" in concurrent:
            self.results["notes"].append(f"concurrent writes not measured: "
                                         f"{concurrent['skipped']}")

    def notify(self, fx, url: str) -> None:
        figures = notify_latency.run(fx, transitions=self.mode["transitions"], database_url=url)
        self.results["notify_latency"] = figures
        if "skipped" in figures:
            self.results["notify_latency_ms"] = None
            self.results["notes"].append(f"notify latency not measured: {figures['skipped']}")
        else:
            self.results["notify_latency_ms"] = {
                "median": figures["last_recipient"]["median"],
                "p95": figures["last_recipient"]["p95"],
            }

    def export(self) -> None:
        figures = audit_export.run()
        self.results["export"] = figures
        self.results["export_peak_mb"] = figures["peak_mb"]

    # --- sections without it -------------------------------------------------------------------
    def markdown(self) -> None:
        self.results["markdown"] = markdown.run(rounds=self.mode["markdown_rounds"])

    def waiting(self) -> None:
        self.results["waiting"] = waiting.run()


if __name__ == "__main__":
    sys.exit(Bench(_arguments(sys.argv[1:])).run())
