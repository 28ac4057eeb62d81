"""The plan page's workflow timeline names each move's actor as every page names people (their
display name today: accounts.display), though the page keeps its transitions in its cache entry;
the audit entry's own name (the username then) for a user who is gone. And the page's queries do
not grow with the number of moves."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import profile_update
from audit.log import append, new_entry
from plans import events
from plans.models import Plan, PlanStatus
from plans.services import plan_submit, plan_withdraw
from tests.factories import AuthorFactory, ready_plan

# Real commits: the shared names get their new token as a rename commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def timeline_actors(client, plan) -> list[str]:
    response = client.get(reverse("plans:detail", args=[plan.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    timeline = html[html.index('class="wf-timeline"'):]
    return re.findall(r"<strong>(.*?)</strong>", timeline[:timeline.index("</ol>")])


def moved(author, times: int = 1) -> Plan:
    """A plan its author submitted and withdrew, ``times`` moves in all."""
    plan = ready_plan(author=author)
    for n in range(times):
        (plan_submit if n % 2 == 0 else plan_withdraw)(actor=author, plan=plan)
        plan.refresh_from_db()
    return plan


def test_a_user_with_a_name_is_shown_by_it(client):
    author = AuthorFactory(username="ada1", first_name="Ada", last_name="Lovelace")
    client.force_login(author)
    assert timeline_actors(client, moved(author, 2)) == ["Ada Lovelace", "Ada Lovelace"]


def test_a_user_without_a_name_is_shown_by_username(client):
    author = AuthorFactory(username="nameless", first_name="", last_name="")
    client.force_login(author)
    assert timeline_actors(client, moved(author)) == ["nameless"]


def test_a_user_who_is_gone_is_shown_as_the_trail_recorded_them(client):
    author = AuthorFactory(username="ada1", first_name="Ada", last_name="Lovelace")
    plan = ready_plan(author=author)
    # An entry whose user no longer exists keeps only the name it was written with: its actor
    # is gone (users with entries cannot be deleted, so no other way to have one).
    entry = new_entry(events.PLAN_SUBMITTED, actor=author, obj=plan, plan=plan,
                      payload={"from": PlanStatus.DRAFT, "to": PlanStatus.PENDING_REVIEW})
    entry.actor, entry.actor_repr = None, "gone-user"
    append(entry)
    plan_submit(actor=author, plan=Plan.objects.get(pk=plan.pk))
    client.force_login(author)
    assert timeline_actors(client, plan) == ["gone-user", "Ada Lovelace"]


def test_a_renamed_user_is_shown_by_the_new_name_at_once(client):
    author = AuthorFactory(username="ada1", first_name="Ada", last_name="Lovelace")
    plan = moved(author)
    client.force_login(author)
    assert timeline_actors(client, plan) == ["Ada Lovelace"]
    assert timeline_actors(client, plan) == ["Ada Lovelace"]  # from the kept entry and names
    profile_update(actor=author, user=author, first_name="Grace", last_name="Hopper", email="")
    assert timeline_actors(client, plan) == ["Grace Hopper"]
    # Names cleared: shown by the username.
    profile_update(actor=author, user=author, first_name="", last_name="", email="")
    assert timeline_actors(client, plan) == ["ada1"]


def queries(client, plan) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("plans:detail", args=[plan.pk])).status_code == 200
    return len(captured)


def test_the_page_queries_do_not_grow_with_the_moves(client):
    author = AuthorFactory(username="ada1", first_name="Ada", last_name="Lovelace")
    short, long = moved(author, 2), moved(author, 10)
    client.force_login(author)
    assert len(timeline_actors(client, long)) == 10
    cache.clear()  # nothing kept: each page reads its entry and the names afresh
    cold_short = queries(client, short)
    cache.clear()
    cold_long = queries(client, long)
    assert cold_short == cold_long
    queries(client, short)  # kept again (the clear above dropped it)
    assert queries(client, short) == queries(client, long) < cold_long  # all kept
