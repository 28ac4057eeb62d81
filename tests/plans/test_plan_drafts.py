"""Putting drafts away: a never-submitted draft can be deleted, a plan not under review can be
archived (hidden from the lists, found with a filter) and unarchived; all audited."""

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from core.errors import NotAllowed, ValidationError
from plans.models import Plan
from plans.services import (
    plan_archive,
    plan_create,
    plan_delete,
    plan_submit,
    plan_unarchive,
    plan_withdraw,
)
from reviews.services import comment_post
from tests.factories import AuthorFactory, ready_plan
from tests.reviewkit import submitted_plan

pytestmark = pytest.mark.django_db


def listed(client, query="") -> str:
    return client.get(reverse("plans:list") + query).content.decode()


def test_the_author_deletes_a_never_submitted_draft(author_client, author):
    plan = plan_create(actor=author, title="Throwaway idea")
    page = author_client.get(plan.get_absolute_url()).content.decode()
    assert reverse("plans:delete", args=[plan.pk]) in page
    response = author_client.post(reverse("plans:delete", args=[plan.pk]))
    assert response.status_code == 302
    assert not Plan.objects.filter(pk=plan.pk).exists()
    entry = AuditEntry.objects.get(action="plan.deleted")
    assert entry.plan_id == plan.pk and entry.payload["title"] == "Throwaway idea"
    assert "Draft “Throwaway idea” deleted." in author_client.get(response["Location"]).content \
        .decode()


def test_the_audit_entry_says_what_went_with_a_deleted_draft(author, reviewer):
    plan = ready_plan(author=author)
    comment_post(actor=reviewer, plan=plan, body="Before you submit: what about caching?")
    steps = plan.steps.count()
    plan_delete(actor=author, plan=plan)
    gone = AuditEntry.objects.get(action="plan.deleted").payload["with"]
    assert gone["plans.PlanStep"] == steps and gone["reviews.Comment"] == 1


def test_a_plan_that_was_ever_submitted_cannot_be_deleted(author_client, author):
    plan = submitted_plan(author)
    plan_withdraw(actor=author, plan=plan)  # a draft again, but it has a revision
    plan.refresh_from_db()
    page = author_client.get(plan.get_absolute_url()).content.decode()
    assert reverse("plans:delete", args=[plan.pk]) not in page
    assert reverse("plans:archive", args=[plan.pk]) in page
    with pytest.raises(NotAllowed):
        plan_delete(actor=author, plan=plan)
    assert author_client.post(reverse("plans:delete", args=[plan.pk])).status_code == 403
    assert Plan.objects.filter(pk=plan.pk).exists()


def test_someone_else_cannot_delete_or_archive(client, author):
    plan = plan_create(actor=author, title="Mine")
    other = AuthorFactory(username="mallory")
    client.force_login(other)
    assert client.post(reverse("plans:delete", args=[plan.pk])).status_code == 403
    assert client.post(reverse("plans:archive", args=[plan.pk])).status_code == 403
    page = client.get(plan.get_absolute_url()).content.decode()
    assert reverse("plans:delete", args=[plan.pk]) not in page
    plan.refresh_from_db()
    assert plan.archived_at is None


def test_archived_plans_leave_the_lists_and_come_back(author_client, author):
    plan = plan_create(actor=author, title="Old experiment")
    assert "Old experiment" in listed(author_client)
    response = author_client.post(reverse("plans:archive", args=[plan.pk]), follow=True)
    assert "archived: it no longer shows in the plan lists" in response.content.decode()
    plan.refresh_from_db()
    assert plan.archived_at is not None
    assert "Old experiment" not in listed(author_client)
    assert "Old experiment" not in listed(author_client, "?mine=1")
    assert "Old experiment" in listed(author_client, "?archived=1")
    assert "Unarchive" in author_client.get(plan.get_absolute_url()).content.decode()
    author_client.post(reverse("plans:unarchive", args=[plan.pk]), follow=True)
    assert "Old experiment" in listed(author_client)
    assert list(AuditEntry.objects.filter(action__in=["plan.archived", "plan.unarchived"])
                .values_list("action", flat=True)) == ["plan.archived", "plan.unarchived"]


def test_archiving_twice_records_once(author):
    plan = plan_create(actor=author, title="Once")
    plan_archive(actor=author, plan=plan)
    plan_archive(actor=author, plan=plan)
    assert AuditEntry.objects.filter(action="plan.archived").count() == 1


def test_a_plan_under_review_cannot_be_archived(author):
    plan = submitted_plan(author)
    with pytest.raises(NotAllowed, match="is waiting for review"):
        plan_archive(actor=author, plan=plan)


def test_an_archived_plan_is_not_submitted(author):
    plan = ready_plan(author=author)
    plan_archive(actor=author, plan=plan)
    plan.refresh_from_db()
    with pytest.raises(ValidationError, match="archived"):
        plan_submit(actor=author, plan=plan)
    plan_unarchive(actor=author, plan=plan)
    plan.refresh_from_db()
    plan_submit(actor=author, plan=plan)


def test_archiving_does_not_count_as_an_edit(author):
    plan = plan_create(actor=author, title="Stable")
    before = Plan.objects.get(pk=plan.pk).updated_at
    plan_archive(actor=author, plan=plan)
    assert Plan.objects.get(pk=plan.pk).updated_at == before
