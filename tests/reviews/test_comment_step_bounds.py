"""A step number no plan has (a huge one, past the plan's steps) is refused with a reason, on a
draft as on a submitted plan, through the form and the service alike: never a 500."""

import pytest
from django.contrib.messages import get_messages

from core.errors import ValidationError
from reviews import forms, services
from reviews.models import Comment, Concern
from tests.factories import ready_plan
from tests.reviewkit import two_step_plan

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # past a 64-bit int


def posted(client, user, url, data):
    client.force_login(user)
    response = client.post(url, data)
    assert response.status_code == 302, response.status_code
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("step", [HUGE, str(2**63), str(10**6 + 1)])
def test_a_huge_step_number_on_a_draft_is_refused_not_a_500(client, author, step):
    draft = ready_plan(author=author)
    said = posted(client, author, f"/reviews/plan/{draft.pk}/comments/",
                  {"body": "hi", "step": step})
    assert said and "Ensure this value is less than or equal to" in said[0]
    assert not Comment.objects.exists()


def test_a_huge_step_number_on_a_submitted_plan_is_refused_not_a_500(client, author):
    plan = two_step_plan(author)
    said = posted(client, author, f"/reviews/plan/{plan.pk}/comments/",
                  {"body": "hi", "step": HUGE})
    assert said and "less than or equal to" in said[0]
    assert not Comment.objects.exists()


def test_a_step_past_a_drafts_steps_is_refused_as_on_a_revision(client, author):
    draft = ready_plan(author=author)  # one step
    said = posted(client, author, f"/reviews/plan/{draft.pk}/comments/",
                  {"body": "hi", "step": "5000"})
    assert said == ["This plan has no step 5000."]
    assert not Comment.objects.exists()


@pytest.mark.parametrize("number", [2, 10**6, 2**63, 10**20])
def test_the_service_refuses_a_step_a_draft_does_not_have(author, number):
    draft = ready_plan(author=author)
    with pytest.raises(ValidationError, match=f"This plan has no step {number}"):
        services.comment_post(actor=author, plan=draft, body="x", step_number=number)
    assert not Comment.objects.exists()
    on_step = services.comment_post(actor=author, plan=draft, body="x", step_number=1)
    assert on_step.step == draft.steps.get()


def test_the_service_refuses_a_huge_step_on_a_revision(author):
    plan = two_step_plan(author)
    with pytest.raises(ValidationError, match=f"Revision 1 has no step {10**20}"):
        services.comment_post(actor=author, plan=plan, body="x", step_number=10**20)


@pytest.mark.parametrize("number", [-1, 0, 2, 10**20])
def test_nth_step_is_none_past_the_plans_steps(author, number):
    draft = ready_plan(author=author)
    assert services._nth_step(draft, number) is None
    assert services._nth_step(draft, 1) == draft.steps.get()


def test_a_concern_on_a_huge_step_id_is_refused_not_a_500(client, author, reviewer):
    plan = two_step_plan(author)
    posted(client, reviewer, f"/reviews/plan/{plan.pk}/concerns/",
           {"title": "Risky", "step": HUGE})
    assert not Concern.objects.exists()
    assert not forms.ConcernForm({"title": "Risky", "step": HUGE}).is_valid()
    assert not forms.ConcernForm({"title": "Risky", "step": "0"}).is_valid()
    step = plan.steps.order_by("position").first()
    assert forms.ConcernForm({"title": "Risky", "step": str(step.pk)}).is_valid()
