"""The insights page: figures from the record, checked against values computed by hand."""

from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insights import insights
from plans.models import Plan, PlanRevision
from reviews.models import Review
from reviews.services import default_checklist
from tests.factories import ready_plan
from tests.insights.kit import at, clock, decide, submit
from tests.reviewkit import revise

pytestmark = pytest.mark.django_db

W1, W2, W3 = date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)
PERIOD = {"date_from": "2026-11-02", "date_to": "2026-11-22"}


@pytest.fixture
def history(author, reviewer, reviewer2):
    """Week 1: A approved after 4 h (rob), B sent back after 10 h (rob), C rejected after 24 h
    (rita). Week 2: nothing. Week 3: B resubmitted and approved after 2 h (rob)."""
    with clock(at(2026, 11, 1)):
        a = ready_plan(author=author, title="A")
        b = ready_plan(author=author, title="B")
        c = ready_plan(author=author, title="C")
    submit(a, author, at(2026, 11, 2, 9))
    decide(a, reviewer, "APPROVED", at(2026, 11, 2, 13))
    submit(b, author, at(2026, 11, 3, 9))
    decide(b, reviewer, "NEEDS_REVISION", at(2026, 11, 3, 19))
    submit(c, author, at(2026, 11, 4, 9))
    decide(c, reviewer2, "REJECTED", at(2026, 11, 5, 9))
    with clock(at(2026, 11, 15)):
        b = revise(b, author, "Logins are slow at peak.")
    submit(b, author, at(2026, 11, 16, 9))
    decide(b, reviewer, "APPROVED", at(2026, 11, 16, 11))
    return a, b, c


def test_figures_for_everyone(history):
    data = insights.load(date_from=date(2026, 11, 2), date_to=date(2026, 11, 22))
    assert data.weeks == [W1, W2, W3]
    first = [(r.label, r.count, r.median, r.p90) for r in data.first_review]
    assert first == [(W1, 3, 10.0, 24.0), (W2, 0, None, None), (W3, 1, 2.0, 2.0)]
    decision = [(r.label, r.count, r.median, r.p90) for r in data.decision]
    assert decision == [(W1, 3, 10.0, 24.0), (W2, 0, None, None), (W3, 1, 2.0, 2.0)]
    assert data.outcomes == [
        (W1, {"APPROVED": 1, "NEEDS_REVISION": 1, "REJECTED": 1}),
        (W2, {"APPROVED": 0, "NEEDS_REVISION": 0, "REJECTED": 0}),
        (W3, {"APPROVED": 1, "NEEDS_REVISION": 0, "REJECTED": 0}),
    ]
    assert data.revisions.histogram == [(1, 1), (2, 1)]  # A took one revision, B two
    assert data.revisions.median == 1.5
    loads = [(r.reviewer, r.decided, r.queue, r.median, r.p90) for r in data.reviewers]
    assert loads == [("rob", 3, 0, 4.0, 10.0), ("rita", 1, 0, 24.0, 24.0)]


def test_a_reviewer_sees_only_their_own_figures(history, reviewer):
    data = insights.load(date_from=date(2026, 11, 2), date_to=date(2026, 11, 22),
                         reviewer=reviewer)
    first = [(r.count, r.median, r.p90) for r in data.first_review]
    assert first == [(2, 7.0, 10.0), (0, None, None), (1, 2.0, 2.0)]  # 4 h and 10 h; 2 h
    assert next(c for _, c in data.outcomes) == {"APPROVED": 1, "NEEDS_REVISION": 1,
                                                "REJECTED": 0}
    assert [r.reviewer for r in data.reviewers] == ["rob"]
    assert data.revisions.histogram == [(1, 1), (2, 1)]


def test_the_period_narrows_the_figures(history):
    data = insights.load(date_from=date(2026, 11, 16), date_to=date(2026, 11, 22))
    assert [(r.count, r.median) for r in data.first_review] == [(1, 2.0)]
    assert data.revisions.histogram == [(1, 0), (2, 1)]


def test_page_draws_each_chart_with_a_title_and_a_csv_link(client, history, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("insights:insights"),
                          {"date_from": "2026-11-02", "date_to": "2026-11-22"})
    page = response.content.decode()
    assert response.status_code == 200
    for slug in insights.FIGURES:
        assert f'id="chart-{slug}"' in page
        assert reverse("insights:insights_csv", args=[slug]) + "?date_from=2026-11-02" in page
    assert page.count("<svg") == 5 and page.count('role="img"') == 5
    assert "<title>Nov 02, median: 10 h</title>" in page
    assert "style=" not in page.split("<main", 1)[1]


def test_csv_has_the_numbers(client, history, admin_user):
    client.force_login(admin_user)
    url = reverse("insights:insights_csv", args=["time-to-first-review"])
    response = client.get(url, {"date_from": "2026-11-02", "date_to": "2026-11-22"})
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines() == [
        "week,submissions,median_hours,p90_hours",
        "2026-11-02,3,10.0,24.0",
        "2026-11-09,0,,",
        "2026-11-16,1,2.0,2.0",
    ]
    reviewers = client.get(reverse("insights:insights_csv", args=["reviewers"]),
                           {"date_from": "2026-11-02", "date_to": "2026-11-22"})
    assert reviewers.content.decode().splitlines()[1] == "rob,3,0,4.0,10.0"
    assert client.get(reverse("insights:insights_csv", args=["nope"])).status_code == 404


def test_an_admin_may_look_at_one_reviewers_figures(client, history, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("insights:insights"), {**PERIOD, "reviewer": "rob"})
    assert response.context["data"].reviewer == "rob"
    assert [r.reviewer for r in response.context["data"].reviewers] == ["rob"]
    assert "rob's figures" in response.content.decode()
    csv = client.get(reverse("insights:insights_csv", args=["reviewers"]),
                     {**PERIOD, "reviewer": "rita"}).content.decode().splitlines()
    assert csv[1:] == ["rita,1,0,24.0,24.0"]
    missing = client.get(reverse("insights:insights"), {**PERIOD, "reviewer": "nobody"})
    assert missing.status_code == 400 and "No such user." in missing.content.decode()


def test_a_reviewer_cannot_look_at_someone_elses_figures(client, history, reviewer):
    client.force_login(reviewer)
    response = client.get(reverse("insights:insights"), {**PERIOD, "reviewer": "rita"})
    assert response.context["data"].reviewer == "rob"


def test_authors_may_not_see_insights(author_client):
    assert author_client.get(reverse("insights:insights")).status_code == 403
    assert author_client.get(reverse("insights:insights_csv", args=["decisions"])).status_code \
        == 403


def test_a_bad_period_is_a_form_error(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("insights:insights"),
                          {"date_from": "2026-11-22", "date_to": "2026-11-02"})
    assert response.status_code == 400
    assert "must be on or before" in response.content.decode()
    assert client.get(reverse("insights:insights"), {"date_from": "garbage"}).status_code == 400


@pytest.mark.parametrize("edge", ["9999-12-31", "0001-01-01"])
def test_a_date_at_the_end_of_the_calendar_is_a_form_error_not_a_500(client, admin_user, edge):
    client.force_login(admin_user)
    response = client.get(reverse("insights:insights"), {"date_to": edge})
    assert response.status_code == 400 and "Pick a date between" in response.content.decode()
    csv = client.get(reverse("insights:insights_csv", args=["decisions"]), {"date_to": edge})
    assert csv.status_code == 200  # the default period, not the one out of range
    assert edge not in csv["Content-Disposition"]


def test_insights_query_count_does_not_grow(client, history, admin_user, reviewer,
                                            django_assert_num_queries):
    def count(user) -> int:
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("insights:insights"), PERIOD).status_code == 200
        return len(queries)

    small = {user: count(user) for user in (admin_user, reviewer)}  # computed and cached
    cached = {user: count(user) for user in (admin_user, reviewer)}
    assert all(cached[user] < small[user] and cached[user] <= 7 for user in cached), (small, cached)
    plans = Plan.objects.bulk_create(Plan(title=f"Bulk {i}", author=history[0].author)
                                     for i in range(200))
    with clock(at(2026, 11, 10)):
        revisions = PlanRevision.objects.bulk_create(
            PlanRevision(plan=p, number=1, content="x", content_hash=f"{p.pk:064d}",
                         created_by=p.author) for p in plans)
    checklist = default_checklist()
    Review.objects.bulk_create(
        Review(plan=r.plan, revision=r, reviewer=reviewer, checklist=checklist,
               decision="APPROVED", decided_at=at(2026, 11, 11)) for r in revisions)
    cache.clear()  # bulk rows write no audit entry; every service's write is a new version
    for user in (admin_user, reviewer):
        client.force_login(user)
        with django_assert_num_queries(small[user]):
            client.get(reverse("insights:insights"), PERIOD)
        with django_assert_num_queries(cached[user]):
            client.get(reverse("insights:insights"), PERIOD)
