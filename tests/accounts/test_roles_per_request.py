"""Roles are read once per request (one cache round trip, the group query only after a change,
however many links and checks ask) and never carried over to the next one: a change of groups,
from either side, or a rename or deletion of a group, shows on the very next page."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import ADMINS, REVIEWERS
from tests.factories import AuthorFactory, ReviewerFactory

pytestmark = pytest.mark.django_db


def nav(client) -> tuple[str, int]:
    """The inbox page (every link of the navigation) and how many group queries it ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 200
    return response.content.decode(), sum('"auth_group"' in q["sql"] for q in queries)


AUDIT, INSIGHTS = f'href="{reverse("audit:list")}"', f'href="{reverse("insights:insights")}"'


def test_a_new_group_shows_on_the_next_request_and_a_removed_one_goes(client, author):
    client.force_login(author)
    page, _ = nav(client)
    assert AUDIT not in page and INSIGHTS not in page
    Group.objects.get(name=ADMINS).user_set.add(author)
    page, _ = nav(client)
    assert AUDIT in page and INSIGHTS in page
    assert client.get(reverse("audit:list")).status_code == 200
    Group.objects.get(name=ADMINS).user_set.remove(author)
    Group.objects.get(name=REVIEWERS).user_set.add(author)
    page, _ = nav(client)
    assert AUDIT not in page and INSIGHTS in page
    assert client.get(reverse("audit:list")).status_code == 403


@pytest.fixture
def member(committing):
    """An author created in a committed transaction (nothing of theirs left pending)."""
    return committing(lambda: AuthorFactory(username="ann"))


def test_the_group_query_runs_once_then_only_after_a_change(client, committing):
    reviewer = committing(lambda: ReviewerFactory(username="rob"))
    client.force_login(reviewer)
    assert nav(client)[1] == 1
    assert nav(client)[1] == 0  # shared
    committing(lambda: reviewer.groups.add(Group.objects.get(name=ADMINS)))
    page, n = nav(client)
    assert n == 1 and AUDIT in page
    assert nav(client)[1] == 0


@pytest.mark.parametrize("change", [
    lambda user, admins: user.groups.add(admins),
    lambda user, admins: admins.user_set.add(user),
    lambda user, admins: user.groups.set([admins]),
])
def test_joining_from_either_side_shows_on_the_next_page(client, member, committing, change):
    author = member
    client.force_login(author)
    nav(client)
    page, n = nav(client)
    assert AUDIT not in page and n == 0  # cached without
    committing(lambda: change(author, Group.objects.get(name=ADMINS)))
    assert AUDIT in nav(client)[0]
    assert client.get(reverse("audit:list")).status_code == 200


@pytest.mark.parametrize("change", [
    lambda user, admins: user.groups.remove(admins),
    lambda user, admins: admins.user_set.remove(user),
    lambda user, admins: user.groups.clear(),
    lambda user, admins: admins.user_set.clear(),
    lambda user, admins: admins.delete(),
    lambda user, admins: Group.objects.filter(pk=admins.pk).first().save(),  # a no-op save
])
def test_leaving_shows_on_the_next_page(client, member, committing, change):
    author, admins = member, Group.objects.get(name=ADMINS)
    committing(lambda: author.groups.add(admins))
    client.force_login(author)
    nav(client)
    page, n = nav(client)
    assert AUDIT in page and n == 0  # cached with
    committing(lambda: change(author, admins))
    if Group.objects.filter(name=ADMINS, user=author).exists():  # the no-op save
        assert AUDIT in nav(client)[0]
        return
    assert AUDIT not in nav(client)[0]
    assert client.get(reverse("audit:list")).status_code == 403


def test_a_renamed_group_is_seen_by_its_members_at_once(client, member, committing):
    author, admins = member, Group.objects.get(name=ADMINS)
    committing(lambda: author.groups.add(admins))
    client.force_login(author)
    nav(client)
    page, n = nav(client)
    assert AUDIT in page and n == 0
    admins.name = "Former admins"
    committing(admins.save)
    assert AUDIT not in nav(client)[0]
    admins.name = ADMINS
    committing(admins.save)
    assert AUDIT in nav(client)[0]


@pytest.mark.django_db(transaction=True)
def test_real_commits(client, author):
    """Real commits (no test transaction around them): the on-commit tokens run for real."""
    client.force_login(author)
    assert AUDIT not in nav(client)[0]
    assert nav(client)[1] == 0
    Group.objects.get(name=ADMINS).user_set.add(author)
    page, n = nav(client)
    assert AUDIT in page and n == 1
    author.groups.clear()
    assert AUDIT not in nav(client)[0]
