"""The Django admin: every model is there for the Admins group, audit rows and plan revisions
are read-only, actions go through the services, and policy / checklist edits are audited."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import REVIEWERS
from audit.context import RequestInfo, current_request
from audit.log import log
from audit.models import AuditEntry
from plans.models import PlanRevision, PlanStatus
from plans.services import plan_submit
from reviews.models import ChecklistTemplate, ReviewPolicy
from tests.audit_support import approve_through_services
from tests.factories import ready_plan

OUR_APPS = ("plans", "reviews", "audit", "notifications")


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)  # Admins group + staff, not a superuser
    return client


def test_every_model_is_registered():
    models = [m for label in OUR_APPS for m in apps.get_app_config(label).get_models()]
    models += [get_user_model(), Group]
    missing = [m._meta.label for m in models if not admin.site.is_registered(m)]
    assert missing == []


@pytest.mark.parametrize(
    "model", [m for label in OUR_APPS for m in apps.get_app_config(label).get_models()]
    + [get_user_model()], ids=lambda m: m._meta.label,
)
def test_admins_group_can_browse_every_changelist(admin_client, author, reviewer, model):
    approve_through_services(author=author, reviewer=reviewer)  # rows in every table
    response = admin_client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    obj = model._default_manager.first()
    if obj is not None:
        assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200


def test_non_admin_staff_without_permissions_sees_nothing(client, author):
    author.is_staff = True
    author.save()
    client.force_login(author)
    assert client.get(admin_url(AuditEntry, "changelist")).status_code == 403


def test_audit_entries_are_read_only_in_admin(admin_client, admin_user):
    entry = log("auth.login_failed", payload={"username": "x"})
    assert admin_client.get(admin_url(AuditEntry, "add")).status_code == 403
    response = admin_client.post(admin_url(AuditEntry, "change", entry.pk),
                                 {"action": "plan.approved"})
    assert response.status_code == 403
    assert admin_client.post(admin_url(AuditEntry, "delete", entry.pk),
                             {"post": "yes"}).status_code == 403
    page = admin_client.get(admin_url(AuditEntry, "changelist")).content.decode()
    assert admin_url(AuditEntry, "add") not in page
    assert 'value="delete_selected"' not in page
    assert AuditEntry.objects.get(pk=entry.pk).action == "auth.login_failed"


def test_plan_revisions_are_read_only_in_admin(admin_client, author):
    plan = ready_plan(author=author)
    revision = plan_submit(actor=author, plan=plan)
    response = admin_client.post(admin_url(PlanRevision, "change", revision.pk),
                                 {"content": "forged", "content_hash": "0" * 64})
    assert response.status_code == 403
    assert admin_client.get(admin_url(PlanRevision, "add")).status_code == 403
    revision.refresh_from_db()
    assert revision.content != "forged"


def test_withdraw_action_goes_through_the_service(admin_client, admin_user, author):
    pending = ready_plan(author=author, title="Pending")
    plan_submit(actor=author, plan=pending)
    draft = ready_plan(author=author, title="Still a draft")
    response = admin_client.post(admin_url(pending, "changelist"), {
        "action": "withdraw_plans", "_selected_action": [pending.pk, draft.pk],
    }, follow=True)
    pending.refresh_from_db()
    draft.refresh_from_db()
    assert pending.status == PlanStatus.DRAFT
    assert draft.status == PlanStatus.DRAFT
    entry = AuditEntry.objects.get(action="plan.withdrawn")
    assert (entry.plan_id, entry.actor) == (pending.pk, admin_user)
    text = response.content.decode()
    assert "Withdrew 1 plan(s)." in text
    assert "Still a draft:" in text  # the service refused the draft, with its reason


def test_submit_action_refuses_an_incomplete_plan_with_the_services_message(
        admin_client, author):
    plan = ready_plan(author=author, problem_statement="")
    response = admin_client.post(admin_url(plan, "changelist"), {
        "action": "submit_plans", "_selected_action": [plan.pk],
    }, follow=True)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    assert "Fill in before submitting: Problem statement" in response.content.decode()


def test_plan_status_cannot_be_written_in_admin(admin_client, author):
    plan = ready_plan(author=author)
    response = admin_client.post(admin_url(plan, "change", plan.pk), {"status": "APPROVED"})
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_policy_change_in_admin_is_audited(admin_client, admin_user):
    policy = ReviewPolicy.objects.order_by("-id").first()
    reviewers = Group.objects.get(name=REVIEWERS)
    response = admin_client.post(admin_url(policy, "change", policy.pk), {
        "name": policy.name, "min_approvals": 2, "high_risk_min_approvals": 3,
        "required_groups": [reviewers.pk], "high_risk_required_groups": [],
    }, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="policy.changed")
    assert entry.actor == admin_user
    assert entry.ip_address == "198.51.100.7"
    assert entry.payload["min_approvals"] == 2
    assert entry.payload["required_groups"] == [REVIEWERS]  # m2m saved first
    assert sorted(entry.payload["changes"]["fields"]) == [
        "high_risk_min_approvals", "min_approvals", "required_groups"]


def test_webhook_changes_in_admin_are_audited_without_the_secret(admin_client, admin_user):
    from notifications.models import WebhookEndpoint

    add = reverse("admin:notifications_webhookendpoint_add")
    response = admin_client.post(add, {
        "name": "CI", "url": "https://ci.example.com/hook", "secret": "s3cr3t-value",
        "events": "[]", "is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get(name="CI")
    response = admin_client.post(admin_url(endpoint, "delete", endpoint.pk), {"post": "yes"})
    assert response.status_code == 302
    entries = list(AuditEntry.objects.filter(action="webhook.changed").order_by("id"))
    assert [e.payload["change"] for e in entries] == ["added", "deleted"]
    assert all(e.actor == admin_user for e in entries)
    assert entries[0].payload["url"] == "https://ci.example.com/hook"
    assert "secret" in entries[0].payload["fields"]
    assert not any("s3cr3t-value" in str(e.payload) for e in entries)


def test_checklist_change_in_admin_is_audited(admin_client, admin_user):
    template = ChecklistTemplate.objects.get(is_default=True)
    groups = list(template.groups.all())
    data = {
        "name": template.name, "is_default": "on",
        "groups-TOTAL_FORMS": len(groups), "groups-INITIAL_FORMS": len(groups),
        "groups-MIN_NUM_FORMS": 0, "groups-MAX_NUM_FORMS": 1000,
    }
    for i, group in enumerate(groups):
        data |= {f"groups-{i}-id": group.pk, f"groups-{i}-template": template.pk,
                 f"groups-{i}-position": group.position, f"groups-{i}-title": group.title}
    data["groups-0-title"] = "Technical review (renamed)"
    response = admin_client.post(admin_url(template, "change", template.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="checklist.changed")
    assert entry.actor == admin_user
    assert (entry.object_type, entry.object_id) == ("reviews.checklisttemplate",
                                                     str(template.pk))
    assert entry.payload["inlines_changed"] is True


def test_checklist_item_delete_in_admin_is_audited(admin_client, admin_user):
    template = ChecklistTemplate.objects.get(is_default=True)
    item = template.groups.first().items.first()
    response = admin_client.post(admin_url(item, "delete", item.pk), {"post": "yes"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="checklist.changed")
    assert entry.payload["change"] == "deleted"
    assert entry.object_id == str(template.pk)


def test_group_change_names_the_signed_in_admin_as_actor(admin_user, author):
    token = current_request.set(RequestInfo("192.0.2.1", "Admin UI", user=admin_user))
    try:
        author.groups.add(Group.objects.get(name=REVIEWERS))
    finally:
        current_request.reset(token)
    entry = AuditEntry.objects.filter(action="group.member_added").latest("id")
    assert (entry.actor, entry.ip_address, entry.payload["user"]) == (
        admin_user, "192.0.2.1", author.username)


def test_deleting_a_user_in_the_trail_is_refused_in_admin(admin_client, author):
    plan_submit(actor=author, plan=ready_plan(author=author))
    response = admin_client.get(admin_url(author, "delete", author.pk))
    assert "Cannot delete user" in response.content.decode()
    admin_client.post(admin_url(author, "delete", author.pk), {"post": "yes"})
    assert get_user_model().objects.filter(pk=author.pk).exists()
