"""Helpers for the review workflow tests: reach states through the services, as a user would."""

from audit.models import AuditEntry
from plans.services import plan_import_markdown, plan_submit
from reviews import services
from reviews.models import ChecklistItem, Review
from tests.factories import ready_plan


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


def approve(plan, reviewer) -> Review:
    review = services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    return services.review_decide(actor=reviewer, review=review, decision="APPROVED")


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
