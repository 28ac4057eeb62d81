from django import template
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

from accounts.roles import is_admin
from reviews.forms import reviewer_groups
from reviews.selectors import review_panel as load_panel

from .policy_tags import shared_policy

register = template.Library()


def _context(plan, user, *, request, csrf_token, described_policy=None) -> dict:
    panel = load_panel(plan, user, described_policy=described_policy)
    return {
        "plan": plan, "user": user, "request": request, "panel": panel,
        "is_admin": is_admin(user),
        "groups": list(reviewer_groups()) if panel.can_request else [],
        "csrf_token": csrf_token,
    }


@register.inclusion_tag("reviews/includes/review_panel.html", takes_context=True)
def review_panel(context, plan):
    """The review side of a plan page: state, whose turn it is, what is missing, actions.

    A fixed number of queries (reviews/selectors.review_panel), however many reviews there are.
    """
    return _context(plan, context["user"], request=context.get("request"),
                    csrf_token=context.get("csrf_token"))


def review_panel_html(request, plan, shared: dict) -> str:
    """The plan page's review panel (registered in plans.panels by ReviewsConfig.ready); the
    active policy comes from ``shared``, so the policy preview does not load it again."""
    context = _context(plan, request.user, request=request, csrf_token=get_token(request),
                       described_policy=shared_policy(shared))
    return render_to_string("reviews/includes/review_panel.html", context)
