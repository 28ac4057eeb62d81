"""Helpers for the audit tests: reach states through the services, the way users do."""

from audit.models import AuditEntry
from plans.services import plan_submit
from reviews.models import ChecklistItem
from tests.factories import ready_plan


def approve_through_services(*, author, reviewer, comment="Looks right."):
    """A plan submitted by `author` and approved by `reviewer` with every checklist item 'yes'."""
    from reviews.services import default_checklist, review_answer, review_decide, review_start

    plan = ready_plan(author=author, title="Cache sessions")
    plan_submit(actor=author, plan=plan)
    review = review_start(actor=reviewer, plan=plan)
    items = ChecklistItem.objects.filter(group__template=default_checklist())
    for item in items:
        review_answer(actor=reviewer, review=review, item=item, answer="yes")
    review_decide(actor=reviewer, review=review, decision="APPROVED", comment=comment)
    plan.refresh_from_db()
    review.refresh_from_db()
    return plan, review


def actions_of(plan=None) -> list[str]:
    qs = AuditEntry.objects.order_by("id")
    if plan is not None:
        qs = qs.filter(plan_id=plan.pk)
    return list(qs.values_list("action", flat=True))
