"""A checklist with no items (an admin made an empty template the default) approves nothing:
the reviewer is told why, and the plan stays under review."""

import pytest

from core.errors import ValidationError
from plans.models import PlanStatus
from reviews import services
from reviews.models import ChecklistGroup, ChecklistTemplate
from tests.reviewkit import submitted_plan

pytestmark = pytest.mark.django_db(transaction=True)  # the default checklist is shared on commit


@pytest.fixture
def empty_default(admin_user):
    template = services.checklist_save(
        actor=admin_user, obj=ChecklistTemplate(name="Lean", is_default=True),
        changed_fields=["name", "is_default"], created=True)
    services.checklist_save(actor=admin_user, obj=ChecklistGroup(template=template,
                                                                 title="Only group"),
                            changed_fields=["title"], created=True)
    return template


def test_a_review_against_a_checklist_without_items_cannot_approve(author, reviewer,
                                                                  empty_default):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    assert review.checklist_id == empty_default.pk
    with pytest.raises(ValidationError, match="checklist has no items"):
        services.review_decide(actor=reviewer, review=review, decision="APPROVED")
    plan.refresh_from_db()
    review.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW and review.decision == ""
    # Sending it back needs no checklist.
    services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                           comment="The checklist is empty; approve once it has items.")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.NEEDS_REVISION


def test_the_review_page_says_why(client, author, reviewer, empty_default):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    response = client.post(f"/reviews/{review.pk}/decide/", {"decision": "APPROVED",
                                                             "revision": 1}, follow=True)
    assert response.status_code == 400
    assert "checklist has no items" in response.content.decode()
