"""The plan page's cached parts: its laid-out document (and steps) are never stale after a write,
its panels come from the registry (plans/panels.py), and the active policy is read once."""

import re

import pytest
from django.urls import reverse
from django.utils.html import format_html

from plans import panels, services
from plans.models import Plan
from reviews import policy
from reviews import services as review_services
from tests.factories import ReviewerFactory, ready_plan

pytestmark = pytest.mark.django_db


def page(client, plan) -> str:
    response = client.get(reverse("plans:detail", args=[plan.pk]))
    assert response.status_code == 200
    return response.content.decode()


def steps_of(plan) -> list[dict]:
    return [{"id": s.pk, "title": s.title, "objective": s.objective, "estimate": s.estimate,
             "risk": s.risk, "actions": [(a.text, a.done) for a in s.actions.all()]}
            for s in plan.steps.all()]


def without_tokens(html: str) -> str:
    """The page without what changes on every response (CSRF tokens, CSP nonces)."""
    return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", re.sub(r'nonce="[^"]*"', "", html))


def test_an_edit_shows_at_once_though_the_page_was_cached(author_client, author):
    plan = ready_plan(author=author, title="Cache me")
    before = page(author_client, plan)
    # The second view is served from the cache.
    assert without_tokens(page(author_client, plan)) == without_tokens(before)
    steps = steps_of(plan)
    steps[0].update(title="Renamed step", estimate="3 hours", risk="high",
                    actions=[("Write the *new* action", True)])
    # Only the steps and criteria change (the plan's own texts, also in the cache key, do not).
    services.plan_update(actor=author, plan=Plan.objects.get(pk=plan.pk), steps=steps,
                         success_criteria=[("A fresh criterion", False)])
    after = page(author_client, plan)
    assert "Renamed step" in after
    assert "Write the <em>new</em> action" in after and "A fresh criterion" in after
    assert "data-total-hours>3 h" in after and 'class="risk-high" data-highest-risk' in after
    assert "Submitting will require" in after and "because a step is High risk" in after


def test_an_import_over_a_draft_shows_at_once(author_client, author):
    plan = ready_plan(author=author)
    page(author_client, plan)
    services.plan_import_markdown(actor=author, plan=Plan.objects.get(pk=plan.pk), text=(
        "# Implementation Plan - Imported title\n\n## Problem Statement\n\nImported problem.\n\n"
        "## Implementation Steps\n\n### Step 1: Imported step\n\n**Objective**: Do it.\n"))
    after = page(author_client, plan)
    assert "Imported problem." in after and "Imported step" in after


def test_a_resubmission_shows_the_revised_content_and_status(client, author):
    plan = ready_plan(author=author)
    services.plan_submit(actor=author, plan=plan)
    reviewer = ReviewerFactory()
    review = review_services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    assert "Pending review" in page(client, plan)
    review_services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                                  comment="Say more.")
    plan = Plan.objects.get(pk=plan.pk)
    steps = steps_of(plan)
    steps[0]["title"] = "Revised after review"
    services.plan_update(actor=author, plan=plan, steps=steps)
    services.plan_submit(actor=author, plan=Plan.objects.get(pk=plan.pk))
    after = page(client, plan)
    assert "Revised after review" in after and "revision 2" in after


def test_the_cached_page_is_the_page_laid_out_afresh(author_client, author):
    plan = ready_plan(author=author)
    fresh = page(author_client, plan)
    assert without_tokens(page(author_client, plan)) == without_tokens(fresh)


def test_the_page_renders_every_registered_panel_in_order(author_client, author, monkeypatch):
    seen = []

    def panel(name):
        def render(request, plan, shared):
            seen.append((name, shared.setdefault("calls", 0)))
            shared["calls"] += 1
            return format_html('<div data-test-panel="{}"></div>', name)
        return render

    registry = dict(panels._PANELS)
    monkeypatch.setattr(panels, "_PANELS", registry)
    panels.register("zz-side", order=99, render=panel("zz-side"))
    panels.register("aa-top", order=-1, render=panel("aa-top"), place=panels.TOP)
    panels.register("empty", order=5, render=lambda request, plan, shared: "")
    plan = ready_plan(author=author)
    html = page(author_client, plan)
    # One dict for the whole page, handed to each panel in order.
    assert seen == [("aa-top", 0), ("zz-side", 1)]
    side = html.index('class="layout-side"')
    assert html.index('data-test-panel="aa-top"') < side < html.index('data-test-panel="zz-side"')
    # The apps' own panels: the workflow above, the review panel and the policy preview beside.
    assert {"workflow", "review", "policy", "implementation"} <= set(registry)
    assert html.index('id="workflow"') < side < html.index('id="review-panel"')
    assert html.index('id="review-panel"') < html.index("data-policy-preview")


def test_a_panel_output_is_escaped_unless_it_is_safe_html(author_client, author, monkeypatch):
    monkeypatch.setattr(panels, "_PANELS", {})
    panels.register("plain", order=1, render=lambda request, plan, shared: "<b>raw</b>")
    html = page(author_client, ready_plan(author=author))
    assert "&lt;b&gt;raw&lt;/b&gt;" in html and "<b>raw</b>" not in html


def test_register_refuses_an_unknown_place():
    with pytest.raises(ValueError):
        panels.register("nowhere", order=1, render=lambda *a: "", place="footer")


def test_the_active_policy_is_read_once_per_page(author_client, author, monkeypatch):
    calls = []
    real = policy.active_policy
    monkeypatch.setattr(policy, "active_policy", lambda: calls.append(1) or real())
    html = page(author_client, ready_plan(author=author))
    assert "Submitting will require" in html and 'id="review-panel"' in html
    assert len(calls) == 1


def test_the_diff_of_other_revisions_is_not_the_cached_one(author_client, author):
    plan = ready_plan(author=author)
    services.plan_submit(actor=author, plan=plan)
    for text in ("Second problem.", "Third problem."):
        plan = services.plan_withdraw(actor=author, plan=Plan.objects.get(pk=plan.pk))
        services.plan_update(actor=author, plan=plan, fields={"problem_statement": text})
        services.plan_submit(actor=author, plan=Plan.objects.get(pk=plan.pk))
    url = reverse("plans:diff", args=[plan.pk])
    first = author_client.get(url + "?from=1&to=2").content.decode()
    second = author_client.get(url + "?from=2&to=3").content.decode()
    assert "+ Second problem." in first and "Third problem." not in first
    assert "- Second problem." in second and "+ Third problem." in second
    assert without_tokens(author_client.get(url + "?from=1&to=2").content.decode()) == (
        without_tokens(first))


def test_the_list_filters_keep_what_was_chosen_and_rows_link_their_plans(author_client, author):
    plan = ready_plan(author=author)
    html = author_client.get(reverse("plans:list") + "?status=DRAFT&risk=high").content.decode()
    assert '<select name="status" id="id_status">' in html
    assert '<option value="DRAFT" selected>Draft</option>' in html
    assert '<option value="high" selected>High</option>' in html
    assert '<option value="" selected>Any status</option>' not in html
    html = author_client.get(reverse("plans:list")).content.decode()
    assert '<option value="" selected>Any status</option>' in html
    assert f'<td><a href="{plan.get_absolute_url()}">{plan}</a></td>' in html


def list_row(client, plan) -> str:
    html = client.get(reverse("plans:list")).content.decode()
    return html.split(f">{plan.title}</a>", 1)[1].split("</tr>", 1)[0]


def test_the_lists_step_figures_change_at_once_though_they_were_cached(author_client, author):
    plan = ready_plan(author=author, title="Listed")  # one step: 2 hours, low risk
    assert "<td>1</td>" in list_row(author_client, plan)
    assert ">Low<" in list_row(author_client, plan)  # from the cache
    steps = steps_of(plan)
    steps[0].update(estimate="3 hours", risk="high")
    steps.append({"title": "Second", "objective": "More", "estimate": "1.5 hours",
                  "risk": "medium", "actions": []})
    services.plan_update(actor=author, plan=Plan.objects.get(pk=plan.pk), steps=steps)
    row = list_row(author_client, plan)
    assert "<td>2</td>" in row and "<td>4.5</td>" in row and ">High<" in row
