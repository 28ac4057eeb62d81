"""The review policy: who may review, how many approvals, groups, high risk, outcome, staleness."""

import pytest
from django.contrib.auth.models import Group

from audit.models import AuditEntry
from plans.models import PlanStatus
from plans.services import plan_submit
from reviews import services
from reviews.models import ReviewPolicy
from reviews.policy import evaluate_plan, may_review
from tests.factories import PlanStepFactory, ReviewerFactory, UserFactory, ready_plan
from tests.reviewkit import answer_all, approve, revise, submitted_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy():
    return ReviewPolicy.objects.get()


def status_of(plan):
    plan.refresh_from_db()
    return plan.status


def test_who_may_review(author, reviewer):
    plan = ready_plan(author=author)
    assert may_review(plan, reviewer)
    assert not may_review(plan, author)
    assert not may_review(plan, UserFactory(username="nobody"))  # not in Reviewers


def test_default_one_approval_approves(author, reviewer):
    plan = submitted_plan(author)
    approve(plan, reviewer)
    assert status_of(plan) == PlanStatus.APPROVED


def test_min_approvals(author, reviewer, reviewer2, policy):
    policy.min_approvals = 2
    policy.save()
    plan = submitted_plan(author)
    approve(plan, reviewer)
    assert status_of(plan) == PlanStatus.PENDING_REVIEW
    assert evaluate_plan(plan).missing == ["needs 1 more approval"]
    approve(plan, reviewer2)
    assert status_of(plan) == PlanStatus.APPROVED


def test_required_group_must_approve(author, reviewer, reviewer2, policy):
    security = Group.objects.create(name="Security")
    policy.required_groups.add(security)
    reviewer2.groups.add(security)
    plan = submitted_plan(author)
    approve(plan, reviewer)
    assert status_of(plan) == PlanStatus.PENDING_REVIEW
    assert evaluate_plan(plan).missing == ["needs an approval from Security"]
    approve(plan, reviewer2)
    assert status_of(plan) == PlanStatus.APPROVED


def test_high_risk_step_needs_stricter_numbers(author, reviewer, reviewer2, policy):
    assert policy.high_risk_min_approvals == 2
    plan = ready_plan(author=author)
    PlanStepFactory(plan=plan, position=1, risk="high")
    plan_submit(actor=author, plan=plan)
    approve(plan, reviewer)
    status = evaluate_plan(plan)
    assert status.requirements.high_risk and status.missing == ["needs 1 more approval"]
    assert status_of(plan) == PlanStatus.PENDING_REVIEW
    approve(plan, reviewer2)
    assert status_of(plan) == PlanStatus.APPROVED


def test_high_risk_required_groups(author, reviewer, policy):
    dba = Group.objects.create(name="DBA")
    policy.high_risk_min_approvals = 1
    policy.save()
    policy.high_risk_required_groups.add(dba)
    low = submitted_plan(author)
    approve(low, reviewer)
    assert status_of(low) == PlanStatus.APPROVED
    high = ready_plan(author=author)
    PlanStepFactory(plan=high, position=1, risk="high")
    plan_submit(actor=author, plan=high)
    approve(high, reviewer)
    assert evaluate_plan(high).missing == ["needs an approval from DBA"]


def test_rejection_wins_over_approvals(author, reviewer, reviewer2, policy):
    policy.min_approvals = 2
    policy.save()
    plan = submitted_plan(author)
    approve(plan, reviewer)
    review = services.review_start(actor=reviewer2, plan=plan)
    services.review_decide(actor=reviewer2, review=review, decision="REJECTED",
                           comment="Duplicates plan 12.")
    assert status_of(plan) == PlanStatus.REJECTED


def test_changed_resubmission_makes_approvals_stale(author, reviewer, reviewer2, policy):
    policy.min_approvals = 2
    policy.save()
    plan = submitted_plan(author)
    approve(plan, reviewer)
    review = services.review_start(actor=reviewer2, plan=plan)
    services.review_decide(actor=reviewer2, review=review, decision="NEEDS_REVISION",
                           comment="More detail")
    plan = revise(plan, author, "More detail on the problem.")
    plan_submit(actor=author, plan=plan)
    status = evaluate_plan(plan)
    assert status.approvals == [] and [r.reviewer for r in status.stale_approvals] == [reviewer]
    # The earlier NEEDS_REVISION no longer counts: the plan is simply pending again.
    assert status.outcome == PlanStatus.PENDING_REVIEW
    approve(plan, reviewer2)
    assert status_of(plan) == PlanStatus.PENDING_REVIEW  # rob's stale approval does not count
    approve(plan, reviewer)
    assert status_of(plan) == PlanStatus.APPROVED


def test_approval_of_an_editor_never_counts(author, reviewer):
    """Someone who edited the plan after approving an earlier revision does not count."""
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    from plans.models import PlanEditor

    PlanEditor.objects.create(plan=plan, user=reviewer)
    with pytest.raises(services.NotAllowed):
        services.review_decide(actor=reviewer, review=review, decision="APPROVED")


def test_admin_policy_edit_is_audited(client, admin_user, policy):
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    response = client.post(f"/admin/reviews/reviewpolicy/{policy.pk}/change/", {
        "name": "Default", "min_approvals": 3, "high_risk_min_approvals": 4,
    })
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="policy.changed")
    assert entry.payload["policy"]["min_approvals"] == 3
    assert "min_approvals" in entry.payload["fields"]


def test_policy_change_service_is_admin_only(reviewer, policy):
    policy.min_approvals = 3
    with pytest.raises(services.NotAllowed):
        services.policy_save(actor=reviewer, policy=policy, required_groups=[],
                             high_risk_required_groups=[], changed_fields=["min_approvals"],
                             created=False)
    policy.refresh_from_db()
    assert policy.min_approvals == 1


def test_requested_reviewer_must_be_eligible(author):
    plan = submitted_plan(author)
    with pytest.raises(services.ValidationError, match="nobody"):
        services.review_request(actor=author, plan=plan, users=[UserFactory(username="nobody")])
    services.review_request(actor=author, plan=plan, users=[ReviewerFactory(username="rex")])
    assert plan.review_requests.get().user.username == "rex"


@pytest.mark.parametrize("change", ["deactivated", "no longer a reviewer"])
def test_an_approval_stops_counting_when_its_reviewer_loses_the_role(author, reviewer, reviewer2,
                                                                      policy, change):
    """A kept approval (unchanged resubmission) counts only while its reviewer is an active
    member of Reviewers."""
    from plans.services import plan_withdraw

    policy.min_approvals = 2
    policy.save()
    plan = submitted_plan(author)
    approve(plan, reviewer)
    plan = plan_withdraw(actor=author, plan=plan)
    plan_submit(actor=author, plan=plan)  # unchanged content: rob's approval is kept
    assert [r.reviewer for r in evaluate_plan(plan).approvals] == [reviewer]
    if change == "deactivated":
        reviewer.is_active = False
        reviewer.save()
    else:
        reviewer.groups.remove(Group.objects.get(name="Reviewers"))
    status = evaluate_plan(plan)
    assert status.approvals == [] and status.missing == ["needs 2 more approvals"]
    approve(plan, reviewer2)
    assert status_of(plan) == PlanStatus.PENDING_REVIEW  # one live approval of two


def test_a_requested_group_needs_someone_who_may_review(author, reviewer):
    plan = submitted_plan(author)
    nobody_here = Group.objects.create(name="Marketing")
    nobody_here.user_set.add(UserFactory(username="mo"), author)
    with pytest.raises(services.ValidationError, match="No one in the Marketing group"):
        services.review_request(actor=author, plan=plan, groups=[nobody_here])
    assert not plan.review_requests.exists()
    nobody_here.user_set.add(reviewer)
    services.review_request(actor=author, plan=plan, groups=[nobody_here])
    assert plan.review_requests.get().group == nobody_here


def _approval_story(author, reviewer, reviewer2, title: str) -> list[tuple]:
    """Two approvals and a Security approval required, a concern on the way: after each step,
    what the policy says and where the plan is."""
    plan = submitted_plan(author, title=title)
    seen = []

    def look():
        status = evaluate_plan(plan)
        seen.append((status.satisfied, status.outcome, status_of(plan), tuple(status.missing)))

    approve(plan, reviewer)
    look()
    concern = services.concern_raise(actor=reviewer2, plan=plan, title="Backups?")
    look()
    approve(plan, reviewer2)
    look()
    services.concern_resolve(actor=reviewer2, concern=concern)
    look()
    return seen


def test_rewording_every_policy_message_changes_no_decision(
    author, reviewer, reviewer2, policy, monkeypatch
):
    from reviews import policy as policy_rules

    policy.min_approvals = 2
    policy.save()
    security = Group.objects.create(name="Security")
    policy.required_groups.add(security)
    reviewer2.groups.add(security)

    as_written = _approval_story(author, reviewer, reviewer2, "As written")
    monkeypatch.setattr(policy_rules, "MESSAGES", {
        key: f"zz {n} {{count}} {{group}}" for n, key in enumerate(policy_rules.MESSAGES)
    })
    reworded = _approval_story(author, reviewer, reviewer2, "Reworded")

    decisions = [step[:3] for step in as_written]
    assert decisions == [step[:3] for step in reworded]
    assert decisions[-1] == (True, PlanStatus.APPROVED, PlanStatus.APPROVED)
    assert decisions[0] == (False, PlanStatus.PENDING_REVIEW, PlanStatus.PENDING_REVIEW)
    # The wording really changed (and no longer says "approval" anywhere).
    assert as_written[0][3] == ("needs 1 more approval", "needs an approval from Security")
    assert all("approval" not in line for step in reworded for line in step[3])
    assert reworded[0][3] != as_written[0][3]


def test_an_approval_records_the_newest_policy_with_all_its_groups(author, reviewer, policy):
    security, dba, ops = (Group.objects.create(name=name) for name in ("Security", "DBA", "Ops"))
    policy.required_groups.add(security, ops)
    policy.high_risk_required_groups.add(dba, ops)
    reviewer.groups.add(security, ops)
    plan = submitted_plan(author)
    approve(plan, reviewer)
    entry = AuditEntry.objects.get(action="plan.approved", plan_id=plan.pk)
    assert entry.payload["policy"] == {
        "id": policy.pk, "name": policy.name, "min_approvals": 1, "high_risk_min_approvals": 2,
        "required_groups": ["Ops", "Security"], "high_risk_required_groups": ["DBA", "Ops"],
    }
    newer = ReviewPolicy.objects.create(name="Newer", min_approvals=2)
    assert evaluate_plan(submitted_plan(author)).policy == {
        "id": newer.pk, "name": "Newer", "min_approvals": 2, "high_risk_min_approvals": 2,
        "required_groups": [], "high_risk_required_groups": [],
    }
