"""Every plan page shows the workflow (from django-fsm's transitions) with the plan's state and
the transitions it took (who, when, which revision), in a fixed number of queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from accounts.display import display_name
from insights import workflow
from plans.models import Plan
from plans.services import plan_submit, plan_withdraw
from tests.factories import ready_plan
from tests.reviewkit import approve, revise, submitted_plan

pytestmark = pytest.mark.django_db


def fsm_moves() -> set[tuple[str, str]]:
    field = Plan._meta.get_field("status")
    return {(t.source, t.target) for t in field.get_all_transitions(Plan)}


def test_diagram_has_every_state_and_transition_of_the_state_machine():
    d = workflow.diagram(current="PENDING_REVIEW")
    states = [value for value, _ in Plan._meta.get_field("status").choices]
    assert [n.state for n in d.nodes] == states
    labels = dict(Plan._meta.get_field("status").choices)
    assert {(e.source, e.target) for e in d.edges} == {
        (labels[s], labels[t]) for s, t in fsm_moves()}
    assert [n.state for n in d.nodes if n.current] == ["PENDING_REVIEW"]
    draft, pending = (next(n for n in d.nodes if n.state == s) for s in ("DRAFT", "PENDING_REVIEW"))
    assert draft.x < pending.x  # columns follow the flow from the initial state
    withdraw = next(e for e in d.edges if e.names == ["withdraw"])
    assert withdraw.back and not next(e for e in d.edges if e.names == ["approve"]).back


def test_plan_page_shows_the_workflow_and_the_transitions_taken(client, author, reviewer):
    plan = submitted_plan(author, title="Flowing plan")
    plan_withdraw(actor=author, plan=plan)
    plan = revise(plan, author, "Logins are slow at peak.")
    plan_submit(actor=author, plan=plan)
    approve(plan, reviewer)
    client.force_login(author)
    html = client.get(plan.get_absolute_url()).content.decode()
    flow = html[html.index('id="workflow"'):html.index("</section>", html.index('id="workflow"'))]
    for _, label in Plan._meta.get_field("status").choices:
        assert f">{label}</text>" in flow
    current = re.search(r'<g class="wf-node([^"]*)" data-state="APPROVED" aria-current="step"',
                        flow)
    assert current and "current" in current.group(1)
    timeline = flow[flow.index('class="wf-timeline"'):]
    steps = re.findall(r"<li>(.*?)</li>", timeline, re.S)
    assert len(steps) == 4
    # Each move names its actor as every page does (their display name today).
    assert escape(display_name(author)) in steps[0]
    assert "Draft → " in steps[0] and "(revision 1)" in steps[0]
    assert "Pending review → <span class=\"wf-to\">Draft" in steps[1]
    assert "(revision 1)" in steps[1]  # the withdrawal names the revision it took back
    assert "(revision 2)" in steps[2]
    assert escape(display_name(reviewer)) in steps[3]
    assert "Approved" in steps[3] and "(revision 2)" in steps[3]
    assert flow.count("wf-edge taken") + flow.count("wf-edge back taken") == 3  # distinct moves
    assert "style=" not in flow


def count(client, plan) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(plan.get_absolute_url()).status_code == 200
    return len(queries)


def test_workflow_queries_do_not_grow_with_history(client, author):
    short = ready_plan(author=author)
    plan_submit(actor=author, plan=short)
    long = ready_plan(author=author)
    for _ in range(8):
        plan_submit(actor=author, plan=long)
        long.refresh_from_db()
        plan_withdraw(actor=author, plan=long)
        long.refresh_from_db()
    plan_submit(actor=author, plan=long)
    client.force_login(author)
    count(client, short)  # warm the per-process caches and each plan's laid-out document
    count(client, long)
    assert count(client, short) == count(client, long)
    assert client.get(long.get_absolute_url()).content.decode().count("<li><time") >= 17
