from django import template

from .. import formatting

register = template.Library()


@register.filter
def audit_details(entry) -> str:
    """An entry's payload in words (audit.formatting.details)."""
    return formatting.details(entry.action, entry.payload)


@register.filter
def short_user_agent(user_agent: str) -> str:
    return formatting.short_user_agent(user_agent)


@register.filter
def audit_rows(entries) -> list:
    return formatting.rows(entries)
