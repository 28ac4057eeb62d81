"""`make bench BENCH=--quick` keeps working: the harness runs end to end on SQLite (no Redis),
writes every results.json key the tools read, and reports each page it knows about.

It asserts nothing about speed (figures live in the bench, never in tests); it fails when the
harness breaks: a section that raises, a page that does not answer 200, a key that goes missing.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
KEYS = ("size", "database", "baseline", "pages", "queries", "http", "transitions_per_s",
        "transition_ratio_to_save", "notify_latency_ms", "markdown", "export_peak_mb")
CORE_PAGES = ("plan_list", "plan_detail_1_step", "plan_detail_50_steps", "review_1_review",
              "review_20_reviews", "revision_diff", "conversation", "inbox", "audit_list",
              "certificate", "admin_plan_changelist")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    output = tmp / "results.json"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'configured.sqlite3'}",
           "REDIS_URL": "", "PYTHONPATH": str(BASE_DIR)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)], cwd=BASE_DIR,
        env=env, capture_output=True, text=True, timeout=240,
    )
    return done, output


def test_the_quick_bench_runs_and_writes_every_key(quick_run):
    done, output = quick_run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(output.read_text())
    assert set(KEYS) <= set(results)
    assert results["database"] == "sqlite" and not results.get("errors")
    assert results["baseline"]["median_ms"] > 0 and results["baseline"]["queries"] == 3
    assert results["http"]["detail_rps"] > 0 and results["http"]["errors"] == 0
    assert results["transitions_per_s"] > 0 and results["markdown"]["ratio"] > 0
    assert results["export_peak_mb"] > 0
    assert results["notify_latency_ms"] is None  # no Redis here, and it says why
    assert any("notify latency not measured: no REDIS_URL" in n for n in results["notes"])
    assert "Plangate bench: quick" in done.stdout and "targets:" in done.stdout


def test_every_page_answers_and_keeps_its_query_count(quick_run):
    _, output = quick_run
    results = json.loads(output.read_text())
    assert results["page_errors"] == {}
    for name in CORE_PAGES:
        assert results["pages"][name]["ratio"] > 0, name
        counts = results["queries"][name]
        assert counts["small"] == counts["large"], (name, counts)
    decide = results["writes"]["queries"]["decide"]
    assert decide["1"] == decide["10"]
