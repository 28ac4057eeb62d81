"""The one mapping from domain errors to HTTP, used by every view (and by the API's handler).

- ``http_status(exc)``: 403 for NotAllowed (any PermissionDenied), 409 for Conflict, 400 for a
  ValidationError; None for anything else (a bug: let it be a 500).
- ``error_response``: what a browser view answers: the plain message for htmx, a styled page
  for 403, otherwise a flash message and a redirect back to where the user came from.
- ``problem_details``: the same error as RFC 9457 JSON, for API clients.
- ``service_errors(back)``: a view decorator applying ``error_response``.
"""

from __future__ import annotations

from functools import wraps
from http import HTTPStatus

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .errors import Conflict, message_of

CONFLICT_PREFIX = "This plan changed, reload."
DOMAIN_ERRORS = (Conflict, PermissionDenied, ValidationError)


def http_status(exc: Exception) -> int | None:
    if isinstance(exc, Conflict):
        return HTTPStatus.CONFLICT
    if isinstance(exc, PermissionDenied):
        return HTTPStatus.FORBIDDEN
    if isinstance(exc, ValidationError):
        return HTTPStatus.BAD_REQUEST
    return None


def user_message(exc: Exception) -> str:
    """The message as a person reads it: a conflict always says to reload."""
    text = message_of(exc)
    if isinstance(exc, Conflict) and not text.startswith(CONFLICT_PREFIX):
        text = f"{CONFLICT_PREFIX} {text}"
    return text


def problem_details(exc: Exception) -> dict:
    """RFC 9457 problem details; field errors of a ValidationError go under "errors"."""
    status = http_status(exc) or HTTPStatus.INTERNAL_SERVER_ERROR
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": int(status),
            "detail": message_of(exc)}
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        body["errors"] = {field: [str(m) for e in errors for m in e.messages]
                          for field, errors in exc.error_dict.items()}
    return body


def error_response(request: HttpRequest, exc: Exception, *, back: str) -> HttpResponse:
    status = http_status(exc)
    text = user_message(exc)
    if getattr(request, "htmx", False):
        return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    if status == HTTPStatus.FORBIDDEN:
        return render(request, "error.html", {"message": text}, status=status)
    messages.error(request, text)
    return redirect(back)


def service_errors(back):
    """Answer a view's domain errors with ``error_response``; ``back(request, **kwargs)`` is
    the URL the browser returns to."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except DOMAIN_ERRORS as exc:
                return error_response(request, exc, back=back(request, **kwargs))

        return wrapper

    return decorate
