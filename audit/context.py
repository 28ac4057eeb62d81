"""The current request's client details, for audit entries written deeper down the stack."""

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from accounts.network import client_ip


@dataclass(frozen=True)
class RequestInfo:
    ip_address: str | None
    user_agent: str
    # The signed-in user (lazy), so that signal handlers (group membership changes made in the
    # admin) can name the actor. Services pass their actor explicitly and never read this.
    user: Any = None


current_request: ContextVar[RequestInfo | None] = ContextVar("audit_request", default=None)


def request_info(request) -> RequestInfo:
    return RequestInfo(
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:500],
        user=getattr(request, "user", None),
    )
