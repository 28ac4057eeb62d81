"""Peak memory of the streamed CSV audit export, on the bench database (the configured engine).

tracemalloc's peak while consuming audit.exports.csv_stream() (the generator the export view
streams; a server-side cursor on PostgreSQL) over a tenth of the trail and over all of it: flat
memory means the two peaks are about the same. Python allocations only (the database driver's
own buffers are not traced); the export fetches CHUNK_SIZE rows at a time.
"""

from __future__ import annotations

import time
import tracemalloc

from django.db import connection

from audit.exports import csv_stream
from audit.models import AuditEntry


def _measure(queryset) -> tuple[float, float, int]:
    """(peak MB, seconds, bytes) of streaming the queryset's CSV."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    began = time.perf_counter()
    produced = sum(len(chunk) for chunk in csv_stream(queryset))
    seconds = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, seconds, produced


def run() -> dict:
    entries = AuditEntry.objects.all()
    count = entries.count()
    tenth = entries.order_by("id").values_list("id", flat=True)[max(0, count // 10 - 1)]
    small_mb, _, _ = _measure(entries.filter(id__lte=tenth))
    peak_mb, seconds, size = _measure(entries)
    return {
        "entries": count,
        "database": connection.vendor,
        "peak_mb": round(peak_mb, 2),
        "peak_mb_at_10pct": round(small_mb, 2),
        "growth_10pct_to_100pct": round(peak_mb / small_mb, 2) if small_mb else None,
        "csv_mb": round(size / 2**20, 1),
        "seconds": round(seconds, 2),
    }
