"""Who may do what with a plan. Predicates only: services enforce them, views ask them."""

from accounts.roles import is_admin

from .models import Plan


def can_view(plan: Plan, user) -> bool:
    return user.is_authenticated and user.is_active


def can_edit(plan: Plan, user) -> bool:
    """Only the author (or an admin) edits, and only while the plan is a draft or sent back."""
    return plan.is_editable and (plan.author_id == user.pk or is_admin(user))


def can_submit(plan: Plan, user) -> bool:
    return can_edit(plan, user)


def can_withdraw(plan: Plan, user) -> bool:
    from .models import PlanStatus

    return plan.status == PlanStatus.PENDING_REVIEW and (
        plan.author_id == user.pk or is_admin(user)
    )
