"""The reviewer side through the API: start a review, answer the checklist, decide; comments
anchored to a step; concerns raised and resolved; feedback; each role's authorisation."""

import re

import pytest

from plans.models import PlanStatus
from reviews.models import Comment, Concern, Review
from tests.factories import ready_plan
from tests.reviewkit import items_of, submitted_plan

from .test_plans_api import _problem

pytestmark = pytest.mark.django_db


def _start(client, plan):
    response = client.post(f"/api/v1/plans/{plan.pk}/reviews")
    assert response.status_code == 201, response.json()
    return response.json()


def _answer_all(client, review, answer="yes"):
    for item in review["checklist"]:
        response = client.post(f"/api/v1/reviews/{review['id']}/answers",
                               {"item": item["item"], "answer": answer}, format="json")
        assert response.status_code == 200, response.json()
    return response.json()


def test_a_reviewer_approves_through_the_api(api_reviewer, api_author, author):
    plan = submitted_plan(author)
    review = _start(api_reviewer, plan)
    assert review["revision"] == 1 and review["reviewer"] == "rob" and review["answers"] == []
    assert review["checklist"] and {"item", "text", "group"} <= set(review["checklist"][0])
    assert _start(api_reviewer, plan)["id"] == review["id"]  # start again: the same review
    answered = _answer_all(api_reviewer, review)
    assert len(answered["answers"]) == len(review["checklist"])
    response = api_reviewer.post(f"/api/v1/reviews/{review['id']}/decision",
                                 {"decision": "APPROVED", "comment": "Good.", "revision": 1},
                                 format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["decision"] == "APPROVED"
    assert api_author.get(f"/api/v1/plans/{plan.pk}").json()["status"] == PlanStatus.APPROVED


def test_approval_with_a_no_answer_is_refused(api_reviewer, author):
    plan = submitted_plan(author)
    review = _answer_all(api_reviewer, _start(api_reviewer, plan), answer="no")
    response = api_reviewer.post(f"/api/v1/reviews/{review['id']}/decision",
                                 {"decision": "APPROVED"}, format="json")
    _problem(response, 400)


def test_decision_on_a_stale_revision_is_a_409(api_reviewer, author):
    plan = submitted_plan(author)
    review = _start(api_reviewer, plan)
    response = api_reviewer.post(f"/api/v1/reviews/{review['id']}/decision",
                                 {"decision": "REJECTED", "comment": "No.", "revision": 7},
                                 format="json")
    _problem(response, 409)
    assert Review.objects.get(pk=review["id"]).decision == ""


def test_the_author_cannot_review_their_own_plan(api_author, author):
    plan = submitted_plan(author)
    _problem(api_author.post(f"/api/v1/plans/{plan.pk}/reviews"), 403)


def test_someone_else_cannot_answer_or_decide_my_review(api_reviewer, api_reviewer2, author):
    plan = submitted_plan(author)
    review = _start(api_reviewer, plan)
    item = review["checklist"][0]["item"]
    _problem(api_reviewer2.post(f"/api/v1/reviews/{review['id']}/answers",
                                {"item": item, "answer": "yes"}, format="json"), 403)
    _problem(api_reviewer2.post(f"/api/v1/reviews/{review['id']}/decision",
                                {"decision": "REJECTED", "comment": "No."}, format="json"), 403)


def test_reviewing_a_draft_is_a_409(api_reviewer, author):
    _problem(api_reviewer.post(f"/api/v1/plans/{ready_plan(author=author).pk}/reviews"), 409)


def test_bad_answer_is_a_400_with_the_field(api_reviewer, author):
    review = _start(api_reviewer, submitted_plan(author))
    response = api_reviewer.post(f"/api/v1/reviews/{review['id']}/answers",
                                 {"item": review["checklist"][0]["item"], "answer": "maybe"},
                                 format="json")
    assert set(_problem(response, 400)["errors"]) == {"answer"}


def test_needs_revision_with_a_comment_on_step_2_shows_in_the_feedback(
        api_reviewer, api_author, author, plan_markdown):
    created = api_author.post("/api/v1/plans", {"markdown": plan_markdown}, format="json").json()
    api_author.post(f"/api/v1/plans/{created['id']}/submit")
    step2 = created["steps"][1]
    response = api_reviewer.post(f"/api/v1/plans/{created['id']}/comments",
                                 {"body": "Which status code?", "step": step2["id"]},
                                 format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["step"] == {"id": step2["id"], "number": 2,
                                       "title": "Block abusive clients"}
    api_reviewer.post(f"/api/v1/plans/{created['id']}/comments",
                      {"body": "Name the problem.", "section": "Problem Statement"},
                      format="json")
    review = _answer_all(api_reviewer, _start(api_reviewer, type("P", (), {"pk": created["id"]})))
    api_reviewer.post(f"/api/v1/reviews/{review['id']}/answers",
                      {"item": review["checklist"][0]["item"], "answer": "no",
                       "note": "Tests are vague."}, format="json")
    api_reviewer.post(f"/api/v1/reviews/{review['id']}/decision",
                      {"decision": "NEEDS_REVISION", "comment": "See step 2."}, format="json")
    feedback = api_author.get(f"/api/v1/plans/{created['id']}/feedback").json()
    assert feedback["status"] == PlanStatus.NEEDS_REVISION and feedback["revision"] == 1
    assert feedback["decisions"][0]["decision"] == "NEEDS_REVISION"
    assert feedback["decisions"][0]["comment"] == "See step 2."
    assert feedback["checklist_no"][0]["note"] == "Tests are vague."
    markdown = feedback["markdown"]
    # Each thread with its lines on the current revision and its state (tests/api/
    # test_conversation_api.py has threads, replies, resolved and outdated ones).
    assert re.search(r"### Step 2: Block abusive clients\n\n- rob \(lines \d+–\d+, open\):\n"
                     r"  > Which status code\?", markdown), markdown
    assert re.search(r"### Problem Statement\n\n- rob \(lines \d+–\d+, open\):\n"
                     r"  > Name the problem\.", markdown), markdown
    assert "Tests are vague." in markdown and "See step 2." in markdown


def test_comment_on_a_step_of_another_plan_is_a_400(api_reviewer, author):
    plan, other = submitted_plan(author), ready_plan(author=author)
    response = api_reviewer.post(f"/api/v1/plans/{plan.pk}/comments",
                                 {"body": "x", "step": other.steps.get().pk}, format="json")
    assert "not part of this plan" in _problem(response, 400)["detail"]
    assert not Comment.objects.exists()


def test_reply_to_an_unknown_comment_is_a_404(api_reviewer, author):
    plan = submitted_plan(author)
    _problem(api_reviewer.post(f"/api/v1/plans/{plan.pk}/comments",
                               {"body": "x", "parent": 999999}, format="json"), 404)


def test_concern_blocks_then_resolving_it_approves(api_reviewer, api_author, author, reviewer):
    plan = submitted_plan(author)
    step = plan.steps.get()
    response = api_reviewer.post(f"/api/v1/plans/{plan.pk}/concerns",
                                 {"title": "No rollback test", "step": step.pk}, format="json")
    assert response.status_code == 201, response.json()
    concern = response.json()
    assert concern["resolved"] is False and concern["step"]["number"] == 1
    review = _answer_all(api_reviewer, _start(api_reviewer, plan))
    api_reviewer.post(f"/api/v1/reviews/{review['id']}/decision", {"decision": "APPROVED"},
                      format="json")
    assert api_author.get(f"/api/v1/plans/{plan.pk}").json()["status"] == "PENDING_REVIEW"
    assert [c["title"] for c in api_author.get(f"/api/v1/plans/{plan.pk}/concerns").json()] \
        == ["No rollback test"]
    _problem(api_author.post(f"/api/v1/concerns/{concern['id']}/resolve"), 403)
    response = api_reviewer.post(f"/api/v1/concerns/{concern['id']}/resolve")
    assert response.status_code == 200 and response.json()["resolved"] is True
    assert api_author.get(f"/api/v1/plans/{plan.pk}").json()["status"] == "APPROVED"
    _problem(api_reviewer.post(f"/api/v1/concerns/{concern['id']}/resolve"), 409)


def test_an_author_cannot_raise_a_concern_but_an_admin_can(api_author, api_admin, author):
    plan = submitted_plan(author)
    _problem(api_author.post(f"/api/v1/plans/{plan.pk}/concerns", {"title": "x"},
                             format="json"), 403)
    assert api_admin.post(f"/api/v1/plans/{plan.pk}/concerns", {"title": "Admin's"},
                          format="json").status_code == 201
    assert Concern.objects.get().title == "Admin's"


def test_reads_of_reviews_and_comments(api_reviewer, api_author, author):
    plan = submitted_plan(author)
    review = _start(api_reviewer, plan)
    assert [r["id"] for r in api_author.get(f"/api/v1/plans/{plan.pk}/reviews").json()] \
        == [review["id"]]
    assert api_author.get(f"/api/v1/reviews/{review['id']}").json()["reviewer"] == "rob"
    api_author.post(f"/api/v1/plans/{plan.pk}/comments", {"body": "Thanks"}, format="json")
    comments = api_reviewer.get(f"/api/v1/plans/{plan.pk}/comments").json()
    assert [(c["author"], c["body"], c["step"]) for c in comments] == [("alice", "Thanks", None)]
    _problem(api_author.get("/api/v1/reviews/999999"), 404)
    assert len(items_of(Review.objects.get())) == len(review["checklist"])
