"""Markdown to safe HTML: Markdown renders, nh3 sanitises. Pages and markdownx previews use this."""

import markdown as md
import nh3

_EXTENSIONS = ["extra", "sane_lists"]
_ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Render Markdown to HTML that is safe to embed: no script, handler or javascript: URL."""
    html = md.markdown(text or "", extensions=_EXTENSIONS, output_format="html")
    return nh3.clean(
        html,
        url_schemes=_ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
