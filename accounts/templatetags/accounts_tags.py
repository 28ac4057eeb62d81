from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from .. import display

register = template.Library()


@register.filter
def display_name(user) -> str:
    """``{{ plan.author|display_name }}``: the full name, else the username (accounts.display)."""
    return display.display_name(user)


#: Reversed links, per process: a URL without arguments depends only on the urlconf and the
#: script prefix, and both are in the key (so this is never out of date, nor another site's).
_LINKS: dict[tuple, str] = {}


@register.simple_tag
def link(name: str) -> str:
    """``{% link "plans:list" %}`` is ``{% url "plans:list" %}`` for a URL without arguments,
    reversed once per process: the layout's dozen links (~25 µs each) on every page."""
    key = (get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), name)
    url = _LINKS.get(key)
    if url is None:
        url = _LINKS[key] = reverse(name)
    return url
