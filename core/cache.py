"""The shared cache (Redis when configured) as an optimisation, never a dependency.

Every cached read and write of the app goes through here: with the cache down (Redis stopped), a
read finds nothing and a write keeps nothing, so the page is computed afresh, slower, and the
log says so. Nothing is ever served from a cache that could not be asked, except by
``RecentValues``: a process's newest values under content keys (a key that names everything its
value is drawn from), which no change can make stale.

``SharedValue``: small values that every request reads and admins rarely change (the review
policy, the default checklist, the webhook endpoints), kept in the shared cache and read afresh
after every committed change, in every process. ``SharedValues``: the same, one value per key
(a user's groups, a user's unread count), each key with its own token.

A value is stored with the token it was loaded under. A change (``changed``, connected as a
signal receiver to the models the value is read from) gives the name a new token once its
transaction commits: from then on nobody asks for a value stored under an older token, even one
that a reader loaded from the old rows just before the commit and stored after it. Until it
commits, the changing transaction itself reads the database.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable

from asgiref.local import Local
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)

#: What ``read_ahead`` fetched for this request ({key: value, None when missing}).
_ahead = Local()


def _forget_ahead(**kwargs) -> None:
    _ahead.found = {}


# Read-ahead values live for one request at most: never served to the next one.
request_started.connect(_forget_ahead)
request_finished.connect(_forget_ahead)


def read_ahead(keys: Iterable[str]) -> None:
    """Fetch ``keys`` in one round trip: the next read of each in this request is answered
    from it (once), so a page that knows what its parts will ask for asks once, not once a
    part. A write of a key drops what was read ahead of it."""
    keys = list(keys)
    found = _fetch(keys)
    _ahead.found = {**getattr(_ahead, "found", {}), **{key: found.get(key) for key in keys}}


def _fetch(keys: list[str]) -> dict:
    if not keys:
        return {}
    try:
        return cache.get_many(keys)
    except Exception:
        logger.warning("Cache unavailable: computing without it", exc_info=True)
        return {}


def get_many(keys: Iterable[str]) -> dict:
    ahead = getattr(_ahead, "found", None)
    if not ahead:
        return _fetch(list(keys))
    found, missing = {}, []
    for key in keys:
        if key in ahead:
            value = ahead.pop(key)
            if value is not None:
                found[key] = value
        else:
            missing.append(key)
    return {**found, **_fetch(missing)}


def get(key: str):
    """The cached value, or None (not cached, or the cache is down)."""
    return get_many([key]).get(key)


def set_many(values: dict, seconds: int | None) -> bool:
    """Keep ``values`` for ``seconds`` (None: until evicted); False when the cache is down."""
    if not values:
        return True
    _drop_ahead(values)
    try:
        cache.set_many(values, seconds)
    except Exception:
        logger.warning("Cache unavailable: result not kept", exc_info=True)
        return False
    return True


def _drop_ahead(keys: Iterable[str]) -> None:
    ahead = getattr(_ahead, "found", None)
    for key in keys if ahead else ():
        ahead.pop(key, None)


def set(key: str, value, seconds: int | None) -> bool:
    return set_many({key: value}, seconds)


def add(key: str, value, seconds: int | None) -> bool:
    """Keep ``value`` unless the key is already kept; False when it was, or the cache is down."""
    _drop_ahead([key])
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


class RecentValues:
    """The values last read or drawn under content keys, in this process, the newest ``size``,
    in front of the shared cache (cached()) that the other processes share: a page
    shown again by the same process costs no round trip to it. A key names everything its value
    is drawn from, so a value kept here is never stale: it stays until newer ones push it out
    (``seconds`` is the shared cache's), and with the shared cache down too."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: OrderedDict[str, object] = OrderedDict()
        self.lock = threading.Lock()

    def cached(self, key: str, compute, seconds: int):
        with self.lock:
            if key in self.values:
                self.values.move_to_end(key)
                return self.values[key]
        value = cached(key, compute, seconds)
        with self.lock:
            self.values[key] = value
            while len(self.values) > self.size:
                self.values.popitem(last=False)
        return value


class _NewToken:
    """The on-commit callback of a transaction that changed shared values: new tokens."""

    def __init__(self, shared, token_keys: Iterable[str]) -> None:
        self.shared = shared
        self.token_keys = frozenset(token_keys)  # (``set`` is this module's own)
        self.done = False

    def __call__(self) -> None:
        self.done = True
        # The cache down: the new tokens are lost, and a value stored before may be read again
        # until it expires (SHARED_SECONDS). The decision service reads the policy itself.
        set_many({key: uuid.uuid4().hex for key in self.token_keys}, None)


def _pending(shared, token_key: str) -> bool:
    """This transaction changed what the value under ``token_key`` is read from."""
    conn = transaction.get_connection()
    return conn.in_atomic_block and any(
        isinstance(cb, _NewToken) and cb.shared is shared and not cb.done
        and token_key in cb.token_keys
        for _, cb, _ in conn.run_on_commit)


def _renew(shared, token_keys: Iterable[str]) -> None:
    token_keys = [key for key in token_keys if not _pending(shared, key)]
    if token_keys:
        transaction.on_commit(_NewToken(shared, token_keys))


def _read(shared, key: str, token_key: str, load: Callable[[], object], seconds: int):
    if _pending(shared, token_key):
        return load()  # this transaction's own, uncommitted, change
    found = get_many([token_key, key])
    token = found.get(token_key)
    if token is None:
        add(token_key, uuid.uuid4().hex, None)
        token = get(token_key)
        if token is None:  # a cache that keeps nothing, or is down
            return load()
    stored = found.get(key)
    if stored is not None and stored[0] == token:
        return stored[1]
    value = load()
    set(key, (token, value), seconds)
    return value


#: How long a shared value is kept at most: the bound on how stale it can be should a new
#: token ever be lost (the cache was down as the change committed). Reloading a few small
#: values once a minute costs nothing; a removed admin keeping their rights longer would.
SHARED_SECONDS = 60


def _scope() -> str:
    """Which database a shared value was read from: two sites (or the bench's throwaway
    database) on one Redis never read each other's values."""
    settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
    where = f"{settings_dict['ENGINE']}|{settings_dict.get('HOST')}|{settings_dict['NAME']}"
    return hashlib.sha256(where.encode()).hexdigest()[:12]


class SharedValue:
    def __init__(self, name: str, load: Callable[[], object], *, seconds: int = SHARED_SECONDS):
        self.name = name
        self.load = load
        self.seconds = seconds

    @property
    def key(self) -> str:
        return f"plangate:shared:{_scope()}:{self.name}"

    @property
    def token_key(self) -> str:
        return f"{self.key}:token"

    def cache_keys(self) -> list[str]:
        """What ``get`` reads: for a page's ``read_ahead``."""
        return [self.token_key, self.key]

    def changed(self, **kwargs) -> None:
        """What the value is read from changed (a signal receiver): new token on commit."""
        _renew(self, [self.token_key])

    def get(self):
        """The value: from the cache (one round trip) while no change committed since it was
        loaded, else loaded and stored."""
        return _read(self, self.key, self.token_key, self.load, self.seconds)


class SharedValues:
    """A SharedValue per key (say, per user): ``get(key)`` is ``load(key)``, read afresh after
    a committed ``changed(key, ...)``, with one token per key. Keys are ints or short strings."""

    def __init__(self, name: str, load: Callable[[object], object], *,
                 seconds: int = SHARED_SECONDS):
        self.name = name
        self.load = load
        self.seconds = seconds

    def _keys(self, key) -> tuple[str, str]:
        value_key = f"plangate:shared:{_scope()}:{self.name}:{key}"
        return value_key, f"{value_key}:token"

    def cache_keys(self, key) -> list[str]:
        """What ``get(key)`` reads: for a page's ``read_ahead``."""
        value_key, token_key = self._keys(key)
        return [token_key, value_key]

    def changed(self, *keys) -> None:
        """What the values of ``keys`` are read from changed: new tokens on commit."""
        _renew(self, [self._keys(key)[1] for key in keys])

    def get(self, key):
        value_key, token_key = self._keys(key)
        return _read(self, value_key, token_key, lambda: self.load(key), self.seconds)
