"""Parsers and renderers of the API (a module of their own: DRF's settings import them while
rest_framework.views is still loading)."""

from __future__ import annotations

import json
from io import BytesIO

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.renderers import BaseRenderer

from .errors import PayloadTooLarge


class MarkdownRenderer(BaseRenderer):
    """text/markdown for the export; an error on such a request is still JSON text."""

    media_type = "text/markdown"
    format = "md"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode(self.charset)
        return b"" if data is None else json.dumps(data).encode(self.charset)


class LimitedJSONParser(BaseParser):
    """JSON, read no further than the view's body limit (a body without Content-Length
    included): ApiView.body_limit, larger for a view that takes a plan's Markdown.

    Not a JSONParser subclass: DRF hands those ``request.body``, which Django refuses past
    DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB, the browser forms' limit) whatever this limit is; this
    parser reads the stream itself, and JSONParser parses what it read."""

    media_type = JSONParser.media_type
    renderer_class = JSONParser.renderer_class

    def parse(self, stream, media_type=None, parser_context=None):
        view = (parser_context or {}).get("view")
        limit = view.body_limit() if hasattr(view, "body_limit") else (
            settings.PLANGATE_API_MAX_BODY_BYTES)
        if stream is None:
            return JSONParser().parse(stream, media_type, parser_context)
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise view.too_large() if hasattr(view, "too_large") else PayloadTooLarge()
        if parser_context and "request" in parser_context:
            # What ApiView.check_ordinary_body compares (a Markdown view's body without any).
            parser_context["request"].body_bytes = len(body)
        try:
            return JSONParser().parse(BytesIO(body), media_type, parser_context)
        except RecursionError:  # nested deeper than Python's json reads: not a 500
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
