from decimal import Decimal

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

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


_PLAN_ROW = (
    '<tr>\n      <td><a href="{}">{}</a></td>\n'
    '      <td><span class="status status-{}">{}</span></td>\n'
    "      <td>{}</td>\n      <td>{}</td>\n      <td>{}</td>\n      <td>{}</td>\n"
    '      <td><time datetime="{}">{}</time></td>\n    </tr>\n'
)
_NO_RISK = mark_safe('<span class="muted">—</span>')


@register.simple_tag
def plan_rows(plans) -> str:
    """The plan list's rows (plans/views.py plan_list sets ``url``, ``highest_risk_value``,
    ``updated_iso`` and ``updated_text`` on each plan): a tag, not a template loop, since the
    filters and lookups of 25 rows were most of the page's own time."""
    return format_html_join("", _PLAN_ROW, (
        (plan.url, str(plan), plan.status, plan.get_status_display(),
         display_name(plan.author), plan.steps_count, hours(plan.total_hours),
         format_html('<span class="risk-{}">{}</span>', plan.highest_risk_value,
                     capfirst(plan.highest_risk_value)) if plan.highest_risk_value else _NO_RISK,
         plan.updated_iso, plan.updated_text)
        for plan in plans))


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
