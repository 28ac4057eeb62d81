"""The review page in a real browser: a reviewer opens an imported plan whose steps hold a task
list, a table and a fenced code block, and sees them rendered (not run-on Markdown).

The README's screenshot (docs/screenshot.png) comes from this test: run it with
PLANGATE_SCREENSHOT=docs/screenshot.png to refresh it; otherwise the screenshot goes to a
temporary folder, so a test run leaves the checkout as it was.
"""

import os
import textwrap
from pathlib import Path

import pytest

from plans import services as plan_services
from reviews import services as review_services
from tests.e2e.browser.conftest import open_page
from tests.factories import AuthorFactory
from tests.reviewkit import items_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAN = textwrap.dedent("""\
    # Implementation Plan - Rate-limit failed logins

    *Created: 2026-11-20*
    *Status: DRAFT*

    > [!IMPORTANT]
    > Ships behind the `LOGIN_RATE_LIMIT` flag; off by default.

    ## Problem Statement
    Credential-stuffing bots hit `/accounts/login/` about 40,000 times a day, and the database
    spends a third of its CPU hashing passwords for failed attempts.

    | Source | Failed logins / day |
    |--------|--------------------:|
    | 300 IP addresses | 36,800 |
    | Everyone else | 3,200 |

    ## Implementation Steps

    ### Step 1: Count failures per IP and account
    **Objective**: Refuse the 6th failed login in a minute before the password is hashed.
    **Actions**:
    - [x] Pick the limits with the support team
    - [ ] Add `LoginRateLimiter` on top of the Redis cache
    - [ ] Answer *429 Too Many Requests* with a `Retry-After` header

    ```python
    def allow(ip: str, username: str) -> bool:
        key = f"login-fail:{ip}:{username}"
        return cache.get(key, 0) < FAILURES_PER_MINUTE
    ```

    **Files to Modify/Create**:
    - `accounts/ratelimit.py` - the limiter
    - `accounts/views.py` - call it before authenticating

    **Dependencies**: Redis 7 (already the cache)
    **Estimated Time**: 3 hours
    **Risk Level**: Medium

    ## Testing Strategy
    ### Unit Testing
    - The 6th failure in a minute is a 429; a success resets the count

    ## Rollback Plan
    ### If Implementation Fails
    - Turn `LOGIN_RATE_LIMIT` off; nothing else changes
    """)


@pytest.fixture
def reviewer_page(browser, live_server, reviewer):
    page = open_page(browser, live_server, reviewer, viewport={"width": 1280, "height": 1760})
    yield page
    page.context.close()


def test_reviewer_sees_the_steps_task_list_table_and_code_rendered(reviewer_page, reviewer,
                                                                   tmp_path):
    alice = AuthorFactory(username="alice", first_name="Alice")
    plan = plan_services.plan_import_markdown(actor=alice, text=PLAN)
    plan_services.plan_submit(actor=alice, plan=plan)
    review = review_services.review_start(actor=reviewer, plan=plan)
    for item in items_of(review)[:4]:
        review_services.review_answer(actor=reviewer, review=review, item=item, answer="yes")

    page = reviewer_page
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"/reviews/{review.pk}/")
    document = page.locator("article.document")

    step = document.locator("section.plan-step").first
    assert step.locator("h3").inner_text() == "Step 1: Count failures per IP and account"
    boxes = step.locator("ul.checklist input[type=checkbox]")
    assert boxes.count() == 3
    assert [boxes.nth(i).is_checked() for i in range(3)] == [True, False, False]
    assert all(boxes.nth(i).is_disabled() for i in range(3))
    assert "def allow(ip: str, username: str) -> bool:" in step.locator(
        "pre code.language-python").inner_text()
    cells = document.locator("table td").all_inner_texts()
    assert cells[:2] == ["300 IP addresses", "36,800"]
    assert document.locator(".markdown-alert-important .markdown-alert-title").inner_text() == (
        "Important")
    assert "**Actions**" not in document.inner_text()
    assert errors == []

    target = Path(os.environ.get("PLANGATE_SCREENSHOT") or tmp_path / "review.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target))  # the viewport: header, plan, checklist
    assert target.stat().st_size > 10_000
