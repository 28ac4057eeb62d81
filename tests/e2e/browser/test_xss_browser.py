"""The XSS corpus of tests/plans/test_xss.py in a real browser: every payload is put, through the
services as a user would, into fields a user controls (title, every prose section, the review
checklist, steps with their actions and files, success criteria, comments, concerns and review
decisions); then the pages that show them are opened in Chromium with hooks that record any
dialog (alert/confirm/prompt), page error, console error about a script, or request leaving the
live server. None may fire. A control test proves the hooks catch what they should."""

from urllib.parse import urlsplit

import pytest

from plans.services import plan_create, plan_submit, plan_update
from reviews import services as review_services
from reviews.models import Decision
from tests.e2e.browser.conftest import open_page
from tests.plans.test_xss import PAYLOADS
from tests.reviewkit import answer_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROSE = ["problem_statement", "existing_system", "research_findings", "high_level_approach",
         "technical_design", "unit_testing", "integration_testing", "manual_testing",
         "high_risk_items", "medium_risk_items", "risk_dependencies", "rollback_if_fails",
         "rollback_partial", "review_checklist"]


class Corpus:
    """Hands out the payloads in turn, two per field, and remembers which field got which, so
    the test can say that every payload landed somewhere and every field got several."""

    def __init__(self):
        self.next = 0
        self.placed: dict[str, list[str]] = {}

    def take(self, field: str, *, single_line: bool = False) -> str:
        chosen = [PAYLOADS[(self.next + i) % len(PAYLOADS)] for i in range(2)]
        self.next += 2
        self.placed.setdefault(field, []).extend(chosen)
        return (" " if single_line else "\n\n").join(chosen)


def write_plan(corpus: Corpus, author):
    """A draft plan with a payload pair in each of its fields."""
    step = {"title": corpus.take("step.title", single_line=True),
            "objective": corpus.take("step.objective"),
            "dependencies": corpus.take("step.dependencies"),
            "estimate": "1 hour", "risk": "Low",
            "actions": [(corpus.take("action.text", single_line=True), False)],
            "files": [(corpus.take("file.path", single_line=True),
                       corpus.take("file.description", single_line=True))]}
    return plan_create(
        actor=author, title=corpus.take("plan.title", single_line=True), steps=[step],
        success_criteria=[(corpus.take("criterion.text", single_line=True), False)],
        **{name: corpus.take(f"plan.{name}") for name in PROSE})


class Hooks:
    """What a page did that a sanitised page never does."""

    def __init__(self, origin: str):
        self.origin = origin
        self.fired: list[str] = []

    def watch(self, page):
        def on_dialog(dialog):
            self.fired.append(f"{page.url}: {dialog.type}({dialog.message!r})")
            dialog.dismiss()

        def on_console(message):
            if message.type == "error" and "script" in message.text.lower():
                self.fired.append(f"{page.url}: console: {message.text}")

        def on_request(request):
            parts = urlsplit(request.url)
            if parts.scheme in ("http", "https", "ws", "wss") and (
                    f"{parts.scheme}://{parts.netloc}" != self.origin):
                self.fired.append(f"{page.url}: request to {request.url}")

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda exc: self.fired.append(f"{page.url}: pageerror: {exc}"))
        page.on("console", on_console)
        page.on("request", on_request)
        # Nothing leaves the machine: a foreign request is recorded above, then refused here.
        page.context.route(lambda url: not url.startswith(self.origin),
                           lambda route: route.abort())
        return page

    def visit(self, page, path: str, shows: str = "") -> None:
        """Open `path` (a 200), and when given, check that `shows` is on it as plain text:
        the payloads reached the page, escaped, rather than being dropped."""
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, response and
                                                                   response.status)
        page.wait_for_load_state("load")
        if shows:
            assert shows in page.inner_text("body"), path


def test_no_payload_runs_on_any_page_that_shows_it(browser, live_server, author, reviewer):
    corpus = Corpus()
    revised, approved, draft = (write_plan(corpus, author) for _ in range(3))

    # Revised: two revisions, a diff between them, comments, a concern, a review sent back.
    plan_submit(actor=author, plan=revised)
    review = review_services.review_start(actor=reviewer, plan=revised)
    first = review_services.comment_post(actor=author, plan=revised,
                                         body=corpus.take("comment.body"))
    review_services.comment_post(actor=reviewer, plan=revised, parent=first,
                                 body=corpus.take("comment.body"))
    review_services.concern_raise(actor=reviewer, plan=revised,
                                  title=corpus.take("concern.title", single_line=True),
                                  body=corpus.take("concern.body"))
    review_services.review_decide(actor=reviewer, review=review,
                                  decision=Decision.NEEDS_REVISION,
                                  comment=corpus.take("review.comment"))
    plan_update(actor=author, plan=revised,
                fields={"problem_statement": corpus.take("plan.problem_statement")})
    revised.refresh_from_db()
    plan_submit(actor=author, plan=revised)

    # Approved: a decision with a comment, and its certificate.
    plan_submit(actor=author, plan=approved)
    approval = review_services.review_start(actor=reviewer, plan=approved)
    answer_all(approval, reviewer)
    review_services.review_decide(actor=reviewer, review=approval, decision=Decision.APPROVED,
                                  comment=corpus.take("review.comment"))

    placed = {p for values in corpus.placed.values() for p in values}
    assert placed == set(PAYLOADS)
    assert min(len(values) for values in corpus.placed.values()) >= 2

    hooks = Hooks(live_server.url)
    page = hooks.watch(open_page(browser, live_server, author))
    try:
        for plan in (revised, approved, draft):
            hooks.visit(page, f"/plans/{plan.pk}/", shows=plan.title)
        hooks.visit(page, "/plans/")
        hooks.visit(page, "/")  # the dashboard: titles, reviewers' feedback, concerns
        hooks.visit(page, "/search/?q=e")  # highlighted excerpts of steps and comments
        hooks.visit(page, f"/reviews/plan/{revised.pk}/comments/",
                    shows=PAYLOADS[0])
        hooks.visit(page, f"/plans/{revised.pk}/revisions/")
        hooks.visit(page, f"/plans/{revised.pk}/revisions/1/")
        hooks.visit(page, f"/plans/{revised.pk}/revisions/2/")
        hooks.visit(page, f"/plans/{revised.pk}/revisions/diff/")
        hooks.visit(page, f"/reviews/plan/{approved.pk}/certificate/", shows=approved.title)
        # The editor: values sit in inputs and textareas; the live preview renders one.
        hooks.visit(page, f"/plans/{draft.pk}/edit/")
        assert page.input_value("#id_title") == draft.title
        page.fill("#id_problem_statement", "\n\n".join(PAYLOADS))
        page.wait_for_function(
            "() => document.querySelector('.markdownx-preview')?.textContent.includes('click')")
    finally:
        page.context.close()

    page = hooks.watch(open_page(browser, live_server, reviewer))
    try:
        hooks.visit(page, f"/reviews/{review.pk}/")
        hooks.visit(page, f"/reviews/{approval.pk}/")
        hooks.visit(page, f"/reviews/plan/{revised.pk}/comments/")
        hooks.visit(page, "/")  # the reviewer's dashboard
    finally:
        page.context.close()

    assert hooks.fired == []


def test_the_hooks_catch_a_dialog_a_page_error_a_script_error_and_a_foreign_request(
        signed_in_page, live_server):
    """The control: a page that does run script trips every hook, so a pass above means
    something."""
    hooks = Hooks(live_server.url)
    page = hooks.watch(signed_in_page)
    page.set_content("<script>alert(1)</script>")
    assert len(hooks.fired) == 1 and "alert('1')" in hooks.fired[0]

    page.set_content('<script>throw new Error("boom")</script>'
                     '<img src="http://evil.example/x.png">')
    assert any("pageerror: boom" in text for text in hooks.fired)
    assert any("request to http://evil.example/x.png" in text for text in hooks.fired)

    hooks.fired.clear()
    hooks.visit(page, "/plans/")  # under the app's CSP an injected inline script is refused
    page.evaluate("""() => { const s = document.createElement("script");
                             s.textContent = "alert(1)"; document.body.append(s); }""")
    page.wait_for_function("() => true")
    assert any("console:" in text and "script" in text.lower() for text in hooks.fired)
