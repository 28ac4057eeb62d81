"""The conversation finds a revision's steps exactly as the importer does: any step heading it
reads ("### Phase 2:", "#### Task 2 -", "### 2."), at the level it reads them at, numbered by
position (the plan's step 2 is the conversation's step 2), and only in the implementation steps
section (a "### Step 1" heading under Rollback Plan is no step)."""

import html
import re

import pytest

from plans.markdown import DEMO_DIR, step_lines
from plans.services import plan_import_markdown, plan_submit
from reviews import conversation, services
from reviews.models import Comment
from tests.reviewkit import resubmit

from ..api.conftest import token_client

pytestmark = pytest.mark.django_db

DEMO = (DEMO_DIR / "03-plan-search.md").read_text(encoding="utf-8")  # "### Phase N: ..."
TITLES = ["The column", "The query", "Measure"]
#: The demo plan's step headings written the other ways the importer reads them.
STYLES = {
    "phase": lambda n: f"### Phase {n}: ",
    "task": lambda n: f"#### Task {n} - ",
    "numbered": lambda n: f"### {n}. ",
}
ROLLBACK = ("## Rollback Plan\n\n### Step 1: Revert the selector\n"
            "- Deploy the previous release\n")


def styled(style: str = "phase") -> str:
    """The demo plan with its steps headed in ``style``, each with the objective submission
    asks for, and a "### Step 1" heading under its Rollback Plan."""
    text = DEMO
    for n, title in enumerate(TITLES, start=1):
        text = text.replace(f"### Phase {n}: {title}\n",
                            f"{STYLES[style](n)}{title}\n**Objective**: {title}\n")
    return text.replace("## Rollback\n", ROLLBACK)


def submitted(author, text: str):
    plan = plan_import_markdown(actor=author, text=text)
    plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    return plan


def page(client, user, plan) -> str:
    client.force_login(user)
    response = client.get(f"/reviews/plan/{plan.pk}/comments/")
    assert response.status_code == 200
    return response.content.decode()


def lines_of(plan) -> list[str]:
    return plan.revisions.get().content.split("\n")


def heading_line(plan, heading: str) -> int:
    return lines_of(plan).index(heading) + 1


def thread_label(text: str, comment: Comment) -> str:
    found = re.search(rf'id="thread-{comment.pk}-title"><span class="cv-where">([^<]*)<', text)
    assert found, "the thread is not on the page"
    return html.unescape(found.group(1))


@pytest.mark.parametrize("style", sorted(STYLES))
def test_the_step_dropdown_lists_the_plans_steps_by_position(client, author, reviewer, style):
    plan = submitted(author, styled(style))
    assert list(plan.steps.order_by("position").values_list("title", flat=True)) == TITLES
    text = page(client, reviewer, plan)
    dropdown = re.search(r'<select id="cv-step" name="step">(.*?)</select>', text, re.S)
    options = re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', dropdown.group(1))
    headings = [STYLES[style](n).lstrip("#").strip() + " " + t for n, t in enumerate(TITLES, 1)]
    assert [(value, html.unescape(label)) for value, label in options] == [
        ("", "—"), *((str(n), heading) for n, heading in enumerate(headings, 1))]
    # Every block of step 2 says so, and nothing under Rollback Plan is a step.
    step2 = heading_line(plan, STYLES[style](2) + "The query")
    assert f'id="L{step2}" data-from="{step2}"' in text
    assert re.search(rf'id="L{step2}"[^>]*data-step="2"', text)
    rollback = heading_line(plan, "### Step 1: Revert the selector")
    block = re.search(rf'<div [^>]*id="L{rollback}"[^>]*>', text).group(0)
    assert 'data-section="Rollback Plan"' in block and "data-step" not in block


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_comment_on_step_2_through_the_form_shows_under_step_2(client, author, reviewer,
                                                                   style):
    plan = submitted(author, styled(style))
    client.force_login(reviewer)
    response = client.post(f"/reviews/plan/{plan.pk}/comments/",
                           {"body": "Which index?", "step": "2"})
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert comment.step == plan.steps.order_by("position")[1]
    start = heading_line(plan, STYLES[style](2) + "The query")
    assert comment.line_from == start
    assert comment.anchor_text.splitlines() == lines_of(plan)[start - 1:comment.line_to]
    assert comment.anchor_text.endswith("**Risk**: Low")  # the whole step, to its last line
    assert "Phase 3" not in comment.anchor_text and "Measure" not in comment.anchor_text
    text = page(client, reviewer, plan)
    assert thread_label(text, comment).startswith("Step 2 · lines ")
    # Beside its step: after step 2's heading, before step 3's.
    step3 = heading_line(plan, STYLES[style](3) + "Measure")
    assert text.index(f'id="L{start}"') < text.index(f'id="thread-{comment.pk}"') \
        < text.index(f'id="L{step3}"')


def test_a_comment_on_step_2_through_the_api_and_the_feedback(author, reviewer):
    plan = submitted(author, styled())
    api = token_client(reviewer)
    response = api.post(f"/api/v1/plans/{plan.pk}/comments",
                        {"body": "Which index?", "step_number": 2}, format="json")
    assert response.status_code == 201, response.json()
    thread = response.json()
    assert thread["anchored_text"].startswith("### Phase 2: The query\n")
    assert thread["step"]["number"] == 2 and thread["step"]["title"] == "The query"
    refused = api.post(f"/api/v1/plans/{plan.pk}/comments",
                       {"body": "x", "step_number": 4}, format="json")
    assert refused.status_code == 400 and "has no step 4" in str(refused.json())
    feedback = api.get(f"/api/v1/plans/{plan.pk}/feedback")
    assert feedback.status_code == 200
    assert [c["step"]["number"] for c in feedback.json()["comments"]] == [2]


def test_a_line_comment_gets_the_step_its_lines_are_in(client, author, reviewer):
    plan = submitted(author, styled("task"))
    lines = lines_of(plan)
    inside = lines.index("- Order by `SearchRank` when searching") + 1  # in Task 2
    client.force_login(reviewer)
    client.post(f"/reviews/plan/{plan.pk}/comments/",
                {"body": "Ties?", "line_from": inside, "line_to": inside})
    client.post(f"/reviews/plan/{plan.pk}/comments/",
                {"body": "Tested?", "line_from": inside + 2, "line_to": inside + 2})  # Estimate
    rollback = heading_line(plan, "### Step 1: Revert the selector")
    client.post(f"/reviews/plan/{plan.pk}/comments/",
                {"body": "How long?", "line_from": rollback + 1, "line_to": rollback + 1})
    ties, tested, revert = Comment.objects.order_by("id")
    second = plan.steps.order_by("position")[1]
    assert (ties.step, tested.step) == (second, second)
    assert revert.step is None and revert.section == "Rollback Plan"
    text = page(client, reviewer, plan)
    assert thread_label(text, ties) == f"Step 2 · line {inside}"
    assert thread_label(text, revert) == f"Rollback Plan · line {rollback + 1}"


def test_step_n_plans_keep_their_anchors():
    """A "### Step N" plan's steps stand where they always did (stored anchors resolve the
    same): each from its heading to its last non-blank line."""
    text = ("# Plan\n\n## Implementation Steps\n\n### Step 1: One\n- a\n\n\n"
            "### Step 2: Two\n- b\n\n## Testing\n- t\n")
    found = conversation._build(text)
    assert found.steps == {1: (5, 6, "Step 1: One"), 2: (9, 10, "Step 2: Two")}
    assert [(b.line_from, b.step) for b in found.blocks] == [
        (1, None), (3, None), (5, 1), (6, 1), (9, 2), (10, 2), (12, None), (13, None)]
    assert [s.number for s in step_lines(text)] == [1, 2]


def test_text_that_cannot_be_imported_has_no_steps():
    assert step_lines("") == [] and step_lines("### Step 1\n\x00") == []


def test_an_outdated_thread_keeps_the_step_it_was_written_on(client, author, reviewer):
    plan = submitted(author, styled("phase"))
    comment = services.comment_post(actor=reviewer, plan=plan, body="Which index?",
                                    step_number=2)
    plan = resubmit(plan, author, "**Objective**: The query", "**Objective**: A faster query")
    text = page(client, author, plan)
    assert "have changed since revision 1" in text
    assert thread_label(text, comment).startswith("Step 2 · revision 1, lines")
