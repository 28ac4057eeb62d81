"""The plan list keeps its rows laid out and its count (plans/views.py plan_list,
plans/selectors.py page_with_count) in the shared cache, the count proven current by the
list's own query. A write shows at once: a new
plan, an edited title, a status change, an author's new name; each filter counts its own
plans; a time zone or a script prefix of its own lays the rows out again."""

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse, set_script_prefix

from accounts.services import profile_update
from plans import services
from plans.models import Plan
from tests.factories import ready_plan

pytestmark = pytest.mark.django_db


def list_page(client, query: str = "") -> str:
    response = client.get(reverse("plans:list") + query)
    assert response.status_code == 200
    return response.content.decode()


def row(html: str, title: str) -> str:
    """The list's <tr> of the plan titled ``title``."""
    before, after = html.split(f">{title}</a>", 1)
    return before[before.rindex("<tr>"):] + after.split("</tr>", 1)[0]


@pytest.fixture
def many(author):
    """26 plans (two pages), the last one written by a service (an audited write)."""
    Plan.objects.bulk_create(Plan(title=f"Bulk {i}", author=author) for i in range(25))
    return services.plan_create(actor=author, title="Counted")


@pytest.mark.parametrize("forget", [False, True])
def test_a_new_plan_is_counted_at_once(author_client, author, many, forget):
    """With the count kept (checked against the data version by the query) or not (the shared
    cache emptied)."""
    assert "(26 plans)" in list_page(author_client)
    services.plan_create(actor=author, title="One more")
    if forget:
        cache.clear()
    html = list_page(author_client)
    assert "(27 plans)" in html and ">One more</a>" in html
    assert "(27 plans)" in list_page(author_client)


def test_each_filter_counts_its_own_plans_after_a_status_change(author_client, author, many):
    for query in ("", "?status=DRAFT", "?mine=1"):  # each count kept
        assert "(26 plans)" in list_page(author_client, query)
    services.plan_submit(actor=author, plan=ready_plan(author=author, title="Sent"))
    assert "(27 plans)" in list_page(author_client)
    assert "(26 plans)" in list_page(author_client, "?status=DRAFT")
    assert ">Sent</a>" in list_page(author_client, "?status=PENDING_REVIEW")
    assert "(27 plans)" in list_page(author_client, "?mine=1")


def test_an_edited_title_and_a_renamed_author_show_at_once_in_a_kept_row(author_client, author):
    plan = ready_plan(author=author, title="Before")
    first = row(list_page(author_client), "Before")
    assert row(list_page(author_client), "Before") == first  # kept
    services.plan_update(actor=author, plan=plan, fields={"title": "After <b>"})
    html = list_page(author_client)
    assert ">Before</a>" not in html and ">After &lt;b&gt;</a>" in html
    profile_update(actor=author, user=author, first_name="Grace", last_name="Hopper", email="")
    assert "<td>Grace Hopper</td>" in row(list_page(author_client), "After &lt;b&gt;")


def test_a_row_is_laid_out_again_in_another_time_zone_and_under_another_prefix(author_client,
                                                                                author):
    ready_plan(author=author, title="Zoned")
    utc = row(list_page(author_client), "Zoned")
    with override_settings(TIME_ZONE="Asia/Kolkata"):  # +05:30 all year
        zoned = row(list_page(author_client), "Zoned")
    assert "+05:30" in zoned and "+05:30" not in utc
    url = reverse("plans:list")
    set_script_prefix("/under/")  # (as a WSGI server mounted there sets it for each request)
    try:
        prefixed = row(author_client.get(url).content.decode(), "Zoned")
    finally:
        set_script_prefix("/")
    assert 'href="/under/plans/' in prefixed
    assert row(list_page(author_client), "Zoned") == utc
