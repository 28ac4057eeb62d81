from decimal import Decimal

from django import template

from plans import schema

register = template.Library()


@register.filter
def hours(value) -> str:
    """3.50 -> "3.5", 8.00 -> "8", None -> "0": hours without trailing zeros."""
    if value in (None, ""):
        return "0"
    number = Decimal(str(value)).quantize(Decimal("0.01")).normalize()
    return f"{number:f}"


@register.simple_tag
def plan_sections() -> list:
    """The '##' sections of plans/schema.py in order, for pages that lay a plan out."""
    return schema.top_level()


@register.filter
def section_html(html: dict, key: str) -> str:
    """The rendered Markdown of a section: ``html|section_html:section.key``."""
    return html.get(key, "")
