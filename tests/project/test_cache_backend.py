"""The app's Redis cache (core/cache_backend.py) shares one client per connection pool."""

import os
import threading

from core.cache_backend import RedisCache


def _cache(url: str) -> RedisCache:
    return RedisCache(url, {"KEY_PREFIX": f"backend-test-{os.getpid()}"})


def test_values_round_trip_through_one_shared_client(require_redis):
    cache = _cache(require_redis)
    cache.set("a", {"n": 1}, 30)
    cache.set_many({"b": 2, "c": 3}, 30)
    assert cache.get("a") == {"n": 1}
    assert cache.get_many(["b", "c", "missing"]) == {"b": 2, "c": 3}
    assert cache.incr("b") == 3
    cache.delete_many(["a", "b", "c"])
    assert cache.get_many(["a", "b", "c"]) == {}
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client


def test_threads_share_the_client_without_mixing_answers(require_redis):
    cache = _cache(require_redis)
    cache.set_many({f"t{n}": n for n in range(8)}, 30)
    wrong = []

    def read(n: int) -> None:
        for _ in range(50):
            if cache.get(f"t{n}") != n:
                wrong.append(n)

    threads = [threading.Thread(target=read, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cache.delete_many([f"t{n}" for n in range(8)])
    assert wrong == []
