"""Markdown to safe HTML: Markdown renders, nh3 sanitises. Pages and markdownx previews use this."""

import hashlib
import json
import re
from urllib.parse import urlsplit

import markdown as md
import nh3
from django.conf import settings
from django.core.cache import cache

from . import schema

_EXTENSIONS = ["extra", "sane_lists"]
_ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
_URL_IGNORED = re.compile(r"[\t\n\r]")  # browsers drop these inside URLs


def _local_image_src(src: str) -> str | None:
    """``src`` when it points at this site (a relative URL or under MEDIA_URL), else None.

    An image from elsewhere would tell its host who reads the plan, and when (and breaks on a
    closed network), so only uploaded and relative images are shown.
    """
    url = _URL_IGNORED.sub("", src).strip()
    media = settings.MEDIA_URL or ""
    if "://" in media and url.startswith(media):
        return url
    if "\\" in url or url.startswith("//"):  # "/\\host" and "//host" leave the site
        return None
    parts = urlsplit(url)
    return url if not parts.scheme and not parts.netloc else None


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src":
        return _local_image_src(value)
    return value


def render_markdown(text: str) -> str:
    """Render Markdown to HTML that is safe to embed: no script, handler or javascript: URL."""
    html = md.markdown(text or "", extensions=_EXTENSIONS, output_format="html")
    return nh3.clean(
        html,
        url_schemes=_ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_attribute_filter,
    )


def render_inline(text: str) -> str:
    """Like render_markdown, without the paragraph around a single line (checklist items)."""
    html = render_markdown(text).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        return html[3:-4]
    return html


RENDER_VERSION = 2  # bump when the renderer's output changes, to drop cached HTML
CACHE_SECONDS = 60 * 60 * 24 * 7
#: The plan's own texts as the schema had them at import; _plan_sources reads it when it runs.
PLAN_PROSE_FIELDS = [*schema.prose_keys(), "review_checklist"]


def _plan_sources(plan) -> dict:
    """Every Markdown text the plan page shows (uses prefetched steps, actions, files); the
    texts of "fields" are keyed by section key."""
    return {
        "fields": {**{key: plan.sections.get(key, "") for key in schema.prose_keys()},
                   "review_checklist": plan.review_checklist},
        "steps": [
            {
                "objective": step.objective,
                "dependencies": step.dependencies,
                "actions": [a.text for a in step.actions.all()],
                "files": [f.description for f in step.files.all()],
            }
            for step in plan.steps.all()
        ],
        "criteria": [c.text for c in plan.success_criteria.all()],
        "extras": [e.get("body", "") for e in plan.extra_sections or []],
    }


def plan_html(plan) -> dict:
    """The plan's Markdown rendered to safe HTML, in the shape of _plan_sources.

    Cached under the SHA-256 of the sources, so a plan's HTML is rendered once per content
    (i.e. per revision) whoever views it, and any change of content misses the cache.
    """
    sources = _plan_sources(plan)
    digest = hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()
    key = f"plans:html:v{RENDER_VERSION}:{digest}"
    html = cache.get(key)
    if html is None:
        html = {
            "fields": {k: render_markdown(v) for k, v in sources["fields"].items()},
            "steps": [
                {
                    "objective": render_markdown(s["objective"]),
                    "dependencies": render_markdown(s["dependencies"]),
                    "actions": [render_inline(t) for t in s["actions"]],
                    "files": [render_inline(t) for t in s["files"]],
                }
                for s in sources["steps"]
            ],
            "criteria": [render_inline(t) for t in sources["criteria"]],
            "extras": [render_markdown(t) for t in sources["extras"]],
        }
        cache.set(key, html, CACHE_SECONDS)
    return html


def revision_html(revision) -> str:
    """A frozen revision's Markdown as safe HTML, cached by its content hash."""
    key = f"plans:revision-html:v{RENDER_VERSION}:{revision.content_hash}"
    html = cache.get(key)
    if html is None:
        html = render_markdown(revision.content)
        cache.set(key, html, CACHE_SECONDS)
    return html
