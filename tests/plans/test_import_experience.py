"""The import page helps: it links the plan template (to read or download), previews what the
review policy will require, and catches the same file imported twice instead of making a
silent duplicate. The plan page previews the policy too, while the plan can be submitted."""

import base64

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from plans.models import Plan, PlanStatus
from plans.services import plan_create, plan_import_markdown
from reviews.models import ReviewPolicy
from tests.factories import AuthorFactory, ready_plan

pytestmark = pytest.mark.django_db

TEXT = """# Implementation Plan - Cache sessions

## Problem Statement
Logins are slow.
"""


def page(response) -> str:
    return response.content.decode()


def test_import_page_links_the_template_to_read_and_download(author_client):
    text = page(author_client.get(reverse("plans:import")))
    template = reverse("plans:template")
    assert f'href="{template}"' in text and f'href="{template}?download=1"' in text
    assert "## Implementation Steps" in text
    inline = author_client.get(template)
    assert inline["Content-Disposition"].startswith("inline;")
    download = author_client.get(template, {"download": "1"})
    assert download["Content-Disposition"] == 'attachment; filename="plan-template.md"'
    assert download.content.decode().startswith("#")


def test_import_page_previews_what_the_policy_requires(author_client):
    security = Group.objects.create(name="Security")
    policy = ReviewPolicy.objects.create(name="Strict", min_approvals=1,
                                         high_risk_min_approvals=2)
    policy.high_risk_required_groups.add(security)
    text = page(author_client.get(reverse("plans:import")))
    assert "a plan needs 1 approval; a plan with any High-risk step needs 2 approvals " \
           "(including one from Security)" in text


def test_plan_page_says_what_submitting_will_require(author_client, author):
    plan = ready_plan(author=author)
    plan.steps.update(risk="high")
    ReviewPolicy.objects.update(high_risk_min_approvals=2)
    text = page(author_client.get(plan.get_absolute_url()))
    assert "Submitting will require:</strong> 2 approvals, because a step is High risk" in text


def test_plan_under_review_has_no_submission_preview(author_client, author):
    from tests.reviewkit import submitted_plan

    plan = submitted_plan(author)
    assert "Submitting will require" not in page(author_client.get(plan.get_absolute_url()))


def test_importing_the_same_file_twice_asks_first(author_client, author):
    first = plan_import_markdown(actor=author, text=TEXT)
    upload = SimpleUploadedFile("plan.md", TEXT.encode(), content_type="text/markdown")
    response = author_client.post(reverse("plans:import"), {"file": upload})
    assert response.status_code == 200
    text = page(response)
    assert "You already imported this text" in text
    assert f'href="{first.get_absolute_url()}"' in text
    assert "Import anyway as a new plan" in text and "Update “Cache sessions”" in text
    assert Plan.objects.count() == 1
    # The file is kept, byte for byte, for the second post.
    assert f'name="kept" value="{base64.b64encode(TEXT.encode()).decode()}"' in text


def test_import_anyway_makes_a_second_plan(author_client, author):
    plan_import_markdown(actor=author, text=TEXT)
    response = author_client.post(reverse("plans:import"),
                                  {"text": TEXT, "on_duplicate": "new"})
    assert response.status_code == 302
    assert Plan.objects.count() == 2


def test_update_the_existing_draft_instead(author_client, author):
    first = plan_import_markdown(actor=author, text=TEXT)
    response = author_client.post(reverse("plans:import") + f"?existing={first.pk}",
                                  {"text": TEXT, "on_duplicate": "update"})
    assert response.status_code == 302 and response["Location"] == first.get_absolute_url()
    assert Plan.objects.count() == 1


def test_update_needs_one_of_your_own_duplicates(author_client, author):
    plan_import_markdown(actor=author, text=TEXT)
    someone = plan_import_markdown(actor=AuthorFactory(username="bob"), text=TEXT)
    response = author_client.post(reverse("plans:import") + f"?existing={someone.pk}",
                                  {"text": TEXT, "on_duplicate": "update"})
    assert response.status_code == 400
    assert "Choose which of your plans to update." in page(response)
    assert Plan.objects.filter(author__username="bob").count() == 1


def test_someone_elses_copy_is_not_a_duplicate(author_client, author):
    plan_import_markdown(actor=AuthorFactory(username="bob"), text=TEXT)
    response = author_client.post(reverse("plans:import"), {"text": TEXT})
    assert response.status_code == 302
    assert Plan.objects.filter(author=author).count() == 1


def test_a_submitted_revision_of_the_text_counts(author_client, author):
    plan = ready_plan(author=author)
    from plans.services import plan_submit

    revision = plan_submit(actor=author, plan=plan)
    text = revision.content  # what `plangate verify` would hash
    response = author_client.post(reverse("plans:import"), {"text": text})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW
    body = page(response)
    assert "You already imported this text" in body
    assert "Import anyway as a new plan" in body
    assert "Update “" not in body  # under review: it cannot be updated


def test_editor_made_plans_are_not_matched_by_their_title(author_client, author):
    plan_create(actor=author, title="Cache sessions")
    assert author_client.post(reverse("plans:import"), {"text": TEXT}).status_code == 302


def test_a_file_of_blank_lines_is_refused_as_a_pasted_one_is(author_client):
    upload = SimpleUploadedFile("blank.md", b"  \r\n\t\n\n", content_type="text/markdown")
    response = author_client.post(reverse("plans:import"), {"file": upload})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "file": ["the plan is empty: it has only blank lines"]}
    assert not Plan.objects.exists()


def test_an_empty_file_gets_one_error_that_says_so(author_client):
    upload = SimpleUploadedFile("empty.md", b"", content_type="text/markdown")
    response = author_client.post(reverse("plans:import"), {"file": upload})
    form = response.context["form"]
    assert form.errors == {"file": ["The submitted file is empty."]}
    assert not Plan.objects.exists()
