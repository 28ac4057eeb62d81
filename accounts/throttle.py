"""Slow down password guessing without letting anyone lock another person out.

Failed logins are counted per (username, client address) pair and per client address, within a
window; once either counter reaches its limit, further attempts from that client are refused
until the window has passed. A username alone is never locked: someone guessing Alice's password
from elsewhere cannot stop Alice from signing in from her own machine.

Counters live in the cache (Redis in production), so every web process shares them. The cache is
an optimisation of safety, not a gate: when it is down, logins are not throttled (fail open) and
the log says so, rather than nobody being able to sign in.
"""

import logging

from django.conf import settings
from django.core.cache import cache

from .network import client_ip

logger = logging.getLogger(__name__)

KEY_PREFIX = "login-failures"


def _counters(username: str, request) -> list[tuple[str, int]]:
    """(cache key, limit) of each counter this attempt belongs to."""
    ip = client_ip(request)
    return [
        (f"{KEY_PREFIX}:pair:{ip}:{username.strip().lower()}",
         settings.PLANGATE_LOGIN_MAX_FAILURES_PER_USER),
        (f"{KEY_PREFIX}:ip:{ip}", settings.PLANGATE_LOGIN_MAX_FAILURES_PER_IP),
    ]


def is_locked_out(username: str, request) -> bool:
    counters = _counters(username, request)
    try:
        counts = cache.get_many([key for key, _ in counters])
    except Exception:  # the cache is down: see the module docstring
        logger.warning("Login throttle unavailable (cache error): not throttling", exc_info=True)
        return False
    return any(counts.get(key, 0) >= limit for key, limit in counters)


def record_failure(username: str, request) -> None:
    try:
        for key, _ in _counters(username, request):
            cache.add(key, 0, timeout=settings.PLANGATE_LOGIN_LOCKOUT_SECONDS)  # window starts
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=settings.PLANGATE_LOGIN_LOCKOUT_SECONDS)
    except Exception:
        logger.warning("Login throttle unavailable (cache error): failure not counted",
                       exc_info=True)
