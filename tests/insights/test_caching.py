"""The dashboards', insights' and search filters' cache (insights/caching.py) never shows stale
figures: every audited write, every admin change and the passing of a due time show at once."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from audit.selectors import data_version
from notifications.models import Channel, OutboxMessage, OutboxStatus
from plans.services import plan_create
from tests.factories import AuthorFactory, ready_plan
from tests.insights.kit import at, clock, decide, submit

pytestmark = pytest.mark.django_db


def get(client, user, name="insights:dashboard", **params):
    client.force_login(user)
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_new_draft_shows_on_the_dashboard_at_once(client, author):
    plan_create(actor=author, title="First draft")
    assert "First draft" in get(client, author)  # computed and cached
    assert "First draft" in get(client, author)  # from the cache
    plan_create(actor=author, title="Second draft")
    html = get(client, author)
    assert "First draft" in html and "Second draft" in html


def test_a_submission_shows_on_the_reviewers_and_admins_dashboards_at_once(
        client, author, reviewer, admin_user):
    plan = ready_plan(author=author, title="Fresh plan")
    assert "Fresh plan" not in get(client, reviewer)
    assert "Pending review, plans: 0" in get(client, admin_user)
    submit(plan, author, timezone.now())
    assert "Fresh plan" in get(client, reviewer)
    assert "Pending review, plans: 1" in get(client, admin_user)  # the chart drawn again


def test_a_plan_becomes_overdue_when_its_due_time_passes_without_any_write(
        client, author, reviewer, admin_user):
    now = timezone.now()
    plan = submit(ready_plan(author=author, title="Slow plan"), author, now - timedelta(hours=23))
    row = f'data-plan="{plan.pk}" class="overdue"'
    assert row not in get(client, reviewer)
    assert "No review is overdue." in get(client, admin_user)
    with clock(now + timedelta(hours=2)):  # past the 24 h due time; nothing written
        assert row in get(client, reviewer)
        assert "No review is overdue." not in get(client, admin_user)
    assert row not in get(client, reviewer)  # and a cached later board is not shown earlier


def test_a_failed_delivery_shows_at_once_though_it_writes_no_audit_entry(client, admin_user):
    plan_create(actor=admin_user, title="Anything")  # a version, so the board is cached
    assert "None failed." in get(client, admin_user)
    OutboxMessage.objects.create(event="plan.submitted", channel=Channel.EMAIL,
                                 status=OutboxStatus.FAILED, recipient=admin_user,
                                 subject="Undeliverable", attempts=5, last_error="SMTP refused")
    html = get(client, admin_user)
    assert "Undeliverable" in html and "SMTP refused" in html


def test_a_delivery_that_failed_and_waits_to_be_tried_again_shows_too(client, admin_user):
    plan_create(actor=admin_user, title="Anything")
    OutboxMessage.objects.create(event="plan.submitted", channel=Channel.EMAIL,
                                 status=OutboxStatus.PENDING, recipient=admin_user,
                                 subject="Mail", attempts=1, last_error="No answer from 127.0.0.1")
    OutboxMessage.objects.create(event="plan.submitted", channel=Channel.EMAIL,
                                 status=OutboxStatus.PENDING, recipient=admin_user,
                                 subject="Not tried yet")
    html = get(client, admin_user)
    assert "No answer from 127.0.0.1" in html and "1 attempt, to be tried again" in html
    assert "Not tried yet" not in html and "None failed." not in html


def test_an_admin_change_is_a_new_version(author, admin_user):
    """An admin's edit of a user (name, active flag) is no service: its history row counts."""
    plan_create(actor=author, title="Anything")
    before = data_version()
    LogEntry.objects.log_actions(user_id=admin_user.pk, queryset=[author], action_flag=CHANGE,
                                 change_message="Changed first name.", single_object=True)
    assert ContentType.objects.exists() and data_version() != before


def test_a_decision_shows_in_the_insights_and_their_csv_at_once(client, author, reviewer,
                                                                 admin_user):
    period = {"date_from": "2026-11-02", "date_to": "2026-11-08"}
    plan = submit(ready_plan(author=author, title="A"), author, at(2026, 11, 2, 9))
    csv = reverse("insights:insights_csv", args=["decisions"])

    def decisions():
        client.force_login(admin_user)
        return client.get(csv, period).content.decode().splitlines()[1]

    assert "No data in this period." in get(client, admin_user, "insights:insights", **period)
    assert decisions() == "2026-11-02,0,0,0"
    decide(plan, reviewer, "APPROVED", at(2026, 11, 2, 13))
    html = get(client, admin_user, "insights:insights", **period)
    assert "Nov 02, Approve: 1" in html  # the chart is drawn again
    assert decisions() == "2026-11-02,1,0,0"


def test_a_new_author_shows_in_the_search_filter_at_once(client, author):
    plan_create(actor=author, title="Mine")
    assert "newcomer" not in get(client, author, "insights:search")
    newcomer = AuthorFactory(username="newcomer")
    plan_create(actor=newcomer, title="Theirs")
    assert '<option value="newcomer"' in get(client, author, "insights:search")


def test_the_pages_render_without_the_cache(client, author, reviewer, admin_user, settings,
                                            caplog):
    """With Redis down the figures are computed afresh (tests/project/test_cache_outage.py)."""
    plan_create(actor=author, title="Cache outage")
    settings.CACHES = {"default": {
        "BACKEND": "core.cache_backend.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": {"socket_connect_timeout": 0.2}}}
    assert "Cache outage" in get(client, author)
    assert "Any author" in get(client, author, "insights:search", q="outage")
    assert "Plans by state" in get(client, admin_user)
    assert "Decisions per week" in get(client, admin_user, "insights:insights")
    assert "Cache unavailable" in caplog.text
