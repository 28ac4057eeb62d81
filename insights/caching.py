"""The dashboards' and insights' figures, kept in the Django cache (Redis when configured, so
every web process shares them) under a version that every write they show changes.

The version is audit.selectors.data_version (the newest audit entry's chain hash and admin
history row's id: every committed write changes it). A key holds the version, so a write makes
the next request compute afresh; nothing is ever invalidated by hand (bump PREFIX when what is
cached changes shape) and old keys expire. Deliveries the worker marks failed are neither: they
are read live.
"""

from __future__ import annotations

from core import cache as shared_cache

# Only to free old versions' entries (a new version is a new key): short, since a busy site
# writes a new version every few seconds and each view after a write stores a new entry.
TIMEOUT = 10 * 60
PREFIX = "insights:v2"


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
