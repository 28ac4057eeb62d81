"""The API's one exception handler (REST_FRAMEWORK["EXCEPTION_HANDLER"]): every error is an
RFC 9457 problem details document, ``application/problem+json``.

- domain errors (core.errors) through core.http.problem_details / http_status, as the browser
  views map them (403, 409, 400);
- a Markdown import error: 400 with the line at fault in "lines";
- DRF's own errors (401, 403, 404, 405, 406, 415, 429, parse and validation errors) with their
  status, field errors in "errors", and their headers (WWW-Authenticate, Retry-After);
- a body over the limit: 413.
Anything else is a bug and stays a 500.
"""

from __future__ import annotations

from http import HTTPStatus

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.http import http_status, problem_details
from plans.markdown import MarkdownImportError

PROBLEM = "application/problem+json"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the 1 MB limit."
    default_code = "too_large"


def problem(status_code: int, detail: str, **extra) -> dict:
    return {"type": "about:blank", "title": HTTPStatus(status_code).phrase,
            "status": status_code, "detail": detail, **extra}


def _field_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail flattened to {"field" or "steps.0.title": [messages]}."""
    if isinstance(detail, dict):
        errors: dict[str, list[str]] = {}
        for key, value in detail.items():
            errors.update(_field_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return errors
    if isinstance(detail, list) and any(isinstance(v, dict | list) for v in detail):
        errors = {}
        for index, value in enumerate(detail):
            errors.update(_field_errors(value, f"{prefix}.{index}" if prefix else str(index)))
        return errors
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(m) for m in messages]}


def _drf_problem(exc: exceptions.APIException) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        first = next(iter(errors.items()))
        where = "" if first[0] in ("non_field_errors", "0") else f"{first[0]}: "
        return problem(exc.status_code, f"{where}{first[1][0]}", errors=errors)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return problem(exc.status_code, str(detail))


def exception_handler(exc, context):
    headers = {}
    if isinstance(exc, MarkdownImportError):
        where = f"Line {exc.line}: " if exc.line else ""
        body = problem(400, f"{where}{exc.message}",
                       lines=[{"line": exc.line, "message": exc.message}])
    elif isinstance(exc, RequestDataTooBig):
        body = problem(413, PayloadTooLarge.default_detail)
    elif isinstance(exc, Http404):
        body = problem(404, str(exc) or "Not found.")
    elif isinstance(exc, exceptions.APIException):
        body = _drf_problem(exc)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(max(1, round(exc.wait)))
    elif http_status(exc) is not None or isinstance(exc, PermissionDenied):
        body = problem_details(exc)
    else:
        return None  # a bug: Django's 500
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM)
