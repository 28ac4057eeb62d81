"""Binding: is exactly this text approved? POST /verify with the text, GET /approvals/<sha256>."""

import pytest

from implementation.services import implementation_start
from plans.services import plan_import_markdown, plan_submit, text_revision_hash
from reviews import services
from tests.reviewkit import approve, submitted_plan

from .conftest import markdown_of
from .test_plans_api import _problem

pytestmark = pytest.mark.django_db


def _verify(client, text, **extra):
    response = client.post("/api/v1/verify", {"markdown": text, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_approved_text_names_approvers_time_and_policy(api_author, author, reviewer):
    plan = submitted_plan(author)
    text = markdown_of(plan)  # the file as submitted
    review = approve(plan, reviewer)
    body = _verify(api_author, text)
    revision = plan.revisions.get()
    assert body["approved"] is True and body["state"] == "approved"
    assert body["sha256"] == text_revision_hash(text) == revision.content_hash
    assert body["plan"] == plan.pk and body["revision"] == 1
    assert body["approved_by"] == ["rob"]
    assert body["approved_at"] is not None and review.decided_at is not None
    assert body["policy"]["min_approvals"] == 1 and body["policy"]["recorded"] is True
    by_hash = api_author.get(f"/api/v1/approvals/{revision.content_hash}").json()
    assert by_hash == body
    upper = api_author.get(f"/api/v1/approvals/{revision.content_hash.upper()}").json()
    assert upper["state"] == "approved"


def test_text_approved_and_being_implemented_stays_approved_beside_a_newer_copy(api_author,
                                                                             author, reviewer):
    plan = submitted_plan(author)
    text = markdown_of(plan)
    approve(plan, reviewer)
    implementation_start(actor=author, plan=plan)
    again = plan_import_markdown(actor=author, text=text)  # the same file imported again
    plan_submit(actor=author, plan=again)  # and waiting for review: the newer plan
    body = _verify(api_author, text)
    assert body["approved"] is True and body["plan"] == plan.pk


def test_pending_text_is_not_approved(api_author, author):
    plan = submitted_plan(author)
    body = _verify(api_author, markdown_of(plan))
    assert body["approved"] is False and body["state"] == "pending"
    assert body["plan"] == plan.pk and body["approved_by"] == [] and body["policy"] is None
    assert "waiting for review" in body["reason"]


def test_one_changed_character_after_approval_is_changed(api_author, author, reviewer):
    plan = submitted_plan(author)
    text = markdown_of(plan).replace("Logins are slow", "Logins are slaw", 1)
    approve(plan, reviewer)
    body = _verify(api_author, text, plan=plan.pk)
    assert body["approved"] is False and body["state"] == "changed"
    assert "changed since approval" in body["reason"]
    # Without naming the plan, a text no revision has is simply unknown.
    assert _verify(api_author, text)["state"] == "unknown"


def test_rejected_and_needs_revision(api_author, author, reviewer):
    plan = submitted_plan(author)
    text = markdown_of(plan)
    review = services.review_start(actor=reviewer, plan=plan)
    services.review_decide(actor=reviewer, review=review, decision="REJECTED", comment="No.")
    body = _verify(api_author, text)
    assert (body["approved"], body["state"]) == (False, "rejected")
    other = submitted_plan(author, title="Second")
    text = markdown_of(other)
    review = services.review_start(actor=reviewer, plan=other)
    services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                           comment="More detail.")
    assert _verify(api_author, text)["state"] == "needs_revision"


def test_unknown_text_and_unknown_hash(api_author, plan_markdown):
    body = _verify(api_author, plan_markdown)
    assert (body["approved"], body["state"], body["plan"]) == (False, "unknown", None)
    assert api_author.get("/api/v1/approvals/" + "0" * 64).json()["state"] == "unknown"
    assert _verify(api_author, plan_markdown, plan=999999)["state"] == "unknown"


def test_a_draft_named_by_id(api_author, author):
    from tests.factories import ready_plan

    plan = ready_plan(author=author)
    body = _verify(api_author, markdown_of(plan), plan=plan.pk)
    assert body["state"] == "draft" and body["revision"] is None


def test_bad_hash_and_bad_text_are_400(api_author, plan_markdown):
    assert "SHA-256" in _problem(api_author.get("/api/v1/approvals/xyz"), 400)["detail"]
    text = plan_markdown.replace("## Problem Statement", "## Problem Statement\x00", 1)
    line = plan_markdown.split("\n").index("## Problem Statement") + 1
    assert _problem(api_author.post("/api/v1/verify", {"markdown": text}, format="json"),
                    400)["lines"][0]["line"] == line
