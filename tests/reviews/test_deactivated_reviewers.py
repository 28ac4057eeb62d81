"""Tester finding U2: a reviewer an admin deactivated is no longer waited for on the plan page,
nor offered for a re-request, and asking for them anyway says why instead of a bare 403."""

import re

import pytest
from django.urls import reverse

from accounts.services import account_active_changed
from audit.models import AuditEntry
from notifications.models import OutboxMessage
from plans.services import plan_submit
from reviews import services
from reviews.models import ReviewRequest
from tests.reviewkit import decide, revise, submitted_plan

pytestmark = pytest.mark.django_db

DEACTIVATED = "Rita Reviewer is deactivated: ask someone else."


def turn(page: str) -> str:
    return re.search(r"<strong>Whose turn:</strong> ([^<]*)</p>", page).group(1).strip()


def deactivate(user, admin):
    """What Admin -> Users -> untick Active does (accounts/admin.py)."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    account_active_changed(actor=admin, user=user)


@pytest.fixture
def rita(reviewer2):
    reviewer2.first_name, reviewer2.last_name = "Rita", "Reviewer"
    reviewer2.save()
    return reviewer2


@pytest.fixture
def plan(author, rita):
    """Asked of rita by name; she sent revision 1 back and revision 2 is under review."""
    plan = submitted_plan(author)
    services.review_request(actor=author, plan=plan, users=[rita])
    decide(plan, rita, "NEEDS_REVISION", "Say how it is rolled back.")
    plan = revise(plan, author, "Logins are slow; the bucket is versioned for rollback.")
    plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    return plan


def test_the_plan_page_no_longer_waits_for_or_offers_a_deactivated_reviewer(
        client, author, rita, admin_user, plan):
    client.force_login(author)
    rerequest = f'action="{reverse("reviews:rerequest", args=[plan.pk, rita.pk])}"'
    page = client.get(plan.get_absolute_url()).content.decode()
    assert turn(page) == "Reviewers: rita" and rerequest in page  # before: as it was
    deactivate(rita, admin_user)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert turn(page) == "Any reviewer"
    assert rerequest not in page and "Re-request review" not in page


def test_the_page_still_waits_for_the_active_reviewers(client, author, rita, reviewer,
                                                       admin_user, plan):
    services.review_request(actor=author, plan=plan, users=[reviewer])
    deactivate(rita, admin_user)
    client.force_login(author)
    assert turn(client.get(plan.get_absolute_url()).content.decode()) == "Reviewers: rob"


def test_re_requesting_a_deactivated_reviewer_says_why(client, author, rita, admin_user, plan):
    client.force_login(author)
    client.get(plan.get_absolute_url())  # the page with the button, before the deactivation
    deactivate(rita, admin_user)
    OutboxMessage.objects.all().delete()
    url = reverse("reviews:rerequest", args=[plan.pk, rita.pk])
    response = client.post(url, follow=True)
    assert response.status_code == 200  # back on the plan page, not a 403
    assert response.redirect_chain[-1][0].startswith(plan.get_absolute_url())
    assert DEACTIVATED in response.content.decode()
    assert not AuditEntry.objects.filter(plan=plan, action="review.rerequested").exists()
    assert not OutboxMessage.objects.exists()  # nobody was notified


def test_the_service_refuses_a_deactivated_reviewer(author, rita, admin_user, plan):
    deactivate(rita, admin_user)
    with pytest.raises(services.ValidationError, match=re.escape(DEACTIVATED)):
        services.review_rerequest(actor=author, plan=plan, reviewer=rita)
    # Reactivated, she may be asked again.
    rita.is_active = True
    rita.save(update_fields=["is_active"])
    request = services.review_rerequest(actor=author, plan=plan, reviewer=rita)
    assert ReviewRequest.objects.filter(pk=request.pk, user=rita).exists()
