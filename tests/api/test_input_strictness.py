"""What a client sees for input that is the wrong type, missing, or names something that does not
exist: a 400 (or the state's 409) whose message says what is wrong and what is expected, and
nothing saved."""

import pytest
from django.contrib.auth.models import Group

from plans.models import Plan
from reviews.models import Comment, Review
from tests.factories import ready_plan
from tests.implementation.kit import approved_plan
from tests.reviewkit import submitted_plan

from .test_plans_api import _problem

pytestmark = pytest.mark.django_db


# --- free text is a JSON string -------------------------------------------------------------------
@pytest.mark.parametrize("body", [{"markdown": 123}, {"markdown": 1.5}, {"markdown": True}])
def test_markdown_that_is_not_a_string_is_refused(api_author, body):
    problem = _problem(api_author.post("/api/v1/plans", body, format="json"), 400)
    assert problem["errors"] == {"markdown": ["Must be a string of Markdown."]}
    assert problem["detail"] == "markdown: Must be a string of Markdown."
    assert not Plan.objects.exists()


def test_revise_with_markdown_that_is_not_a_string_is_refused(api_author, author):
    plan = ready_plan(author=author)
    problem = _problem(api_author.post(f"/api/v1/plans/{plan.pk}/revise", {"markdown": 7},
                                       format="json"), 400)
    assert problem["errors"] == {"markdown": ["Must be a string of Markdown."]}


@pytest.mark.parametrize(("body", "field"), [
    ({"title": 42}, "title"),
    ({"title": "Cache", "sections": {"problem_statement": 3}}, "sections.problem_statement"),
    ({"title": "Cache", "steps": [{"title": 1}]}, "steps.0.title"),
])
def test_plan_fields_that_are_not_strings_are_refused(api_author, body, field):
    problem = _problem(api_author.post("/api/v1/plans", body, format="json"), 400)
    assert problem["errors"] == {field: ["Must be a string."]}
    assert not Plan.objects.exists()


def test_a_comment_or_decision_that_is_not_a_string_is_refused(api_reviewer, author):
    plan = submitted_plan(author)
    problem = _problem(api_reviewer.post(f"/api/v1/plans/{plan.pk}/comments", {"body": 12},
                                         format="json"), 400)
    assert problem["errors"] == {"body": ["Must be a string."]}
    assert not Comment.objects.exists()
    review = api_reviewer.post(f"/api/v1/plans/{plan.pk}/reviews").json()
    problem = _problem(api_reviewer.post(f"/api/v1/reviews/{review['id']}/decision",
                                         {"decision": "REJECTED", "comment": 0},
                                         format="json"), 400)
    assert problem["errors"] == {"comment": ["Must be a string."]}
    assert Review.objects.get(pk=review["id"]).decision == ""


# --- a plan needs its text ------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    {}, {"markdown": ""}, {"markdown": " \n\t\n"}, {"created_on": None}, {"title": "  "},
    {"sections": {"problem_statement": ""}, "steps": [], "success_criteria": []},
])
def test_a_plan_without_markdown_is_refused(api_author, body):
    problem = _problem(api_author.post("/api/v1/plans", body, format="json"), 400)
    assert list(problem["errors"]) == ["markdown"]
    assert problem["detail"].startswith("markdown: Markdown is required")
    assert not Plan.objects.exists()


@pytest.mark.parametrize("body", [{"created_on": "2025-01-02"},
                                  {"title": " ", "sections": {"problem_statement": "Slow."}}])
def test_a_plan_made_of_fields_needs_a_title(api_author, body):
    problem = _problem(api_author.post("/api/v1/plans", body, format="json"), 400)
    assert problem["errors"] == {"title": ["Give the plan a title (or send the plan as "
                                           "Markdown)."]}
    assert not Plan.objects.exists()


def test_revise_with_whitespace_only_markdown_is_refused(api_author, author):
    plan = ready_plan(author=author)
    problem = _problem(api_author.post(f"/api/v1/plans/{plan.pk}/revise",
                                       {"markdown": "\n  \n"}, format="json"), 400)
    assert problem["detail"] == "markdown: Markdown is required: the plan's text is empty."


def test_a_plan_from_fields_alone_is_still_created(api_author):
    response = api_author.post("/api/v1/plans", {"title": "Bare"}, format="json")
    assert response.status_code == 201, response.json()


# --- a comment's section is one the revision has --------------------------------------------------
def test_a_comment_on_a_section_the_revision_lacks_is_refused_with_its_sections(api_reviewer,
                                                                                author):
    plan = submitted_plan(author)
    response = api_reviewer.post(f"/api/v1/plans/{plan.pk}/comments",
                                 {"body": "Hm.", "section": "Nonexistent section"}, format="json")
    problem = _problem(response, 400)
    # The service's refusal (reviews/services.py _section_title), keyed on the field; its
    # detail is the message alone, as for every domain error.
    assert problem["errors"] == {"section": [problem["detail"]]}
    assert problem["detail"].startswith(
        "Revision 1 has no section “Nonexistent section”; its sections: ")
    assert "Problem Statement" in problem["detail"]
    assert not Comment.objects.exists()


def test_a_comment_on_a_section_it_has_is_anchored_there_whatever_the_case(api_reviewer, author):
    plan = submitted_plan(author)
    response = api_reviewer.post(f"/api/v1/plans/{plan.pk}/comments",
                                 {"body": "Hm.", "section": "problem statement"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["section"] == "Problem Statement"
    assert response.json()["lines"] is not None


def test_a_section_on_a_draft_without_revisions_is_a_label_on_the_whole_plan(api_author,
                                                                            author):
    """As through the browser and the service (tests/reviews/test_section_anchors.py): a draft
    never submitted has no lines to anchor on yet, but its sections as they stand."""
    plan = ready_plan(author=author)
    response = api_author.post(f"/api/v1/plans/{plan.pk}/comments",
                               {"body": "Hm.", "section": "problem statement"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["section"] == "Problem Statement"
    assert response.json()["lines"] is None
    problem = _problem(api_author.post(f"/api/v1/plans/{plan.pk}/comments",
                                       {"body": "Hm.", "section": "Nonexistent"},
                                       format="json"), 400)
    assert problem["errors"] == {"section": [problem["detail"]]}
    assert problem["detail"].startswith("This draft has no section “Nonexistent”; its sections: ")
    assert Comment.objects.count() == 1


# --- messages that say what is expected -----------------------------------------------------------
@pytest.mark.parametrize("action", ["answers", "decision"])
def test_a_revision_that_never_existed_is_named_as_such(api_reviewer, author, action):
    plan = submitted_plan(author)
    review = api_reviewer.post(f"/api/v1/plans/{plan.pk}/reviews").json()
    body = {"decision": "REJECTED", "revision": 5} if action == "decision" else {
        "item": review["checklist"][0]["item"], "answer": "yes", "revision": 5}
    problem = _problem(api_reviewer.post(f"/api/v1/reviews/{review['id']}/{action}", body,
                                         format="json"), 409)
    assert problem["detail"] == f"Plan {plan.pk} has no revision 5 (its latest is 1)."
    assert Review.objects.get(pk=review["id"]).decision == ""


def test_a_bad_commit_says_what_a_commit_is(api_author, author, reviewer):
    plan = approved_plan(author, reviewer)
    problem = _problem(api_author.post(f"/api/v1/plans/{plan.pk}/progress",
                                       {"step": 1, "commit": "not a sha; rm -rf"},
                                       format="json"), 400)
    assert problem["errors"] == {"commit": [
        "A commit is a 7 to 40 character hexadecimal git SHA (e.g. 3f9c2ab)."]}


def test_a_bad_choice_lists_the_valid_ones(api_author, api_reviewer, author, reviewer):
    plan = approved_plan(author, reviewer)
    problem = _problem(api_reviewer.post(f"/api/v1/plans/{plan.pk}/verification",
                                         {"outcome": "verified"}, format="json"), 400)
    assert problem["errors"] == {"outcome": [
        '"verified" is not a valid choice: choose VERIFIED or SENT_BACK.']}
    review = api_reviewer.post(f"/api/v1/plans/{submitted_plan(author).pk}/reviews").json()
    problem = _problem(api_reviewer.post(f"/api/v1/reviews/{review['id']}/answers",
                                         {"item": review["checklist"][0]["item"],
                                          "answer": "maybe"}, format="json"), 400)
    assert problem["detail"] == 'answer: "maybe" is not a valid choice: choose yes, no or na.'
    problem = _problem(api_author.post("/api/v1/plans", {
        "title": "x", "steps": [{"title": "s", "risk": "huge"}]}, format="json"), 400)
    assert problem["errors"]["steps.0.risk"] == [
        '"huge" is not a valid choice: choose low, medium or high.']


def test_request_reviewers_with_a_bad_group_shows_only_that_error(client, author):
    plan = submitted_plan(author)
    empty = Group.objects.create(name="Marketing")  # no reviewer in it: no choice
    client.force_login(author)
    response = client.post(f"/reviews/plan/{plan.pk}/request/", {"group": empty.pk},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Pick a group with at least one reviewer in it." in page
    assert "Name a reviewer or pick a group." not in page
    response = client.post(f"/reviews/plan/{plan.pk}/request/", {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Name a reviewer or pick a group." in response.content.decode()
