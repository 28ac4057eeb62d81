"""The plan and review pages in Debian's chromium (issue #12): usable at 390 x 844 (nothing
cut off, no sideways scrolling, a compact nav, the checklist reachable without scrolling past
the plan), and a review answered and decided with the keyboard alone, focus never dropped.

Screenshots at 1280 and 390 wide of both pages go to docs/ (plan-1280.png, plan-390.png,
review-1280.png, review-390.png) when PLANGATE_SCREENSHOT is set; otherwise to a temporary
folder, so a test run leaves the checkout as it was.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from plans import services as plan_services
from reviews import services as review_services
from reviews.models import ChecklistAnswer
from tests.e2e.browser.conftest import open_page
from tests.e2e.browser.test_review_page_browser import PLAN
from tests.factories import AuthorFactory
from tests.reviewkit import items_of, revise

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
DOCS = Path(__file__).resolve().parents[3] / "docs"


def shots_dir(tmp_path) -> Path:
    return DOCS if os.environ.get("PLANGATE_SCREENSHOT") else tmp_path


@pytest.fixture
def alice(db):
    return AuthorFactory(username="alice", first_name="Alice")


@pytest.fixture
def pages(browser, live_server):
    opened = []

    def page_for(user, viewport):
        page = open_page(browser, live_server, user, viewport=viewport)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        opened.append(page)
        return page

    errors: list[str] = []
    page_for.errors = errors
    yield page_for
    for page in opened:
        page.context.close()


def no_sideways_scroll(page) -> None:
    width, inner = page.evaluate(
        "[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url} scrolls sideways: {width} > {inner}"


def in_viewport(page, locator) -> None:
    box = locator.bounding_box()
    assert box is not None, "not displayed"
    size = page.viewport_size
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], box


def submitted(alice):
    plan = plan_services.plan_import_markdown(actor=alice, text=PLAN)
    plan_services.plan_submit(actor=alice, plan=plan)
    return plan


def test_plan_page_at_390_shows_its_actions_and_a_compact_nav(pages, alice, reviewer, tmp_path):
    draft = plan_services.plan_import_markdown(actor=alice, text=PLAN)
    page = pages(alice, PHONE)
    page.goto(f"/plans/{draft.pk}/")
    no_sideways_scroll(page)
    in_viewport(page, page.get_by_role("button", name="Submit for review"))
    # The nav folds behind Menu: the bar is one line, far from a third of the screen.
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] < 844 / 8
    assert not page.get_by_role("link", name="All plans").is_visible()
    page.get_by_role("button", name="Menu").click()
    assert page.get_by_role("link", name="All plans").is_visible()
    assert page.get_by_role("button", name="Menu").get_attribute("aria-expanded") == "true"
    no_sideways_scroll(page)

    plan_services.plan_submit(actor=alice, plan=draft)
    rob = pages(reviewer, PHONE)
    rob.goto(f"/plans/{draft.pk}/")
    no_sideways_scroll(rob)
    in_viewport(rob, rob.get_by_role("button", name="Start review"))
    # The plan's table scrolls inside itself, not the page.
    table = rob.locator("article.document table").first
    assert table.evaluate("t => getComputedStyle(t).overflowX") == "auto"
    rob.screenshot(path=str(shots_dir(tmp_path) / "plan-390.png"))
    wide = pages(reviewer, DESKTOP)
    wide.goto(f"/plans/{draft.pk}/")
    no_sideways_scroll(wide)
    in_viewport(wide, wide.get_by_role("button", name="Start review"))
    side = wide.locator("aside.layout-side").bounding_box()
    document = wide.locator("article.document").bounding_box()
    assert side["x"] > document["x"] + document["width"] - 1  # wide: the panel on the right
    wide.screenshot(path=str(shots_dir(tmp_path) / "plan-1280.png"))
    assert pages.errors == []


def test_review_page_at_390_reaches_the_checklist_without_the_plan(pages, alice, reviewer,
                                                                  tmp_path):
    plan = submitted(alice)
    review = review_services.review_start(actor=reviewer, plan=plan)
    for item in items_of(review)[:3]:
        review_services.review_answer(actor=reviewer, review=review, item=item, answer="yes")
    page = pages(reviewer, PHONE)
    page.goto(f"/reviews/{review.pk}/")
    no_sideways_scroll(page)
    in_viewport(page, page.locator("nav.review-jump").get_by_role("link", name="Checklist"))
    checklist = page.locator("#checklist")
    document = page.locator("article.document")
    assert checklist.bounding_box()["y"] < document.bounding_box()["y"]  # before the plan
    assert checklist.bounding_box()["y"] < 844  # starts in the first screenful
    page.screenshot(path=str(shots_dir(tmp_path) / "review-390.png"))
    # The jump links stay at hand further down, and bring each part into view.
    page.locator("nav.review-jump").get_by_role("link", name="Plan", exact=True).click()
    in_viewport(page, page.locator("nav.review-jump"))
    page.locator("nav.review-jump").get_by_role("link", name="Decision").click()
    in_viewport(page, page.get_by_role("button", name="Record decision"))
    no_sideways_scroll(page)

    wide = pages(reviewer, DESKTOP)
    wide.goto(f"/reviews/{review.pk}/")
    no_sideways_scroll(wide)
    assert not wide.locator("nav.review-jump").is_visible()
    assert wide.locator("#checklist").bounding_box()["x"] > wide.locator(
        "article.document").bounding_box()["x"]
    wide.screenshot(path=str(shots_dir(tmp_path) / "review-1280.png"))
    assert pages.errors == []


def posts_to(page, path: str) -> list:
    seen = []
    page.on("request", lambda r: r.method == "POST" and path in r.url and seen.append(r))
    return seen


def active(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e ? e.tagName : null, id: e ? e.id : null, type: e ? e.type : null,
                outline: e ? getComputedStyle(e).outlineStyle : null}; }""")


def test_a_whole_review_with_the_keyboard_alone(pages, alice, reviewer):
    plan = submitted(alice)
    review = review_services.review_start(actor=reviewer, plan=plan)
    items = items_of(review)
    page = pages(reviewer, PHONE)
    page.goto(f"/reviews/{review.pk}/")
    saves = posts_to(page, "/answer/")

    for _ in range(60):  # Tab from the top of the page to the first answer
        page.keyboard.press("Tab")
        if active(page)["id"] == f"answer-{items[0].pk}-yes":
            break
    else:
        pytest.fail("Tab never reached the first checklist answer")
    assert active(page)["outline"] not in ("none", None)  # focus is visible

    for number, item in enumerate(items, start=1):
        assert active(page)["id"] == f"answer-{item.pk}-yes", number
        with page.expect_response(lambda r: "/answer/" in r.url):
            page.keyboard.press("Space")
        expect(page.locator("#checklist-count")).to_contain_text(f"{number} / 15 answered")
        focused = active(page)
        assert focused["tag"] != "BODY" and focused["id"] == f"answer-{item.pk}-yes", number
        page.keyboard.press("Tab")  # to the note
        assert active(page)["id"] == f"note-{item.pk}"
        page.keyboard.press("Tab")  # to the next item's answers, or the decision
    assert len(saves) == 15
    assert ChecklistAnswer.objects.filter(review=review, answer="yes").count() == 15

    decision = active(page)
    assert decision["type"] == "radio" and decision["id"].startswith("id_decision")
    page.keyboard.press("Space")  # Approve (the first choice)
    page.keyboard.press("Tab")
    page.keyboard.type("All fifteen checked with the keyboard.")
    page.keyboard.press("Tab")
    assert active(page)["tag"] == "BUTTON"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    review.refresh_from_db()
    assert review.decision == "APPROVED"
    assert "Decision recorded: Approve" in page.locator(".messages").inner_text()
    assert pages.errors == []


def test_arrow_keys_move_the_answer_and_save_it_once_settled(pages, alice, reviewer):
    plan = submitted(alice)
    review = review_services.review_start(actor=reviewer, plan=plan)
    first, second = items_of(review)[:2]
    page = pages(reviewer, DESKTOP)
    page.goto(f"/reviews/{review.pk}/")
    saves = posts_to(page, "/answer/")
    page.focus(f"#answer-{first.pk}-yes")
    page.keyboard.press("ArrowRight")  # No
    page.keyboard.press("ArrowRight")  # N/A
    page.wait_for_timeout(400)
    assert saves == []  # moving through the choices saves nothing
    assert not ChecklistAnswer.objects.filter(review=review).exists()
    assert active(page)["id"] == f"answer-{first.pk}-na"
    with page.expect_response(lambda r: "/answer/" in r.url):
        page.keyboard.press("Tab")  # settled: focus leaves the answers, to the note
    assert len(saves) == 1
    assert ChecklistAnswer.objects.get(review=review, item=first).answer == "na"
    expect(page.locator("#checklist-count")).to_contain_text("1 / 15 answered")
    assert active(page)["id"] == f"note-{first.pk}"  # focus stayed where the reviewer went

    # Arrows then Space: saved on Space, focus stays on the answer after the swap.
    page.focus(f"#answer-{second.pk}-yes")
    page.keyboard.press("ArrowRight")
    assert saves[1:] == []
    with page.expect_response(lambda r: "/answer/" in r.url):
        page.keyboard.press("Space")
    expect(page.locator("#checklist-count")).to_contain_text("2 / 15 answered")
    assert ChecklistAnswer.objects.get(review=review, item=second).answer == "no"
    assert active(page)["id"] == f"answer-{second.pk}-no"
    # A click saves at once.
    third = items_of(review)[2]
    with page.expect_response(lambda r: "/answer/" in r.url):
        page.click(f"label[for=answer-{third.pk}-yes]")
    assert ChecklistAnswer.objects.get(review=review, item=third).answer == "yes"
    assert len(saves) == 3
    assert pages.errors == []


def test_carried_answers_are_confirmed_with_the_keyboard(pages, alice, reviewer):
    """On re-review each carried-over answer says where it came from; Confirm (Enter) keeps
    it, the counter goes down, and focus moves to the kept answer, not to the page."""
    plan = submitted(alice)
    first = review_services.review_start(actor=reviewer, plan=plan)
    for item in items_of(first):
        review_services.review_answer(actor=reviewer, review=first, item=item, answer="yes")
    review_services.review_decide(actor=reviewer, review=first, decision="NEEDS_REVISION",
                                  comment="Say what the limits are.")
    plan = revise(plan, alice, "Bots hit the login 40,000 times a day; limit 5 a minute.")
    plan_services.plan_submit(actor=alice, plan=plan)
    review = review_services.review_start(actor=reviewer, plan=plan)
    target = items_of(review)[4]  # "Testing strategy is comprehensive"
    page = pages(reviewer, PHONE)
    page.goto(f"/reviews/{review.pk}/")
    no_sideways_scroll(page)
    row = page.locator(f"#item-{target.pk}")
    assert "From revision 1, unchanged section · not yet confirmed" in row.inner_text()
    expect(page.locator("#checklist-count")).to_contain_text("15 / 15 answered · 15 to confirm")
    page.focus(f"#confirm-{target.pk}")
    with page.expect_response(lambda r: "/answer/" in r.url):
        page.keyboard.press("Enter")
    expect(page.locator("#checklist-count")).to_contain_text("14 to confirm")
    expect(row).to_contain_text("From revision 1, unchanged section · confirmed")
    # Focus moves once the swapped row has settled: waited for, not read at once.
    expect(page.locator(f"#answer-{target.pk}-yes")).to_be_focused()
    assert ChecklistAnswer.objects.get(review=review, item=target).confirmed
    assert pages.errors == []


def test_the_other_pages_fit_390_without_sideways_scrolling(pages, alice, reviewer, admin_user):
    plan = submitted(alice)
    first = review_services.review_start(actor=reviewer, plan=plan)
    review_services.review_decide(actor=reviewer, review=first, decision="NEEDS_REVISION",
                                  comment="Say what the limits are.")
    plan = revise(plan, alice, "Bots hit the login 40,000 times a day.")
    plan_services.plan_submit(actor=alice, plan=plan)
    review = review_services.review_start(actor=reviewer, plan=plan)
    for item in items_of(review):
        review_services.review_answer(actor=reviewer, review=review, item=item, answer="yes")
    review_services.review_decide(actor=reviewer, review=review, decision="APPROVED")
    page = pages(admin_user, PHONE)
    for url in ["/plans/", f"/plans/{plan.pk}/", f"/plans/{plan.pk}/revisions/",
                f"/plans/{plan.pk}/revisions/1/", f"/plans/{plan.pk}/revisions/diff/",
                f"/reviews/plan/{plan.pk}/certificate/", f"/reviews/{review.pk}/",
                f"/reviews/plan/{plan.pk}/timeline/", "/audit/", "/plans/new/",
                "/plans/import/"]:
        page.goto(url)
        no_sideways_scroll(page)
    assert pages.errors == []
