"""The inbox's rows come from the shared cache (no query of the notifications when nothing
changed), and every change of the user's notifications shows on the very next inbox: a
delivery, opening one, marking one or all read, deleting one. Another user's change does not
touch it."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification
from plans.services import plan_submit
from reviews.models import ReviewRequest
from tests.factories import AuthorFactory, ReviewerFactory, ready_plan

pytestmark = pytest.mark.django_db


def inbox(client) -> tuple[list[tuple[int, str]], int]:
    """The inbox's rows as (notification id, "unread" or "read"), and how many times the page
    read them from the database."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 200
    rows = re.findall(r'<tr class="notification-(unread|read)">\s*<td>\s*<a href="/notifications/'
                      r'(\d+)/open/">', response.content.decode())
    reads = sum('FROM "notifications_notification"' in q["sql"] and "COUNT(" not in q["sql"]
                for q in queries)
    return [(int(pk), state) for state, pk in rows], reads


def _submit(author, reviewer):
    plan = ready_plan(author=author)
    ReviewRequest.objects.create(plan=plan, user=reviewer, requested_by=author)
    plan_submit(actor=author, plan=plan)


def ids(reviewer) -> list[int]:
    return list(Notification.objects.filter(recipient=reviewer).values_list("pk", flat=True))


def test_the_inbox_is_shared_and_follows_every_change(client, people, committing):
    author, reviewer = people
    committing(lambda: _submit(author, reviewer))
    client.force_login(reviewer)
    first, = ids(reviewer)
    assert inbox(client)[0] == [(first, "unread")]
    assert inbox(client) == ([(first, "unread")], 0)  # from the cache: no query

    committing(lambda: _submit(author, reviewer))  # delivered in bulk by the real service path
    second, _ = ids(reviewer)
    assert inbox(client)[0] == [(second, "unread"), (first, "unread")]
    committing(lambda: client.post(reverse("notifications:mark_read", args=[first])))
    assert inbox(client)[0] == [(second, "unread"), (first, "read")]
    committing(lambda: client.get(reverse("notifications:open", args=[second])))
    assert inbox(client)[0] == [(second, "read"), (first, "read")]
    committing(lambda: _submit(author, reviewer))
    third = ids(reviewer)[0]
    committing(lambda: client.post(reverse("notifications:mark_all_read")))
    assert inbox(client)[0] == [(third, "read"), (second, "read"), (first, "read")]
    committing(Notification.objects.get(pk=second).delete)
    assert inbox(client) == ([(third, "read"), (first, "read")], 1)


def test_someone_elses_notification_leaves_my_inbox_cached(client, people, committing):
    _, reviewer = people
    client.force_login(reviewer)
    inbox(client)
    committing(lambda: _submit(AuthorFactory(username="bea"), ReviewerFactory(username="other")))
    assert inbox(client) == ([], 0)
