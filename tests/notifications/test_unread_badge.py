"""The navigation's unread badge comes from the shared cache (no COUNT per page), and is right
on the very next page after a notification arrives (through the real delivery path), is read
(opened, marked, all marked) or deleted."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification
from plans.services import plan_submit
from reviews.models import ReviewRequest
from tests.factories import ready_plan

pytestmark = pytest.mark.django_db


def badge(client, url=None) -> tuple[str | None, int]:
    """The badge's number (None: no badge) on a page, and how many unread COUNTs it ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url or reverse("plans:list"))
    assert response.status_code == 200
    page = response.content.decode()
    counts = sum('COUNT(' in q["sql"] and "notifications_notification" in q["sql"]
                 for q in queries)
    if ' unread">' not in page:
        return None, counts
    return page.split(' unread">', 1)[1].split("<", 1)[0], counts


def _submit(author, reviewer):
    plan = ready_plan(author=author)
    ReviewRequest.objects.create(plan=plan, user=reviewer, requested_by=author)
    plan_submit(actor=author, plan=plan)
    return plan


def test_the_badge_is_counted_once_then_shared_and_follows_every_change(
        client, people, committing):
    author, reviewer = people
    client.force_login(reviewer)
    assert badge(client) == (None, 1)
    assert badge(client) == (None, 0)  # shared: no COUNT
    committing(lambda: _submit(author, reviewer))  # delivered in bulk by the real service path
    assert Notification.objects.filter(recipient=reviewer).count() == 1
    assert badge(client) == ("1", 1)
    assert badge(client) == ("1", 0)
    committing(lambda: _submit(author, reviewer))
    assert badge(client)[0] == "2"

    first = Notification.objects.filter(recipient=reviewer).order_by("pk").first()
    committing(lambda: client.post(reverse("notifications:mark_read", args=[first.pk])))
    assert badge(client)[0] == "1"
    committing(lambda: client.post(reverse("notifications:mark_all_read")))
    assert badge(client) == (None, 1)
    assert badge(client) == (None, 0)


def test_opening_and_deleting_a_notification_update_the_badge(client, people, committing):
    author, reviewer = people
    committing(lambda: (_submit(author, reviewer), _submit(author, reviewer)))
    client.force_login(reviewer)
    badge(client)
    assert badge(client) == ("2", 0)
    first, second = Notification.objects.filter(recipient=reviewer).order_by("pk")
    committing(lambda: client.get(reverse("notifications:open", args=[first.pk])))
    assert badge(client)[0] == "1"
    committing(second.delete)
    assert badge(client)[0] is None


def test_someone_elses_notification_leaves_my_badge_alone(client, people, committing):
    author, reviewer = people
    committing(lambda: _submit(author, reviewer))
    client.force_login(author)
    badge(client)
    assert badge(client) == (None, 0)
    client.force_login(reviewer)
    assert badge(client)[0] == "1"


@pytest.mark.django_db(transaction=True)
def test_real_commits(client, author, reviewer):
    client.force_login(reviewer)
    assert badge(client) == (None, 1)
    assert badge(client) == (None, 0)
    _submit(author, reviewer)
    assert badge(client) == ("1", 1)
    client.post(reverse("notifications:mark_all_read"))
    assert badge(client)[0] is None
