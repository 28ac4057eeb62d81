"""The conversation in a real browser, as in a pull request: a reviewer selects step 2's lines
and comments there, the author replies, the reviewer resolves the thread; a new revision that
leaves step 2 alone keeps the thread beside step 2 (at its new line numbers), one that changes
step 2 marks it outdated. All under the strict CSP, without one violation or script error.

Screenshots of the page at 1280 and 390 px wide go to docs/ when PLANGATE_SCREENSHOT is set
(`PLANGATE_SCREENSHOT=docs/`: docs/conversation-1280.png, docs/conversation-390.png), else to
a temporary folder.
"""

import os
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

from plans import services as plan_services
from reviews import services as review_services
from reviews.models import Comment
from tests.e2e.browser.conftest import open_page
from tests.e2e.browser.test_csp_browser import Violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STEP_2 = textwrap.dedent("""\
    ### Step 2: Move avatars to the new bucket
    **Objective**: Copy every avatar, then switch reads to the new bucket.
    **Actions**:
    - [ ] Copy the objects with `rclone sync`
    - [ ] Switch `AVATAR_BUCKET` in production

    **Dependencies**: Step 1
    **Estimated Time**: 3 hours
    **Risk Level**: High
    """)

PLAN = textwrap.dedent("""\
    # Implementation Plan - Move avatars to the new bucket

    *Created: 2026-11-20*
    *Status: DRAFT*

    ## Problem Statement
    The old bucket is being retired at the end of the quarter.

    ## Proposed Solution
    ### High-Level Approach
    - Copy, switch reads, then delete the old bucket

    ## Implementation Steps

    ### Step 1: Create the bucket
    **Objective**: A bucket with the same policies as the old one.
    **Actions**:
    - [ ] Apply the Terraform module

    **Dependencies**: None
    **Estimated Time**: 1 hour
    **Risk Level**: Low

    {step2}
    ### Step 3: Delete the old bucket
    **Objective**: Nothing reads the old bucket any more.
    **Actions**:
    - [ ] Delete it a week after the switch

    **Dependencies**: Step 2
    **Estimated Time**: 1 hour
    **Risk Level**: Medium

    ## Testing Strategy
    ### Unit Testing
    - Reads fall back to the old bucket while the copy runs

    ## Rollback Plan
    ### If Implementation Fails
    - Switch `AVATAR_BUCKET` back
    """)


def plan_text(problem: str = "The old bucket is being retired at the end of the quarter.",
              step2: str = STEP_2) -> str:
    return PLAN.replace("{step2}", step2).replace(
        "The old bucket is being retired at the end of the quarter.", problem)


def resubmit(plan, author, text):
    plan.refresh_from_db()
    plan_services.plan_withdraw(actor=author, plan=plan)
    plan.refresh_from_db()
    plan = plan_services.plan_import_markdown(actor=author, text=text, plan=plan)
    plan.refresh_from_db()
    plan_services.plan_submit(actor=author, plan=plan)
    return plan


def screenshot_dir(tmp_path) -> Path:
    """PLANGATE_SCREENSHOT=docs/ (a folder) or any other value (docs/ of the checkout)."""
    value = os.environ.get("PLANGATE_SCREENSHOT")
    if not value:
        return tmp_path
    if value.endswith("/") or Path(value).is_dir():
        return Path(value)
    return Path(settings.BASE_DIR) / "docs"


@pytest.fixture
def violations(caplog):
    return Violations(caplog)


def test_comment_on_step_2_reply_resolve_and_follow_revisions(browser, live_server, author,
                                                               reviewer, violations, tmp_path):
    plan = plan_services.plan_import_markdown(actor=author, text=plan_text())
    plan_services.plan_submit(actor=author, plan=plan)
    url = f"/reviews/plan/{plan.pk}/comments/"

    rob = violations.watch(open_page(browser, live_server, reviewer,
                                     viewport={"width": 1280, "height": 1000}))
    alice = violations.watch(open_page(browser, live_server, author,
                                       viewport={"width": 1280, "height": 1000}))
    try:
        # The reviewer clicks step 2's first line number, then Shift-clicks its last one.
        rob.goto(url)
        step2 = rob.locator('.cv-block[data-step="2"]')
        first, last = step2.first, step2.last
        assert "Step 2: Move avatars" in first.inner_text()
        first.locator(".cv-lines").click()
        last.locator(".cv-lines").click(modifiers=["Shift"])
        lines = (int(first.get_attribute("data-from")), int(last.get_attribute("data-to")))
        assert rob.input_value("#cv-from") == str(lines[0])
        assert rob.input_value("#cv-to") == str(lines[1])
        assert step2.evaluate_all("bs => bs.every(b => b.classList.contains('is-selected'))")
        assert rob.locator("#cv-selected").inner_text().startswith(
            f"Commenting on lines {lines[0]}–{lines[1]} (step 2)")
        assert rob.evaluate("document.activeElement.id") == "cv-body"  # focus went to the form
        rob.fill("#cv-body", "What if the copy is half done? Say how to roll back. @alice")
        rob.click("#cv-form button[type=submit]")

        thread = rob.locator(".cv-thread").first
        thread.wait_for()
        comment = Comment.objects.get(plan=plan, parent=None)
        assert (comment.line_from, comment.line_to) == lines
        assert "Step 2 · lines" in thread.locator(".cv-where").inner_text()
        # The thread stands right after step 2's last block.
        assert thread.evaluate("t => t.previousElementSibling.dataset.step") == "2"

        # The author replies in the thread.
        alice.goto(url)
        alice.fill(f"#reply-{comment.pk}", "Re-run the sync; reads switch only at the end.")
        alice.click(f"#thread-{comment.pk} .cv-reply button:text('Reply')")
        alice.locator(f"#thread-{comment.pk} .comment").nth(1).wait_for()
        assert "Re-run the sync" in alice.locator(f"#thread-{comment.pk}").inner_text()

        # The reviewer resolves the thread: it folds away, marked resolved.
        rob.goto(url)
        rob.click(f"#thread-{comment.pk} button:text('Resolve thread')")
        resolved = rob.locator(f"#thread-{comment.pk}")
        resolved.locator(".cv-resolved").wait_for()
        assert not resolved.locator("> details").evaluate("d => d.open")
        comment.refresh_from_db()
        assert comment.resolved_by == reviewer

        # A revision that changes only the problem statement (four lines longer): the thread
        # stays beside step 2, four lines further down, not outdated.
        plan = resubmit(plan, author, plan_text(
            problem="The old bucket is being retired.\n\nIt costs twice as much.\n\nAnd is slow."))
        rob.goto(url)
        moved = rob.locator(f"#thread-{comment.pk}")
        assert moved.evaluate("t => t.previousElementSibling.dataset.step") == "2"
        assert moved.get_attribute("data-from") == str(lines[0] + 4)
        assert moved.locator(".cv-outdated").count() == 0
        assert "unchanged since" in moved.text_content()  # (folded: it is resolved)

        # A revision that changes step 2: the thread is outdated, in the general conversation,
        # quoting the lines it was written on.
        plan = resubmit(plan, author, plan_text(step2=STEP_2.replace(
            "then switch reads", "verify checksums, then switch reads")))
        rob.goto(url)
        outdated = rob.locator(f".cv-general #thread-{comment.pk}")
        outdated.locator(".cv-outdated").wait_for()
        rob.click(f"#thread-{comment.pk}-title")  # resolved threads are folded
        assert "Copy every avatar, then switch reads" in outdated.locator(".cv-quote").inner_text()
        assert rob.locator(f".cv-document #thread-{comment.pk}").count() == 0
        assert outdated.locator(".cv-where").inner_text().startswith("Step 2 · revision 1, lines")

        # A new thread on the current revision, for the screenshots (an open one beside step 2).
        rob.locator('.cv-block[data-step="2"]').nth(1).locator(".cv-lines").click()
        rob.fill("#cv-body", "Checksums: which tool, and what happens on a mismatch?")
        rob.click("#cv-form button[type=submit]")
        rob.locator(".cv-document .cv-thread").first.wait_for()

        # The reviewer's decision, with its comment, is part of the conversation.
        review = review_services.review_start(actor=reviewer, plan=plan)
        review_services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                                      comment="Say how a half-done copy is rolled back.")
        rob.goto(url)
        decision = rob.locator(".cv-general .cv-decision")
        assert "Needs revision" in decision.inner_text()
        assert "half-done copy" in decision.inner_text()

        target = screenshot_dir(tmp_path)
        target.mkdir(parents=True, exist_ok=True)
        rob.set_viewport_size({"width": 1280, "height": 1500})
        rob.evaluate("window.scrollTo(0, 0)")
        rob.screenshot(path=str(target / "conversation-1280.png"))  # header to step 2's thread
        rob.set_viewport_size({"width": 390, "height": 844})
        rob.goto(url)
        assert rob.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
        rob.locator(".cv-document .cv-thread").first.scroll_into_view_if_needed()
        rob.screenshot(path=str(target / "conversation-390.png"))
        assert (target / "conversation-390.png").stat().st_size > 10_000
    finally:
        rob.context.close()
        alice.context.close()
    assert violations.console == [] and violations.errors == []
    assert violations.reports() == []


def test_lines_are_chosen_with_the_keyboard(browser, live_server, author, reviewer, violations):
    plan = plan_services.plan_import_markdown(actor=author, text=plan_text())
    plan_services.plan_submit(actor=author, plan=plan)
    page = violations.watch(open_page(browser, live_server, reviewer,
                                      viewport={"width": 390, "height": 844}))
    try:
        page.goto(f"/reviews/plan/{plan.pk}/comments/")
        blocks = page.locator('.cv-block[data-step="2"]')
        blocks.first.locator(".cv-lines").focus()
        page.keyboard.press("Shift+ArrowDown")
        page.keyboard.press("Shift+ArrowDown")
        start = blocks.first.get_attribute("data-from")
        end = blocks.nth(2).get_attribute("data-to")
        assert (page.input_value("#cv-from"), page.input_value("#cv-to")) == (start, end)
        assert page.evaluate("document.activeElement.closest('.cv-block').id") == (
            blocks.nth(2).get_attribute("id"))  # focus stays on the line numbers
        page.keyboard.press("Enter")  # on the selection's end: write about these lines
        assert (page.input_value("#cv-from"), page.input_value("#cv-to")) == (start, end)
        assert page.evaluate("document.activeElement.id") == "cv-body"
        assert page.locator("#cv-document #new-comment").count() == 1  # under the lines
        page.keyboard.press("Shift+Tab")  # back out of the form ...
        blocks.nth(1).locator(".cv-lines").focus()
        page.keyboard.press("Enter")  # ... Enter elsewhere starts a new one-block selection
        assert page.input_value("#cv-from") == blocks.nth(1).get_attribute("data-from")
        assert page.input_value("#cv-to") == blocks.nth(1).get_attribute("data-to")
        assert page.evaluate("document.activeElement.id") == "cv-body"
        page.keyboard.type("Which production account?")
        page.keyboard.press("Escape")  # cancel: the form goes back, focus to the line number
        assert page.input_value("#cv-from") == ""
        assert page.evaluate("document.activeElement.classList.contains('cv-lines')")
        assert page.locator(".cv-side #new-comment").count() == 1
    finally:
        page.context.close()
    assert violations.console == [] and violations.errors == []
