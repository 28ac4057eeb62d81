from django import template

from implementation import selectors

register = template.Library()


@register.inclusion_tag("implementation/panel.html", takes_context=True)
def implementation_panel(context, plan):
    """The plan page's implementation panel: progress per step, the last drift report, the
    state after approval and its actions. A fixed number of queries
    (implementation.selectors.implementation_record), however many steps and reports."""
    user = context["user"]
    return {"plan": plan, "user": user, "panel": selectors.panel(plan, user),
            "csrf_token": context.get("csrf_token")}
