"""Who may do what in a review. Predicates only: services enforce them, views ask them."""

from accounts.roles import is_admin
from plans.models import PlanStatus

from .policy import may_review

FINAL = (PlanStatus.APPROVED, PlanStatus.REJECTED)


def can_review(plan, user, *, editor_ids=None) -> bool:
    """Start or continue a review: an eligible reviewer while the plan is under review."""
    return plan.status == PlanStatus.PENDING_REVIEW and may_review(
        plan, user, editor_ids=editor_ids
    )


def owns_review(review, user) -> bool:
    return review.reviewer_id == user.pk


def can_raise_concern(plan, user, *, editor_ids=None) -> bool:
    if plan.status in FINAL:
        return False
    return is_admin(user) or may_review(plan, user, editor_ids=editor_ids)


def can_resolve_concern(concern, user) -> bool:
    return concern.is_open and (concern.raised_by_id == user.pk or is_admin(user))


def can_comment(plan, user) -> bool:
    return user.is_authenticated and user.is_active


def can_request_reviewers(plan, user) -> bool:
    return plan.status not in FINAL and (plan.author_id == user.pk or is_admin(user))
