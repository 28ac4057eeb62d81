"""Who may do what with a plan. Predicates only: services enforce them, views ask them.

They read the plan's own properties, never the models module, so the models' transitions can
use them as their permission checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.roles import is_admin

if TYPE_CHECKING:
    from .models import Plan


def can_view(plan: Plan, user) -> bool:
    return user.is_authenticated and user.is_active


def can_edit(plan: Plan, user) -> bool:
    """Only the author (or an admin) edits, and only while the plan is a draft or sent back."""
    return plan.is_editable and (plan.author_id == user.pk or is_admin(user))


def can_submit(plan: Plan, user) -> bool:
    return can_edit(plan, user)


def can_withdraw(plan: Plan, user) -> bool:
    return plan.is_under_review and (
        plan.author_id == user.pk or is_admin(user)
    )
