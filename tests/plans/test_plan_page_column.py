"""The plan page's main column (import report, title, date, author, totals and document) is laid
out once and kept under everything it shows (plans/views.py _document_column_key): a view after
no change lays nothing out, and a change of any of it shows at once."""

import pytest
from django.urls import reverse

from accounts.services import profile_update
from plans import services
from plans.models import Plan
from tests.factories import ready_plan

pytestmark = pytest.mark.django_db

COLUMN = "plans/includes/plan_document_column.html"


def view(client, plan) -> tuple[str, bool]:
    """(the page, whether its main column was laid out for it)."""
    response = client.get(reverse("plans:detail", args=[plan.pk]))
    assert response.status_code == 200
    laid_out = COLUMN in [t.name for t in response.templates]
    return response.content.decode(), laid_out


def kept(client, plan) -> str:
    """The page viewed twice: laid out the first time, from the cache the second."""
    view(client, plan)
    html, laid_out = view(client, plan)
    assert not laid_out
    return html


def test_a_view_after_no_change_lays_the_column_out_from_the_cache(author_client, author):
    plan = ready_plan(author=author, title="Kept column")
    first, laid_out = view(author_client, plan)
    assert laid_out and "Implementation Plan - Kept column" in first
    second, laid_out = view(author_client, plan)
    assert not laid_out and second.count("Implementation Plan - Kept column") == 1


def test_a_new_title_shows_at_once(author_client, author):
    plan = ready_plan(author=author, title="Old title")
    assert "Implementation Plan - Old title" in kept(author_client, plan)
    services.plan_update(actor=author, plan=Plan.objects.get(pk=plan.pk),
                         fields={"title": "New title"})
    html, laid_out = view(author_client, plan)
    assert laid_out and "Implementation Plan - New title" in html
    assert "Old title" not in html


def test_the_authors_new_name_shows_at_once(author_client, author):
    plan = ready_plan(author=author)
    kept(author_client, plan)
    # A change of the author's account: the plan's row (and its updated_at) stays as it was.
    profile_update(actor=author, user=author, first_name="Ada", last_name="Renamed", email="")
    html, laid_out = view(author_client, plan)
    assert laid_out and "by Ada Renamed</p>" in html


def test_new_steps_change_the_totals_at_once(author_client, author):
    plan = ready_plan(author=author)
    one = {"title": "One", "objective": "Do one.", "estimate": "2 hours", "risk": "low"}
    services.plan_update(actor=author, plan=Plan.objects.get(pk=plan.pk), steps=[one])
    assert "data-total-hours>2 h" in kept(author_client, plan)
    two = {"title": "Two", "objective": "Do two.", "estimate": "3 hours", "risk": "high"}
    services.plan_update(actor=author, plan=Plan.objects.get(pk=plan.pk), steps=[one, two])
    html, laid_out = view(author_client, plan)
    assert laid_out and "data-total-hours>5 h" in html and "2 steps" in html
    assert 'class="risk-high" data-highest-risk' in html


def test_a_new_import_report_shows_at_once(author_client, author):
    text = ("# Implementation Plan - Imported\n\n## Problem Statement\n\nA problem.\n\n"
            "## Implementation Steps\n\n### Step 1: Only step\n\n**Objective**: Do it.\n")
    plan = services.plan_import_markdown(actor=author, text=text)
    before = kept(author_client, plan)
    assert before.count("data-warning-line=") == len(plan.import_report["warnings"])
    assert "Current State Analysis" in before
    # The missing section written in: one warning fewer.
    fuller = text.replace("## Implementation Steps",
                          "## Current State Analysis\n\nAs it is.\n\n## Implementation Steps")
    services.plan_import_markdown(actor=author, plan=Plan.objects.get(pk=plan.pk), text=fuller)
    report = Plan.objects.get(pk=plan.pk).import_report
    assert len(report["warnings"]) == len(plan.import_report["warnings"]) - 1
    html, laid_out = view(author_client, plan)
    assert laid_out and html.count("data-warning-line=") == len(report["warnings"])
    assert "Current State Analysis" not in html.split("data-import-report")[1].split("</div>")[0]
