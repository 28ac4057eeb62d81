"""The current request's client details, for audit entries written deeper down the stack."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestInfo:
    ip_address: str | None
    user_agent: str


current_request: ContextVar[RequestInfo | None] = ContextVar("audit_request", default=None)
