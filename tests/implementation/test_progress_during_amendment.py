"""Progress while an amendment of an approved plan is under review, sent back or withdrawn: the
approval before it stands, so the agent keeps implementing the approved text and reports on its
steps (numbered, titled and worded as the approved revision has them, never as the amendment
has them); the plan's status stays the amendment's review's. A plan with no standing approval
(never approved, or rejected) takes no report."""

import pytest

from audit.models import AuditEntry
from core.errors import Conflict, ValidationError
from implementation import services
from implementation.models import ProgressReport
from plans.models import PlanStatus
from plans.services import plan_import_markdown, plan_submit, plan_withdraw, text_revision_hash
from reviews import services as reviews
from tests.api.conftest import token_client
from tests.implementation.kit import PLAN, approved_plan
from tests.reviewkit import answer_all, approve

pytestmark = pytest.mark.django_db

#: PLAN amended: a new first step (one action), so the approved steps 1 and 2 are the
#: amendment's 2 and 3, and the approved step 1's second action is not the amendment's.
REORDERED = PLAN.replace("### Step 1: Move the parser", """\
### Step 1: Write the shared helpers
**Objective**: What both need lives in app/c.py
**Actions**:
- [ ] Write the helpers

**Files to Modify/Create**:
- `app/c.py` - shared helpers

**Dependencies**: None
**Estimated Time**: 1 hour
**Risk Level**: Low

### Step 2: Move the parser""", 1).replace("### Step 2: Move the writer",
                                           "### Step 3: Move the writer", 1)


@pytest.fixture
def plan(author, reviewer):
    return approved_plan(author, reviewer)


def decide(plan, reviewer, decision):
    review = reviews.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    reviews.review_decide(actor=reviewer, review=review, decision=decision,
                          comment="Not this change.")
    plan.refresh_from_db()


def amend(plan, author, reviewer, state: str):
    """Amend ``plan`` with REORDERED and bring the amendment to ``state``."""
    services.amendment_submit(actor=author, plan=plan, text=REORDERED)
    plan.refresh_from_db()
    if state == "needs_revision":
        decide(plan, reviewer, "NEEDS_REVISION")
    elif state == "draft":
        plan_withdraw(actor=author, plan=plan)
        plan.refresh_from_db()
    return plan


@pytest.mark.parametrize(("started", "state", "status"), [
    (True, "pending", PlanStatus.PENDING_REVIEW),
    (False, "pending", PlanStatus.PENDING_REVIEW),
    (True, "needs_revision", PlanStatus.NEEDS_REVISION),
    (True, "draft", PlanStatus.DRAFT),
])
def test_a_report_during_an_amendment_is_on_the_approved_step(plan, author, reviewer, started,
                                                              state, status):
    if started:
        services.implementation_start(actor=author, plan=plan)
    plan = amend(plan, author, reviewer, state)
    assert plan.status == status
    # The live rows are the amendment's: its step 1 is the new one, with one action.
    assert plan.steps.order_by("position").first().title == "Write the shared helpers"

    report = services.progress_report(actor=author, plan=plan, step=1, action=2,
                                      note="imports fixed", commit="ABCDEF1")
    assert (report.step_number, report.step_title, report.action_number, report.action_text) == (
        1, "Move the parser", 2, "Update its imports")
    assert report.step is None  # no live row is the approved step 1
    plan.refresh_from_db()
    assert plan.status == status  # the amendment's review owns the status

    logged = AuditEntry.objects.filter(plan=plan, action="plan.progress_reported").get()
    assert (logged.actor, logged.revision_hash) == (author, text_revision_hash(PLAN))
    assert logged.payload == {"step": 1, "action": 2, "note": "imports fixed",
                              "commit": "abcdef1"}
    whole = services.progress_report(actor=author, plan=plan, step=2)
    assert (whole.step_title, whole.action_number) == ("Move the writer", None)


def test_steps_and_actions_are_counted_as_the_approved_revision_has_them(plan, author,
                                                                         reviewer):
    plan = amend(plan, author, reviewer, "pending")
    with pytest.raises(ValidationError, match="no step 3: the approved revision has 2"):
        services.progress_report(actor=author, plan=plan, step=3)  # the amendment's step 3
    with pytest.raises(ValidationError, match="no action 3"):
        services.progress_report(actor=author, plan=plan, step=1, action=3)
    assert not ProgressReport.objects.exists()


def test_once_the_amendment_is_approved_reports_are_on_its_steps(plan, author, reviewer):
    plan = amend(plan, author, reviewer, "pending")
    during = services.progress_report(actor=author, plan=plan, step=1)
    approve(plan, reviewer)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    after = services.progress_report(actor=author, plan=plan, step=1)
    assert (during.step_title, after.step_title) == ("Move the parser",
                                                     "Write the shared helpers")
    assert after.step == plan.steps.order_by("position").first()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IMPLEMENTING  # the first report on it starts it, as ever


def test_no_report_without_a_standing_approval(plan, author, reviewer):
    rejected = amend(plan, author, reviewer, "pending")
    decide(rejected, reviewer, "REJECTED")
    assert rejected.status == PlanStatus.REJECTED
    never = plan_import_markdown(actor=author, text=PLAN)
    draft = plan_import_markdown(actor=author, text=PLAN)
    plan_submit(actor=author, plan=never)
    never.refresh_from_db()
    for refused, phrase in ((rejected, "was rejected"), (never, "is waiting for review"),
                            (draft, "is a draft")):
        with pytest.raises(Conflict, match=f"This plan {phrase}: it cannot take progress "
                                           "reports"):
            services.progress_report(actor=author, plan=refused, step=1)
    assert not ProgressReport.objects.exists()


# --- through the API ------------------------------------------------------------------------------
def test_the_api_takes_a_report_during_an_amendment(plan, author, reviewer):
    api = token_client(author)
    amended = api.post(f"/api/v1/plans/{plan.pk}/amend", {"markdown": REORDERED}, format="json")
    assert amended.status_code == 200 and amended.json()["status"] == "PENDING_REVIEW"
    response = api.post(f"/api/v1/plans/{plan.pk}/progress",
                        {"step": 1, "action": 2, "note": "moved", "commit": "abcdef0"},
                        format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["step"], body["step_title"], body["action"], body["commit"]) == (
        1, "Move the parser", 2, "abcdef0")
    plan_json = api.get(f"/api/v1/plans/{plan.pk}").json()
    assert (plan_json["status"], plan_json["amendment"]["state"]) == ("PENDING_REVIEW",
                                                                      "pending")
    record = token_client(reviewer).get(f"/api/v1/plans/{plan.pk}/implementation").json()
    assert [(p["step"], p["step_title"]) for p in record["progress"]] == [(1, "Move the parser")]
    assert record["commits"] == ["abcdef0"]


def test_the_api_still_answers_409_without_a_standing_approval(plan, author, reviewer):
    never = plan_import_markdown(actor=author, text=PLAN)
    plan_submit(actor=author, plan=never)
    rejected = amend(plan, author, reviewer, "pending")
    decide(rejected, reviewer, "REJECTED")
    api = token_client(author)
    for refused in (never, rejected):
        response = api.post(f"/api/v1/plans/{refused.pk}/progress", {"step": 1}, format="json")
        assert response.status_code == 409, response.content
        assert "cannot take progress reports" in response.json()["detail"]
    assert not ProgressReport.objects.exists()


def test_the_pages_show_the_report_on_the_approved_step(client, plan, author, reviewer):
    plan = amend(plan, author, reviewer, "pending")
    services.progress_report(actor=author, plan=plan, step=1, action=2, note="imports fixed")
    client.force_login(author)
    panel = client.get(plan.get_absolute_url()).content.decode()
    assert "Move the parser:\n      1 of 2 actions done" in panel
    assert "Write the shared helpers:" not in panel
    record = client.get(f"/implementation/plan/{plan.pk}/").content.decode()
    assert "1. Move the parser</td>" in record and "no longer in the plan" not in record
