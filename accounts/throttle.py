"""Slow down password guessing: after too many failed logins for one username, or from one client
address, within a window, further attempts are refused until the window has passed.

Counters live in the cache (Redis in production), so every web process shares them.
"""

from django.conf import settings
from django.core.cache import cache

from .network import client_ip

KEY_PREFIX = "login-failures"


def _keys(username: str, ip: str | None) -> list[str]:
    return [f"{KEY_PREFIX}:user:{username.strip().lower()}", f"{KEY_PREFIX}:ip:{ip}"]


def _limits() -> list[int]:
    return [settings.PLANGATE_LOGIN_MAX_FAILURES_PER_USER,
            settings.PLANGATE_LOGIN_MAX_FAILURES_PER_IP]


def is_locked_out(username: str, request) -> bool:
    keys = _keys(username, client_ip(request))
    counts = cache.get_many(keys)
    return any(counts.get(key, 0) >= limit for key, limit in zip(keys, _limits(), strict=True))


def record_failure(username: str, request) -> None:
    for key in _keys(username, client_ip(request)):
        cache.add(key, 0, timeout=settings.PLANGATE_LOGIN_LOCKOUT_SECONDS)  # window starts now
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.PLANGATE_LOGIN_LOCKOUT_SECONDS)
