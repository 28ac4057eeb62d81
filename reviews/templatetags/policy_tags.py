"""What the review policy will ask of a plan, before it is submitted: for the plan page (its
own risk) and the import page (both cases). plans is below reviews, so plans' templates load
this tag (and the plan page its panel, plans.panels) instead of importing the policy."""

from django import template
from django.template.loader import render_to_string

from .. import policy

register = template.Library()


def describe_requirements(requirements: policy.Requirements) -> str:
    """ "2 approvals (including one from Security)" """
    count = requirements.min_approvals
    text = f"{count} approval{'s' if count != 1 else ''}"
    if requirements.required_groups:
        text += " (including " + ", ".join(
            f"one from {group}" for group in requirements.required_groups) + ")"
    return text


def shared_policy(shared: dict) -> dict:
    """The active policy (describe_policy), loaded once per plan page for all its panels."""
    if "reviews.policy" not in shared:
        shared["reviews.policy"] = policy.describe_policy(policy.active_policy())
    return shared["reviews.policy"]


def _context(plan=None, described: dict | None = None) -> dict:
    if plan is not None and not plan.is_editable:
        return {"show": False}
    if described is None:
        described = policy.describe_policy(policy.active_policy())
    normal = policy.requirements(described, high_risk=False)
    high = policy.requirements(described, high_risk=True)
    context = {"show": True, "plan": plan, "policy_name": described["name"],
               "normal": describe_requirements(normal), "high": describe_requirements(high),
               "high_differs": high != policy.Requirements(normal.min_approvals,
                                                           normal.required_groups, True)}
    if plan is not None:
        context["high_risk"] = policy.plan_is_high_risk(plan)
    return context


@register.inclusion_tag("reviews/includes/policy_preview.html")
def policy_preview(plan=None):
    """``{% policy_preview plan %}``: what submitting this plan will require, on its page while
    it can be submitted; ``{% policy_preview %}``: what any plan will need, and a high-risk one."""
    return _context(plan)


def policy_preview_html(request, plan, shared: dict) -> str:
    """The plan page's policy preview (plans.panels; "" once the plan cannot be submitted)."""
    if not plan.is_editable:
        return ""
    return render_to_string("reviews/includes/policy_preview.html",
                            _context(plan, shared_policy(shared)))
