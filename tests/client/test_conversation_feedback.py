"""`plangate feedback` against the real API (in-process, through httpx's WSGI transport): what an
agent reads to revise its plan is the conversation, thread by thread, with each thread's lines,
whether it is open, resolved or outdated, its replies, then the decisions."""

import httpx
import pytest
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from api.services import token_create
from plans.markdown import export_plan
from plans.services import plan_import_markdown, plan_submit, plan_withdraw
from reviews import services as review_services
from tests.factories import PlanStepFactory, ready_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_process():
    """httpx's transport to the Django app, keeping the test's database connection (as
    Django's test client does: requests do not close it)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield httpx.WSGITransport(app=get_wsgi_application())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_feedback_prints_the_conversation(plangate, in_process, monkeypatch, author, reviewer):
    plan = ready_plan(author=author)
    PlanStepFactory(plan=plan, position=1, title="Switch reads", objective="Point reads at it")
    plan_submit(actor=author, plan=plan)
    kept = review_services.comment_post(actor=reviewer, plan=plan, body="Which bucket?",
                                        step_number=1)
    changed = review_services.comment_post(actor=reviewer, plan=plan, body="Why now?",
                                           step_number=2)
    review_services.comment_post(actor=author, plan=plan, body="Load at peak.", parent=changed)
    review_services.thread_resolve(actor=reviewer, comment=kept)
    plan.refresh_from_db()
    plan_withdraw(actor=author, plan=plan)
    plan.refresh_from_db()
    plan = plan_import_markdown(actor=author, plan=plan, text=export_plan(plan).replace(
        "Point reads at it", "Point reads at the new bucket"))
    plan.refresh_from_db()
    plan_submit(actor=author, plan=plan)
    review = review_services.review_start(actor=reviewer, plan=plan)
    review_services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                                  comment="Split step 2.")

    _, raw = token_create(actor=author, user=author, name="cli")
    monkeypatch.setenv("PLANGATE_URL", "http://testserver")
    monkeypatch.setenv("PLANGATE_TOKEN", raw)
    result = plangate("feedback", plan.pk, transport=in_process)
    assert result.code == 0, result.err
    out = result.out
    assert out.startswith(f"# Feedback on “{plan}” (plan {plan.pk}, revision 2): Needs revision")
    assert "### Step 2: Switch reads\n\n- rob (outdated: revision 1's lines" in out
    assert "Written on these lines (changed since):" in out
    assert "  - alice replied:\n    > Load at peak." in out
    assert f"- rob (lines {kept.line_from}–{kept.line_to}, resolved by rob):\n  > Which bucket?" \
        in out
    assert "## Decisions\n\n- rob: NEEDS_REVISION (revision 2)\n  > Split step 2.\n" in out
