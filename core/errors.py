"""The errors services raise. Views, the admin and the API turn them into HTTP in one place
(core/http.py): NotAllowed -> 403, Conflict -> 409, ValidationError -> 400, with the message."""

from django.core.exceptions import PermissionDenied, ValidationError


class NotAllowed(PermissionDenied):
    """The actor may not do this (HTTP 403)."""

    def __init__(self, message: str = "You cannot do that.") -> None:
        super().__init__(message)
        self.message = message


class Conflict(Exception):
    """The object changed under the actor's feet, or is not in a state that allows this
    (HTTP 409)."""

    def __init__(self, message: str = "This plan changed since you loaded it. Reload and retry."):
        super().__init__(message)
        self.message = message


def message_of(exc: Exception) -> str:
    """The human message of a domain error (a ValidationError may carry several)."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return getattr(exc, "message", "") or str(exc) or "You cannot do that."


def echoed(value: str, limit: int = 60) -> str:
    """A user-supplied value as a message repeats it: at most ``limit`` characters, cut with an
    ellipsis (a 5,000-character name is not worth repeating whole)."""
    return value if len(value) <= limit else value[:limit - 1] + "…"


__all__ = ["Conflict", "NotAllowed", "ValidationError", "echoed", "message_of"]
