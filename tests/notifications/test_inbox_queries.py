"""The inbox runs the same few queries however many notifications there are (its rows need
nothing but the notifications themselves), and the unread badge is counted once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.selectors import unread_changed
from plans.services import plan_create

pytestmark = pytest.mark.django_db


def _notify(user, plan, n: int, *, read: bool = False) -> None:
    # As the delivery service does: bulk_create sends no signal for the unread badge.
    unread_changed([user.pk])
    Notification.objects.bulk_create([
        Notification(recipient=user, event="plan.submitted", plan=plan, title=f"Look {i}",
                     url=f"/plans/{plan.pk}/", read_at=timezone.now() if read else None)
        for i in range(n)
    ])


def _inbox(client) -> tuple[str, list]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 200
    return response.content.decode(), queries.captured_queries


def test_the_inbox_queries_do_not_grow_with_notifications(client, reviewer, author):
    plan = plan_create(actor=author, title="Alpha")
    client.force_login(reviewer)
    _notify(reviewer, plan, 2)
    page, few = _inbox(client)
    assert page.count("Mark read") == 2
    _notify(reviewer, plan, 40)
    _notify(reviewer, plan, 40, read=True)
    page, many = _inbox(client)
    assert page.count("Mark read") == 42 and 'aria-label="42 unread"' in page
    assert len(many) == len(few) <= 5  # session, user, groups, unread count, the rows
    assert sum("COUNT(" in q["sql"] for q in many) == 1
