from django import template

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
