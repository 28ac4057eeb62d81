"""The audit entry of an edit names what the save changed, not every field the editor sent."""

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from plans import services
from plans.models import Plan
from tests.plans.test_plan_export_edits import edit
from tests.plans.test_source_bytes import TEMPLATE_TEXT

pytestmark = pytest.mark.django_db


def last_edit(plan) -> AuditEntry:
    return AuditEntry.objects.filter(action="plan.edited", object_id=str(plan.pk)).latest("id")


def test_changing_the_title_in_the_editor_records_only_the_title(author_client, author, client,
                                                                 admin_user):
    plan = services.plan_import_markdown(actor=author, text=TEMPLATE_TEXT)
    edit(author_client, plan, title="A better title")
    assert last_edit(plan).payload["fields"] == ["title"]
    client.force_login(admin_user)
    page = client.get(reverse("audit:list"))
    assert "changed: title;" in page.content.decode()


def test_a_save_that_changes_nothing_records_no_field(author_client, author):
    plan = services.plan_import_markdown(actor=author, text=TEMPLATE_TEXT)
    edit(author_client, plan)
    assert last_edit(plan).payload["fields"] == []


def test_the_service_compares_prose_and_dates_as_the_form_sends_them(author):
    plan = services.plan_import_markdown(actor=author, text=TEMPLATE_TEXT)
    plan = Plan.objects.get(pk=plan.pk)
    services.plan_update(actor=author, plan=plan, fields={
        "title": plan.title, "created_on": plan.created_on,
        "problem_statement": plan.sections.get("problem_statement", ""),
        "rollback_if_fails": "Revert the deploy.",
    })
    assert last_edit(plan).payload["fields"] == ["rollback_if_fails"]

