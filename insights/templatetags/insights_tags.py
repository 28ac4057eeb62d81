from django import template
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.text import capfirst

from accounts.roles import is_admin
from insights.workflow import plan_workflow

register = template.Library()


@register.inclusion_tag("insights/includes/workflow.html", takes_context=True)
def workflow_diagram(context, plan):
    """The workflow with `plan`'s state highlighted and the transitions it took (two queries,
    however long its history: insights/workflow.py)."""
    user = context.get("user")
    return {"plan": plan, "workflow": plan_workflow(plan),
            "is_admin": user is not None and is_admin(user)}


def workflow_html(request, plan, shared: dict) -> str:
    """The same diagram for the plan page's registry (plans.panels; InsightsConfig.ready)."""
    return render_to_string("insights/includes/workflow.html", {
        "plan": plan, "workflow": plan_workflow(plan), "is_admin": is_admin(request.user)})


@register.simple_tag
def plan_cell(plan):
    """A plan's link and highest risk, as includes/plan_cell.html drew it; a tag, since the
    dashboard draws up to forty of them and an include per row was most of its time."""
    risk = plan.highest_risk_value
    return format_html('<a href="{}">{}</a>{}\n', plan.get_absolute_url(), plan, format_html(
        ' <span class="risk-{}">{} risk</span>', risk, capfirst(risk)) if risk else "")
