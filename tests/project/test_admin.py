"""The Django admin: every model is there for the Admins group, audit rows and plan revisions
are read-only, actions go through the services, and policy, checklist and webhook edits are
written by services that validate and audit them (add, change and delete alike)."""

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.admin.templatetags.admin_list import results
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import pre_delete
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from accounts.roles import REVIEWERS
from accounts.templatetags.plangate_admin import fast_results
from audit.context import RequestInfo, current_request
from audit.log import log
from audit.models import AuditEntry
from core.errors import NotAllowed, ValidationError
from notifications import services as notification_services
from notifications.models import WebhookEndpoint
from plans.models import PlanRevision, PlanStatus
from plans.services import plan_create, plan_delete, plan_submit
from reviews import services as review_services
from reviews.models import (
    ChecklistAnswer,
    ChecklistGroup,
    ChecklistItem,
    ChecklistTemplate,
    ReviewPolicy,
)
from tests.audit_support import approve_through_services
from tests.factories import AdminFactory, ready_plan

OUR_APPS = ("plans", "reviews", "implementation", "audit", "notifications")


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


# --- policy, checklists, webhooks: written by services, each step audited alike -----------------
POLICY_KEYS = {"change", "fields", "policy"}
CHECKLIST_KEYS = {"change", "object", "fields", "inlines_changed"}
WEBHOOK_KEYS = {"change", "name", "url", "events", "is_active", "fields", "secret_changed"}


def admin_step(client, url, data, **extra) -> AuditEntry:
    """POST an admin form (add, change or delete): it succeeds and writes exactly one entry."""
    before = AuditEntry.objects.count()
    response = client.post(url, data, **extra)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert AuditEntry.objects.count() == before + 1
    return AuditEntry.objects.latest("id")


def assert_alike(entries, keys, *, action, actor, obj_type, obj_id):
    for entry in entries:
        assert entry.action == action
        assert set(entry.payload) == keys
        assert entry.actor == actor
        assert (entry.object_type, entry.object_id) == (obj_type, str(obj_id))


def refused(response, *, field=None) -> str:
    """The form came back (not saved, not a 500) with its errors; returns the page text."""
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors, "the form was expected to show the refusal"
    if field is not None:
        assert field in form.errors
    return response.content.decode()


def nothing_written(audit_count: int, log_count: int) -> None:
    assert AuditEntry.objects.count() == audit_count
    assert LogEntry.objects.count() == log_count  # not even the admin's own history


def counts() -> tuple[int, int]:
    return AuditEntry.objects.count(), LogEntry.objects.count()


# policy
def test_policy_add_change_and_delete_each_write_one_entry_alike(admin_client, admin_user):
    reviewers = Group.objects.get(name=REVIEWERS)
    added = admin_step(admin_client, admin_url(ReviewPolicy, "add"), {
        "name": "Strict", "min_approvals": 2, "high_risk_min_approvals": 3,
        "required_groups": [reviewers.pk],
    }, REMOTE_ADDR="198.51.100.7")
    policy = ReviewPolicy.objects.get(name="Strict")
    assert [g.name for g in policy.required_groups.all()] == [REVIEWERS]
    changed = admin_step(admin_client, admin_url(policy, "change", policy.pk), {
        "name": "Strict", "min_approvals": 3, "high_risk_min_approvals": 3,
        "required_groups": [reviewers.pk], "high_risk_required_groups": [reviewers.pk],
    })
    deleted = admin_step(admin_client, admin_url(policy, "delete", policy.pk), {"post": "yes"})

    assert not ReviewPolicy.objects.filter(pk=policy.pk).exists()
    assert_alike([added, changed, deleted], POLICY_KEYS, action="policy.changed",
                 actor=admin_user, obj_type="reviews.reviewpolicy", obj_id=policy.pk)
    assert added.ip_address == "198.51.100.7"
    assert [e.payload["change"] for e in (added, changed, deleted)] == [
        "added", "changed", "deleted"]
    assert added.payload["policy"]["required_groups"] == [REVIEWERS]  # groups saved first
    assert sorted(changed.payload["fields"]) == ["high_risk_required_groups", "min_approvals"]
    assert changed.payload["policy"] == {
        "id": policy.pk, "name": "Strict", "min_approvals": 3, "high_risk_min_approvals": 3,
        "required_groups": [REVIEWERS], "high_risk_required_groups": [REVIEWERS],
    }
    assert deleted.payload["fields"] == []
    assert deleted.payload["policy"] == changed.payload["policy"]  # what was deleted


def test_staff_with_model_permissions_but_not_admin_see_the_refusal_on_the_form(client, author):
    author.is_staff = True
    author.save()
    author.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_reviewpolicy", "change_reviewpolicy"]))
    client.force_login(author)
    policy = ReviewPolicy.objects.get()
    before = counts()
    response = client.post(admin_url(policy, "change", policy.pk), {
        "name": policy.name, "min_approvals": 5, "high_risk_min_approvals": 5,
    })
    assert "Only admins change the review policy." in refused(response)
    policy.refresh_from_db()
    assert policy.min_approvals == 1
    nothing_written(*before)


# checklists
def inline(prefix, rows, *, parent_field, parent, fields) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": len(rows),
            f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000}
    for i, row in enumerate(rows):
        data |= {f"{prefix}-{i}-id": row.pk, f"{prefix}-{i}-{parent_field}": parent.pk}
        data |= {f"{prefix}-{i}-{name}": getattr(row, name) for name in fields}
    return data


def template_form(name, *, default=False, template=None) -> dict:
    groups = list(template.groups.all()) if template else []
    data = {"name": name} | inline("groups", groups, parent_field="template", parent=template,
                                   fields=("position", "title"))
    return data | ({"is_default": "on"} if default else {})


def group_form(template, title, *, group=None, position=0) -> dict:
    items = list(group.items.all()) if group else []
    return {"template": template.pk, "title": title, "position": position} | inline(
        "items", items, parent_field="group", parent=group, fields=("position", "text"))


def test_checklist_template_add_change_and_delete_each_write_one_entry_alike(
        admin_client, admin_user):
    default = ChecklistTemplate.objects.get(is_default=True)
    added = admin_step(admin_client, admin_url(ChecklistTemplate, "add"),
                       template_form("Security review"))
    template = ChecklistTemplate.objects.get(name="Security review")
    data = template_form("Security review v2", template=template) | {
        "groups-TOTAL_FORMS": 1, "groups-0-template": template.pk, "groups-0-position": 0,
        "groups-0-title": "Secrets"}
    changed = admin_step(admin_client, admin_url(template, "change", template.pk), data)
    assert [g.title for g in template.groups.all()] == ["Secrets"]
    deleted = admin_step(admin_client, admin_url(template, "delete", template.pk),
                         {"post": "yes"})

    assert not ChecklistTemplate.objects.filter(pk=template.pk).exists()
    assert ChecklistTemplate.objects.get(is_default=True) == default  # untouched
    assert_alike([added, changed, deleted], CHECKLIST_KEYS, action="checklist.changed",
                 actor=admin_user, obj_type="reviews.checklisttemplate", obj_id=template.pk)
    assert [(e.payload["change"], e.payload["fields"], e.payload["inlines_changed"])
            for e in (added, changed, deleted)] == [
        ("added", ["name"], False), ("changed", ["name"], True), ("deleted", [], False)]
    assert changed.payload["object"] == "checklisttemplate Security review v2"


def test_checklist_group_add_change_and_delete_each_write_one_entry_alike(
        admin_client, admin_user):
    template = ChecklistTemplate.objects.get(is_default=True)
    added = admin_step(admin_client, admin_url(ChecklistGroup, "add"),
                       group_form(template, "Operations", position=9))
    group = ChecklistGroup.objects.get(title="Operations")
    data = group_form(template, "Operations", group=group, position=9) | {
        "items-TOTAL_FORMS": 1, "items-0-group": group.pk, "items-0-position": 0,
        "items-0-text": "On-call knows about it"}
    changed = admin_step(admin_client, admin_url(group, "change", group.pk), data)
    assert [i.text for i in group.items.all()] == ["On-call knows about it"]
    deleted = admin_step(admin_client, admin_url(group, "delete", group.pk), {"post": "yes"})

    assert not ChecklistGroup.objects.filter(pk=group.pk).exists()
    assert not ChecklistItem.objects.filter(text="On-call knows about it").exists()
    assert_alike([added, changed, deleted], CHECKLIST_KEYS, action="checklist.changed",
                 actor=admin_user, obj_type="reviews.checklisttemplate", obj_id=template.pk)
    assert [(e.payload["change"], sorted(e.payload["fields"]), e.payload["inlines_changed"])
            for e in (added, changed, deleted)] == [
        ("added", ["position", "template", "title"], False),
        ("changed", [], True),  # only its items changed: still one entry
        ("deleted", [], False)]
    assert deleted.payload["object"] == "checklistgroup Operations"


def test_checklist_item_add_change_and_delete_each_write_one_entry_alike(
        admin_client, admin_user):
    template = ChecklistTemplate.objects.get(is_default=True)
    group = template.groups.first()
    added = admin_step(admin_client, admin_url(ChecklistItem, "add"),
                       {"group": group.pk, "text": "Feature flag named", "position": 7})
    item = ChecklistItem.objects.get(text="Feature flag named")
    changed = admin_step(admin_client, admin_url(item, "change", item.pk),
                         {"group": group.pk, "text": "Feature flag named", "position": 8})
    deleted = admin_step(admin_client, admin_url(item, "delete", item.pk), {"post": "yes"})

    assert not ChecklistItem.objects.filter(pk=item.pk).exists()
    assert_alike([added, changed, deleted], CHECKLIST_KEYS, action="checklist.changed",
                 actor=admin_user, obj_type="reviews.checklisttemplate", obj_id=template.pk)
    assert [(e.payload["change"], e.payload["fields"]) for e in (added, changed, deleted)] == [
        ("added", ["group", "text", "position"]), ("changed", ["position"]), ("deleted", [])]


def test_making_another_template_the_default_undefaults_the_old_one(
        admin_client, author, reviewer, reviewer2):
    old = ChecklistTemplate.objects.get(is_default=True)
    plan = ready_plan(author=author)
    plan_submit(actor=author, plan=plan)
    started = review_services.review_start(actor=reviewer, plan=plan)

    entry = admin_step(admin_client, admin_url(ChecklistTemplate, "add"),
                       template_form("Security review", default=True))
    new = ChecklistTemplate.objects.get(name="Security review")
    assert list(ChecklistTemplate.objects.filter(is_default=True)) == [new]
    assert "is_default" in entry.payload["fields"]
    assert review_services.default_checklist() == new
    # A review under way keeps its checklist (and can still answer it); new reviews get the new.
    started.refresh_from_db()
    assert started.checklist == old
    item = ChecklistItem.objects.filter(group__template=old).first()
    review_services.review_answer(actor=reviewer, review=started, item=item, answer="yes")
    assert review_services.review_start(actor=reviewer2, plan=plan).checklist == new


def test_unticking_the_only_default_is_refused_on_the_form(admin_client):
    template = ChecklistTemplate.objects.get(is_default=True)
    before = counts()
    response = admin_client.post(admin_url(template, "change", template.pk),
                                 template_form("Renamed", template=template, default=False))
    page = refused(response, field="is_default")
    assert f"“{template.name}” is the default review checklist (new reviews use it)." in page
    assert "tick “Is default” on the template that should replace it" in page
    assert 'name="name" value="Renamed"' in page  # what the admin typed, to fix
    template.refresh_from_db()
    assert (template.name, template.is_default) == ("Plan template review checklist", True)
    nothing_written(*before)


def test_deleting_the_default_template_is_refused_with_a_message(admin_client):
    template = ChecklistTemplate.objects.get(is_default=True)
    before = counts()
    response = admin_client.post(admin_url(template, "delete", template.pk), {"post": "yes"},
                                 follow=True)
    assert response.redirect_chain == [(admin_url(template, "change", template.pk), 302)]
    assert response.status_code == 200
    assert "is the default review checklist (new reviews use it): make another template the " \
        "default before deleting it." in response.content.decode()
    assert ChecklistTemplate.objects.filter(pk=template.pk, is_default=True).exists()
    assert ChecklistItem.objects.filter(group__template=template).count() == 15
    nothing_written(*before)


def test_with_no_default_at_all_a_template_must_become_the_default(admin_user):
    ChecklistTemplate.objects.update(is_default=False)  # data broken outside the services
    with pytest.raises(ValidationError, match="No checklist template is the default"):
        review_services.checklist_save(actor=admin_user, obj=ChecklistTemplate(name="Other"),
                                       changed_fields=["name"], created=True)
    assert not ChecklistTemplate.objects.filter(name="Other").exists()
    fixed = review_services.checklist_save(
        actor=admin_user, obj=ChecklistTemplate(name="Other", is_default=True),
        changed_fields=["name", "is_default"], created=True)
    assert review_services.default_checklist() == fixed


def test_delete_selected_is_all_or_nothing(admin_client, admin_user):
    default = ChecklistTemplate.objects.get(is_default=True)
    spare = review_services.checklist_save(
        actor=admin_user, obj=ChecklistTemplate(name="Spare"), changed_fields=["name"],
        created=True)
    before = counts()
    response = admin_client.post(admin_url(ChecklistTemplate, "changelist"), {
        "action": "delete_selected", "_selected_action": [spare.pk, default.pk], "post": "yes",
    }, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "is the default review checklist" in text
    assert "Successfully deleted" not in text
    assert ChecklistTemplate.objects.filter(pk__in=[spare.pk, default.pk]).count() == 2
    nothing_written(*before)


@pytest.mark.parametrize(("model", "make"), [
    (get_user_model(), lambda n: get_user_model().objects.create_user(f"leaver{n}")),
    (Group, lambda n: Group.objects.create(name=f"Team {n}")),
], ids=["users", "groups"])
def test_a_bulk_action_that_fails_half_way_leaves_nothing_behind(client, db, model, make):
    """Django's "delete selected" writes its history rows ("Deleted ...") before it deletes:
    when the deletion fails, they go too, as the whole POST is one transaction."""
    client.force_login(get_user_model().objects.create_superuser("root"))  # Django's GroupAdmin
    rows = [make(n) for n in range(2)]
    before = LogEntry.objects.count()

    def fail(**kwargs):
        raise RuntimeError("the database went away")

    pre_delete.connect(fail, sender=model, dispatch_uid="test-failing-delete")
    try:
        with pytest.raises(RuntimeError):
            client.post(admin_url(model, "changelist"), {
                "action": "delete_selected", "_selected_action": [row.pk for row in rows],
                "post": "yes",
            })
    finally:
        pre_delete.disconnect(sender=model, dispatch_uid="test-failing-delete")
    assert model.objects.filter(pk__in=[row.pk for row in rows]).count() == 2
    assert LogEntry.objects.count() == before


def test_a_template_that_reviews_use_cannot_be_deleted(admin_client, admin_user, author,
                                                        reviewer):
    approve_through_services(author=author, reviewer=reviewer)
    old = ChecklistTemplate.objects.get(is_default=True)
    review_services.checklist_save(
        actor=admin_user, obj=ChecklistTemplate(name="Next", is_default=True),
        changed_fields=["name", "is_default"], created=True)
    before = counts()
    with pytest.raises(ValidationError, match="1 review"):
        review_services.checklist_delete(actor=admin_user, obj=old)
    response = admin_client.post(admin_url(old, "delete", old.pk), {"post": "yes"})
    page = response.content.decode()  # Django's own delete page refuses it first
    assert "Cannot delete checklist template" in page
    assert "<li>review</li>" in page
    assert ChecklistTemplate.objects.filter(pk=old.pk).exists()
    nothing_written(*before)


def test_deleting_an_answered_item_keeps_the_answer_text(admin_client, author, reviewer):
    plan, review = approve_through_services(author=author, reviewer=reviewer)
    answer = review.answers.first()
    text = answer.item_text
    admin_step(admin_client, admin_url(ChecklistItem, "delete", answer.item_id), {"post": "yes"})
    answer = ChecklistAnswer.objects.get(pk=answer.pk)
    assert (answer.item_id, answer.item_text, answer.answer) == (None, text, "yes")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED


# webhooks
def webhook_form(**fields) -> dict:
    return {"name": "CI", "url": "https://ci.example.com/hook", "secret": "s3cr3t-value",
            "events": "[]", "is_active": "on"} | fields


def test_webhook_add_change_and_delete_each_write_one_entry_alike_never_the_secret(
        admin_client, admin_user):
    added = admin_step(admin_client, admin_url(WebhookEndpoint, "add"), webhook_form())
    endpoint = WebhookEndpoint.objects.get(name="CI")
    change = admin_url(endpoint, "change", endpoint.pk)
    events_changed = admin_step(admin_client, change,
                                webhook_form(events='["plan.approved", "plan.rejected"]'))
    secret_changed = admin_step(admin_client, change,
                                webhook_form(events='["plan.approved", "plan.rejected"]',
                                             secret="n3w-s3cr3t"))
    deleted = admin_step(admin_client, admin_url(endpoint, "delete", endpoint.pk),
                         {"post": "yes"})

    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    entries = [added, events_changed, secret_changed, deleted]
    assert_alike(entries, WEBHOOK_KEYS, action="webhook.changed", actor=admin_user,
                 obj_type="notifications.webhookendpoint", obj_id=endpoint.pk)
    assert [(e.payload["change"], e.payload["secret_changed"]) for e in entries] == [
        ("added", True), ("changed", False), ("changed", True), ("deleted", False)]
    assert events_changed.payload["fields"] == ["events"]
    assert deleted.payload["events"] == ["plan.approved", "plan.rejected"]
    assert {e.payload["url"] for e in entries} == {"https://ci.example.com/hook"}
    assert not any("s3cr3t" in str(e.payload) for e in entries)


def test_delete_selected_webhooks_writes_one_entry_per_endpoint(admin_client, admin_user):
    endpoints = [notification_services.webhook_save(
        actor=admin_user, endpoint=WebhookEndpoint(name=name, url="https://ci.example.com/h",
                                                   secret="x"),
        changed_fields=["name"], created=True) for name in ("A", "B")]
    before = AuditEntry.objects.count()
    response = admin_client.post(admin_url(WebhookEndpoint, "changelist"), {
        "action": "delete_selected", "_selected_action": [e.pk for e in endpoints],
        "post": "yes"}, follow=True)
    assert "Successfully deleted 2 webhook endpoints." in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
    new = list(AuditEntry.objects.order_by("id")[before:])
    assert sorted((e.object_id, e.payload["change"]) for e in new) == sorted(
        (str(e.pk), "deleted") for e in endpoints)
    assert all(set(e.payload) == WEBHOOK_KEYS for e in new)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd",
                                 "ftp://files.example.com/hook"])
def test_a_webhook_url_that_is_not_http_is_refused_on_the_form(admin_client, admin_user, url):
    endpoint = notification_services.webhook_save(
        actor=admin_user, endpoint=WebhookEndpoint(name="CI", url="https://ci.example.com/h",
                                                   secret="x"),
        changed_fields=["name", "url", "secret"], created=True)
    before = counts()
    response = admin_client.post(admin_url(WebhookEndpoint, "add"), webhook_form(url=url))
    assert "Enter a valid URL." in refused(response, field="url")
    response = admin_client.post(admin_url(endpoint, "change", endpoint.pk),
                                 webhook_form(url=url))
    assert "Enter a valid URL." in refused(response, field="url")
    assert list(WebhookEndpoint.objects.values_list("url", flat=True)) == [
        "https://ci.example.com/h"]
    nothing_written(*before)


def test_a_webhook_for_an_unknown_event_is_refused_on_the_form(admin_client):
    before = counts()
    response = admin_client.post(admin_url(WebhookEndpoint, "add"),
                                 webhook_form(events='["plan.approved", "plan.aproved"]'))
    page = refused(response, field="events")
    assert "Unknown event(s): plan.aproved. Events that can be sent:" in page
    assert "[&quot;plan.approved&quot;, &quot;plan.aproved&quot;]</textarea>" in page  # to fix
    assert not WebhookEndpoint.objects.exists()
    nothing_written(*before)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "https://",
                                 "ftp://files.example.com/hook"])
def test_webhook_service_refuses_a_url_that_is_not_http(admin_user, url):
    with pytest.raises(ValidationError) as refusal:
        notification_services.webhook_save(
            actor=admin_user, endpoint=WebhookEndpoint(name="CI", url=url, secret="x"),
            changed_fields=["url"], created=True)
    assert refusal.value.message_dict["url"] == [
        "A webhook URL starts with http:// or https:// and names a host."]
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEntry.objects.filter(action="webhook.changed").exists()


@pytest.mark.parametrize("events, message", [
    (["plan.approved", "nope"], "Unknown event(s): nope."),
    (["checklist.changed"], "Unknown event(s): checklist.changed."),  # not notifiable
    ("plan.approved", "List the event names to send"),
])
def test_webhook_service_refuses_events_that_cannot_be_sent(admin_user, events, message):
    endpoint = WebhookEndpoint(name="CI", url="https://ci.example.com/h", secret="x",
                               events=events)
    with pytest.raises(ValidationError, match=re.escape(message)):
        notification_services.webhook_save(actor=admin_user, endpoint=endpoint,
                                           changed_fields=["events"], created=True)
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEntry.objects.filter(action="webhook.changed").exists()


def test_a_password_in_a_webhook_url_is_not_audited(admin_user):
    notification_services.webhook_save(
        actor=admin_user, endpoint=WebhookEndpoint(
            name="CI", url="https://bot:hunter2@ci.example.com/hook", secret="x"),
        changed_fields=["url"], created=True)
    entry = AuditEntry.objects.get(action="webhook.changed")
    assert entry.payload["url"] == "https://bot:***@ci.example.com/hook"
    assert "hunter2" not in str(entry.payload)


# only admins
def _policy_save(actor):
    policy = ReviewPolicy.objects.get()
    policy.min_approvals = 5
    review_services.policy_save(actor=actor, policy=policy, required_groups=[],
                                high_risk_required_groups=[], changed_fields=["min_approvals"],
                                created=False)


def _checklist_save(actor):
    template = ChecklistTemplate.objects.get()
    template.name = "Mine"
    review_services.checklist_save(actor=actor, obj=template, changed_fields=["name"],
                                   created=False)


def _webhook_save(actor):
    notification_services.webhook_save(
        actor=actor, endpoint=WebhookEndpoint(name="Mine", url="https://example.com/h",
                                              secret="x"),
        changed_fields=["name"], created=True)


def _webhook_delete(actor):
    notification_services.webhook_delete(actor=actor, endpoint=WebhookEndpoint.objects.get())


NON_ADMIN_CALLS = {
    "policy_save": _policy_save,
    "policy_delete": lambda actor: review_services.policy_delete(
        actor=actor, policy=ReviewPolicy.objects.get()),
    "checklist_save": _checklist_save,
    "checklist_delete": lambda actor: review_services.checklist_delete(
        actor=actor, obj=ChecklistItem.objects.first()),
    "webhook_save": _webhook_save,
    "webhook_delete": _webhook_delete,
}


@pytest.mark.parametrize("service", NON_ADMIN_CALLS)
def test_a_non_admin_calling_a_service_is_refused(admin_user, reviewer, service):
    WebhookEndpoint.objects.create(name="CI", url="https://ci.example.com/h", secret="x")
    before = (list(ReviewPolicy.objects.values()), list(ChecklistTemplate.objects.values()),
              ChecklistItem.objects.count(), list(WebhookEndpoint.objects.values()))
    with pytest.raises(NotAllowed, match="Only admins change"):
        NON_ADMIN_CALLS[service](reviewer)
    assert (list(ReviewPolicy.objects.values()), list(ChecklistTemplate.objects.values()),
            ChecklistItem.objects.count(), list(WebhookEndpoint.objects.values())) == before
    assert not AuditEntry.objects.filter(
        action__in=["policy.changed", "checklist.changed", "webhook.changed"]).exists()


# --- the plan list's rows (accounts/templatetags/plangate_admin.py) ------------------------------
def _changelist_cases():
    """Every registered changelist, plain, sorted and searched, and filtered by state where the
    model has one."""
    for model_admin in admin.site._registry.values():
        queries = [{}, {"o": "-2.3"}, {"q": "a"}]
        if "status" in model_admin.list_filter:
            queries.append({"status__exact": "DRAFT"})
        for query in queries:
            yield pytest.param(model_admin, query,
                               id=f"{model_admin.model._meta.label}-{'&'.join(query) or 'all'}")


@pytest.mark.parametrize(("model_admin", "query"), list(_changelist_cases()))
def test_the_fast_rows_are_djangos_rows(rf, admin_user, author, reviewer, model_admin, query,
                                        settings):
    """Every changelist's rows drawn by plangate_result_list are byte for byte Django's own,
    with filters preserved in the links, searched and sorted (and with numbers localised)."""
    settings.USE_THOUSAND_SEPARATOR = True
    for n in range(3):
        ready_plan(author=author, title=f"Plan {n} <b>")
    plan_submit(actor=author, plan=ready_plan(author=author))
    request = rf.get(admin_url(model_admin.model, "changelist"), query)
    request.user = admin_user
    cl = model_admin.get_changelist_instance(request)
    cl.formset = None
    assert fast_results(cl) == [list(row) for row in results(cl)]


def test_the_plan_changelist_draws_the_fast_rows(admin_client, author):
    plan = ready_plan(author=author, title="Fast <rows>")
    response = admin_client.get(admin_url(plan, "changelist"), {"status__exact": "DRAFT"})
    assert response.status_code == 200
    page = response.content.decode()
    change = admin_url(plan, "change", plan.pk)
    assert (f'<th class="field-id"><a href="{change}?_changelist_filters=status__exact%3DDRAFT">'
            f"{plan.pk}</a></th>") in page
    assert "Fast &lt;rows&gt;" in page and "Fast <rows>" not in page
    assert 'id="nav-sidebar"' not in page  # no sidebar of every model on every admin page


def test_the_plan_changelist_shows_a_change_on_the_very_next_request(admin_client, author):
    """Its rows are cached by their content and its count by the data version: a renamed author
    (no write to the plan's row), a new plan and a deleted one all show at once."""
    plans = [plan_create(actor=author, title=f"Listed {n}") for n in range(2)]
    url = admin_url(plans[0], "changelist")

    def page() -> str:
        return admin_client.get(url).content.decode()

    first = page()
    assert "2 plans" in first and f">{author.username}</td>" in first
    author.username = "renamed-author"
    author.save()
    assert ">renamed-author</td>" in page()
    plan_create(actor=author, title="Listed later")
    assert "Listed later" in (third := page()) and "3 plans" in third
    plan_delete(actor=author, plan=plans[0])
    assert "2 plans" in (fourth := page()) and "Listed 0" not in fourth


def test_the_plan_filters_are_djangos_filters(admin_client, author):
    """Drawn by plangate_list_filters, fresh and from the cache: Django's own sidebar, with
    the filter chosen selected and the others' links keeping it (and the search, the order)."""
    plan_create(actor=author, title="Plan")

    def sidebar(page: str) -> str:
        return re.search(r'<nav id="changelist-filter".*?</nav>', page, re.DOTALL).group()

    for query in ({}, {"status__exact": "DRAFT", "o": "-2"}, {"q": "Plan"}, {}):
        response = admin_client.get(reverse("admin:plans_plan_changelist"), query)
        djangos = render_to_string("admin/change_list.html", response.context_data,
                                   request=response.wsgi_request)
        assert sidebar(response.content.decode()) == sidebar(djangos)


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_the_cached_plan_list_is_djangos_with_each_requests_own_csrf_token(author, admin_user):
    """The list below the title is drawn once and then served from the cache: the same markup,
    but every page carries its own user's CSRF token, and the action posted with it runs."""
    plan = ready_plan(author=author, title="Cached list")
    plan_submit(actor=author, plan=plan)
    url = admin_url(plan, "changelist")
    pages = []
    for user in (admin_user, AdminFactory(username="another-admin"), admin_user):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        page = client.get(url).content.decode()
        header_token, list_token = CSRF_INPUT.findall(page)  # the log-out form's, the list's
        assert list_token == header_token
        assert "Withdraw selected plans" in page and "Cached list" in page
        pages.append(CSRF_INPUT.sub("", page.partition('<div id="content-main">')[2]))
    assert pages[0] == pages[1] == pages[2]  # drawn, then from the cache, alike
    response = client.post(url, {"action": "withdraw_plans", "_selected_action": [plan.pk],
                                 "csrfmiddlewaretoken": list_token, "index": 0})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_the_cached_plan_list_shows_each_user_only_their_own_actions(admin_client, client,
                                                                    author):
    """Staff allowed only to view plans get no service actions, even from a list an admin's
    request drew first."""
    plan_create(actor=author, title="Listed")
    url = reverse("admin:plans_plan_changelist")
    assert "Withdraw selected plans" in admin_client.get(url).content.decode()
    author.is_staff = True
    author.save()
    author.user_permissions.add(Permission.objects.get(codename="view_plan"))
    client.force_login(author)
    page = client.get(url).content.decode()
    assert "Listed" in page and "Withdraw selected plans" not in page


def test_the_plan_changelist_works_with_the_cache_down(admin_client, author, settings):
    plan_create(actor=author, title="Still listed")
    settings.CACHES = {"default": {"BACKEND": "core.cache_backend.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # nothing listens
    page = admin_client.get(reverse("admin:plans_plan_changelist")).content.decode()
    assert "Still listed" in page and "1 plan" in page and "By status" in page


def test_the_admin_home_and_app_pages_still_list_the_models(admin_client):
    """The list of apps and models is built only for the pages that show it (accounts/sites.py)."""
    home = admin_client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("admin:plans_plan_changelist")}"' in home
    assert f'href="{reverse("admin:auth_user_changelist")}"' in home
    plans = admin_client.get(reverse("admin:app_list", args=["plans"]))
    assert f'href="{reverse("admin:plans_plan_changelist")}"' in plans.content.decode()
    assert admin_client.get(reverse("admin:app_list", args=["audit"])).status_code == 200
