"""The editor in a real browser: two steps, reorder them with htmx, save, see them in order."""

import pytest

from plans.models import Plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_plan_with_two_steps_reorder_save_and_read_in_order(signed_in_page, author):
    page = signed_in_page
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/plans/new/")
    page.fill("#id_title", "Browser plan")
    page.fill("#id_problem_statement", "Logins are **slow**")
    page.fill("#id_steps-0-title", "Write the cache")
    page.fill("#id_steps-0-estimate", "2 hours")

    # Add a second step without a page reload: the typed first step survives the swap.
    page.evaluate("() => (window.__not_reloaded = true)")
    page.click("button.step-add")
    page.wait_for_selector("#id_steps-1-title")
    assert page.input_value("#id_steps-0-title") == "Write the cache"
    page.fill("#id_steps-1-title", "Measure first")
    page.fill("#id_steps-1-estimate", "30 minutes")
    page.select_option("#id_steps-1-risk", "high")

    # Move the second step up.
    page.click('fieldset[data-step="1"] button.step-up')
    page.wait_for_function(
        "() => document.querySelector('#id_steps-0-title').value === 'Measure first'")
    assert page.input_value("#id_steps-1-title") == "Write the cache"
    assert page.evaluate("() => window.__not_reloaded") is True  # htmx swapped, no reload
    assert "2.5 h" in page.inner_text("#plan-totals")

    # The live preview goes through the sanitising renderer.
    page.wait_for_function(
        "() => document.querySelector('.markdownx-preview strong')?.textContent === 'slow'")

    page.click("button.primary[name=save]")
    page.wait_for_url("**/plans/*/")
    titles = page.locator(".plan-step h3").all_inner_texts()
    assert titles == ["Step 1: Measure first", "Step 2: Write the cache"]
    assert "2.5 h" in page.inner_text(".document .totals")
    assert errors == []

    plan = Plan.objects.get(title="Browser plan")
    assert list(plan.steps.values_list("title", flat=True)) == ["Measure first",
                                                                 "Write the cache"]
