"""The plan page as its readers meet it (issue #12): the plan's content without the template's
reviewer furniture, the actions before the document, a way on from a rejected plan, and no
"reviewing" left on a withdrawn plan."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.display import display_name
from audit.models import AuditEntry
from plans import services as plan_services
from plans.markdown import export_plan
from plans.models import Plan, PlanStatus
from reviews import services as review_services
from tests.factories import AuthorFactory
from tests.reviewkit import decide, submitted_plan

pytestmark = pytest.mark.django_db

TEMPLATE_PLAN = Path(__file__).parent / "corpus" / "01-template-exact.md"
FURNITURE = ["Review Checklist", "For human reviewer", "[Name]", "[Date]",
             "[APPROVED/NEEDS_REVISION/REJECTED]", "Status:", "PENDING_REVIEW",
             "must be reviewed and approved before proceeding"]


def article(page: str) -> str:
    start = page.index('<article class="document"')
    return page[start:page.index("</article>", start)]


def test_template_furniture_is_not_content_on_plan_revision_and_review_pages(
        client, author, reviewer):
    """The template's unticked Review Checklist, its Approval placeholders and its Status line
    are the app's own UI (the review checklist, the decisions, the status badge): the pages
    show the plan without them, and the Markdown keeps every byte of them."""
    text = TEMPLATE_PLAN.read_text()
    assert all(f in text for f in ("## Review Checklist", "**Reviewer**: [Name]",
                                   "*Status: PENDING_REVIEW*"))
    plan = plan_services.plan_import_markdown(actor=author, text=text)
    plan_services.plan_submit(actor=author, plan=plan)
    review = review_services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    pages = {
        "plan": client.get(reverse("plans:detail", args=[plan.pk])).content.decode(),
        "revision": client.get(reverse("plans:revision", args=[plan.pk, 1])).content.decode(),
        "review": client.get(reverse("reviews:review", args=[review.pk])).content.decode(),
    }
    for name, page in pages.items():
        document = article(page)
        assert "Implementation Steps" in document and "Rollback Plan" in document, name
        shown = [f for f in FURNITURE if f in document]
        assert not shown, f"{name} page shows template furniture as content: {shown}"
    # The app's own checklist and status stand in for them.
    assert "Technical Review" in pages["review"] and "0 / 15 answered" in pages["review"]
    assert 'class="status status-PENDING_REVIEW">Pending review<' in pages["plan"]
    # Nothing is lost from the stored Markdown: the export and the revision keep every byte.
    plan.refresh_from_db()
    assert export_plan(plan) == text
    assert plan.revisions.get().content == text
    exported = client.get(reverse("plans:export", args=[plan.pk])).content.decode()
    assert exported == text


def test_the_actions_come_before_the_document(client, author, reviewer):
    """Submit and Start review are in the page before the plan's text, so on one narrow column
    they are in the first screenful, not after the whole plan."""
    plan = submitted_plan(author)
    client.force_login(reviewer)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert page.index(">Start review<") < page.index('<article class="document"')
    plan_services.plan_withdraw(actor=author, plan=plan)
    client.force_login(author)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert page.index("Resubmit for review") < page.index('<article class="document"')


def test_a_withdrawn_plan_lists_nobody_as_reviewing(client, author, reviewer, reviewer2):
    # A name no one else on the page has (the factories' names may repeat).
    reviewer2.first_name, reviewer2.last_name = "Rita", "Zwanenburg"
    reviewer2.save(update_fields=["first_name", "last_name"])
    plan = submitted_plan(author)
    review_services.review_start(actor=reviewer2, plan=plan)
    client.force_login(author)
    page = client.get(plan.get_absolute_url()).content.decode()
    rita = re.escape(display_name(reviewer2))
    assert re.search(rf"{rita}: <a [^>]*>reviewing</a>", page)  # while under review, it is so
    plan_services.plan_withdraw(actor=author, plan=plan)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "reviewing" not in page
    assert display_name(reviewer2) not in page  # no undecided review is listed on a draft


def rejected_plan(author, reviewer) -> Plan:
    plan = submitted_plan(author, title="Cache sessions in Redis")
    decide(plan, reviewer, "REJECTED", "Redis is not in our stack.")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.REJECTED
    return plan


def test_a_rejected_plan_says_how_to_start_again_and_does_it(client, author, reviewer):
    plan = rejected_plan(author, reviewer)
    client.force_login(author)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "This plan was rejected; a decision is final" in page
    assert "Start a new plan from this one" in page
    response = client.post(reverse("plans:start_from", args=[plan.pk]), follow=True)
    copy = Plan.objects.exclude(pk=plan.pk).get()
    assert response.redirect_chain[-1][0] == copy.get_absolute_url()
    assert "A new draft with the content of" in response.content.decode()
    assert copy.status == PlanStatus.DRAFT and copy.author == author
    assert copy.title == plan.title and copy.problem_statement == plan.problem_statement
    assert [s.title for s in copy.steps.all()] == [s.title for s in plan.steps.all()]
    assert not copy.revisions.exists() and not copy.reviews.exists()
    entry = AuditEntry.objects.get(plan=copy, action="plan.started_from")
    assert entry.payload["from_plan"] == plan.pk and entry.payload["from_status"] == "REJECTED"
    plan.refresh_from_db()
    assert plan.status == PlanStatus.REJECTED  # the rejected plan stays as it was decided
    # The copy can go through review again.
    plan_services.plan_submit(actor=author, plan=copy)


def test_an_imported_rejected_plan_is_copied_in_its_own_layout(author, reviewer):
    text = TEMPLATE_PLAN.read_text()
    plan = plan_services.plan_import_markdown(actor=author, text=text)
    plan_services.plan_submit(actor=author, plan=plan)
    review = review_services.review_start(actor=reviewer, plan=plan)
    review_services.review_decide(actor=reviewer, review=review, decision="REJECTED",
                                  comment="Not now.")
    copy = plan_services.plan_start_from(actor=author, plan=plan)
    assert export_plan(copy) == text


def test_only_the_author_or_an_admin_starts_from_a_plan(client, author, reviewer):
    plan = rejected_plan(author, reviewer)
    other = AuthorFactory(username="olga")
    client.force_login(other)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "Its author can start a new plan from it." in page
    assert "Start a new plan from this one</button>" not in page
    response = client.post(reverse("plans:start_from", args=[plan.pk]))
    assert response.status_code == 403
    assert Plan.objects.count() == 1
