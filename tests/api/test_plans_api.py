"""Plans through the API: create (Markdown or JSON), read, list, update, revise, submit,
withdraw, export; the error classes and each role's authorisation."""

import pytest

from audit.models import AuditEntry
from plans.models import Plan, PlanStatus
from tests.factories import AuthorFactory, ready_plan
from tests.reviewkit import approve, submitted_plan

from .conftest import markdown_of, token_client

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["type"] == "about:blank" and body["detail"]
    return body


# --- create ---------------------------------------------------------------------------------------
def test_create_from_markdown_makes_a_draft_owned_by_the_token_holder(api_author, author,
                                                                      plan_markdown):
    response = api_author.post("/api/v1/plans", {"markdown": plan_markdown}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == PlanStatus.DRAFT and body["author"] == "alice"
    assert body["title"] == "Rate-limit failed logins"
    assert body["url"] == f"http://testserver/plans/{body['id']}/"
    assert body["revision"] is None and body["approved_sha256"] is None
    assert [s["title"] for s in body["steps"]][:2] == ["Sliding-window counter",
                                                       "Block abusive clients"]
    assert body["steps"][0]["files"] == ["accounts/throttle.py", "accounts/tests/test_throttle.py"]
    assert body["steps"][0]["risk"] == "low" and body["steps"][0]["number"] == 1
    assert Plan.objects.get(pk=body["id"]).author == author
    assert AuditEntry.objects.filter(plan_id=body["id"], action="plan.imported").exists()


def test_create_from_structured_json(api_author):
    response = api_author.post("/api/v1/plans", {
        "title": "Cache sessions",
        "sections": {"problem_statement": "Logins are slow.", "unit_testing": "- counters",
                     "rollback_if_fails": "- flag off"},
        "steps": [{"title": "Add cache", "objective": "Store sessions", "risk": "medium",
                   "estimate": "2 hours", "actions": [{"text": "Write it"}],
                   "files": [{"path": "config/settings.py", "description": "cache"}]}],
        "success_criteria": [{"text": "p95 under 200 ms"}],
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["title"] == "Cache sessions" and body["missing_for_submission"] == []
    assert body["steps"] == [{"id": body["steps"][0]["id"], "number": 1, "title": "Add cache",
                              "risk": "medium", "estimate": "2 hours",
                              "files": ["config/settings.py"]}]
    plan = Plan.objects.get(pk=body["id"])
    assert plan.problem_statement == "Logins are slow."
    assert plan.success_criteria.get().text == "p95 under 200 ms"


def test_structured_create_refuses_an_unknown_section_and_saves_nothing(api_author):
    response = api_author.post("/api/v1/plans", {"title": "x", "sections": {"nope": "y"}},
                               format="json")
    assert "nope" in _problem(response, 400)["detail"]
    assert not Plan.objects.exists()


def test_markdown_and_fields_together_are_refused(api_author, plan_markdown):
    response = api_author.post("/api/v1/plans", {"markdown": plan_markdown, "title": "x"},
                               format="json")
    _problem(response, 400)


def test_markdown_error_is_a_400_with_its_line(api_author, plan_markdown):
    lines = plan_markdown.split("\n")
    lines[6] += "\x00"
    response = api_author.post("/api/v1/plans", {"markdown": "\n".join(lines)}, format="json")
    body = _problem(response, 400)
    assert body["lines"] == [{"line": 7, "message": "the text contains a NUL character; "
                                                    "remove it"}]
    assert body["detail"] == "Line 7: the text contains a NUL character; remove it"
    assert not Plan.objects.exists()


def test_markdown_over_the_importers_limit_is_a_400(api_author):
    response = api_author.post("/api/v1/plans", {"markdown": "x" * 1_000_001}, format="json")
    body = _problem(response, 400)
    assert body["lines"] == [{"line": None, "message": body["detail"]}]
    assert "1 MB" in body["detail"]


def test_field_errors_are_listed(api_author):
    response = api_author.post("/api/v1/plans", {"steps": [{"title": "", "risk": "huge"}]},
                               format="json")
    body = _problem(response, 400)
    assert set(body["errors"]) == {"steps.0.title", "steps.0.risk"}


def test_malformed_json_is_a_400_problem(api_author):
    response = api_author.generic("POST", "/api/v1/plans", "{not json",
                                  content_type="application/json")
    assert "JSON" in _problem(response, 400)["detail"]


def test_form_encoded_body_is_a_415_problem(api_author):
    response = api_author.post("/api/v1/plans", {"markdown": "x"})  # multipart
    _problem(response, 415)


def test_markdown_over_one_megabyte_is_a_400_a_body_over_the_limit_a_413_nothing_saved(
    api_author
):
    big = "x" * (1024 * 1024 + 10)
    response = api_author.post("/api/v1/plans", {"markdown": big}, format="json")
    assert "1 MB" in _problem(response, 400)["detail"]
    response = api_author.post("/api/v1/plans", {"title": big}, format="json")
    assert "1 MB" in _problem(response, 413)["detail"]
    assert not Plan.objects.exists()


def test_body_over_the_limit_without_content_length_is_refused_by_the_parser():
    """A chunked body has no Content-Length to check: the parser stops reading at the limit."""
    from io import BytesIO

    from api.errors import PayloadTooLarge
    from api.media import LimitedJSONParser

    with pytest.raises(PayloadTooLarge):
        LimitedJSONParser().parse(BytesIO(b'"' + b"x" * (1024 * 1024 + 1) + b'"'))
    assert LimitedJSONParser().parse(BytesIO(b'{"a": 1}')) == {"a": 1}


# --- read -----------------------------------------------------------------------------------------
def test_get_plan_shows_state_revision_hash_and_approved_hash(api_author, author, reviewer):
    plan = submitted_plan(author)
    revision = plan.revisions.get()
    body = api_author.get(f"/api/v1/plans/{plan.pk}").json()
    assert body["status"] == PlanStatus.PENDING_REVIEW
    assert body["revision"]["number"] == 1 and body["revision"]["sha256"] == revision.content_hash
    assert body["approved_sha256"] is None
    approve(plan, reviewer)
    body = api_author.get(f"/api/v1/plans/{plan.pk}").json()
    assert body["status"] == PlanStatus.APPROVED
    assert body["approved_sha256"] == revision.content_hash


def test_unknown_plan_is_a_404_problem(api_author):
    _problem(api_author.get("/api/v1/plans/999999"), 404)
    _problem(api_author.post("/api/v1/plans/999999/submit"), 404)


def test_unknown_endpoint_and_wrong_method_are_problems(api_author):
    _problem(api_author.get("/api/v1/nothing-here"), 404)
    _problem(api_author.delete("/api/v1/plans"), 405)


def test_markdown_export(api_author, author):
    plan = ready_plan(author=author, title="Export me")
    response = api_author.get(f"/api/v1/plans/{plan.pk}/markdown", HTTP_ACCEPT="text/markdown")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert response.content.decode().startswith("# Implementation Plan - Export me")
    assert api_author.get(f"/api/v1/plans/{plan.pk}/markdown").status_code == 200


def test_list_filters_by_status_author_and_mine(api_author, author):
    other = AuthorFactory(username="bob")
    mine = ready_plan(author=author, title="Mine")
    submitted = submitted_plan(author, title="Mine, submitted")
    theirs = ready_plan(author=other, title="Theirs")

    def titles(query=""):
        response = api_author.get(f"/api/v1/plans{query}")
        assert response.status_code == 200
        return {p["title"] for p in response.json()["results"]}

    assert titles() == {mine.title, submitted.title, theirs.title}
    assert titles("?mine=true") == {mine.title, submitted.title}
    assert titles("?author=bob") == {theirs.title}
    assert titles("?status=PENDING_REVIEW") == {submitted.title}
    _problem(api_author.get("/api/v1/plans?status=NOPE"), 400)


# --- write ----------------------------------------------------------------------------------------
def test_patch_updates_a_draft(api_author, author):
    plan = ready_plan(author=author, title="Old")
    response = api_author.patch(f"/api/v1/plans/{plan.pk}", {
        "title": "New", "sections": {"problem_statement": "Changed."}}, format="json")
    assert response.status_code == 200, response.json()
    plan.refresh_from_db()
    assert plan.title == "New" and plan.problem_statement == "Changed."
    assert response.json()["title"] == "New"


def test_patch_with_a_stale_updated_at_is_a_409(api_author, author):
    plan = ready_plan(author=author)
    response = api_author.patch(f"/api/v1/plans/{plan.pk}", {
        "title": "x", "expected_updated_at": "2000-01-01T00:00:00Z"}, format="json")
    _problem(response, 409)


def test_revise_replaces_a_sent_back_plan(api_author, author, reviewer):
    from reviews import services

    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                           comment="Say more.")
    text = markdown_of(plan).replace(plan.problem_statement, "Logins take 4 s at peak.")
    response = api_author.post(f"/api/v1/plans/{plan.pk}/revise", {"markdown": text},
                               format="json")
    assert response.status_code == 200, response.json()
    plan.refresh_from_db()
    assert plan.problem_statement == "Logins take 4 s at peak."
    assert plan.status == PlanStatus.NEEDS_REVISION
    response = api_author.post(f"/api/v1/plans/{plan.pk}/submit")
    assert response.status_code == 200
    assert response.json()["status"] == PlanStatus.PENDING_REVIEW
    assert response.json()["revision"]["number"] == 2


def test_revise_or_patch_a_plan_under_review_is_a_409(api_author, author):
    plan = submitted_plan(author)
    body = _problem(api_author.post(f"/api/v1/plans/{plan.pk}/revise",
                                    {"markdown": markdown_of(plan)}, format="json"), 409)
    assert "waiting for review" in body["detail"]
    _problem(api_author.patch(f"/api/v1/plans/{plan.pk}", {"title": "x"}, format="json"), 409)


def test_submit_then_resubmit_under_review_is_a_409(api_author, author):
    plan = ready_plan(author=author)
    response = api_author.post(f"/api/v1/plans/{plan.pk}/submit")
    assert response.status_code == 200
    assert response.json()["revision"]["number"] == 1
    body = _problem(api_author.post(f"/api/v1/plans/{plan.pk}/submit"), 409)
    assert "waiting for review" in body["detail"]
    assert plan.revisions.count() == 1


def test_submitting_an_incomplete_plan_says_what_is_missing(api_author):
    created = api_author.post("/api/v1/plans", {"title": "Bare"}, format="json").json()
    assert "Problem statement" in created["missing_for_submission"]
    body = _problem(api_author.post(f"/api/v1/plans/{created['id']}/submit"), 400)
    assert "Problem statement" in body["detail"]


def test_withdraw(api_author, author):
    plan = submitted_plan(author)
    response = api_author.post(f"/api/v1/plans/{plan.pk}/withdraw")
    assert response.status_code == 200 and response.json()["status"] == PlanStatus.DRAFT
    _problem(api_author.post(f"/api/v1/plans/{plan.pk}/withdraw"), 409)


# --- authorisation --------------------------------------------------------------------------------
def test_anonymous_gets_401_with_a_bearer_challenge(anonymous, author):
    plan = ready_plan(author=author)
    for response in (anonymous.get("/api/v1/plans"), anonymous.get(f"/api/v1/plans/{plan.pk}"),
                     anonymous.post(f"/api/v1/plans/{plan.pk}/submit"),
                     anonymous.post("/api/v1/verify", {"markdown": "x"}, format="json")):
        _problem(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_token_is_a_401(author):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer pgt_not-a-real-token")
    assert "Invalid API token" in _problem(client.get("/api/v1/plans"), 401)["detail"]
    client.credentials(HTTP_AUTHORIZATION="Bearer two parts")
    _problem(client.get("/api/v1/plans"), 401)


def test_another_author_may_read_but_not_write(author):
    plan = ready_plan(author=author)
    other = token_client(AuthorFactory(username="bob"))
    assert other.get(f"/api/v1/plans/{plan.pk}").status_code == 200
    _problem(other.post(f"/api/v1/plans/{plan.pk}/submit"), 403)
    _problem(other.patch(f"/api/v1/plans/{plan.pk}", {"title": "x"}, format="json"), 403)
    _problem(other.post(f"/api/v1/plans/{plan.pk}/revise", {"markdown": markdown_of(plan)},
                        format="json"), 403)
    submitted = submitted_plan(author, title="Under review")
    _problem(other.post(f"/api/v1/plans/{submitted.pk}/withdraw"), 403)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


def test_a_reviewer_cannot_submit_someone_elses_plan(api_reviewer, author):
    plan = ready_plan(author=author)
    _problem(api_reviewer.post(f"/api/v1/plans/{plan.pk}/submit"), 403)


def test_an_admin_may_edit_and_withdraw(api_admin, author):
    plan = ready_plan(author=author, title="Before")
    response = api_admin.patch(f"/api/v1/plans/{plan.pk}", {"title": "After"}, format="json")
    assert response.status_code == 200
    submitted = submitted_plan(author, title="Under review")
    assert api_admin.post(f"/api/v1/plans/{submitted.pk}/withdraw").status_code == 200


def test_an_inactive_users_token_is_refused(author):
    client = token_client(author)
    author.is_active = False
    author.save()
    _problem(client.get("/api/v1/plans"), 401)


def test_session_auth_works_and_writes_need_csrf(author):
    from rest_framework.test import APIClient

    plan = ready_plan(author=author)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(author)
    assert client.get(f"/api/v1/plans/{plan.pk}").status_code == 200
    assert "CSRF" in _problem(client.post(f"/api/v1/plans/{plan.pk}/submit"), 403)["detail"]
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT


# --- rate limit -----------------------------------------------------------------------------------
def test_rate_limit_per_token_is_a_429_with_retry_after(settings, author):
    settings.PLANGATE_API_RATE = "3/min"
    first, second = token_client(author, "one"), token_client(author, "two")
    for _ in range(3):
        assert first.get("/api/v1/plans").status_code == 200
    response = first.get("/api/v1/plans")
    _problem(response, 429)
    assert 0 < int(response["Retry-After"]) <= 60
    assert second.get("/api/v1/plans").status_code == 200  # another token, another bucket
