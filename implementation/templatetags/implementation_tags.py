from django import template
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

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


def implementation_panel_html(request, plan, shared: dict) -> str:
    """The same panel for the plan page's registry (plans.panels; ImplementationConfig.ready)."""
    return render_to_string("implementation/panel.html", {
        "plan": plan, "user": request.user, "panel": selectors.panel(plan, request.user),
        "csrf_token": get_token(request)})
