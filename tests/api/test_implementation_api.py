"""The after-approval endpoints: start, progress, drift, amend, finish, verification, the record.
Refusals are problem details (403 who, 409 state, 400 input) and change nothing."""

import pytest

from audit.models import AuditEntry
from implementation.models import DriftReport
from plans.models import PlanStatus
from plans.services import plan_import_markdown
from tests.api.conftest import token_client
from tests.factories import AuthorFactory
from tests.implementation.kit import AMENDED, approved_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(author, reviewer):
    return approved_plan(author, reviewer)


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()["detail"]


def test_the_whole_way_through_the_api(plan, api_author, api_reviewer):
    base = f"/api/v1/plans/{plan.pk}"
    progress = api_author.post(f"{base}/progress", {"step": 1, "action": 1, "note": "moved",
                                                   "commit": "abcdef0"}, format="json")
    assert progress.status_code == 201, progress.content
    assert progress.json()["step_title"] == "Move the parser"
    drift = api_author.post(f"{base}/drift", {"files": ["app/a.py", "app/c.py"], "base": "main",
                                             "head": "HEAD"}, format="json")
    assert drift.status_code == 201
    assert (drift.json()["clear"], drift.json()["unplanned"]) == (False, ["app/c.py"])
    assert drift.json()["untouched"] == ["app/b.py", "tests/**"]

    amended = api_author.post(f"{base}/amend", {"markdown": AMENDED}, format="json")
    assert amended.status_code == 200 and amended.json()["status"] == "PENDING_REVIEW"
    assert amended.json()["revision"]["number"] == 2

    record = api_reviewer.get(f"{base}/implementation").json()
    assert record["approved_revisions"] == [1]
    assert record["commits"] == ["abcdef0"]
    assert record["steps"][0]["actions_done"] == [1]
    assert [d["unplanned"] for d in record["drift_reports"]] == [["app/c.py"]]


def test_who_may_and_in_which_state(plan, api_author, api_reviewer, author):
    base = f"/api/v1/plans/{plan.pk}"
    problem(api_reviewer.post(f"{base}/start"), 403)
    problem(api_reviewer.post(f"{base}/progress", {"step": 1}, format="json"), 403)
    problem(api_author.post(f"{base}/finish"), 409)  # not started
    assert api_author.post(f"{base}/start").json()["status"] == "IMPLEMENTING"
    problem(api_author.post(f"{base}/start"), 409)
    assert api_author.post(f"{base}/finish").json()["status"] == "IMPLEMENTED"
    verdict = {"outcome": "VERIFIED", "criteria": [{"criterion": 1, "evidence": "PR #7"},
                                                   {"criterion": 2, "evidence": "CI"}]}
    assert "nobody verifies their own work" in problem(
        api_author.post(f"{base}/verification", verdict, format="json"), 403)
    verified = api_reviewer.post(f"{base}/verification", verdict, format="json")
    assert verified.status_code == 201 and verified.json()["reviewer"] == "rob"
    plan.refresh_from_db()
    assert plan.status == PlanStatus.VERIFIED
    problem(api_reviewer.post(f"{base}/verification", verdict, format="json"), 409)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("progress", {"step": 0}, "step"),
    ("progress", {"step": 1, "commit": "zzz"}, "commit"),
    ("drift", {"files": "app/a.py"}, "files"),
    ("drift", {"files": [], "head_commit": "HEAD"}, "head_commit"),
    ("verification", {"outcome": "MAYBE"}, "outcome"),
])
def test_bad_input_is_a_400_naming_the_field(plan, api_author, path, body, field):
    before = AuditEntry.objects.count()
    response = api_author.post(f"/api/v1/plans/{plan.pk}/{path}", body, format="json")
    problem(response, 400)
    assert field in response.json()["errors"]
    assert AuditEntry.objects.count() == before


def test_a_step_the_plan_does_not_have_is_a_400(plan, api_author):
    detail = problem(api_author.post(f"/api/v1/plans/{plan.pk}/progress", {"step": 9},
                                     format="json"), 400)
    assert "There is no step 9" in detail


def test_a_stranger_cannot_post_a_clean_drift_report(plan):
    stranger = token_client(AuthorFactory(), name="ci")
    detail = problem(stranger.post(f"/api/v1/plans/{plan.pk}/drift", {"files": []},
                                   format="json"), 403)
    assert "can report drift" in detail
    assert not DriftReport.objects.exists()


def test_a_reviewers_ci_token_may_upload_drift_but_not_before_approval(plan, author, reviewer):
    ci = token_client(reviewer, name="ci")
    assert ci.post(f"/api/v1/plans/{plan.pk}/drift", {"files": ["app/a.py"]},
                   format="json").status_code == 201
    assert DriftReport.objects.get().reported_by == reviewer
    draft = plan_import_markdown(actor=author, text=AMENDED)
    assert "never been approved" in problem(
        ci.post(f"/api/v1/plans/{draft.pk}/drift", {"files": []}, format="json"), 409)


def test_the_schema_documents_the_new_endpoints(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path in ("implementation", "start", "finish", "progress", "drift", "amend",
                 "verification"):
        assert f"/api/v1/plans/{{id}}/{path}" in schema["paths"], path
