"""The plan editor through the Django test client: create, edit, validation, htmx step rows,
permissions."""

from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from plans import services
from plans.models import Plan, PlanEditor, PlanStatus, PlanStep
from tests.factories import (
    AuthorFactory,
    PlanFactory,
    PlanStepFactory,
    StepActionFactory,
    StepFileFactory,
    ready_plan,
)

pytestmark = pytest.mark.django_db


def step_fields(index: int, **values) -> dict:
    defaults = {"id": "", "title": "", "objective": "", "actions": "", "files": "",
                "dependencies": "", "estimate": "", "risk": ""}
    defaults.update(values)
    return {f"steps-{index}-{name}": value for name, value in defaults.items()}


def editor_data(steps=(), **fields) -> dict:
    data = {"title": "Faster logins", "created_on": "2026-03-01", "success_criteria": "",
            "steps-TOTAL_FORMS": str(len(steps)), "steps-INITIAL_FORMS": "0",
            "steps-MIN_NUM_FORMS": "0", "steps-MAX_NUM_FORMS": "1000", "loaded_at": ""}
    for name in ("problem_statement", "existing_system", "research_findings",
                 "high_level_approach", "technical_design", "unit_testing",
                 "integration_testing", "manual_testing", "high_risk_items",
                 "medium_risk_items", "risk_dependencies", "rollback_if_fails",
                 "rollback_partial"):
        data[name] = ""
    data.update(fields)
    for index, step in enumerate(steps):
        data.update(step_fields(index, **step))
    return data


TWO_STEPS = [
    {"title": "Add cache", "objective": "Sessions in **Redis**",
     "actions": "- [ ] Configure cache\n- [x] Pick a TTL", "files": "config/settings.py - cache",
     "dependencies": "Redis 7", "estimate": "2-3 hours", "risk": "medium"},
    {"title": "Load test", "objective": "Prove it", "estimate": "30 minutes", "risk": "high"},
]


def test_create_page_shows_every_template_section(author_client):
    response = author_client.get(reverse("plans:create"))
    page = response.content.decode()
    assert response.status_code == 200
    for heading in ("Problem Statement", "Current State Analysis", "Proposed Solution",
                    "Implementation Steps", "Testing Strategy", "Risk Assessment",
                    "Success Criteria", "Rollback Plan"):
        assert f"<h2>{heading}</h2>" in page or f"<h2>{heading} <small" in page
    assert 'class="markdownx-editor' in page  # live preview widgets on prose fields
    assert "markdownx/js/markdownx" in page
    assert 'name="steps-0-title"' in page  # starts with one empty step row


def test_create_saves_plan_steps_actions_files_and_criteria(author_client, author):
    data = editor_data(TWO_STEPS, problem_statement="Logins are *slow*",
                       success_criteria="- [ ] p95 < 200ms\n- [x] No errors")
    response = author_client.post(reverse("plans:create"), data)
    plan = Plan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == plan.get_absolute_url()
    assert plan.author == author and plan.title == "Faster logins"
    assert str(plan.created_on) == "2026-03-01"
    steps = list(plan.steps.all())
    assert [s.title for s in steps] == ["Add cache", "Load test"]
    assert [s.position for s in steps] == [0, 1]
    assert steps[0].estimate == "2-3 hours" and steps[0].estimated_hours == Decimal("3.00")
    assert steps[1].estimated_hours == Decimal("0.50")
    assert [(a.text, a.done) for a in steps[0].actions.all()] == [
        ("Configure cache", False), ("Pick a TTL", True)]
    assert [(f.path, f.description) for f in steps[0].files.all()] == [
        ("config/settings.py", "cache")]
    assert [(c.text, c.done) for c in plan.success_criteria.all()] == [
        ("p95 < 200ms", False), ("No errors", True)]
    assert PlanEditor.objects.filter(plan=plan, user=author).exists()
    assert AuditEntry.objects.filter(action="plan.created", plan=plan).exists()

    detail = author_client.get(plan.get_absolute_url()).content.decode()
    assert "3.5 h" in detail  # total of 3 + 0.5 hours
    assert 'class="risk-high" data-highest-risk>High' in detail


def test_edit_form_shows_saved_content_and_saves_changes(author_client, author):
    plan = PlanFactory(author=author, title="Old title")
    step = PlanStepFactory(plan=plan, title="Only step", estimate="1 day", estimated_hours=8)
    StepActionFactory(step=step, text="Do it", done=True)
    StepFileFactory(step=step, path="a.py", description="edit")
    page = author_client.get(reverse("plans:edit", args=[plan.pk])).content.decode()
    assert 'value="Old title"' in page
    assert "- [x] Do it" in page and "a.py - edit" in page

    data = editor_data([{"id": str(step.pk), "title": "Renamed step", "estimate": "4 hours",
                         "actions": "- [ ] New task", "risk": "low"}],
                       title="New title", loaded_at=plan.updated_at.isoformat())
    response = author_client.post(reverse("plans:edit", args=[plan.pk]), data)
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.title == "New title"
    kept = plan.steps.get()
    assert kept.pk == step.pk  # the step keeps its id: concerns and comments point at it
    assert kept.title == "Renamed step" and kept.estimated_hours == Decimal("4.00")
    assert [a.text for a in kept.actions.all()] == ["New task"]
    assert not kept.files.exists()
    entry = AuditEntry.objects.get(action="plan.edited", plan=plan)
    assert entry.actor == author


def test_validation_error_keeps_typed_text_and_shows_message_next_to_field(author_client):
    data = editor_data(
        [{"title": "Typed step title", "objective": "Typed objective",
          "estimate": "1000000 hours"},
         {"title": "", "objective": "Second objective"}],
        title="", problem_statement="My typed problem")
    response = author_client.post(reverse("plans:create"), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert not Plan.objects.exists()
    assert "My typed problem" in page and "Typed step title" in page
    assert "Typed objective" in page and "Second objective" in page
    assert 'value="1000000 hours"' in page
    # Each message sits in the field's own wrapper, right after its input.
    title_block = page.split('id="field-title"', 1)[1].split("</div>", 1)[0]
    assert "Give the plan a title." in title_block
    estimate_block = page.split('id="field-steps-0-estimate"', 1)[1].split("</div>", 1)[0]
    assert "under 100,000 hours" in estimate_block.lower()
    step_title_block = page.split('id="field-steps-1-title"', 1)[1].split("</div>", 1)[0]
    assert "Every step needs a title." in step_title_block


def test_htmx_add_step_returns_rows_with_typed_text_and_a_new_empty_row(author_client):
    data = editor_data([{"title": "First", "objective": "typed"}], op="add")
    response = author_client.post(reverse("plans:editor_steps"), data, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="steps"')
    assert 'name="steps-TOTAL_FORMS" value="2"' in page
    assert 'name="steps-0-title" value="First"' in page and "typed" in page
    assert 'name="steps-1-title"' in page
    assert 'hx-swap-oob="true"' in page  # totals refreshed alongside
    assert not Plan.objects.exists()


def test_htmx_move_and_remove_steps(author_client):
    rows = [{"title": "A", "estimate": "1 hour"}, {"title": "B", "estimate": "2 hours"},
            {"title": "C", "estimate": "4 hours", "risk": "high"}]
    url = reverse("plans:editor_steps")
    page = author_client.post(url, editor_data(rows, op="up-2")).content.decode()
    assert page.index('value="A"') < page.index('value="C"') < page.index('value="B"')
    assert 'name="steps-1-title" value="C"' in page

    page = author_client.post(url, editor_data(rows, op="down-0")).content.decode()
    assert 'name="steps-0-title" value="B"' in page and 'name="steps-1-title" value="A"' in page

    page = author_client.post(url, editor_data(rows, op="remove-1")).content.decode()
    assert 'name="steps-TOTAL_FORMS" value="2"' in page
    assert 'value="B"' not in page
    assert "5 h" in page  # totals of the remaining rows: 1 + 4 hours
    assert 'data-highest-risk>High' in page


def test_step_buttons_work_without_javascript(author_client):
    rows = [{"title": "A"}, {"title": "B"}]
    response = author_client.post(reverse("plans:create"), editor_data(rows, op="up-1"))
    page = response.content.decode()
    assert response.status_code == 200 and not Plan.objects.exists()
    assert 'name="steps-0-title" value="B"' in page and 'name="steps-1-title" value="A"' in page
    assert 'value="Faster logins"' in page  # the rest of the form comes back as typed


def test_saving_reordered_steps_keeps_ids_and_new_order(author_client, author):
    plan = PlanFactory(author=author)
    first = PlanStepFactory(plan=plan, title="First", position=0)
    second = PlanStepFactory(plan=plan, title="Second", position=1)
    data = editor_data([{"id": str(second.pk), "title": "Second"},
                        {"id": str(first.pk), "title": "First"}])
    assert author_client.post(reverse("plans:edit", args=[plan.pk]), data).status_code == 302
    assert list(PlanStep.objects.filter(plan=plan).values_list("pk", "position")) == [
        (second.pk, 0), (first.pk, 1)]


def test_totals_endpoint_reports_hours_risk_and_bad_estimates(author_client):
    rows = [{"title": "A", "estimate": "1 day", "risk": "low"},
            {"title": "B", "estimate": "soon", "risk": "medium"}]
    page = author_client.post(reverse("plans:editor_totals"), editor_data(rows)).content.decode()
    assert "8 h" in page and "data-highest-risk>Medium" in page
    assert "Estimate not understood in step 2" in page


def test_non_author_gets_403_with_message_and_nothing_changes(client):
    plan = PlanFactory(title="Alice's plan")
    client.force_login(AuthorFactory(username="mallory"))
    url = reverse("plans:edit", args=[plan.pk])
    response = client.post(url, editor_data([], title="Hijacked"))
    assert response.status_code == 403
    assert "Only the plan's author or an admin can edit this plan." in unescape(
        response.content.decode())
    assert client.get(url).status_code == 403
    plan.refresh_from_db()
    assert plan.title == "Alice's plan"
    detail = client.get(plan.get_absolute_url()).content.decode()
    assert reverse("plans:edit", args=[plan.pk]) not in detail


def test_admin_may_edit_someone_elses_draft(client, admin_user):
    plan = PlanFactory(title="Draft")
    client.force_login(admin_user)
    response = client.post(reverse("plans:edit", args=[plan.pk]), editor_data([], title="Fixed"))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.title == "Fixed"


def test_plan_under_review_cannot_be_edited_and_says_why(author_client, author):
    plan = ready_plan(author=author)
    services.plan_submit(actor=author, plan=plan)
    url = reverse("plans:edit", args=[plan.pk])
    response = author_client.get(url)
    assert response.status_code == 403
    assert "This plan is waiting for review;" in response.content.decode()
    response = author_client.post(url, editor_data([], title="Sneaky"))
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.title != "Sneaky" and plan.status == PlanStatus.PENDING_REVIEW
    detail = author_client.get(plan.get_absolute_url()).content.decode()
    assert url not in detail and "data-edit-refusal" in detail and "waiting for review" in detail


def test_stale_form_save_is_refused_with_409_and_keeps_text(author_client, author):
    plan = PlanFactory(author=author, title="v1")
    loaded_at = plan.updated_at.isoformat()
    services.plan_update(actor=author, plan=plan, fields={"title": "v2 from another tab"})
    response = author_client.post(reverse("plans:edit", args=[plan.pk]),
                                  editor_data([], title="v3 typed", loaded_at=loaded_at))
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone saved this plan after you opened it" in page and 'value="v3 typed"' in page
    plan.refresh_from_db()
    assert plan.title == "v2 from another tab"


def test_plan_update_service_refuses_non_author_and_bad_step(author):
    from core.errors import NotAllowed, ValidationError

    plan = PlanFactory(author=author, title="Kept")
    with pytest.raises(NotAllowed):
        services.plan_update(actor=AuthorFactory(username="eve"), plan=plan,
                             fields={"title": "x"})
    with pytest.raises(ValidationError, match="Step 1"):
        services.plan_update(actor=author, plan=plan, fields={"title": "Changed"},
                             steps=[{"title": "S", "risk": "catastrophic"}])
    plan.refresh_from_db()
    assert plan.title == "Kept" and not plan.steps.exists()  # nothing half-saved


def test_an_estimate_that_is_not_a_time_is_kept_as_written_and_unknown_in_totals(
    author_client, author
):
    """Estimates are never refused (unless too large to store): "TBD" is saved as written and
    the totals count it as unknown."""
    plan = PlanFactory(author=author, title="Kept")
    data = editor_data([{"title": "Spike", "objective": "Find out", "estimate": "TBD",
                         "risk": "low"}, {"title": "Build", "estimate": "~2 hours"}])
    response = author_client.post(reverse("plans:edit", args=[plan.pk]), data)
    assert response.status_code == 302
    steps = list(plan.steps.all())
    assert [(s.estimate, s.estimated_hours) for s in steps] == [("TBD", None),
                                                                ("~2 hours", Decimal("2.00"))]
    totals = author_client.post(reverse("plans:editor_totals"), data).content.decode()
    assert "Estimate not understood in step 1" in totals
