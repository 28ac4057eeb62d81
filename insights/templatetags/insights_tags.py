import functools

from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language

from accounts.roles import is_admin
from insights.workflow import plan_workflow
from insights.workflow import workflow_diagram as workflow_diagram_for
from plans.models import Plan

register = template.Library()


@functools.lru_cache(maxsize=256)
def _svg(status: str, taken: frozenset, language: str) -> str:
    """The diagram's SVG: it depends on nothing but the plan's state, the transitions it took
    (and the language of the state names), so each process renders each combination once."""
    labels = dict(Plan._meta.get_field("status").choices)
    return render_to_string("insights/includes/workflow_svg.html", {
        "d": workflow_diagram_for(status, taken), "status_label": labels.get(status, status)})


def _context(plan, user) -> dict:
    workflow = plan_workflow(plan)
    return {"plan": plan, "workflow": workflow,
            "svg": mark_safe(_svg(plan.status, workflow.taken, get_language())),  # noqa: S308 - rendered by the partial, which escapes
            "is_admin": user is not None and is_admin(user)}


def workflow_html(request, plan, shared: dict) -> str:
    """The workflow with `plan`'s state highlighted and the transitions it took, for the plan
    page's registry (plans.panels; InsightsConfig.ready); from the plan page's cache entry,
    else two queries, however long its history (insights/workflow.py)."""
    return render_to_string("insights/includes/workflow.html", _context(plan, request.user))


@register.simple_tag
def plan_cell(plan):
    """A plan's link and highest risk, as includes/plan_cell.html drew it; a tag, since the
    dashboard draws up to forty of them and an include per row was most of its time."""
    risk = plan.highest_risk_value
    return format_html('<a href="{}">{}</a>{}\n', plan.get_absolute_url(), plan, format_html(
        ' <span class="risk-{}">{} risk</span>', risk, capfirst(risk)) if risk else "")
