"""The state machine guards itself (issue #4, "transition conditions and permissions"): django-fsm
refuses a transition whose conditions fail or whose permission the user lacks, even when called
directly, and the services check the same gate before calling it."""

import pytest
from django_fsm import TransitionNotAllowed, can_proceed, has_transition_perm

from core.errors import NotAllowed, ValidationError
from plans.models import Plan, PlanStatus
from plans.services import plan_submit, plan_withdraw
from tests.factories import AdminFactory, AuthorFactory, ready_plan
from tests.reviewkit import submitted_plan

pytestmark = pytest.mark.django_db


def test_submit_needs_the_required_sections(author):
    plan = ready_plan(author=author, problem_statement="", rollback_if_fails="",
                      rollback_partial="")
    assert plan.missing_for_submission() == ["Problem statement", "Rollback plan"]
    # The submit service refuses with the same list, in the words the author reads.
    with pytest.raises(ValidationError) as refused:
        plan_submit(actor=author, plan=plan)
    assert refused.value.messages == [
        "Fill in before submitting: Problem statement; Rollback plan."]
    assert not plan.revisions.exists()
    assert not can_proceed(plan.submit)
    with pytest.raises(TransitionNotAllowed):
        plan.submit()
    assert plan.status == PlanStatus.DRAFT
    plan.problem_statement = "Logins are slow."
    plan.rollback_if_fails = "Revert the deploy."
    assert can_proceed(plan.submit)


def test_submit_and_withdraw_permissions(author, reviewer):
    plan = ready_plan(author=author)
    mallory = AuthorFactory(username="mallory")
    admin = AdminFactory(username="ada")
    assert has_transition_perm(plan.submit, author)
    assert has_transition_perm(plan.submit, admin)
    assert not has_transition_perm(plan.submit, mallory)
    assert not has_transition_perm(plan.submit, reviewer)
    plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    assert not has_transition_perm(plan.submit, author)  # already under review
    assert has_transition_perm(plan.withdraw, author) and has_transition_perm(plan.withdraw, admin)
    assert not has_transition_perm(plan.withdraw, reviewer)
    with pytest.raises(NotAllowed, match="Only the author can withdraw this plan"):
        plan_withdraw(actor=reviewer, plan=plan)


def test_outcomes_need_a_revision(author):
    plan = ready_plan(author=author)
    Plan.objects.filter(pk=plan.pk).update(status=PlanStatus.PENDING_REVIEW)
    plan = Plan.objects.get(pk=plan.pk)  # under review, yet never frozen as a revision
    for transition in (plan.approve, plan.request_revision, plan.reject):
        assert not can_proceed(transition)
    with pytest.raises(TransitionNotAllowed):
        plan.approve()
    submitted = submitted_plan(AuthorFactory(username="bob"))
    assert all(can_proceed(t) for t in (submitted.approve, submitted.request_revision,
                                        submitted.reject))
