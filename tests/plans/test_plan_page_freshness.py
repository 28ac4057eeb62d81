"""What the plan page and the plan list keep in the shared cache is never stale: the submission
rule, the groups the review panel offers, the list's author filter (shared values, read afresh
once a change commits, however it is written), the review panel's rows (under the version of the
audit trail and the admin history), the workflow's transitions, the current revision (under the
plan's updated_at). And a page served from them reads only the session, the user and the plan."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.display import display_name
from accounts.roles import REVIEWERS
from accounts.services import profile_update
from plans import services
from plans.models import Plan, SubmissionRule
from reviews import services as review_services
from tests.factories import AuthorFactory, ReviewerFactory, UserFactory, ready_plan

pytestmark = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)  # real commits: the on-commit tokens run


def page(client, plan) -> str:
    response = client.get(reverse("plans:detail", args=[plan.pk]))
    assert response.status_code == 200
    return response.content.decode()


def group_options(html: str) -> list[str]:
    select = html[html.index('<select id="rq-group"'):]
    return re.findall(r'<option value="\d+">([^<]*)</option>', select[:select.index("</select>")])


@committed
def test_a_submission_rule_change_shows_at_once(author_client, author, admin_user):
    plan = ready_plan(author=author)
    assert "Submit for review" in page(author_client, plan)
    assert "Submit for review" in page(author_client, plan)  # from the cache
    services.submission_rule_update(actor=admin_user,
                                    required=[*SubmissionRule.default_keys(), "risk_assessment"])
    html = page(author_client, plan)
    assert "Before submitting, fill in: Risk assessment." in html
    assert "Submit for review" not in html
    SubmissionRule.objects.all().delete()  # the ORM, not a service: the schema's rule again
    assert "Submit for review" in page(author_client, plan)


@committed
def test_a_groups_new_reviewer_shows_at_once(author_client, author):
    plan = ready_plan(author=author)
    security = Group.objects.create(name="Security")
    assert "Security" not in group_options(page(author_client, plan))  # nobody reviews in it
    page(author_client, plan)
    member = ReviewerFactory()
    member.groups.add(security)
    assert "Security" in group_options(page(author_client, plan))
    security.name = "AppSec"
    security.save()
    assert "AppSec" in group_options(page(author_client, plan))
    member.is_active = False
    member.save()
    assert "AppSec" not in group_options(page(author_client, plan))
    member.is_active = True
    member.save()
    page(author_client, plan)
    member.groups.remove(Group.objects.get(name=REVIEWERS))
    assert "AppSec" not in group_options(page(author_client, plan))


@committed
def test_a_new_author_and_a_renamed_one_show_at_once_in_the_list_filter(author_client, author):
    ready_plan(author=author)
    url = reverse("plans:list")
    assert ">bea<" not in author_client.get(url).content.decode()
    author_client.get(url)  # from the cache
    bea = AuthorFactory(username="bea", first_name="", last_name="")
    assert ">bea<" not in author_client.get(url).content.decode()  # no plan yet
    services.plan_create(actor=bea, title="Bea's plan")
    assert '<option value="bea">bea</option>' in author_client.get(url).content.decode()
    profile_update(actor=bea, user=bea, first_name="Beatrice", last_name="Q", email="")
    assert '<option value="bea">Beatrice Q</option>' in author_client.get(url).content.decode()


def test_reviews_concerns_and_requests_show_at_once(client, author, reviewer, reviewer2):
    plan = ready_plan(author=author)
    services.plan_submit(actor=author, plan=plan)
    client.force_login(author)
    assert "Open concerns" not in page(client, plan)
    page(client, plan)  # its rows from the cache
    review_services.review_start(actor=reviewer, plan=plan)
    review_services.concern_raise(actor=reviewer, plan=plan, title="A fresh concern")
    html = page(client, plan)
    assert "A fresh concern" in html and "reviewing" in html
    review_services.review_request(actor=author, plan=plan, users=[reviewer2])
    html = page(client, plan)
    assert f"Requested: {display_name(reviewer2)}" in html
    # A reviewer's new name, from their profile (the rows hold their user).
    profile_update(actor=reviewer, user=reviewer, first_name="Robin", last_name="Reviewer",
                   email="")
    assert "by Robin Reviewer" in page(client, plan)


def test_a_transition_shows_at_once_in_the_workflow_and_the_panel(author_client, author):
    plan = ready_plan(author=author)
    html = page(author_client, plan)
    assert "No transitions yet" in html and 'data-state="DRAFT" aria-current="step"' in html
    page(author_client, plan)
    services.plan_submit(actor=author, plan=Plan.objects.get(pk=plan.pk))
    html = page(author_client, plan)
    assert "1 transition so far" in html
    assert 'data-state="PENDING_REVIEW" aria-current="step"' in html
    assert "revision 1 · " in html and "Withdraw from review" in html
    services.plan_withdraw(actor=author, plan=Plan.objects.get(pk=plan.pk))
    html = page(author_client, plan)
    assert "2 transitions so far" in html and "Resubmit for review" in html


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@committed
def test_a_page_served_from_the_cache_reads_only_session_user_and_plan(client, author, reviewer,
                                                                        admin_user):
    """Its document and steps, revision, editors and transitions, its review rows, the policy,
    the submission rule and the groups: all from the cache once a view has kept them."""
    plan = ready_plan(author=author)
    services.plan_submit(actor=author, plan=plan)
    services.plan_withdraw(actor=author, plan=Plan.objects.get(pk=plan.pk))
    review_services.concern_raise(actor=reviewer, plan=plan, title="Concern")
    for viewer in (author, reviewer, admin_user, UserFactory()):
        client.force_login(viewer)
        client.get(plan.get_absolute_url())
        assert queries(client, plan.get_absolute_url()) == 3  # session, user, plan


@committed
def test_the_list_served_from_the_cache_reads_session_user_and_page(author_client, author):
    for _ in range(3):
        ready_plan(author=author)
    url = reverse("plans:list")
    author_client.get(url)
    assert queries(author_client, url) == 3  # the count is a subquery of the page's


def list_page(client, query: str = "") -> str:
    response = client.get(reverse("plans:list") + query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_lists_count_changes_at_once_though_it_was_kept(author_client, author):
    Plan.objects.bulk_create(Plan(title=f"Bulk {i}", author=author) for i in range(25))
    plan = services.plan_create(actor=author, title="Counted")  # an audited write: a version
    assert "Page 1 of 2 (26 plans)" in list_page(author_client)
    assert "Page 1 of 2 (26 plans)" in list_page(author_client)  # the count kept
    assert "Page 1 of" not in list_page(author_client, "?q=Bulk")  # 25: one page
    services.plan_create(actor=author, title="Bulk more")
    assert "Page 1 of 2 (27 plans)" in list_page(author_client)
    assert "Page 1 of 2 (26 plans)" in list_page(author_client, "?q=Bulk")
    services.plan_archive(actor=author, plan=plan)
    assert "Page 1 of 2 (26 plans)" in list_page(author_client)
    assert ">Counted</a>" in list_page(author_client, "?archived=1")


def kept_row(client, title: str) -> str:
    return list_page(client).split(f">{title}</a>", 1)[1].split("</tr>", 1)[0]


def test_a_list_rows_status_and_authors_name_change_at_once_though_it_was_kept(author_client,
                                                                             author):
    plan = ready_plan(author=author, title="Kept row")
    ready_plan(author=author)  # another row, laid out with it
    row = kept_row(author_client, "Kept row")
    assert "Draft" in row and f"<td>{display_name(author)}</td>" in row
    assert kept_row(author_client, "Kept row") == row  # the rows kept
    profile_update(actor=author, user=author, first_name="Ada", last_name="Lovelace", email="")
    assert "<td>Ada Lovelace</td>" in kept_row(author_client, "Kept row")
    services.plan_submit(actor=author, plan=Plan.objects.get(pk=plan.pk))
    assert "Pending review" in kept_row(author_client, "Kept row")


def test_the_list_shows_its_rows_and_count_with_the_cache_down(author_client, author, settings):
    Plan.objects.bulk_create(Plan(title=f"Bulk {i}", author=author) for i in range(25))
    services.plan_create(actor=author, title="Uncached")
    settings.CACHES = {"default": {  # nothing listens there: every cache call fails
        "BACKEND": "core.cache_backend.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": {"socket_connect_timeout": 0.2}}}
    html = list_page(author_client)
    assert ">Uncached</a>" in html and "Page 1 of 2 (26 plans)" in html
