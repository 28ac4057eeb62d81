"""Who may do what with a plan. Predicates only: services enforce them, views ask them.

They read the plan's own properties, never the models module, so the models' transitions can
use them as their permission checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.roles import is_admin, is_reviewer

if TYPE_CHECKING:
    from .models import Plan


def can_view(plan: Plan, user) -> bool:
    return user.is_authenticated and user.is_active


def can_edit(plan: Plan, user) -> bool:
    """Only the author (or an admin) edits, and only while the plan is a draft or sent back."""
    return plan.is_editable and (plan.author_id == user.pk or is_admin(user))


def can_submit(plan: Plan, user) -> bool:
    return can_edit(plan, user)


def can_start_from(plan: Plan, user) -> bool:
    """Start a new draft from a plan's content: its author or an admin (offered on a rejected
    plan, whose decision is final)."""
    return user.is_authenticated and (plan.author_id == user.pk or is_admin(user))


def can_withdraw(plan: Plan, user) -> bool:
    return plan.is_under_review and (
        plan.author_id == user.pk or is_admin(user)
    )


def _edited(plan: Plan, user, editor_ids: set[int] | None) -> bool:
    if editor_ids is not None:
        return user.pk in editor_ids
    return plan.editors.filter(user=user).exists()


def can_implement(plan: Plan, user, *, editor_ids: set[int] | None = None) -> bool:
    """Start, report progress on, finish or amend an approved plan: its author or a co-author
    (anyone who edited it), also through their API token (an agent acts as its user).
    ``editor_ids``: the plan's editors, when the caller has them loaded."""
    if not (user.is_authenticated and user.is_active):
        return False
    return plan.author_id == user.pk or _edited(plan, user, editor_ids)


def can_report_drift(plan: Plan, user) -> bool:
    """Upload a drift report: the people implementing the plan (their agent or CI job acts with
    their token), reviewers and admins. Not anyone signed in: a report says "no unplanned
    change" on the plan page and the certificate."""
    return can_implement(plan, user) or (
        user.is_authenticated and user.is_active and (is_reviewer(user) or is_admin(user)))


def can_verify(plan: Plan, user, *, editor_ids: set[int] | None = None) -> bool:
    """Verify (or send back) an implementation: a reviewer who neither wrote nor edited the
    plan. Nobody verifies their own work."""
    if not (user.is_authenticated and user.is_active and is_reviewer(user)):
        return False
    return plan.author_id != user.pk and not _edited(plan, user, editor_ids)


def can_delete(plan: Plan, user) -> bool:
    """A draft that was never submitted (no revision, so no review, approval or record of one
    hangs on it): its author or an admin. ``plan.has_revisions`` is set by the caller or read."""
    owner = plan.author_id == user.pk or is_admin(user)
    if not (owner and plan.status == "DRAFT"):
        return False
    known = getattr(plan, "has_revisions", None)  # the plan page knows it (plans/selectors.py)
    return not (plan.revisions.exists() if known is None else known)


#: Statuses a plan can be archived in: not under review, and no approval that stands.
ARCHIVABLE = ("DRAFT", "NEEDS_REVISION", "REJECTED")


def can_archive(plan: Plan, user) -> bool:
    """Put a plan away (or back): its author or an admin, while it is not under review and
    has no approval that stands."""
    return (plan.author_id == user.pk or is_admin(user)) and plan.status in ARCHIVABLE
