"""The app under its Content-Security-Policy in a real browser: the main pages, with their htmx
swaps, the editor's live preview, Swagger UI and the admin, run without one violation (neither a
console message from Chromium nor a report reaching /csp-report/)."""

import time

import pytest

from plans.services import plan_import_markdown, plan_submit
from reviews import services as review_services
from tests.e2e.browser.conftest import open_page
from tests.e2e.browser.test_review_page_browser import PLAN  # a table, task list, code, alert
from tests.factories import AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Violations:
    """Collects what a page reports: CSP console messages, page errors, reports received."""

    def __init__(self, caplog):
        self.caplog = caplog
        caplog.set_level("WARNING", logger="plangate.csp")
        self.console: list[str] = []
        self.errors: list[str] = []

    def watch(self, page):
        page.on("console", lambda message: "Content Security Policy" in message.text
                and self.console.append(f"{page.url}: {message.text}"))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return page

    def reports(self) -> list[str]:
        return [r.getMessage() for r in self.caplog.records if r.name == "plangate.csp"]

    def wait_for_report(self, seconds: float = 10.0) -> list[str]:
        """Reports are sent by the browser in the background: poll for one, up to `seconds`."""
        deadline = time.monotonic() + seconds
        while not self.reports() and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.reports()


@pytest.fixture
def violations(caplog):
    return Violations(caplog)


def test_the_main_pages_run_without_a_csp_violation(browser, live_server, author, reviewer,
                                                   violations):
    plan = plan_import_markdown(actor=author, text=PLAN)
    plan_submit(actor=author, plan=plan)
    review = review_services.review_start(actor=reviewer, plan=plan)

    page = violations.watch(open_page(browser, live_server, author))
    try:
        # The editor: add a step through htmx, and the live Markdown preview (markdownx).
        page.goto("/plans/new/")
        page.fill("#id_problem_statement", "Logins are **slow**")
        page.click("button.step-add")
        page.wait_for_selector("#id_steps-1-title")
        page.wait_for_function(
            "() => document.querySelector('.markdownx-preview strong')?.textContent === 'slow'")
        page.goto(f"/plans/{plan.pk}/")
        cell = page.locator("article.document td.align-right").first  # "|---:|" in the table
        assert cell.evaluate("td => getComputedStyle(td).textAlign") == "right"
        page.goto(f"/reviews/plan/{plan.pk}/comments/")
        page.wait_for_selector("ol.comments")
        page.goto("/api/docs/")  # Swagger UI from the sidecar, its init script as a file
        page.wait_for_selector(".swagger-ui .info .title")
        page.wait_for_selector(".swagger-ui .opblock")
    finally:
        page.context.close()

    page = violations.watch(open_page(browser, live_server, reviewer))
    try:
        page.goto(f"/reviews/{review.pk}/")
        first = page.locator("li.check-item").first
        first.locator("input[value=yes]").check()  # answered through htmx
        page.wait_for_selector("li.check-item .saved")
    finally:
        page.context.close()

    page = violations.watch(open_page(browser, live_server, AdminFactory(username="ada")))
    try:
        page.goto("/admin/")
        page.wait_for_selector("#site-name")
        page.goto("/admin/plans/plan/")
        page.wait_for_selector("#result_list")
        page.goto(f"/admin/plans/plan/{plan.pk}/change/")
        page.wait_for_selector("#content-main form")
        page.goto("/admin/reviews/checklisttemplate/add/")  # editable inlines, "add another"
        page.click(".add-row a")
        page.wait_for_selector("#groups-0")  # a row added by the admin's inlines.js
        page.goto("/admin/notifications/webhookendpoint/add/")
        page.wait_for_selector("#content-main form")
        page.goto("/audit/")
        page.wait_for_selector("main")
    finally:
        page.context.close()

    page = violations.watch(browser.new_context(base_url=live_server.url).new_page())
    try:
        page.goto("/accounts/login/")
        page.wait_for_selector("form")
    finally:
        page.context.close()

    assert violations.console == []
    assert violations.errors == []
    assert violations.reports() == []


def test_an_inline_style_is_blocked_reported_and_caught_by_these_hooks(signed_in_page,
                                                                     violations):
    """The hooks above can fail: an inline style attribute is refused, Chromium says so in the
    console, and its report reaches /csp-report/ and is logged."""
    page = violations.watch(signed_in_page)
    page.goto("/plans/")
    page.evaluate("""() => document.querySelector("main").insertAdjacentHTML(
        "beforeend", '<p id="styled" style="color: rgb(255, 0, 0)">x</p>')""")
    assert page.evaluate(
        "() => getComputedStyle(document.getElementById('styled')).color") != "rgb(255, 0, 0)"
    reports = violations.wait_for_report()
    assert any("style-src" in text for text in violations.console)
    assert len(reports) == 1 and "style-src" in reports[0] and "/plans/" in reports[0]
