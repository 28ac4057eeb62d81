from django import template
from django.middleware.csrf import get_token
from django.template.loader import render_to_string

from accounts.roles import is_admin
from core.cache import SharedValue
from plans.models import SubmissionRule
from reviews import policy
from reviews.forms import reviewer_groups
from reviews.selectors import panel_rows_key
from reviews.selectors import review_panel as load_panel

from .policy_tags import shared_policy

register = template.Library()

def _load_settings() -> dict:
    return {"submission_required": SubmissionRule.stored_keys(),
            "reviewer_groups": list(reviewer_groups())}


#: What the panel reads besides the plan: which sections submission requires (for "Before
#: submitting, fill in") and the groups "Request reviewers" offers. One shared value (one cache
#: round trip: core.cache.SharedValue), read afresh after any committed change of the rule, a
#: group, a user or a membership (signals connected in ReviewsConfig.ready call
#: ``settings_changed``).
_SETTINGS = SharedValue("review-panel-settings", _load_settings)


def settings_changed(sender=None, update_fields=None, **kwargs) -> None:
    # A login saves only last_login, which nothing here depends on: no new token for each one.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    _SETTINGS.changed()


def _context(plan, user, *, request, csrf_token, described_policy=None) -> dict:
    settings = _SETTINGS.get()
    # The rule, as the panel's missing_for_submission reads it (Plan.submission_required).
    plan.submission_required = settings["submission_required"]
    panel = load_panel(plan, user, described_policy=described_policy)
    return {
        "plan": plan, "user": user, "request": request, "panel": panel,
        "is_admin": is_admin(user),
        "groups": settings["reviewer_groups"] if panel.can_request else [],
        "csrf_token": csrf_token,
    }


def review_panel_cache_keys(plan) -> list[str]:
    """What the panel reads of the shared cache besides the plan's own entries: its settings,
    the active policy and the plan's reviews, concerns and requests (read ahead with the plan
    page's keys: plans/panels.py)."""
    rows = panel_rows_key(plan)
    return [*_SETTINGS.cache_keys(), *policy.active_policy_cache_keys(), *([rows] if rows else [])]


def review_panel_html(request, plan, shared: dict) -> str:
    """The review side of a plan page: state, whose turn it is, what is missing, actions
    (registered in plans.panels by ReviewsConfig.ready). A fixed number of queries however many
    reviews there are; the active policy comes from ``shared``, so the policy preview does not
    load it again."""
    context = _context(plan, request.user, request=request, csrf_token=get_token(request),
                       described_policy=shared_policy(shared))
    return render_to_string("reviews/includes/review_panel.html", context)
