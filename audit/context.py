"""The current request's client details, for audit entries written deeper down the stack."""

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class RequestInfo:
    ip_address: str | None
    user_agent: str
    # The signed-in user (lazy), so that signal handlers (group membership changes made in the
    # admin) can name the actor. Services pass their actor explicitly and never read this.
    user: Any = None


current_request: ContextVar[RequestInfo | None] = ContextVar("audit_request", default=None)


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


def request_info(request) -> RequestInfo:
    return RequestInfo(
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
        user=getattr(request, "user", None),
    )
