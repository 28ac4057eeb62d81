"""What every API view shares: no login redirect (the API answers 401 itself), the body limit
checked before anything is read, and the per-address limit on failed authentication."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from rest_framework import exceptions
from rest_framework.views import APIView

from plans.markdown import MAX_BYTES

from .errors import PayloadTooLarge
from .throttling import AuthFailureThrottle

#: The body limit of a request that carries a plan's Markdown (views with ``takes_markdown``).
#: The Markdown is at most plans.markdown.MAX_BYTES of UTF-8, but the body is JSON, and a JSON
#: string takes up to 6 bytes a byte of it: a control character (or "<", ">", "&" from an
#: encoder that escapes HTML) is \u00XX; a 2-byte character is one \uXXXX and a 4-byte one two
#: (3 a byte); a quote or a newline is 2. Plus 64 KiB for the rest of the body (the other
#: fields, whitespace). The Markdown's own limit is the importer's (a 400 naming it).
MARKDOWN_BODY_BYTES = 6 * MAX_BYTES + 64 * 1024

_FAILED_AUTHENTICATION = (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)


class ApiView(APIView):
    #: Its POST takes a plan's Markdown: the body may be up to MARKDOWN_BODY_BYTES (a view whose
    #: POST may take other fields instead checks those against the ordinary limit itself).
    takes_markdown = False

    @classmethod
    def as_view(cls, **initkwargs):
        # The site's LoginRequiredMiddleware would redirect to the login page; the API's own
        # authentication answers 401 instead.
        return login_not_required(super().as_view(**initkwargs))

    def body_limit(self) -> int:
        limit = settings.PLANGATE_API_MAX_BODY_BYTES
        return max(limit, MARKDOWN_BODY_BYTES) if self.takes_markdown else limit

    def too_large(self) -> PayloadTooLarge:
        if self.body_limit() == settings.PLANGATE_API_MAX_BODY_BYTES:
            return PayloadTooLarge()
        return PayloadTooLarge(
            f"The request body is larger than the {self.body_limit():,}-byte limit of a "
            f"request with a plan's Markdown (the Markdown itself may be up to 1 MB).")

    def check_ordinary_body(self, request) -> None:
        """For a ``takes_markdown`` view's request that turned out to carry no Markdown: the
        ordinary limit (the parser records the body's length)."""
        if getattr(request, "body_bytes", 0) > settings.PLANGATE_API_MAX_BODY_BYTES:
            raise PayloadTooLarge()

    def initial(self, request, *args, **kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.body_limit():
            raise self.too_large()
        try:
            super().initial(request, *args, **kwargs)
        except _FAILED_AUTHENTICATION:
            # DRF authenticates and checks permissions before its throttles, so a request
            # without valid credentials never reaches one: failures are counted per address
            # here, a 429 once over the limit. Valid credentials are never refused for what
            # others at the same address did, and pay no extra cache read.
            failures = AuthFailureThrottle()
            if not failures.allow_request(request, self):
                self.throttled(request, failures.wait())
            failures.record_failure(request, self)
            raise
