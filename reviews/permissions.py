"""Who may do what in a review. Predicates only: services enforce them, views ask them."""

from accounts.roles import is_admin
from plans.models import PlanStatus

from .policy import editor_ids as policy_editor_ids
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


def can_resolve_concern(concern, user, *, plan=None, editor_ids=None) -> bool:
    """The raiser, or an admin who neither wrote nor edited the plan: resolving the last open
    concern can approve the plan, so its author and editors never resolve someone else's."""
    if not concern.is_open:
        return False
    if concern.raised_by_id == user.pk:
        return True
    if not is_admin(user):
        return False
    plan = plan or concern.plan
    if user.pk == plan.author_id:
        return False
    if editor_ids is None:
        editor_ids = policy_editor_ids(plan)
    return user.pk not in editor_ids


def can_comment(plan, user) -> bool:
    return user.is_authenticated and user.is_active


def can_request_reviewers(plan, user) -> bool:
    return plan.status not in FINAL and (plan.author_id == user.pk or is_admin(user))
