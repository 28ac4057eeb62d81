"""After approval through the services: who may start, finish and verify; each transition's audit
entry and notifications; progress, drift and amendments."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from core.errors import Conflict, NotAllowed, ValidationError
from implementation import services
from implementation.models import CriterionCheck, DriftReport, ProgressReport
from notifications.models import OutboxMessage
from plans.models import PlanEditor, PlanStatus
from plans.services import plan_import_markdown
from reviews.certificate import approval_certificate
from tests.factories import AdminFactory, AuthorFactory, ReviewerFactory
from tests.implementation.kit import AMENDED, PLAN, approved_plan
from tests.reviewkit import approve

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(author, reviewer):
    return approved_plan(author, reviewer)


@pytest.fixture
def coauthor(plan):
    user = AuthorFactory(username="cora")
    PlanEditor.objects.create(plan=plan, user=user)
    return user


def entry(plan, action):
    return AuditEntry.objects.filter(plan=plan, action=action).order_by("-id").first()


def told(plan, event) -> set[str]:
    return set(OutboxMessage.objects.filter(plan=plan, event=event)
               .values_list("recipient__username", flat=True)) - {None}


def implemented(plan, actor):
    services.implementation_start(actor=actor, plan=plan)
    services.implementation_finish(actor=actor, plan=plan)
    plan.refresh_from_db()
    return plan


# --- start ----------------------------------------------------------------------------------------
def test_the_author_starts_it_is_audited_and_the_approvers_hear(plan, author,
                                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.implementation_start(actor=author, plan=plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IMPLEMENTING
    started = entry(plan, "plan.implementation_started")
    assert started.actor == author
    assert started.payload["from"] == "APPROVED" and started.payload["to"] == "IMPLEMENTING"
    assert started.revision_hash == plan.revisions.get(number=1).content_hash
    assert told(plan, "plan.implementation_started") == {"rob"}


def test_a_coauthor_may_start(plan, coauthor):
    services.implementation_start(actor=coauthor, plan=plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IMPLEMENTING


@pytest.mark.parametrize("who", ["reviewer", "other", "admin"])
def test_nobody_else_starts(plan, reviewer, who):
    actor = {"reviewer": reviewer, "other": AuthorFactory(), "admin": AdminFactory()}[who]
    with pytest.raises(NotAllowed):
        services.implementation_start(actor=actor, plan=plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    assert entry(plan, "plan.implementation_started") is None


def test_start_needs_an_approved_plan(author, reviewer):
    plan = approved_plan(author, reviewer)
    services.implementation_start(actor=author, plan=plan)
    with pytest.raises(Conflict):
        services.implementation_start(actor=author, plan=plan)


# --- finish ---------------------------------------------------------------------------------------
def test_the_author_finishes_and_reviewers_hear(plan, author, django_capture_on_commit_callbacks):
    services.implementation_start(actor=author, plan=plan)
    with django_capture_on_commit_callbacks(execute=True):
        services.implementation_finish(actor=author, plan=plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IMPLEMENTED
    finished = entry(plan, "plan.implementation_finished")
    assert (finished.payload["from"], finished.payload["to"]) == ("IMPLEMENTING", "IMPLEMENTED")
    assert told(plan, "plan.implementation_finished") == {"rob"}


def test_a_reviewer_cannot_finish_and_an_approved_plan_is_not_finished(plan, author, reviewer):
    with pytest.raises(Conflict):
        services.implementation_finish(actor=author, plan=plan)  # not started
    services.implementation_start(actor=author, plan=plan)
    with pytest.raises(NotAllowed):
        services.implementation_finish(actor=reviewer, plan=plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IMPLEMENTING


# --- verify ---------------------------------------------------------------------------------------
def test_a_reviewer_verifies_with_evidence_and_the_author_hears(
        plan, author, reviewer, django_capture_on_commit_callbacks):
    implemented(plan, author)
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_decide(actor=reviewer, plan=plan, outcome="VERIFIED",
                                     evidence={1: "https://ci.example/run/1", 2: "CI green"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.VERIFIED
    verified = entry(plan, "plan.verified")
    assert verified.actor == reviewer
    assert (verified.payload["from"], verified.payload["to"]) == ("IMPLEMENTED", "VERIFIED")
    assert told(plan, "plan.verified") == {"alice"}
    assert AuditEntry.objects.filter(plan=plan, action="plan.criterion_checked").count() == 2
    assert list(CriterionCheck.objects.values_list("number", "evidence")) == [
        (1, "https://ci.example/run/1"), (2, "CI green")]


def test_verifying_needs_every_criterion_ticked(plan, author, reviewer):
    implemented(plan, author)
    with pytest.raises(ValidationError, match="not yet: 2"):
        services.verification_decide(actor=reviewer, plan=plan, outcome="VERIFIED",
                                     evidence={1: "see PR"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IMPLEMENTED
    assert not CriterionCheck.objects.exists()  # nothing half-saved


def test_no_self_verification(plan, author, coauthor):
    implemented(plan, author)
    coauthor.groups.add(*ReviewerFactory().groups.all())  # a reviewer, but an editor of it
    for actor in (author, coauthor, AdminFactory()):
        with pytest.raises(NotAllowed):
            services.verification_decide(actor=actor, plan=plan, outcome="VERIFIED",
                                         evidence={1: "x", 2: "y"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IMPLEMENTED


def test_sending_back_needs_a_comment_and_reopens_implementing(
        plan, author, reviewer, django_capture_on_commit_callbacks):
    implemented(plan, author)
    with pytest.raises(ValidationError, match="comment is required"):
        services.verification_decide(actor=reviewer, plan=plan, outcome="SENT_BACK")
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_decide(actor=reviewer, plan=plan, outcome="SENT_BACK",
                                     comment="The writer still imports the parser.")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IMPLEMENTING
    back = entry(plan, "plan.sent_back_to_implementing")
    assert back.payload["comment"] == "The writer still imports the parser."
    assert told(plan, "plan.sent_back_to_implementing") == {"alice"}


def test_verify_needs_an_implemented_plan(plan, author, reviewer):
    services.implementation_start(actor=author, plan=plan)
    with pytest.raises(Conflict):
        services.verification_decide(actor=reviewer, plan=plan, outcome="VERIFIED")


# --- progress -------------------------------------------------------------------------------------
def test_progress_starts_the_implementation_and_is_audited(plan, author):
    report = services.progress_report(actor=author, plan=plan, step=1, action=2,
                                      note="imports fixed", commit="ABCDEF1234")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.IMPLEMENTING
    assert (report.step_number, report.action_number, report.action_text, report.commit) == (
        1, 2, "Update its imports", "abcdef1234")
    logged = entry(plan, "plan.progress_reported")
    assert logged.payload == {"step": 1, "action": 2, "note": "imports fixed",
                              "commit": "abcdef1234"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"step": 3}, "no step 3"), ({"step": 1, "action": 3}, "no action 3"),
    ({"step": 1, "commit": "not-a-sha"}, "hexadecimal"),
])
def test_bad_progress_is_refused_and_nothing_changes(plan, author, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        services.progress_report(actor=author, plan=plan, **kwargs)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and not ProgressReport.objects.exists()


def test_only_implementers_report_progress(plan, reviewer):
    with pytest.raises(NotAllowed):
        services.progress_report(actor=reviewer, plan=plan, step=1)


# --- drift ----------------------------------------------------------------------------------------
def test_drift_names_unplanned_and_untouched_files_and_each_run_is_kept(plan, author):
    report = services.drift_report_upload(actor=author, plan=plan,
                                          changed=["app/a.py", "app/c.py", "tests/test_a.py"],
                                          base="main", head="HEAD")
    assert report.unplanned == ["app/c.py"]
    assert report.untouched == ["app/b.py"]
    assert report.matches == {"app/a.py": [1], "tests/test_a.py": [2]}
    assert not report.clear
    services.drift_report_upload(actor=author, plan=plan, changed=["app/a.py"])
    assert DriftReport.objects.filter(plan=plan).count() == 2
    logged = entry(plan, "plan.drift_reported")
    assert logged.payload["clear"] is True and logged.payload["untouched"] == ["app/b.py",
                                                                              "tests/**"]


def test_drift_needs_an_approval(author):
    draft = plan_import_markdown(actor=author, text=PLAN)
    with pytest.raises(Conflict, match="never been approved"):
        services.drift_report_upload(actor=author, plan=draft, changed=["x"])


# --- amendments -----------------------------------------------------------------------------------
def test_an_amendment_is_reviewed_and_then_drift_is_measured_against_it(
        plan, author, reviewer, django_capture_on_commit_callbacks):
    services.implementation_start(actor=author, plan=plan)
    with django_capture_on_commit_callbacks(execute=True):
        revision = services.amendment_submit(actor=author, plan=plan, text=AMENDED)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW and revision.number == 2
    amended = entry(plan, "plan.amendment_submitted")
    assert (amended.payload["from"], amended.payload["amends_revision"]) == ("IMPLEMENTING", 1)
    assert "rob" in told(plan, "plan.amendment_submitted")
    # While it is under review, drift is still measured against revision 1.
    before = services.drift_report_upload(actor=author, plan=plan, changed=["app/c.py"])
    assert before.revision.number == 1 and before.unplanned == ["app/c.py"]

    approve(plan, reviewer)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    after = services.drift_report_upload(actor=author, plan=plan, changed=["app/c.py"])
    assert after.revision.number == 2 and after.clear
    history = approval_certificate(plan).history
    assert [a.revision.number for a in history] == [1, 2]


def test_an_unchanged_amendment_is_refused(plan, author):
    with pytest.raises(ValidationError, match="approved text"):
        services.amendment_submit(actor=author, plan=plan, text=PLAN)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED and plan.revisions.count() == 1


def test_only_implementers_amend(plan, reviewer):
    with pytest.raises(NotAllowed):
        services.amendment_submit(actor=reviewer, plan=plan, text=AMENDED)


def _with_steps(text: str, extra: int) -> str:
    """``text`` with ``extra`` more steps, each with actions and files."""
    steps = "".join(
        f"### Step {n}: Move part {n}\n**Objective**: Part {n} lives in app/p{n}.py\n"
        f"**Actions**:\n- [ ] Move part {n}\n- [ ] Test part {n}\n\n"
        f"**Files to Modify/Create**:\n- `app/p{n}.py` - part {n}\n\n"
        f"**Dependencies**: None\n**Estimated Time**: 1 hour\n**Risk Level**: Low\n\n"
        for n in range(3, 3 + extra))
    return text.replace("## Testing Strategy", steps + "## Testing Strategy", 1)


def test_an_amendment_costs_the_same_queries_however_many_steps_it_has(author, reviewer):
    """Its text is read back once for the checks and the revision, not step by step (only
    the steps' own rows are written one by one: each one's id names its actions and files)."""
    counts = []
    for extra in (1, 12):
        plan = approved_plan(author, reviewer)
        with CaptureQueriesContext(connection) as queries:
            revision = services.amendment_submit(actor=author, plan=plan,
                                                 text=_with_steps(AMENDED, extra))
        assert f"### Step {2 + extra}: Move part {2 + extra}" in revision.content
        counts.append(sum(1 for q in queries.captured_queries
                          if not q["sql"].startswith(("SAVEPOINT", "RELEASE",
                                                      'INSERT INTO "plans_planstep"'))))
    assert counts[0] == counts[1], counts
