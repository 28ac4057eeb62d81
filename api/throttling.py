"""The per-token rate limit: one bucket per API token, else per signed-in user, else per
client address. The rate is the PLANGATE_API_RATE setting (e.g. "120/min"); 429 with
Retry-After beyond it."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        # Read at each request (DRF's default reads its settings once, at import).
        return settings.PLANGATE_API_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
