"""While an amendment of an approved plan is under review (or sent back), the revision approved
before it stays approved, and every gate says so alike: GET /approvals/<sha256>, POST /verify,
the plan JSON and the certificate. The amendment's own text is not approved until it is."""

import pytest

from implementation.services import implementation_finish, implementation_start
from plans.models import PlanStatus
from plans.services import plan_import_markdown, plan_submit, plan_withdraw, text_revision_hash
from reviews import services
from tests.implementation.kit import AMENDED, PLAN, approved_plan
from tests.reviewkit import answer_all, approve

pytestmark = pytest.mark.django_db

OLD, NEW = text_revision_hash(PLAN), text_revision_hash(AMENDED)
#: A text that is neither the approved revision nor the amendment.
OTHER = PLAN.replace("does two jobs", "does three jobs", 1)


@pytest.fixture
def amended(author, reviewer, api_author):
    """The tester's repro: approved (revision 1), implemented, then amended (revision 2)."""
    plan = approved_plan(author, reviewer)
    implementation_start(actor=author, plan=plan)
    implementation_finish(actor=author, plan=plan)
    response = api_author.post(f"/api/v1/plans/{plan.pk}/amend", {"markdown": AMENDED},
                               format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "PENDING_REVIEW"
    plan.refresh_from_db()
    return plan


def approval(client, sha256):
    response = client.get(f"/api/v1/approvals/{sha256}")
    assert response.status_code == 200, response.content
    return response.json()


def verify(client, text, plan=None):
    body = {"markdown": text} if plan is None else {"markdown": text, "plan": plan}
    response = client.post("/api/v1/verify", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def plan_json(client, plan):
    response = client.get(f"/api/v1/plans/{plan.pk}")
    assert response.status_code == 200, response.content
    return response.json()


def decide(plan, reviewer, decision):
    review = services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)  # confirms the answers carried over from revision 1
    services.review_decide(actor=reviewer, review=review, decision=decision,
                           comment="Not this change.")
    plan.refresh_from_db()


def test_the_approved_text_stays_approved_while_its_amendment_is_under_review(
        amended, api_author):
    pending = {"revision": 2, "sha256": NEW, "state": "pending"}
    body = approval(api_author, OLD)
    assert (body["approved"], body["state"], body["revision"]) == (True, "approved", 1)
    assert body["approved_by"] == ["rob"] and body["approved_at"] is not None
    assert body["policy"]["min_approvals"] == 1 and body["policy"]["recorded"] is True
    assert body["amendment"] == pending
    assert "Revision 1 of plan" in body["reason"] and "revision 2) is under review" in body[
        "reason"]
    # The file as approved, sent whole (by the plan id or without it), answers the same.
    assert verify(api_author, PLAN, amended.pk) == body == verify(api_author, PLAN)

    new = approval(api_author, NEW)
    assert (new["approved"], new["state"], new["revision"]) == (False, "pending", 2)
    assert (new["approved_by"], new["policy"], new["approved_at"]) == ([], None, None)
    assert new["amendment"] == pending and "Revision 1 stays approved" in new["reason"]
    assert verify(api_author, AMENDED, amended.pk) == new

    other = verify(api_author, OTHER, amended.pk)
    assert (other["approved"], other["state"]) == (False, "changed")
    assert other["amendment"] == pending

    data = plan_json(api_author, amended)
    assert data["status"] == "PENDING_REVIEW" and data["revision"]["sha256"] == NEW
    assert data["approved_sha256"] == OLD and data["amendment"] == pending


def test_the_certificate_stands_while_the_amendment_is_under_review(amended, client, author):
    client.force_login(author)
    response = client.get(f"/reviews/plan/{amended.pk}/certificate.md")
    assert response.status_code == 200
    assert OLD in response.content.decode()


def test_once_the_amendment_is_approved_it_is_the_approved_text(amended, api_author, reviewer):
    approve(amended, reviewer)
    amended.refresh_from_db()
    assert amended.status == PlanStatus.APPROVED
    new = approval(api_author, NEW)
    assert (new["approved"], new["state"], new["revision"]) == (True, "approved", 2)
    assert new["approved_by"] == ["rob"] and new["amendment"] is None
    # The superseded approved text is no longer current: changed since approval, as before.
    old = approval(api_author, OLD)
    assert (old["approved"], old["state"], old["revision"]) == (False, "changed", 1)
    assert old["amendment"] is None and "approved as revision 2" in old["reason"]
    data = plan_json(api_author, amended)
    assert (data["approved_sha256"], data["amendment"]) == (NEW, None)


def test_a_sent_back_amendment_leaves_the_earlier_approval_standing(amended, api_author,
                                                                  author, reviewer):
    decide(amended, reviewer, "NEEDS_REVISION")
    assert amended.status == PlanStatus.NEEDS_REVISION
    sent_back = {"revision": 2, "sha256": NEW, "state": "needs_revision"}
    old = approval(api_author, OLD)
    assert (old["approved"], old["state"], old["approved_by"]) == (True, "approved", ["rob"])
    assert old["amendment"] == sent_back and "sent back for revision" in old["reason"]
    new = approval(api_author, NEW)
    assert (new["approved"], new["state"], new["policy"]) == (False, "needs_revision", None)
    data = plan_json(api_author, amended)
    assert (data["approved_sha256"], data["amendment"]) == (OLD, sent_back)

    # Revised and resubmitted: a new amendment under review, revision 1 still approved.
    plan_import_markdown(actor=author, text=OTHER + "\n", plan=amended)
    plan_submit(actor=author, plan=amended)
    third = text_revision_hash(OTHER + "\n")
    old = approval(api_author, OLD)
    assert old["approved"] is True
    assert old["amendment"] == {"revision": 3, "sha256": third, "state": "pending"}
    assert approval(api_author, third)["state"] == "pending"
    # The sent-back text is an older revision now, not the approved one.
    assert approval(api_author, NEW)["state"] == "changed"


def test_a_rejected_amendment_rejects_the_plan(amended, api_author, reviewer):
    decide(amended, reviewer, "REJECTED")
    for sha256 in (OLD, NEW):
        body = approval(api_author, sha256)
        assert (body["approved"], body["state"], body["amendment"]) == (False, "rejected", None)
        assert (body["approved_by"], body["policy"]) == ([], None)
    data = plan_json(api_author, amended)
    assert (data["approved_sha256"], data["amendment"]) == (None, None)


def test_a_plan_under_review_never_approved_has_no_amendment(api_author, author):
    plan = plan_import_markdown(actor=author, text=PLAN)
    plan_submit(actor=author, plan=plan)
    body = approval(api_author, OLD)
    assert (body["approved"], body["state"], body["amendment"]) == (False, "pending", None)
    data = plan_json(api_author, plan)
    assert (data["approved_sha256"], data["amendment"]) == (None, None)


def test_the_schema_documents_the_amendment(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    for name in ("VerifyOut", "PlanOut"):
        assert "amendment" in schema[name]["properties"], name
    assert set(schema["AmendmentOut"]["properties"]) == {"revision", "sha256", "state"}


def test_a_withdrawn_amendment_leaves_the_approval_standing_and_resubmitting_keeps_it(
        amended, author, api_author):
    plan_withdraw(actor=author, plan=amended)
    amended.refresh_from_db()
    assert amended.status == PlanStatus.DRAFT
    withdrawn = approval(api_author, OLD)
    assert withdrawn["approved"] is True and withdrawn["revision"] == 1
    assert withdrawn["amendment"] == {"revision": 2, "sha256": NEW, "state": "draft"}
    assert "withdrawn to a draft" in withdrawn["reason"]
    assert approval(api_author, NEW)["approved"] is False
    assert plan_json(api_author, amended)["approved_sha256"] == OLD
    plan_submit(actor=author, plan=amended)
    again = approval(api_author, OLD)
    assert again["approved"] is True and again["amendment"]["state"] == "pending"


def test_the_approval_keeps_the_risk_it_was_decided_under_when_an_amendment_raises_it(
        author, reviewer, api_author):
    plan = approved_plan(author, reviewer)
    before = approval(api_author, OLD)
    assert before["policy"]["high_risk"] is False
    risky = PLAN.replace("**Risk Level**: Low", "**Risk Level**: High", 1)
    assert risky != PLAN
    response = api_author.post(f"/api/v1/plans/{plan.pk}/amend", {"markdown": risky},
                               format="json")
    assert response.status_code == 200, response.content
    during = approval(api_author, OLD)
    assert during["approved"] is True and during["policy"] == before["policy"]


def test_a_hash_without_a_plan_finds_the_plan_whose_approval_stands(amended, author,
                                                                     api_author):
    copy = plan_import_markdown(actor=author, text=PLAN)  # the approved text, again
    plan_submit(actor=author, plan=copy)
    found = approval(api_author, OLD)
    assert found["plan"] == amended.pk and found["approved"] is True
