"""The active review policy, the default checklist and the webhook routes come from the shared
cache, and every committed change (through the services, the admin, or the ORM) is read at once,
by every process; a transaction that changes one reads its own change."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Channel, OutboxMessage, WebhookEndpoint
from plans.models import PlanStatus
from reviews import policy, services
from reviews.models import ChecklistTemplate, ReviewPolicy
from tests.reviewkit import approve, submitted_plan

committed = pytest.mark.django_db(transaction=True)  # real commits: the on-commit tokens run


def queries(read) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as captured:
        value = read()
    return value, len(captured)


@committed
def test_the_policy_is_read_once_then_shared(author):
    first, n = queries(policy.active_policy)
    assert n == 3  # the row and its two groups
    again, n = queries(policy.active_policy)
    assert n == 0 and again.pk == first.pk


@committed
def test_a_decision_sees_a_changed_policy_at_once(author, reviewer, reviewer2, admin_user):
    row = policy.active_policy()  # cached
    row.min_approvals = 2
    services.policy_save(actor=admin_user, policy=row, required_groups=[],
                         high_risk_required_groups=[], changed_fields=["min_approvals"],
                         created=False)
    assert policy.active_policy().min_approvals == 2
    plan = submitted_plan(author)
    approve(plan, reviewer)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW  # one approval no longer does
    approve(plan, reviewer2)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED


@committed
def test_group_changes_and_renames_are_seen(admin_user):
    security = Group.objects.create(name="Security")
    assert policy.describe_policy(policy.active_policy())["required_groups"] == []
    ReviewPolicy.objects.get().required_groups.add(security)  # the ORM, not a service
    assert policy.describe_policy(policy.active_policy())["required_groups"] == ["Security"]
    security.name = "AppSec"
    security.save()
    assert policy.describe_policy(policy.active_policy())["required_groups"] == ["AppSec"]


@committed
def test_a_value_loaded_before_a_change_and_stored_after_it_is_never_served(admin_user):
    shared = policy._ACTIVE
    old = policy.active_policy()
    old_token = cache.get(shared.token_key)
    row = ReviewPolicy.objects.get()
    row.min_approvals = 3
    row.save()
    # Another process read the old rows just before that commit and stores them only now.
    cache.set(shared.key, (old_token, old))
    assert policy.active_policy().min_approvals == 3


@committed
def test_a_decision_counts_against_the_stored_policy_even_if_a_renewal_was_lost(
        author, reviewer, reviewer2):
    shared = policy._ACTIVE
    stale = policy.active_policy()  # min_approvals 1, shared under the current token
    token = cache.get(shared.token_key)
    row = ReviewPolicy.objects.get()
    row.min_approvals = 2
    row.save()
    # The cache was down when that change committed: the new token never arrived.
    cache.set(shared.token_key, token)
    cache.set(shared.key, (token, stale))
    assert policy.active_policy().min_approvals == 1  # pages may show the old copy a while
    plan = submitted_plan(author)
    approve(plan, reviewer)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW  # the gate does not: two approvals needed
    approve(plan, reviewer2)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED


@pytest.mark.django_db
def test_a_transaction_reads_its_own_change_and_shares_nothing_uncommitted(author):
    shared = policy._ACTIVE
    before = policy.active_policy().min_approvals
    row = ReviewPolicy.objects.get()
    row.min_approvals = before + 5
    row.save()  # (the test's transaction never commits)
    assert policy.active_policy().min_approvals == before + 5
    assert cache.get(shared.key)[1].min_approvals == before


@committed
def test_a_new_default_checklist_is_used_at_once(author, reviewer, admin_user):
    plan = submitted_plan(author)
    first = services.review_start(actor=reviewer, plan=plan)
    assert first.checklist == services.default_checklist()
    other = services.checklist_save(
        actor=admin_user, obj=ChecklistTemplate(name="Short", is_default=True),
        changed_fields=["name", "is_default"], created=True)
    services.review_decide(actor=reviewer, review=first, decision="NEEDS_REVISION",
                           comment="More.")
    plan.refresh_from_db()
    from plans.services import plan_submit

    plan_submit(actor=author, plan=plan)
    assert services.review_start(actor=reviewer, plan=plan).checklist_id == other.pk


@committed
def test_webhook_routes_follow_endpoint_changes(author, reviewer):
    endpoint = WebhookEndpoint.objects.create(name="CI", url="http://127.0.0.1:9/hook",
                                              secret="k", events=["plan.submitted"])
    plan = submitted_plan(author)
    assert OutboxMessage.objects.filter(plan=plan, channel=Channel.WEBHOOK,
                                        endpoint=endpoint).count() == 1
    endpoint.is_active = False
    endpoint.save()
    plan2 = submitted_plan(author)
    assert not OutboxMessage.objects.filter(plan=plan2, channel=Channel.WEBHOOK).exists()
