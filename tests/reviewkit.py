"""Helpers for the review workflow tests: reach states through the services, as a user would."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from plans.markdown import export_plan
from plans.services import plan_import_markdown, plan_submit, plan_withdraw
from reviews import services
from reviews.models import ChecklistItem, Review
from tests.factories import PlanStepFactory, ready_plan


def text(client, url) -> str:
    """The page's HTML (it must answer 200)."""
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def queries(client, url) -> int:
    """How many queries the page takes (it must answer 200)."""
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def submitted_plan(author, **kwargs):
    plan = ready_plan(author=author, **kwargs)
    plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    return plan


def items_of(review: Review) -> list[ChecklistItem]:
    return list(ChecklistItem.objects.filter(group__template=review.checklist_id)
                .order_by("group__position", "position", "id"))


def answer_all(review: Review, actor, answer: str = "yes") -> None:
    for item in items_of(review):
        services.review_answer(actor=actor, review=review, item=item, answer=answer)


def decide(plan, reviewer, decision: str, comment: str = "") -> Review:
    """A full review: started, every checklist item answered, decided."""
    review = services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    return services.review_decide(actor=reviewer, review=review, decision=decision,
                                  comment=comment)


def approve(plan, reviewer) -> Review:
    return decide(plan, reviewer, "APPROVED")


def revise(plan, author, problem: str):
    """Change the plan's problem statement through the Markdown import service."""
    from plans.markdown import export_plan

    plan.refresh_from_db()
    text = export_plan(plan).replace(plan.problem_statement, problem, 1)
    plan = plan_import_markdown(actor=author, text=text, plan=plan)
    plan.refresh_from_db()
    return plan


def actions(plan) -> list[str]:
    return list(AuditEntry.objects.filter(plan=plan).order_by("id")
                .values_list("action", flat=True))


def two_step_plan(author):
    """A submitted plan with two steps (the conversation's anchors)."""
    plan = ready_plan(author=author)
    PlanStepFactory(plan=plan, position=1, title="Switch reads", objective="Point reads at it")
    plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    return plan


def resubmit(plan, author, old: str, new: str):
    """A new revision with ``old`` replaced by ``new`` in the plan's Markdown."""
    plan.refresh_from_db()
    plan_withdraw(actor=author, plan=plan)
    plan.refresh_from_db()
    text = export_plan(plan)
    assert old in text
    plan = plan_import_markdown(actor=author, text=text.replace(old, new, 1), plan=plan)
    plan.refresh_from_db()
    plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    return plan
