"""The file name a plan's Markdown export downloads as, for the web page and the API alike."""

from __future__ import annotations

from urllib.parse import quote

from django.utils.text import slugify


def export_disposition(plan) -> str:
    """``Content-Disposition`` for a plan's export: the title as a file name.

    ``filename`` is the ASCII slug (``plan-<id>.md`` when no ASCII is left, e.g. "移行計画");
    when the title has more than ASCII, ``filename*`` (RFC 6266) carries the Unicode slug too,
    which browsers prefer. (Django's content_disposition_header gives no ASCII fallback.)
    """
    ascii_name = f"{slugify(plan.title) or f'plan-{plan.pk}'}.md"
    unicode_name = f"{slugify(plan.title, allow_unicode=True) or f'plan-{plan.pk}'}.md"
    header = f'attachment; filename="{ascii_name}"'  # a slug has no quote or backslash
    if unicode_name != ascii_name:
        header += f"; filename*=utf-8''{quote(unicode_name)}"
    return header
