from django import template

from .. import display

register = template.Library()


@register.filter
def display_name(user) -> str:
    """``{{ plan.author|display_name }}``: the full name, else the username (accounts.display)."""
    return display.display_name(user)
