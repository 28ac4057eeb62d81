"""Peak memory of the streamed CSV audit export vs. building the whole export in memory.

run() builds a throwaway SQLite database with 100,000 chained audit entries (bulk_create with
precomputed hashes), then measures with tracemalloc:
- stream: consuming audit.exports.csv_stream() — the generator the export view streams — for
  10,000 and for 100,000 entries (flat memory means the two peaks are about the same);
- baseline: loading every row into a list and writing the CSV into one string.
Figures are peaks in MB and ratios, measured in the same run.
"""

import csv
import io
import os
import shutil
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from django.core.management import call_command
from django.db import connections

from audit.exports import FIELDS, csv_stream
from audit.log import GENESIS_HASH, chain_hash
from audit.management.commands.audit_verify import first_broken_link
from audit.models import AuditEntry

ALIAS = "audit_bench"
ENTRIES = int(os.environ.get("AUDIT_BENCH_ENTRIES", "100000"))
BATCH = 5000


def _throwaway_database(path: str) -> None:
    configured = connections.configure_settings({
        "default": dict(connections.settings["default"]),
        ALIAS: {"ENGINE": "django.db.backends.sqlite3", "NAME": path},
    })
    connections.settings[ALIAS] = configured[ALIAS]
    call_command("migrate", database=ALIAS, verbosity=0, interactive=False)


def _fill(count: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    prev = GENESIS_HASH
    batch = []
    for n in range(count):
        entry = AuditEntry(
            action=("plan.created", "review.answered", "comment.posted")[n % 3],
            actor_repr=f"user{n % 50}", created_at=start + timedelta(seconds=n),
            object_type="plans.plan", object_id=str(n % 2000), object_repr=f"Plan {n % 2000}",
            revision_hash="ab" * 32, ip_address="203.0.113.7",
            user_agent="Mozilla/5.0 (bench)", payload={"n": n, "note": "x" * 40},
        )
        entry.prev_hash = prev
        entry.entry_hash = prev = chain_hash(prev, entry)
        batch.append(entry)
        if len(batch) == BATCH:
            AuditEntry.objects.using(ALIAS).bulk_create(batch)
            batch = []
    if batch:
        AuditEntry.objects.using(ALIAS).bulk_create(batch)


def _measure(func) -> tuple[float, float, int]:
    """(peak MB, seconds, bytes produced) of func()."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    began = time.perf_counter()
    produced = func()
    seconds = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, seconds, produced


def _stream(queryset) -> int:
    return sum(len(chunk) for chunk in csv_stream(queryset))


def _in_memory(queryset) -> int:
    rows = list(queryset.order_by("id").values_list(*FIELDS))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    writer.writerows(rows)
    return len(buffer.getvalue())


def run() -> dict:
    tmp = tempfile.mkdtemp(prefix="plangate-audit-bench-")
    try:
        _throwaway_database(os.path.join(tmp, "bench.sqlite3"))
        began = time.perf_counter()
        _fill(ENTRIES)
        fill_seconds = time.perf_counter() - began
        entries = AuditEntry.objects.using(ALIAS)
        small = entries.filter(id__lte=ENTRIES // 10)
        stream_small_mb, _, _ = _measure(lambda: _stream(small))
        stream_mb, stream_s, stream_bytes = _measure(lambda: _stream(entries))
        list_mb, list_s, list_bytes = _measure(lambda: _in_memory(entries))
        began = time.perf_counter()
        verified, broken = first_broken_link(entries)
        verify_seconds = time.perf_counter() - began
        return {
            "entries": ENTRIES,
            "database": connections[ALIAS].vendor,
            "fill_seconds": round(fill_seconds, 2),
            "csv_mb": round(stream_bytes / 2**20, 1),
            "stream_peak_mb_at_10pct": round(stream_small_mb, 2),
            "stream_peak_mb": round(stream_mb, 2),
            "stream_seconds": round(stream_s, 2),
            "in_memory_peak_mb": round(list_mb, 2),
            "in_memory_seconds": round(list_s, 2),
            "in_memory_over_stream_peak": round(list_mb / stream_mb, 1),
            "stream_growth_10pct_to_100pct": round(stream_mb / stream_small_mb, 2),
            "same_bytes": stream_bytes >= list_bytes * 0.9,
            "audit_verify": broken or f"{verified} entries verified",
            "audit_verify_seconds": round(verify_seconds, 2),
        }
    finally:
        if ALIAS in connections.settings:
            connections[ALIAS].close()
            del connections.settings[ALIAS]
        shutil.rmtree(tmp, ignore_errors=True)
