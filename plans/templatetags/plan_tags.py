from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def hours(value) -> str:
    """3.50 -> "3.5", 8.00 -> "8", None -> "0": hours without trailing zeros."""
    if value in (None, ""):
        return "0"
    number = Decimal(str(value)).quantize(Decimal("0.01")).normalize()
    return f"{number:f}"
