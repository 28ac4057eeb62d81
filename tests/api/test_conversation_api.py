"""The conversation through the API, and the feedback an agent reads (`plangate feedback`):
threads with their replies, anchors (on the current revision, or outdated with the lines they
were written on), resolved or open, edited; the reviewers' decisions."""

import pytest

from plans.models import PlanStatus
from reviews import conversation
from reviews import services as review_services
from tests.reviewkit import resubmit, two_step_plan

from .conftest import token_client
from .test_plans_api import _problem

pytestmark = pytest.mark.django_db


def test_threads_through_the_api(api_reviewer, api_author, author, reviewer):
    plan = two_step_plan(author)
    url = f"/api/v1/plans/{plan.pk}/comments"
    response = api_reviewer.post(url, {"body": "Why now? @alice", "step_number": 2},
                                 format="json")
    assert response.status_code == 201, response.json()
    thread = response.json()
    start, end, _title = conversation.outline(plan.revisions.get()).steps[2]
    assert thread["lines"] == thread["anchored_lines"] == {"from": start, "to": end}
    assert thread["revision"] == 1 and thread["thread"] == thread["id"]
    assert thread["outdated"] is False and thread["resolved"] is False
    assert thread["anchored_text"].startswith("### Step 2: Switch reads")

    ranged = api_reviewer.post(url, {"body": "This line", "line_from": start + 1,
                                     "line_to": start + 1}, format="json").json()
    assert ranged["anchored_text"] == "**Objective**: Point reads at it"
    assert _problem(api_reviewer.post(url, {"body": "x", "line_from": 9999}, format="json"),
                    400)

    reply = api_author.post(url, {"body": "Load at peak.", "parent": thread["id"]},
                            format="json").json()
    assert reply["thread"] == thread["id"] and reply["lines"] == thread["lines"]

    edited = api_author.post(f"/api/v1/comments/{reply['id']}/edit",
                             {"body": "Load at peak, measured."}, format="json")
    assert edited.status_code == 200 and edited.json()["edited_at"] is not None
    assert api_reviewer.post(f"/api/v1/comments/{reply['id']}/edit", {"body": "Mine now"},
                             format="json").status_code == 403

    resolved = api_author.post(f"/api/v1/comments/{thread['id']}/resolve")
    assert resolved.status_code == 200, resolved.json()
    assert resolved.json()["resolved"] is True and resolved.json()["resolved_by"] == "alice"
    assert api_author.post(f"/api/v1/comments/{thread['id']}/resolve").status_code == 409
    reopened = api_reviewer.post(f"/api/v1/comments/{thread['id']}/reopen").json()
    assert reopened["resolved"] is False and reopened["resolved_by"] is None


def test_feedback_shows_threads_anchors_and_their_state(author, reviewer):
    plan = two_step_plan(author)
    step1 = review_services.comment_post(actor=reviewer, plan=plan, body="Which bucket?",
                                         step_number=1)
    step2 = review_services.comment_post(actor=reviewer, plan=plan, body="Why now?",
                                         step_number=2)
    review_services.comment_post(actor=author, plan=plan, body="Load at peak.", parent=step2)
    review_services.comment_post(actor=reviewer, plan=plan, body="Whole-plan remark")
    review_services.thread_resolve(actor=reviewer, comment=step1)
    plan = resubmit(plan, author, "Point reads at it", "Point reads at the new bucket")
    review = review_services.review_start(actor=reviewer, plan=plan)
    review_services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                                  comment="Split step 2.")

    data = token_client(author).get(f"/api/v1/plans/{plan.pk}/feedback").json()
    assert data["status"] == PlanStatus.NEEDS_REVISION and data["revision"] == 2
    by_body = {c["body"]: c for c in data["comments"]}
    assert by_body["Which bucket?"]["resolved"] and not by_body["Which bucket?"]["outdated"]
    assert by_body["Which bucket?"]["lines"] is not None  # step 1 is unchanged in revision 2
    assert by_body["Why now?"]["outdated"] and by_body["Why now?"]["lines"] is None
    assert by_body["Load at peak."]["thread"] == step2.pk
    assert by_body["Load at peak."]["outdated"]  # a reply carries its thread's state
    assert by_body["Whole-plan remark"]["anchored_lines"] is None

    markdown = data["markdown"]
    comments = markdown[markdown.index("## Comments"):markdown.index("## Decisions")]
    old = f"{step2.line_from}–{step2.line_to}"
    assert (f"- rob (outdated: revision 1's lines {old} have changed since, open):\n"
            "  > Why now?\n  Written on these lines (changed since):\n  ~~~~\n"
            "  ### Step 2: Switch reads\n  **Objective**: Point reads at it\n") in comments
    assert "  ~~~~\n  - alice replied:\n    > Load at peak." in comments
    assert "- rob (lines " in comments and "resolved by rob):\n  > Which bucket?" in comments
    assert "### Whole plan\n\n- rob (open):\n  > Whole-plan remark" in comments
    # Open threads come before resolved ones.
    assert comments.index("Why now?") < comments.index("Which bucket?")
    assert "- rob: NEEDS_REVISION (revision 2)\n  > Split step 2." in markdown


def test_the_etag_changes_when_a_thread_is_resolved_or_a_comment_edited(api_author, author,
                                                                        reviewer):
    plan = two_step_plan(author)
    comment = review_services.comment_post(actor=reviewer, plan=plan, body="Hm")
    seen = {api_author.get(f"/api/v1/plans/{plan.pk}")["ETag"]}
    review_services.comment_edit(actor=reviewer, comment=comment, body="Hm, why?")
    seen.add(api_author.get(f"/api/v1/plans/{plan.pk}")["ETag"])
    review_services.thread_resolve(actor=author, comment=comment)
    seen.add(api_author.get(f"/api/v1/plans/{plan.pk}")["ETag"])
    assert len(seen) == 3
