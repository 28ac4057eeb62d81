"""The shared cache (Redis when configured) as an optimisation, never a dependency.

Every cached read and write of the app goes through here: with the cache down (Redis stopped), a
read finds nothing and a write keeps nothing, so the page is computed afresh, slower, and the
log says so. Nothing is ever served from a cache that could not be asked.

``SharedValue``: small values that every request reads and admins rarely change (the review
policy, the default checklist, the webhook endpoints), kept in the shared cache and read afresh
after every committed change, in every process.

A value is stored with the token it was loaded under. A change (``changed``, connected as a
signal receiver to the models the value is read from) gives the name a new token once its
transaction commits: from then on nobody asks for a value stored under an older token, even one
that a reader loaded from the old rows just before the commit and stored after it. Until it
commits, the changing transaction itself reads the database.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)


def get_many(keys: Iterable[str]) -> dict:
    keys = list(keys)
    if not keys:
        return {}
    try:
        return cache.get_many(keys)
    except Exception:
        logger.warning("Cache unavailable: computing without it", exc_info=True)
        return {}


def get(key: str):
    """The cached value, or None (not cached, or the cache is down)."""
    return get_many([key]).get(key)


def set_many(values: dict, seconds: int | None) -> bool:
    """Keep ``values`` for ``seconds`` (None: until evicted); False when the cache is down."""
    if not values:
        return True
    try:
        cache.set_many(values, seconds)
    except Exception:
        logger.warning("Cache unavailable: result not kept", exc_info=True)
        return False
    return True


def set(key: str, value, seconds: int | None) -> bool:
    return set_many({key: value}, seconds)


def add(key: str, value, seconds: int | None) -> bool:
    """Keep ``value`` unless the key is already kept; False when it was, or the cache is down."""
    try:
        return cache.add(key, value, seconds)
    except Exception:
        logger.warning("Cache unavailable: result not kept", exc_info=True)
        return False


def cached(key: str, compute: Callable[[], object], seconds: int | None, *,
           fresh: Callable[[object], bool] = lambda value: True):
    """``compute()``, kept under ``key``; a cached value that ``fresh`` refuses is recomputed."""
    value = get(key)
    if value is None or not fresh(value):
        value = compute()
        set(key, value, seconds)
    return value


class _NewToken:
    """The on-commit callback of a transaction that changed one shared value."""

    def __init__(self, shared: SharedValue) -> None:
        self.shared = shared
        self.done = False

    def __call__(self) -> None:
        self.done = True
        # The cache down: the new token is lost, and a value stored before may be read again
        # until it expires (``seconds``).
        set(self.shared.token_key, uuid.uuid4().hex, None)


class SharedValue:
    def __init__(self, name: str, load: Callable[[], object], *, seconds: int = 5 * 60):
        self.key = f"plangate:shared:{name}"
        self.token_key = f"{self.key}:token"
        self.load = load
        self.seconds = seconds  # a bound, should a new token ever be lost (the cache was down)

    def _changing(self) -> bool:
        conn = transaction.get_connection()
        return conn.in_atomic_block and any(
            isinstance(cb, _NewToken) and cb.shared is self and not cb.done
            for _, cb, _ in conn.run_on_commit)

    def changed(self, **kwargs) -> None:
        """What the value is read from changed (a signal receiver): new token on commit."""
        if not self._changing():
            transaction.on_commit(_NewToken(self))

    def get(self):
        """The value: from the cache (one round trip) while no change committed since it was
        loaded, else loaded and stored."""
        if self._changing():
            return self.load()  # this transaction's own, uncommitted, change
        found = get_many([self.token_key, self.key])
        token = found.get(self.token_key)
        if token is None:
            add(self.token_key, uuid.uuid4().hex, None)
            token = get(self.token_key)
            if token is None:  # a cache that keeps nothing, or is down
                return self.load()
        stored = found.get(self.key)
        if stored is not None and stored[0] == token:
            return stored[1]
        value = self.load()
        set(self.key, (token, value), self.seconds)
        return value
