"""`make bench BENCH=--quick` keeps working: the harness runs end to end on SQLite (no Redis),
writes every results.json key the tools read, and reports each page it knows about; its writes
section also runs on PostgreSQL (as `.ci/run` runs the quick bench), where concurrent writers
are measured.

It asserts nothing about speed (figures live in the bench, never in tests); it fails when the
harness breaks: a section that raises, a page that does not answer 200, a key that goes missing.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from audit.actions import AUTH_LOGIN_FAILED
from audit.log import chain_hash, log
from audit.models import AuditEntry
from bench import writes

BASE_DIR = Path(__file__).resolve().parents[2]
KEYS = ("size", "database", "baseline", "pages", "queries", "http", "transitions_per_s",
        "transition_ratio_to_save", "transitions_per_s_concurrent", "notify_latency_ms",
        "markdown", "export_peak_mb")
CORE_PAGES = ("plan_list", "plan_detail_1_step", "plan_detail_50_steps", "review_1_review",
              "review_20_reviews", "revision_diff", "conversation", "inbox", "audit_list",
              "certificate", "admin_plan_changelist")


def _quick_bench(output: Path, *sections: str, **env) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(BASE_DIR), **env}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output), *sections],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=240,
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    output = tmp / "results.json"
    done = _quick_bench(output, DATABASE_URL=f"sqlite:///{tmp / 'configured.sqlite3'}",
                        REDIS_URL="")
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
    # Concurrent writers are PostgreSQL's figure: skipped here, and it says why.
    assert results["transitions_per_s_concurrent"] is None
    assert "needs PostgreSQL" in results["writes"]["concurrent"]["skipped"]
    assert any("concurrent writes not measured: needs PostgreSQL" in n for n in results["notes"])
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
    both_ways = results["writes"]["compiled_queries"]  # measured with and without, both ran
    assert both_ways["cycle_cpu_ms"] > 0 and both_ways["orm_built_cycle_cpu_ms"] > 0


def test_concurrent_writers_on_postgresql(require_postgres, tmp_path):
    """The writes section on the configured PostgreSQL server (a bench database of this test's
    own name beside it): the writer processes all report, none of their writes failed, the
    audit chain they appended to concurrently still verifies, and the figure is in the table."""
    configured = urlsplit(os.environ["DATABASE_URL"])
    database_url = configured._replace(path=f"{configured.path}_harness").geturl()
    output = tmp_path / "results.json"
    done = _quick_bench(output, "writes", DATABASE_URL=database_url)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(output.read_text())
    assert results["database"] == "postgresql" and not results.get("errors")
    single, concurrent = results["writes"], results["writes"]["concurrent"]
    assert concurrent["writers"] >= 2 and concurrent["errors"] == 0
    assert len(concurrent["per_writer_transitions_per_s"]) == concurrent["writers"]
    assert all(rate > 0 for rate in concurrent["per_writer_transitions_per_s"])
    assert results["transitions_per_s_concurrent"] == concurrent["transitions_per_s"] > 0
    assert concurrent["scaling"] == pytest.approx(
        concurrent["transitions_per_s"] / single["transitions_per_s"], abs=0.01)
    assert concurrent["scaling_to_one_writer"] == pytest.approx(
        concurrent["transitions_per_s"] / concurrent["one_writer_transitions_per_s"], abs=0.01)
    low, high = concurrent["spread_transitions_per_s"]
    assert 0 < low <= concurrent["transitions_per_s"] <= high
    assert 0 <= concurrent["chain_lock_wait_share"] < 1
    assert concurrent["audit_entries_verified"] > results["dataset"]["large"]["audit_entries"]
    assert f"writes at once: {concurrent['writers']} writers" in done.stdout


@pytest.mark.django_db
def test_a_forked_audit_chain_fails_the_concurrent_figure():
    """Two writers that both appended after the same head (the chain lock not held until
    commit) fail the section instead of giving a figure."""
    first = log(AUTH_LOGIN_FAILED, payload={"n": 1})
    log(AUTH_LOGIN_FAILED, payload={"n": 2})
    assert writes.verify_chain(writers=2) == 2
    fork = AuditEntry(action=AUTH_LOGIN_FAILED, created_at=timezone.now(), payload={"n": 3},
                      prev_hash=first.entry_hash)
    fork.entry_hash = chain_hash(fork.prev_hash, fork)
    fork.save()
    with pytest.raises(RuntimeError, match="does not verify after 2 concurrent writers"):
        writes.verify_chain(writers=2)
