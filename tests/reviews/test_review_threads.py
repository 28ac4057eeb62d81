"""Deciding through the browser form on a threaded server (gunicorn gthread, runserver).

django-fsm's refresh_from_db() lifts the protected status field's flag on the field itself
(shared by every thread) while it refreshes, and puts it back afterwards. When another thread
puts it back first, the refresh fails with "Direct status modification is not allowed": the
decision was saved, but the reviewer got a 500 (bench/faults.py found it under 20 clients). The
test plays the other thread: the flag stays on while the view reads the plan's new status."""

import pytest
from django_fsm import FSMModelMixin

from plans.models import Plan, PlanStatus
from reviews import services
from tests.reviewkit import answer_all, submitted_plan

pytestmark = pytest.mark.django_db


def test_a_decision_is_answered_even_while_another_thread_protects_the_status(
    client, author, reviewer, monkeypatch
):
    plan = submitted_plan(author, title="Threads")
    review = services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    monkeypatch.setattr(FSMModelMixin, "_get_protected_fsm_fields", lambda self: set())
    client.force_login(reviewer)
    response = client.post(f"/reviews/{review.pk}/decide/",
                           {"decision": "APPROVED", "comment": "", "revision": 1})
    assert response.status_code == 302
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.APPROVED
    page = client.get(response["Location"])
    assert "Decision recorded" in page.content.decode()


def test_submitting_from_a_second_tab_is_a_conflict_not_a_refusal(client, author):
    """The author's plan was submitted a moment ago (another tab, a double click): the form's
    second submit says the plan is already waiting (409), not "Only the author can submit this
    plan." (403). Found by bench/faults.py, two clients of one author."""
    plan = submitted_plan(author, title="Twice")
    client.force_login(author)
    response = client.post(f"/reviews/plan/{plan.pk}/submit/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "is waiting for review" in response.content.decode()
    assert Plan.objects.get(pk=plan.pk).revisions.count() == 1
