"""The per-token rate limit: one bucket per API token, else per signed-in user, else per
client address. The rate is the PLANGATE_API_RATE setting (e.g. "120/min"); 429 with
Retry-After beyond it.

The counters live in the cache (Redis in production). The cache is an optimisation, never a
dependency: when it is down, requests are not throttled (fail open) and the log says so, rather
than every API call failing."""

import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken

logger = logging.getLogger(__name__)


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        # Read at each request (DRF's default reads its settings once, at import).
        return settings.PLANGATE_API_RATE

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
