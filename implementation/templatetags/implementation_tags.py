from django import template
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

from implementation import selectors

register = template.Library()


def implementation_panel_html(request, plan, shared: dict) -> str:
    """The plan page's implementation panel (plans.panels; ImplementationConfig.ready): progress
    per step, the last drift report, the state after approval and its actions. A fixed number
    of queries (implementation.selectors.implementation_record), however many steps and
    reports."""
    return render_to_string("implementation/panel.html", {
        "plan": plan, "user": request.user, "panel": selectors.panel(plan, request.user),
        "csrf_token": get_token(request)})
