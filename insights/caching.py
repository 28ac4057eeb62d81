"""The dashboards' and insights' figures, kept in the Django cache (Redis when configured, so
every web process shares them) under a version that every write they show changes.

The version is the chain hash of the newest audit entry (every service writes one inside its
transaction, in commit order, and no other database has it: audit/selectors.py
latest_entry_hash) and the id of the newest admin history row (an admin's edit of a user's name
or active flag is no service). A key holds the version, so a write makes the next request
compute afresh; nothing is ever invalidated by hand (bump PREFIX when what is cached changes
shape) and old keys expire. Deliveries the worker marks failed are neither: they are read live.
"""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.db import connection

from audit.selectors import latest_entry_hash
from core import cache as shared_cache

# Only to free old versions' entries (a new version is a new key): short, since a busy site
# writes a new version every few seconds and each view after a write stores a new entry.
TIMEOUT = 10 * 60
PREFIX = "insights:v2"


def data_version() -> str | None:
    """The newest audit entry's hash and admin history row's id, in one query; None before the
    first audited write (an empty trail is no version: nothing is cached)."""
    newest_admin = LogEntry.objects.order_by("-id").values_list("id", flat=True)[:1]
    parts = [q.query.sql_with_params() for q in (latest_entry_hash(), newest_admin)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"({sql})" for sql, _ in parts),
                       [p for _, params in parts for p in params])
        audit, admin = cursor.fetchone()
    return None if audit is None else f"{audit[:32]}.{admin or 0}"  # 128 bits are plenty


def key(name: str, version: str | None, *parts) -> str | None:
    """The cache key of `name` at `version` for `parts` (None without a version)."""
    if version is None:
        return None
    return ":".join([PREFIX, name, version, *(str(p) for p in parts)])


def get_or_compute(cache_key: str | None, compute, *, fresh=lambda value: True):
    """The cached value, or `compute()` stored; `fresh(value)` may refuse a cached one. The
    cache is an optimisation, never a dependency: with it down (Redis stopped) the figures are
    computed afresh, slower, and the log says so."""
    if cache_key is None:
        return compute()
    return shared_cache.cached(cache_key, compute, TIMEOUT, fresh=fresh)
