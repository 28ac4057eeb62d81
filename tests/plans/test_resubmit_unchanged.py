"""Resubmitting the very text that was sent back is allowed, but the author is told: reviewers
see nothing new, so say why in a comment. The API answers ``"unchanged": true``."""

import pytest
from django.contrib.messages import get_messages

from plans.models import PlanStatus
from tests.api.conftest import token_client
from tests.reviewkit import decide, revise, submitted_plan

pytestmark = pytest.mark.django_db

UNCHANGED = ("Resubmitted unchanged: reviewers see the same text as revision 1, which was sent "
             "back. Say why in a comment.")


def sent_back(author, reviewer):
    plan = submitted_plan(author)
    decide(plan, reviewer, "NEEDS_REVISION", "More detail")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.NEEDS_REVISION
    return plan


def _submit_on_the_web(client, plan) -> list[str]:
    response = client.post(f"/reviews/plan/{plan.pk}/submit/")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW  # never refused
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_resubmitting_the_sent_back_text_says_it_is_unchanged(author_client, author, reviewer):
    plan = sent_back(author, reviewer)
    assert _submit_on_the_web(author_client, plan) == [UNCHANGED]
    assert plan.revisions.count() == 2


def test_a_revised_resubmission_says_the_usual(author_client, author, reviewer):
    plan = revise(sent_back(author, reviewer), author, "More detail on the problem.")
    assert _submit_on_the_web(author_client, plan) == ["Submitted for review as revision 2."]


def test_the_api_answers_unchanged(author, reviewer):
    api = token_client(author)
    plan = sent_back(author, reviewer)
    response = api.post(f"/api/v1/plans/{plan.pk}/submit")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["unchanged"]) == ("PENDING_REVIEW", True)
    other = revise(sent_back(author, reviewer), author, "More detail on the problem.")
    assert api.post(f"/api/v1/plans/{other.pk}/submit").json()["unchanged"] is False
