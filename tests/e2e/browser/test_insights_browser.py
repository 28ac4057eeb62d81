"""Dashboards, insights and the workflow diagram in a real browser, under the app's CSP.

The README's screenshots (docs/dashboard-*.png, docs/insights.png, docs/workflow.png) come from
this test: run it with PLANGATE_SCREENSHOT set (a folder, or a file whose folder is used, e.g.
PLANGATE_SCREENSHOT=docs/) to refresh them; otherwise they go to a temporary folder, so a test
run leaves the checkout as it was.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.roles import AUTHORS, REVIEWERS
from notifications.models import Channel, OutboxMessage, OutboxStatus
from plans.models import PlanStep, RiskLevel
from reviews import services
from tests.e2e.browser.conftest import open_page
from tests.e2e.browser.test_csp_browser import Violations
from tests.factories import AdminFactory, AuthorFactory, ReviewerFactory, ready_plan
from tests.insights.kit import clock, decide, submit
from tests.reviewkit import revise

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLES = ["Rate-limit failed logins", "Cache sessions in Redis", "Nightly backup rotation",
          "Split the billing worker", "Rotate API signing keys", "Move uploads to S3",
          "Archive old audit entries", "Faster plan list query", "Webhook retry backoff",
          "Drop the legacy CSV import", "Single sign-on for admins", "Per-team review policy"]


def screenshot_dir(tmp_path) -> Path:
    target = os.environ.get("PLANGATE_SCREENSHOT")
    if not target:
        return tmp_path
    path = Path(target)
    folder = path if path.is_dir() or not path.suffix else path.parent
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def build_history():
    """Six weeks of reviews by rob and rita of alice's and bob's plans, and what waits now."""
    now = timezone.now()
    alice = AuthorFactory(username="alice", first_name="Alice")
    bob = AuthorFactory(username="bob", first_name="Bob")
    rob = ReviewerFactory(username="rob", first_name="Rob")
    rita = ReviewerFactory(username="rita", first_name="Rita")
    AdminFactory(username="ada", first_name="Ada")
    ana = AuthorFactory(username="ana", first_name="Ana", roles=(AUTHORS, REVIEWERS))
    hours = [3, 20, 7, 46, 12, 5, 30, 9, 60, 2, 16, 26]
    outcomes = ["APPROVED", "NEEDS_REVISION", "APPROVED", "REJECTED", "APPROVED",
                "NEEDS_REVISION", "APPROVED", "APPROVED", "NEEDS_REVISION", "APPROVED"]
    sent_back = []
    for i, title in enumerate(TITLES[:10]):
        author = alice if i % 3 else bob
        when = now - timedelta(days=42 - i * 4, hours=i)
        with clock(when - timedelta(hours=2)):
            plan = ready_plan(author=author, title=title)
            if i % 4 == 0:
                PlanStep.objects.filter(plan=plan).update(risk=RiskLevel.HIGH)
        submit(plan, author, when)
        reviewer = rob if i % 2 == 0 else rita
        decide(plan, reviewer, outcomes[i], when + timedelta(hours=hours[i]),
               comment="Split step 2; the rollback needs a tested command.")
        if outcomes[i] == "NEEDS_REVISION":
            sent_back.append((plan, author, reviewer, when))
    # Two come back and are approved; the last stays sent back, for its author to revise.
    for plan, author, reviewer, when in sent_back[:2]:
        with clock(when + timedelta(days=3)):
            plan = revise(plan, author, "Logins are slow at peak; measured at 2.1 s p95.")
        submit(plan, author, when + timedelta(days=3, hours=1))
        decide(plan, reviewer, "APPROVED", when + timedelta(days=3, hours=6))
    last = sent_back[-1][0]
    with clock(now - timedelta(hours=20)):
        services.concern_raise(actor=rita, plan=last, title="No rollback for the migration")
    # Waiting now: one overdue (30 h), one fresh, one resubmitted after rob's review.
    waiting = []
    for title, age in ((TITLES[10], 30), (TITLES[11], 3)):
        with clock(now - timedelta(hours=age + 1)):
            plan = ready_plan(author=alice, title=title)
        waiting.append(submit(plan, alice, now - timedelta(hours=age)))
    services.review_request(actor=alice, plan=waiting[0], users=[rob])
    again = ready_plan(author=alice, title="Webhook signing v2")
    submit(again, alice, now - timedelta(hours=12))
    decide(again, rob, "NEEDS_REVISION", now - timedelta(hours=10),
           comment="Say how receivers rotate the secret.")
    again = revise(again, alice, "Receivers cannot tell a replayed webhook from a new one.")
    submit(again, alice, now - timedelta(hours=1))
    with clock(now - timedelta(days=1)):
        ready_plan(author=alice, title="Draft: read replicas for reports")
    OutboxMessage.objects.create(event="plan.submitted", channel=Channel.EMAIL, recipient=rob,
                                 status=OutboxStatus.FAILED, attempts=5,
                                 subject="alice submitted “Single sign-on for admins”",
                                 last_error="SMTP 451: mailbox temporarily unavailable")
    return {"alice": alice, "rob": rob, "ada": AdminFactory(username="ada"), "ana": ana,
            "plan": sent_back[0][0]}


def test_dashboards_insights_and_workflow_render_without_csp_violations(browser, live_server,
                                                                        caplog, tmp_path):
    world = build_history()
    folder = screenshot_dir(tmp_path)
    violations = Violations(caplog)
    shots = []

    def visit(user, path, name, selector="main", full_page=True):
        page = violations.watch(open_page(browser, live_server, user,
                                          viewport={"width": 1280, "height": 900}))
        try:
            page.goto(path)
            page.wait_for_selector(selector)
            target = folder / f"{name}.png"
            if full_page:
                page.screenshot(path=str(target), full_page=True)
            else:
                page.locator(selector).screenshot(path=str(target))
            shots.append(target)
            return page.locator("main").inner_text()
        finally:
            page.context.close()

    text = visit(world["alice"], "/", "dashboard-author", "#dash-author")
    assert "Sent back to me" in text and "Whose turn" in text
    text = visit(world["rob"], "/", "dashboard-reviewer", "#dash-reviewer")
    assert "Single sign-on for admins" in text and "OVERDUE" in text.upper()
    assert "Changed since your review" in text
    text = visit(world["ada"], "/", "dashboard-admin", "#dash-admin")
    assert "Overdue reviews" in text and "mailbox temporarily unavailable" in text
    visit(world["ada"], "/insights/?date_from=" + (timezone.localdate() - timedelta(days=48))
          .isoformat(), "insights", "#chart-reviewers")
    plan = world["plan"]
    page = violations.watch(open_page(browser, live_server, world["alice"],
                                      viewport={"width": 1280, "height": 900}))
    try:
        page.goto(f"/plans/{plan.pk}/")
        page.click("#workflow details summary")
        page.wait_for_selector(".wf-timeline")
        page.locator("#workflow").screenshot(path=str(folder / "workflow.png"))
        shots.append(folder / "workflow.png")
        assert page.locator(".wf-node.current").get_attribute("data-state") == "APPROVED"
        assert page.locator(".wf-timeline li").count() == 4
    finally:
        page.context.close()
    visit(world["rob"], "/search/?q=rollback", "search", ".search-results")

    assert violations.console == []
    assert violations.errors == []
    assert violations.reports() == []
    assert all(shot.stat().st_size > 10_000 for shot in shots)
