"""The editor with a draft in progress: a completely blank step row does not block saving, a
plan without steps saves as a draft but cannot be submitted, and the page carries the
unsaved-changes warning (static/js/editor.js, no inline code)."""

import pytest
from django.urls import reverse

from core.errors import ValidationError
from plans.models import Plan
from plans.services import plan_submit
from tests.plans.test_plan_editor import editor_data

pytestmark = pytest.mark.django_db


def test_the_blank_default_step_does_not_block_saving(author_client):
    page = author_client.get(reverse("plans:create")).content.decode()
    assert 'name="steps-0-title"' in page  # a new plan starts with one blank step row
    response = author_client.post(reverse("plans:create"), editor_data([{}], title="Idea"))
    assert response.status_code == 302
    plan = Plan.objects.get()
    assert plan.title == "Idea" and plan.steps.count() == 0


def test_blank_rows_are_left_out_and_filled_ones_kept_in_order(author_client):
    steps = [{}, {"title": "Real step", "estimate": "1 hour"}, {}]
    response = author_client.post(reverse("plans:create"), editor_data(steps))
    assert response.status_code == 302
    assert list(Plan.objects.get().steps.values_list("title", "position")) == [("Real step", 0)]


def test_a_row_with_anything_typed_still_needs_a_title(author_client):
    response = author_client.post(reverse("plans:create"),
                                  editor_data([{"objective": "Half-written"}]))
    assert response.status_code == 200
    assert "Every step needs a title." in response.content.decode()
    assert not Plan.objects.exists()


def test_clearing_an_existing_step_row_does_not_silently_delete_it(author_client, author):
    author_client.post(reverse("plans:create"), editor_data([{"title": "Keep me"}]))
    plan = Plan.objects.get()
    step = plan.steps.get()
    data = editor_data([{"id": str(step.pk)}], loaded_at=plan.updated_at.isoformat())
    response = author_client.post(reverse("plans:edit", args=[plan.pk]), data)
    assert response.status_code == 200
    assert "Every step needs a title." in response.content.decode()
    assert plan.steps.get().title == "Keep me"


def test_a_plan_without_steps_saves_but_is_not_submitted(author_client, author):
    author_client.post(reverse("plans:create"), editor_data([{}], title="No steps yet"))
    plan = Plan.objects.get()
    assert "At least one implementation step" in plan.missing_for_submission()
    with pytest.raises(ValidationError, match="At least one implementation step"):
        plan_submit(actor=author, plan=plan)


def test_the_editor_loads_the_unsaved_changes_warning(author_client):
    page = author_client.get(reverse("plans:create")).content.decode()
    assert 'src="/static/js/editor.js"' in page
    assert "data-unsaved-warning" in page and 'data-unsaved="true"' not in page
    assert "onbeforeunload" not in page


def test_a_form_coming_back_with_errors_is_marked_unsaved(author_client):
    response = author_client.post(reverse("plans:create"), editor_data([], title=""))
    assert 'data-unsaved="true"' in response.content.decode()
