"""A policy change settles the plans under review it decides: with fewer approvals required, a
plan that has enough is approved at once (not at some later decision), audited under the admin
who changed the policy; a stricter policy approves nothing and leaves the others waiting."""

import pytest

from audit.models import AuditEntry
from plans.models import PlanStatus
from reviews import policy, services
from tests.reviewkit import approve, submitted_plan

pytestmark = pytest.mark.django_db(transaction=True)  # the policy is a shared value on commit


def set_min_approvals(admin_user, n: int) -> None:
    row = policy.active_policy()
    row.min_approvals = n
    row.high_risk_min_approvals = max(n, row.high_risk_min_approvals)
    services.policy_save(actor=admin_user, policy=row, required_groups=[],
                         high_risk_required_groups=[], changed_fields=["min_approvals"],
                         created=False)


def test_lowering_the_approvals_required_approves_a_plan_that_has_them(author, reviewer,
                                                                      admin_user):
    set_min_approvals(admin_user, 2)
    plan = submitted_plan(author)
    waiting = submitted_plan(author, title="Not reviewed yet")
    approve(plan, reviewer)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW  # 1 of 2
    set_min_approvals(admin_user, 1)
    plan.refresh_from_db()
    waiting.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    assert waiting.status == PlanStatus.PENDING_REVIEW  # no approval: still waiting
    approved = AuditEntry.objects.get(plan=plan, action="plan.approved")
    assert approved.actor == admin_user and approved.payload["approvals"] == [
        reviewer.get_username()]


def test_a_stricter_policy_approves_nothing(author, reviewer, admin_user):
    plan = submitted_plan(author)
    set_min_approvals(admin_user, 3)
    approve(plan, reviewer)
    set_min_approvals(admin_user, 2)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW


def test_text_resubmitted_unchanged_with_enough_approvals_is_approved_at_once(
        author, reviewer, admin_user):
    """Approvals of a text still count for the same text resubmitted (after a withdrawal,
    say): when they meet the policy, the plan is approved at the resubmission."""
    from plans.services import plan_submit, plan_withdraw

    set_min_approvals(admin_user, 2)
    plan = submitted_plan(author)
    approve(plan, reviewer)
    plan_withdraw(actor=author, plan=plan)
    set_min_approvals(admin_user, 1)  # a draft: not settled by the change
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    approved = AuditEntry.objects.get(plan=plan, action="plan.approved")
    assert approved.actor is None and approved.payload["revision"] == 2
    assert approved.payload["approvals"] == [reviewer.get_username()]


def test_text_resubmitted_unchanged_without_enough_approvals_waits(author, reviewer,
                                                                  admin_user):
    from plans.services import plan_submit, plan_withdraw

    set_min_approvals(admin_user, 2)
    plan = submitted_plan(author)
    approve(plan, reviewer)
    plan_withdraw(actor=author, plan=plan)
    plan.refresh_from_db()
    plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW


def test_a_send_back_is_never_bypassed_by_withdrawing_and_resubmitting(author, reviewer,
                                                                       reviewer2, admin_user):
    """Rob approves, Rita sends the text back: neither resubmitting it unchanged (then
    withdrawing and resubmitting again) nor a policy save approves it on Rob's approval."""
    from plans.services import plan_submit, plan_withdraw
    from reviews.models import Decision
    from tests.reviewkit import decide

    plan = submitted_plan(author)
    services.concern_raise(actor=reviewer2, plan=plan, title="Rate limits unclear")
    approve(plan, reviewer)  # waits for the concern
    decide(plan, reviewer2, Decision.NEEDS_REVISION, "Say how rate limits work.")
    concern = plan.concerns.get()
    services.concern_resolve(actor=reviewer2, concern=concern)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.NEEDS_REVISION
    plan_submit(actor=author, plan=plan)  # unchanged
    plan.refresh_from_db()
    plan_withdraw(actor=author, plan=plan)
    plan.refresh_from_db()
    plan_submit(actor=author, plan=plan)  # unchanged again, from a draft
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW
    set_min_approvals(admin_user, 1)  # a save of the policy
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW
    approve(plan, reviewer2)  # the reviewer who sent it back decides: that settles it
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
