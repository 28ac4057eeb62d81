"""Parsers and renderers of the API (a module of their own: DRF's settings import them while
rest_framework.views is still loading)."""

from __future__ import annotations

import json
from io import BytesIO

from django.conf import settings
from rest_framework.parsers import JSONParser
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


class LimitedJSONParser(JSONParser):
    """JSON, read no further than the body limit (a body without Content-Length included)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.PLANGATE_API_MAX_BODY_BYTES
        if stream is None:
            return super().parse(stream, media_type, parser_context)
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge()
        return super().parse(BytesIO(body), media_type, parser_context)
