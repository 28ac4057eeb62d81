"""Where a request came from, as far as this site can trust it."""

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address. Behind PLANGATE_TRUSTED_PROXIES reverse proxies, each of which
    appends the address it received from to X-Forwarded-For, the client is that many entries
    from the right; anything further left was written by the client and is not trusted."""
    hops = settings.PLANGATE_TRUSTED_PROXIES
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or None
