"""The per-token rate limit: one bucket per API token, else per signed-in user, else per
client address. The rate is the PLANGATE_API_RATE setting (e.g. "120/min"); 429 with
Retry-After beyond it.

Requests that fail to authenticate (no credentials where they are needed, an unknown, revoked
or expired token) never reach that limit: DRF authenticates and checks permissions before its
throttles. They are counted per client address (accounts.network.client_ip, the address the
login throttle uses) at the same rate; over it, the address's failing requests are a 429, not
a 401 (api.base.ApiView.initial), until the window has passed. A request that authenticates is
never refused for others' failures at its address (a NAT, an office, a proxy).

The counters live in the cache (Redis in production). The cache is an optimisation, never a
dependency: when it is down, requests are not throttled (fail open) and the log says so, rather
than every API call failing."""

import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.network import client_ip

from .models import ApiToken

logger = logging.getLogger(__name__)


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        # Read at each request (DRF's default reads its settings once, at import).
        return settings.PLANGATE_API_RATE

    def get_ident(self, request):
        # DRF's own would take X-Forwarded-For as written by the client (NUM_PROXIES unset):
        # a new address, and a new bucket, per request.
        return client_ip(request) or "unknown"

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:  # the cache is down: see the module docstring
            logger.warning("API rate limit unavailable (cache error): not throttling",
                           exc_info=True)
            return True

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AuthFailureThrottle(TokenRateThrottle):
    """Failed authentication per client address: allow_request only checks, record_failure
    counts."""

    scope = "api-auth-failures"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope,
                                    "ident": f"addr:{self.get_ident(request)}"}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        try:
            self.key = self.get_cache_key(request, view)
            self.now = self.timer()
            self.history = [t for t in self.cache.get(self.key, [])
                            if t > self.now - self.duration]
        except Exception:  # the cache is down: see the module docstring
            logger.warning("API rate limit unavailable (cache error): not throttling",
                           exc_info=True)
            return True
        return len(self.history) < self.num_requests

    def record_failure(self, request, view) -> None:
        if self.rate is None:
            return
        try:
            key = self.get_cache_key(request, view)
            now = self.timer()
            history = [t for t in self.cache.get(key, []) if t > now - self.duration]
            self.cache.set(key, [now, *history], self.duration)
        except Exception:
            logger.warning("API rate limit unavailable (cache error): failure not counted",
                           exc_info=True)
