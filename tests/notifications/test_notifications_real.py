"""Notifications through a real Celery worker process over real Redis and PostgreSQL.

Each test starts its own worker (tests/conftest.py real_worker) on a queue of its own; the worker
shares the test database, so these are transaction=True tests. Skipped without DATABASE_URL and
REDIS_URL, failed under REQUIRE_SERVICES=1.
"""

import time

import pytest
from django.urls import reverse

from config.testing import WebhookReceiver, read_email_files, set_broker, wait_for
from notifications import services
from notifications.models import Channel, Notification, OutboxMessage, OutboxStatus, WebhookEndpoint
from plans.services import plan_submit
from reviews.events import PLAN_APPROVED, PLAN_REJECTED
from reviews.models import ReviewRequest
from tests.factories import AdminFactory, AuthorFactory, ReviewerFactory, ready_plan

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"


def all_settled(**filters):
    rows = OutboxMessage.objects.filter(**filters)
    return rows.exists() and not rows.filter(
        status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING]).exists()


def test_submit_through_the_worker_sends_one_email_inbox_item_and_signed_webhook_each(
    real_worker
):
    author = AuthorFactory(username="alice")
    rob, rita = ReviewerFactory(username="rob"), ReviewerFactory(username="rita")
    ReviewerFactory(username="otto")  # not requested: hears nothing
    plan = ready_plan(author=author, title="Real worker")
    for reviewer in (rob, rita):
        ReviewRequest.objects.create(plan=plan, user=reviewer, requested_by=author)

    with WebhookReceiver("wh-secret") as receiver:
        WebhookEndpoint.objects.create(name="CI", url=receiver.url, secret="wh-secret")
        revision = plan_submit(actor=author, plan=plan)  # commits: on_commit dispatches
        wait_for(lambda: all_settled(plan=plan), timeout=30, message=real_worker.log_text())
        time.sleep(0.5)  # give a duplicate, if there were one, time to arrive

    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}
    emails = read_email_files(real_worker.email_dir)
    assert len(emails) == 2
    assert sorted(line for e in emails for line in e.splitlines() if line.startswith("To: ")) == [
        "To: rita@example.com", "To: rob@example.com"]
    assert all(f"/plans/{plan.pk}/" in e for e in emails)
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "rita", "rob"]
    assert len(receiver.calls) == 1 and receiver.calls[0]["valid"]
    assert receiver.calls[0]["payload"]["revision_hash"] == revision.content_hash
    assert "notifications.tasks.deliver_notification" in real_worker.log_text()


def test_broker_down_at_commit_then_sweep_delivers_each_pending_notification_exactly_once(
    real_worker, require_redis
):
    author = AuthorFactory(username="alice")
    rob = ReviewerFactory(username="rob")
    n = 5
    plans = [ready_plan(author=author, title=f"Offline {i}") for i in range(n)]
    for plan in plans:
        ReviewRequest.objects.create(plan=plan, user=rob, requested_by=author)

    set_broker(CLOSED_PORT_BROKER)
    try:
        for plan in plans:
            plan_submit(actor=author, plan=plan)  # succeeds although nothing can publish
    finally:
        set_broker(require_redis)

    assert OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count() == 2 * n
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=False).exists()
    time.sleep(1.0)
    assert Notification.objects.count() == 0 and read_email_files(real_worker.email_dir) == []

    assert services.outbox_sweep(older_than_seconds=0) == 2 * n
    assert services.outbox_sweep(older_than_seconds=0) == 0  # already handed over
    wait_for(lambda: all_settled(), timeout=30, message=real_worker.log_text())
    time.sleep(0.5)

    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT, attempts=1).count() == 2 * n
    emails = read_email_files(real_worker.email_dir)
    assert len(emails) == n
    assert sorted(e.count("Offline") > 0 for e in emails) == [True] * n
    assert Notification.objects.filter(recipient=rob).count() == n
    assert sorted(Notification.objects.values_list("plan__title", flat=True)) == [
        f"Offline {i}" for i in range(n)]


def test_webhook_failing_twice_succeeds_on_the_third_try(real_worker):
    plan = ready_plan(title="Flaky receiver")
    with WebhookReceiver("k", statuses=[500, 500, 200]) as receiver:
        WebhookEndpoint.objects.create(name="Flaky", url=receiver.url, secret="k")
        services.notify_plan_event(event=PLAN_APPROVED, plan=plan, actor=None, recipients=[])
        wait_for(lambda: all_settled(channel=Channel.WEBHOOK), timeout=30,
                 message=real_worker.log_text())
    assert [c["status"] for c in receiver.calls] == [500, 500, 200]
    row = OutboxMessage.objects.get(channel=Channel.WEBHOOK)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 3)


def test_webhook_that_never_succeeds_fails_visibly_and_the_admin_retry_resends(
    real_worker, client
):
    plan = ready_plan(title="Dead receiver")
    with WebhookReceiver("k", statuses=[503]) as receiver:
        WebhookEndpoint.objects.create(name="Dead", url=receiver.url, secret="k")
        services.notify_plan_event(event=PLAN_REJECTED, plan=plan, actor=None, recipients=[])
        wait_for(lambda: all_settled(channel=Channel.WEBHOOK), timeout=30,
                 message=real_worker.log_text())
        row = OutboxMessage.objects.get(channel=Channel.WEBHOOK)
        assert row.status == OutboxStatus.FAILED
        assert "HTTP 503" in row.last_error
        assert len(receiver.calls) == 4  # the worker runs with PLANGATE_NOTIFY_MAX_RETRIES=3

        client.force_login(AdminFactory(username="ada", is_superuser=True))
        changelist = reverse("admin:notifications_outboxmessage_changelist")
        page = client.get(changelist, {"status__exact": "failed"}).content.decode()
        assert "HTTP 503" in page and "Dead" in page

        receiver.statuses = [200]
        response = client.post(changelist, {
            "action": "retry_selected", "_selected_action": [row.pk]}, follow=True)
        assert "Queued 1 notification(s)" in response.content.decode()
        wait_for(lambda: all_settled(channel=Channel.WEBHOOK), timeout=30,
                 message=real_worker.log_text())
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert [c["status"] for c in receiver.calls] == [503] * 4 + [200]
