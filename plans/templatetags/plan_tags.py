from decimal import Decimal

from django import template
from django.utils.html import conditional_escape as esc
from django.utils.safestring import mark_safe

from accounts.display import display_name
from plans import rendering, schema

register = template.Library()


@register.filter
def hours(value) -> str:
    """3.50 -> "3.5", 8.00 -> "8", None -> "0": hours without trailing zeros."""
    if value in (None, ""):
        return "0"
    number = Decimal(str(value)).quantize(Decimal("0.01")).normalize()
    return f"{number:f}"


@register.simple_tag
def author_options(authors, selected) -> str:
    """The author filter's options after "Any author" (``selected``: the username asked for),
    built here: a template loop over every author was a tenth of the page."""
    return mark_safe("".join(  # noqa: S308 - every value is escaped
        f'<option value="{esc(a.username)}"{" selected" if a.username == selected else ""}>'
        f"{esc(display_name(a))}</option>" for a in authors))


@register.simple_tag
def plan_sections() -> list:
    """The '##' sections of plans/schema.py in order, for pages that lay a plan out."""
    return schema.top_level()


@register.filter
def section_html(html: dict, key: str) -> str:
    """The rendered Markdown of a section: ``html|section_html:section.key``."""
    return html.get(key, "")


@register.filter
def extras_after(extras: list[dict], key: str) -> list[dict]:
    """The extra sections placed after the '##' section ``key`` ("": before the first); one
    whose place names no section goes after the last, where the export puts it."""
    keys = ["", *(section.key for section in schema.top_level())]

    def place(extra: dict) -> str:
        after = extra.get("after", "")
        return after if after in keys else keys[-1]

    return [extra for extra in extras if place(extra) == key]


@register.filter
def comment_html(text: str) -> str:
    """A comment's (or a concern's, a decision's) Markdown as sanitised HTML, GitHub-style."""
    return mark_safe(rendering.render_comment(text))  # noqa: S308 - nh3 sanitised it


@register.filter
def diff_rendered(section) -> str:
    """A changed section of a diff as it reads after the change, rendered (sanitised)."""
    return mark_safe(rendering.diff_section_html(section))  # noqa: S308 - nh3 sanitised it
