"""In Chromium: the styled 404 page (in the app's layout, under the CSP) and the editor's
unsaved-changes warning (static/js/editor.js): leaving with typed text asks first, saving does
not."""

import re
import time
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from plans import services
from plans.models import Plan
from tests.e2e.browser.test_csp_browser import Violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_404_page_is_styled_and_links_home(signed_in_page, caplog):
    violations = Violations(caplog)
    page = violations.watch(signed_in_page)
    response = page.goto("/no-such-page/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "There is nothing here"
    # The stylesheet applied: the card is white on the grey page, the top bar dark.
    assert page.eval_on_selector(".error-page", "e => getComputedStyle(e).backgroundColor") \
        == "rgb(255, 255, 255)"
    assert page.eval_on_selector(".topbar", "e => getComputedStyle(e).backgroundColor") \
        == "rgb(20, 33, 61)"
    assert page.evaluate("() => fetch('/favicon.ico').then(r => r.status)") == 200
    with page.expect_navigation():
        page.click("text=Go to the home page")
    assert urlparse(page.url).path == "/"  # home: the dashboard
    assert violations.console == [] and violations.errors == []


def stays_on_page(page) -> list[str]:
    """The types of the dialogs the page shows, each answered "Stay on page"."""
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def test_leaving_the_editor_with_unsaved_text_asks_first(signed_in_page, author):
    page = signed_in_page
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    dialogs = stays_on_page(page)
    page.goto("/plans/new/")
    page.click("#id_title")
    page.keyboard.type("Half-written plan")
    page.click("nav.mainnav >> text=All plans")
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert page.url.endswith("/plans/new/")
    assert page.input_value("#id_title") == "Half-written plan"

    # Saving is not leaving: no dialog, and the plan is saved (the blank step is ignored).
    page.click("button.primary[name=save]")
    page.wait_for_url("**/plans/*/")
    assert dialogs == ["beforeunload"]
    assert Plan.objects.get().title == "Half-written plan"
    assert errors == []


def test_an_untouched_editor_leaves_without_asking(signed_in_page):
    page = signed_in_page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.goto("/plans/new/")
    page.click("nav.mainnav >> text=All plans")
    page.wait_for_url("**/plans/")
    assert dialogs == []


def test_the_new_pages_run_under_the_csp(browser, live_server, author, caplog):
    """Profile, password change, import (with its duplicate question), archived list, the
    audit trail with grouped answers: no CSP violation, no script error."""
    from plans.services import plan_import_markdown
    from tests.audit_support import approve_through_services
    from tests.e2e.browser.conftest import open_page
    from tests.factories import AdminFactory, ReviewerFactory

    violations = Violations(caplog)
    text = "# Implementation Plan - Twice\n\n## Problem Statement\nSame file.\n"
    plan_import_markdown(actor=author, text=text)
    page = violations.watch(open_page(browser, live_server, author))
    for path in ("/accounts/profile/", "/accounts/profile/password/", "/plans/import/",
                 "/plans/?archived=1"):
        assert page.goto(path).status == 200, path
    page.goto("/plans/import/")
    page.fill("#id_text", text)
    page.click("button.primary")
    page.wait_for_selector("[data-duplicate-import]")
    assert "Import anyway as a new plan" in page.inner_text("form.card")
    page.context.close()

    approve_through_services(author=author, reviewer=ReviewerFactory(username="rob"))
    admin = violations.watch(open_page(browser, live_server, AdminFactory(username="ada")))
    admin.goto("/audit/")
    admin.click("tr.audit-group summary")
    assert admin.locator("tr.audit-group ul.audit-group-entries li").count() > 5
    admin.context.close()
    assert violations.console == [] and violations.errors == []


def test_a_second_click_on_save_while_it_is_saving_makes_no_second_draft(
        signed_in_page, author, monkeypatch):
    """static/js/plangate.js: a form is posted once, however quickly its button is clicked again
    (here the server takes a moment to save, as a busy one does)."""
    create = services.plan_create

    def slow_create(**kwargs):
        time.sleep(0.4)
        return create(**kwargs)

    monkeypatch.setattr(services, "plan_create", slow_create)
    page = signed_in_page
    page.goto("/plans/new/")
    page.fill("#id_title", "Clicked twice")
    # Both clicks in the page, the second while the first POST is being answered.
    page.evaluate("""() => {
      const save = document.querySelector("button.primary[name=save]");
      save.click();
      setTimeout(() => save.click(), 100);
    }""")
    expect(page).to_have_url(re.compile(r".*/plans/\d+/$"))
    page.wait_for_timeout(800)  # a second POST, had one been sent, has been answered
    assert list(Plan.objects.values_list("title", flat=True)) == ["Clicked twice"]
    assert page.locator("h1").inner_text().endswith("Clicked twice")


def test_staying_on_the_editor_after_leave_site_lets_the_form_be_sent_again(signed_in_page):
    """A form sent once (static/js/plangate.js) can be sent again when the user chose to stay."""
    page = signed_in_page
    dialogs = stays_on_page(page)
    page.goto("/plans/new/")
    page.fill("#id_title", "Half-written plan")
    for _ in range(2):
        page.click("form.inline button", no_wait_after=True)  # Log out
        page.wait_for_timeout(500)
    assert dialogs == ["beforeunload", "beforeunload"]
    assert page.url.endswith("/plans/new/")
