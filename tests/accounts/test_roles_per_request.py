"""Roles are read once per request (one group query, however many links and checks ask) and
never carried over to the next one: a change of groups shows on the very next page."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import ADMINS, REVIEWERS

pytestmark = pytest.mark.django_db


def nav(client) -> tuple[str, int]:
    """The inbox page (every link of the navigation) and how many group queries it ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 200
    return response.content.decode(), sum('"auth_group"' in q["sql"] for q in queries)


def test_a_new_group_shows_on_the_next_request_and_a_removed_one_goes(client, author):
    audit, insights = f'href="{reverse("audit:list")}"', f'href="{reverse("insights:insights")}"'
    client.force_login(author)
    page, _ = nav(client)
    assert audit not in page and insights not in page
    Group.objects.get(name=ADMINS).user_set.add(author)
    page, _ = nav(client)
    assert audit in page and insights in page
    assert client.get(reverse("audit:list")).status_code == 200
    Group.objects.get(name=ADMINS).user_set.remove(author)
    Group.objects.get(name=REVIEWERS).user_set.add(author)
    page, _ = nav(client)
    assert audit not in page and insights in page
    assert client.get(reverse("audit:list")).status_code == 403


def test_one_group_query_per_request(client, reviewer):
    client.force_login(reviewer)
    for _ in range(2):
        _, group_queries = nav(client)
        assert group_queries == 1
