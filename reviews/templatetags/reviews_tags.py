from django import template

from accounts.roles import is_admin
from reviews.forms import reviewer_groups
from reviews.selectors import review_panel as load_panel

register = template.Library()


@register.inclusion_tag("reviews/includes/review_panel.html", takes_context=True)
def review_panel(context, plan):
    """The review side of a plan page: state, whose turn it is, what is missing, actions.

    A fixed number of queries (reviews/selectors.review_panel), however many reviews there are.
    """
    user = context["user"]
    panel = load_panel(plan, user)
    return {
        "plan": plan, "user": user, "request": context.get("request"), "panel": panel,
        "is_admin": is_admin(user),
        "groups": list(reviewer_groups()) if panel.can_request else [],
        "csrf_token": context.get("csrf_token"),
    }
