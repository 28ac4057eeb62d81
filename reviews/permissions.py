"""Who may do what in a review. Predicates only: services enforce them, views ask them."""

from datetime import timedelta

from django.utils import timezone

from accounts.roles import is_admin
from plans import permissions as plan_permissions
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
    """Start a thread or reply: whoever may see the plan."""
    return plan_permissions.can_view(plan, user)


#: How long after posting a comment its author may still edit it.
COMMENT_EDIT_WINDOW = timedelta(minutes=15)


def can_edit_comment(comment, user, *, now=None) -> bool:
    """Only its author, and only for a short while: a reply may already answer what it says."""
    now = now or timezone.now()
    return (user.is_authenticated and user.is_active and comment.author_id == user.pk
            and now - comment.created_at <= COMMENT_EDIT_WINDOW)


def can_resolve_thread(plan, user, *, editor_ids=None) -> bool:
    """Resolve or reopen a thread: the plan's author and co-authors, and its reviewers."""
    if not (user.is_authenticated and user.is_active):
        return False
    if editor_ids is None:
        editor_ids = policy_editor_ids(plan)
    if user.pk == plan.author_id or user.pk in editor_ids:
        return True
    return may_review(plan, user, editor_ids=editor_ids)


def can_request_reviewers(plan, user) -> bool:
    return plan.status not in FINAL and (plan.author_id == user.pk or is_admin(user))


def rerequestable(plan, reviews, revision) -> list:
    """Reviewers the author may ask again: they reviewed this plan (``reviews``: its reviews,
    reviewers loaded) and have not decided on its current ``revision`` (a decision there is
    final). In review order; only while the plan is under review. Never a deactivated user:
    they cannot review (reviews.services.review_rerequest says so if asked anyway)."""
    if plan.status != PlanStatus.PENDING_REVIEW or revision is None:
        return []
    decided = {r.reviewer_id for r in reviews if r.revision_id == revision.pk and r.decision}
    seen, users = set(), []
    for review in reviews:
        if (review.reviewer_id not in decided and review.reviewer_id not in seen
                and review.reviewer.is_active):
            seen.add(review.reviewer_id)
            users.append(review.reviewer)
    return users
