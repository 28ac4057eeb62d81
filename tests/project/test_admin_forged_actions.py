"""A forged admin action post whose selection no row can have (not an id, or an int past the id
column's range) is answered as an empty selection is, on every changelist: never a 500."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from notifications.models import WebhookEndpoint
from plans.models import Plan, PlanStatus
from reviews.models import ChecklistTemplate
from tests.factories import ready_plan

pytestmark = pytest.mark.django_db

EMPTY = "Items must be selected in order to perform actions on them. No items have been changed."
BAD = [["abc"], ["99999999999999999999"], [str(2**63)], [str(-(2**63) - 1)], [""], ["1.5"]]


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("index", [{}, {"index": "0"}], ids=["confirmation", "no-confirmation"])
@pytest.mark.parametrize("selected", BAD)
def test_a_forged_selection_on_the_plan_changelist_is_no_500(admin_client, author, index,
                                                             selected):
    plan = ready_plan(author=author)
    for action in ("submit_plans", "withdraw_plans"):
        response = admin_client.post(changelist(Plan), {
            "action": action, "_selected_action": selected, **index})
        assert response.status_code == 302
        assert EMPTY in said(response)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


@pytest.mark.parametrize("model", [ChecklistTemplate, WebhookEndpoint, get_user_model()],
                         ids=lambda m: m.__name__)
@pytest.mark.parametrize("selected", [["abc"], ["99999999999999999999"],
                                      ["1", "99999999999999999999"]])
def test_a_forged_delete_selected_is_no_500_anywhere(admin_client, model, selected):
    before = model.objects.count()
    response = admin_client.post(changelist(model), {
        "action": "delete_selected", "_selected_action": selected, "post": "yes"})
    assert response.status_code == 302
    assert EMPTY in said(response)
    assert model.objects.count() == before


def test_a_real_selection_still_runs_the_action(admin_client, author):
    plan = ready_plan(author=author)
    response = admin_client.post(changelist(Plan), {
        "action": "submit_plans", "_selected_action": [str(plan.pk)]}, follow=True)
    assert response.status_code == 200
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW
