"""Notifications, in-process (tasks run eagerly after commit): who hears what, through which
channel, exactly once; retries, failures, the sweep, reminders, the inbox and settings pages."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.roles import REVIEWERS
from config.testing import WebhookReceiver
from notifications import services
from notifications.events import Event, Notify
from notifications.models import (
    Channel,
    Notification,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    ReminderSent,
    WebhookEndpoint,
)
from notifications.services import notify_plan_event, outbox_deliver
from plans import events as plan_events
from plans.events import PLAN_SUBMITTED
from plans.models import PlanRevision
from plans.services import plan_submit, plan_withdraw
from reviews import events as review_events
from reviews import services as review_services
from reviews.models import ChecklistTemplate, Review, ReviewRequest
from tests.factories import AdminFactory, ReviewerFactory, UserFactory, ready_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(author):
    return ready_plan(author=author, title="Cache sessions")


def submit(plan, capture, actor=None):
    with capture(execute=True):
        revision = plan_submit(actor=actor or plan.author, plan=plan)
    plan.refresh_from_db()
    return revision


def emails_to(username):
    return [m for m in mail.outbox if m.to == [f"{username}@example.com"]]


def outbox(**filters):
    return OutboxMessage.objects.filter(**filters)


def make_review(plan, reviewer, revision, decision="", comment=""):
    checklist = ChecklistTemplate.objects.first() or ChecklistTemplate.objects.create(name="c")
    return Review.objects.create(
        plan=plan, revision=revision, reviewer=reviewer, checklist=checklist,
        decision=decision, comment=comment,
        decided_at=timezone.now() if decision else None,
    )


# --- who hears what -------------------------------------------------------------------------------

def test_submit_notifies_each_requested_reviewer_once_by_email_and_inbox(
    plan, author, reviewer, reviewer2, django_capture_on_commit_callbacks
):
    group = Group.objects.create(name="Security")
    in_group = ReviewerFactory(username="sam")
    in_group.groups.add(group)
    reviewer2.groups.add(group)  # requested by name and through the group: still once
    ReviewRequest.objects.create(plan=plan, user=reviewer, requested_by=author)
    ReviewRequest.objects.create(plan=plan, user=reviewer2, requested_by=author)
    ReviewRequest.objects.create(plan=plan, group=group, requested_by=author)
    ReviewerFactory(username="otto")  # a reviewer nobody asked

    submit(plan, django_capture_on_commit_callbacks)

    assert sorted(m.to[0] for m in mail.outbox) == [
        "rita@example.com", "rob@example.com", "sam@example.com"]
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "rita", "rob", "sam"]
    assert set(outbox().values_list("status", flat=True)) == {OutboxStatus.SENT}
    message = emails_to("rob")[0]
    name = author.get_full_name() or "alice"
    assert message.subject == f"[Plangate] {name} submitted “Cache sessions” for review"
    url = f"http://127.0.0.1:8000/plans/{plan.pk}/"
    assert url in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f'href="{url}"' in html


def test_submit_without_requests_notifies_the_reviewers_group_but_not_the_author(
    author, reviewer, reviewer2, django_capture_on_commit_callbacks
):
    author.groups.add(Group.objects.get(name=REVIEWERS))  # an author who is also a reviewer
    plan = ready_plan(author=author)
    submit(plan, django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mail.outbox) == ["rita@example.com", "rob@example.com"]


def test_the_actor_is_never_notified_of_their_own_action(plan, author, reviewer):
    ids = notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=reviewer,
                            recipients=[reviewer, author])
    assert set(outbox(pk__in=ids).values_list("recipient__username", flat=True)) == {"alice"}


def test_resubmission_reaches_earlier_reviewers_too(
    plan, author, reviewer, reviewer2, django_capture_on_commit_callbacks
):
    ReviewRequest.objects.create(plan=plan, user=reviewer, requested_by=author)
    revision = submit(plan, django_capture_on_commit_callbacks)
    make_review(plan, reviewer2, revision, decision="NEEDS_REVISION", comment="Add metrics")
    with django_capture_on_commit_callbacks(execute=True):
        plan.refresh_from_db()
        plan.request_revision()
        plan.save()
    mail.outbox.clear()

    submit(plan, django_capture_on_commit_callbacks)

    assert sorted(m.to[0] for m in mail.outbox) == ["rita@example.com", "rob@example.com"]
    assert all("resubmitted" in m.subject for m in mail.outbox)


def test_a_decision_reaches_the_author_with_the_reviewers_comment(
    plan, author, reviewer, django_capture_on_commit_callbacks
):
    revision = submit(plan, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    review = make_review(plan, reviewer, revision, decision="NEEDS_REVISION",
                         comment="Rollback misses the cache flush.")
    with django_capture_on_commit_callbacks(execute=True):
        for event in (review_events.REVIEW_DECIDED, review_events.PLAN_NEEDS_REVISION):
            notify_plan_event(event=event, plan=plan, actor=reviewer, review=review)

    assert [m.to[0] for m in mail.outbox] == ["alice@example.com"] * 2
    for message in mail.outbox:
        assert "Rollback misses the cache flush." in message.body
        assert "Decision: Needs revision" in message.body
    item = Notification.objects.get(recipient=author, event="review.decided")
    assert "Rollback misses the cache flush." in item.body


def test_withdrawal_reaches_reviewers_who_started_a_review(
    plan, author, reviewer, reviewer2, django_capture_on_commit_callbacks
):
    revision = submit(plan, django_capture_on_commit_callbacks)
    make_review(plan, reviewer, revision)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        plan_withdraw(actor=author, plan=plan)
    assert [m.to[0] for m in mail.outbox] == ["rob@example.com"]
    assert "withdrew" in mail.outbox[0].subject


def test_an_event_nobody_registered_is_refused(plan, author):
    unregistered = Event("plan.exploded", "Plan exploded", Notify("Boom", "{plan} exploded", ()))
    with pytest.raises(ValueError, match="not a registered notification event"):
        notify_plan_event(event=unregistered, plan=plan, actor=author)
    assert not OutboxMessage.objects.exists()


def test_an_event_that_notifies_nobody_is_refused(plan, author):
    with pytest.raises(ValueError, match="not a registered notification event"):
        notify_plan_event(event=plan_events.PLAN_EDITED, plan=plan, actor=author)


def test_nothing_is_recorded_when_the_state_change_rolls_back(plan, reviewer):
    plan.problem_statement = ""
    plan.save()
    with pytest.raises(Exception, match="Problem statement"):
        plan_submit(actor=plan.author, plan=plan)
    assert not outbox().exists()


# --- channels and preferences ---------------------------------------------------------------------

def test_channel_preferences_are_honoured_per_event(
    plan, reviewer, reviewer2, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(user=reviewer, event="plan.submitted",
                                          email=False, inbox=True)
    NotificationPreference.objects.create(user=reviewer2, event="plan.submitted",
                                          email=True, inbox=False)
    NotificationPreference.objects.create(user=reviewer2, event="plan.withdrawn",
                                          email=False, inbox=False)
    submit(plan, django_capture_on_commit_callbacks)
    assert [m.to[0] for m in mail.outbox] == ["rita@example.com"]
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["rob"]


def test_settings_page_saves_channels_per_event(client, reviewer):
    client.force_login(reviewer)
    page = client.get(reverse("notifications:preferences"))
    assert page.status_code == 200
    assert 'name="plan.submitted:email"' in page.content.decode()
    response = client.post(reverse("notifications:preferences"), {
        "plan.submitted:inbox": "on", "plan.approved:email": "on", "plan.approved:inbox": "on",
    }, follow=True)
    assert "Notification settings saved." in response.content.decode()
    pref = NotificationPreference.objects.get(user=reviewer, event="plan.submitted")
    assert (pref.email, pref.inbox) == (False, True)
    rows = {r["event"]: r for r in response.context["rows"]}
    assert rows["plan.submitted"]["email"] is False and rows["plan.approved"]["email"] is True


def test_webhook_payload_is_signed_and_verifiable(
    plan, reviewer, django_capture_on_commit_callbacks
):
    with WebhookReceiver("s3cret") as receiver:
        WebhookEndpoint.objects.create(name="CI", url=receiver.url, secret="s3cret")
        WebhookEndpoint.objects.create(name="Only approvals", url=receiver.url, secret="s3cret",
                                       events=["plan.approved"])
        revision = submit(plan, django_capture_on_commit_callbacks)
    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    assert call["valid"] is True
    payload = call["payload"]
    assert payload["event"] == "plan.submitted"
    assert payload["plan_id"] == plan.pk and payload["plan_title"] == "Cache sessions"
    assert payload["revision_hash"] == revision.content_hash
    assert payload["actor"] == "alice" and payload["timestamp"]
    assert outbox(channel=Channel.WEBHOOK).get().status == OutboxStatus.SENT


def test_a_receiver_with_another_secret_refuses_the_call(
    plan, django_capture_on_commit_callbacks
):
    with WebhookReceiver("the receiver's secret") as receiver:
        WebhookEndpoint.objects.create(name="CI", url=receiver.url, secret="another secret")
        submit(plan, django_capture_on_commit_callbacks)
    assert [call["valid"] for call in receiver.calls] == [False]
    row = outbox(channel=Channel.WEBHOOK).get()
    assert row.status != OutboxStatus.SENT and "HTTP 401" in row.last_error


# --- idempotency, retries, failure ----------------------------------------------------------------

def test_a_redelivered_task_sends_nothing_twice(plan, reviewer, settings):
    WebhookEndpoint.objects.create(name="CI", url="http://127.0.0.1:9/none", secret="x",
                                   is_active=False)
    ids = notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=plan.author,
                            recipients=[reviewer])
    for outbox_id in ids * 2:  # every task delivered twice
        outbox_deliver(outbox_id=outbox_id)
    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1
    assert [outbox_deliver(outbox_id=i) for i in ids] == ["skipped", "skipped"]


def test_an_email_interrupted_mid_send_is_sent_again_within_minutes_with_the_same_message_id(
    plan, reviewer
):
    """At-least-once: a worker died between "sending" and "sent" (finding 8)."""
    (email_id,) = notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=plan.author,
                                    recipients=[reviewer])[:1]
    outbox_deliver(outbox_id=email_id)
    first_copy = mail.outbox[0].message()["Message-ID"]
    mail.outbox.clear()
    # Say the worker died right after handing that email to the SMTP server.
    outbox(pk=email_id).update(status=OutboxStatus.SENDING, sent_at=None,
                               attempted_at=timezone.now() - timedelta(minutes=1))
    assert outbox_deliver(outbox_id=email_id) == "skipped"  # a duplicate task sends nothing
    services.outbox_sweep(older_than_seconds=0)
    assert mail.outbox == []  # a minute is not yet "stuck"

    outbox(pk=email_id).update(attempted_at=timezone.now() - timedelta(minutes=6))
    services.outbox_sweep(older_than_seconds=0)
    [second_copy] = mail.outbox
    assert first_copy == f"<plangate-outbox-{email_id}@localhost>"
    assert second_copy.message()["Message-ID"] == first_copy
    assert outbox().get(pk=email_id).status == OutboxStatus.SENT


def test_a_task_the_broker_lost_is_dispatched_again_within_minutes(plan, reviewer):
    """Redis lost the queued task (killed without persistence): finding 7."""
    ids = notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=plan.author,
                            recipients=[reviewer])
    outbox(pk__in=ids).update(dispatched_at=timezone.now() - timedelta(minutes=3))
    assert services.outbox_sweep(older_than_seconds=0) == 0  # the broker may still deliver it
    outbox(pk__in=ids).update(dispatched_at=timezone.now() - timedelta(minutes=7))
    assert services.outbox_sweep(older_than_seconds=0) == len(ids)
    assert set(outbox(pk__in=ids).values_list("status", flat=True)) == {OutboxStatus.SENT}
    assert len(mail.outbox) == 1


def test_webhook_failing_twice_then_succeeding_is_delivered_on_the_third_try(
    plan, django_capture_on_commit_callbacks
):
    # Embedded mode (tasks run eagerly): one attempt per dispatch, the sweep tries again.
    with WebhookReceiver("k", statuses=[500, 500, 200]) as receiver:
        WebhookEndpoint.objects.create(name="Flaky", url=receiver.url, secret="k")
        with django_capture_on_commit_callbacks(execute=True):
            notify_plan_event(event=review_events.PLAN_APPROVED, plan=plan, actor=None,
                              recipients=[])
        for _ in range(3):
            services.outbox_sweep(older_than_seconds=0)
    assert [c["status"] for c in receiver.calls] == [500, 500, 200]
    row = outbox(channel=Channel.WEBHOOK).get()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 3)


def test_webhook_that_never_succeeds_ends_failed_then_admin_retry_resends(
    plan, client, settings, django_capture_on_commit_callbacks
):
    settings.PLANGATE_NOTIFY_MAX_RETRIES = 2
    with WebhookReceiver("k", statuses=[500]) as receiver:
        WebhookEndpoint.objects.create(name="Down", url=receiver.url, secret="k")
        with django_capture_on_commit_callbacks(execute=True):
            notify_plan_event(event=review_events.PLAN_APPROVED, plan=plan, actor=None,
                              recipients=[])
        for _ in range(4):
            services.outbox_sweep(older_than_seconds=0)
        assert len(receiver.calls) == 3  # first try + 2 retries, then no more
        row = outbox(channel=Channel.WEBHOOK).get()
        assert row.status == OutboxStatus.FAILED and "HTTP 500" in row.last_error

        admin = AdminFactory(username="ada", is_superuser=True)
        client.force_login(admin)
        changelist = reverse("admin:notifications_outboxmessage_changelist")
        page = client.get(changelist, {"status__exact": "failed"})
        assert "HTTP 500" in page.content.decode()

        receiver.statuses = [200]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(changelist, {
                "action": "retry_selected", "_selected_action": [row.pk]}, follow=True)
        assert "Queued 1 notification(s)" in response.content.decode()
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert [c["status"] for c in receiver.calls][-1] == 200


def test_eager_mode_failing_webhook_is_tried_once_inside_the_request(
    plan, author, django_capture_on_commit_callbacks
):
    """Embedded mode (no broker): a submit with a failing webhook makes exactly one attempt and
    returns; the row stays pending, with the error, for the sweep or the admin's retry."""
    with WebhookReceiver("k", statuses=[500]) as receiver:
        WebhookEndpoint.objects.create(name="Down", url=receiver.url, secret="k")
        submit(plan, django_capture_on_commit_callbacks)
        assert len(receiver.calls) == 1
    row = outbox(channel=Channel.WEBHOOK).get()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "HTTP 500" in row.last_error and row.dispatched_at is None  # the sweep's to take


def test_retry_countdown_doubles_from_the_base_and_is_capped(settings):
    settings.PLANGATE_NOTIFY_BACKOFF_BASE = 10
    settings.PLANGATE_NOTIFY_BACKOFF_MAX = 240
    assert [services.retry_countdown(n) for n in range(8)] == [
        10, 20, 40, 80, 160, 240, 240, 240]


def test_celery_settings_that_keep_delivery_safe():
    """Traps: a countdown past the visibility_timeout runs twice; a task acked before it ran is
    lost with its worker; a broker that hangs blocks the request."""
    from config.celery_app import app

    conf = app.conf
    from django.conf import settings as django_settings

    visibility = conf.broker_transport_options["visibility_timeout"]
    assert visibility > django_settings.PLANGATE_NOTIFY_BACKOFF_MAX
    assert visibility <= 300  # a killed worker's tasks come back within minutes (finding 8)
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert 0 < conf.broker_connection_timeout <= 5
    from notifications.tasks import deliver_notification

    assert deliver_notification.acks_late is True


# --- broker down and the sweep --------------------------------------------------------------------

def test_broker_down_at_commit_keeps_the_request_alive_and_the_sweep_delivers_once(
    plan, author, reviewer, monkeypatch, django_capture_on_commit_callbacks
):
    from notifications import tasks

    real_publish = tasks.deliver_notification.apply_async

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:1")

    monkeypatch.setattr(tasks.deliver_notification, "apply_async", broker_down)
    revision = submit(plan, django_capture_on_commit_callbacks)
    assert revision.pk and mail.outbox == []
    assert set(outbox().values_list("status", flat=True)) == {OutboxStatus.PENDING}
    assert services.outbox_sweep(older_than_seconds=0) == 0  # still down: nothing handed over

    monkeypatch.setattr(tasks.deliver_notification, "apply_async", real_publish)
    assert services.outbox_sweep() == 0  # rows younger than the sweep age are left alone
    assert services.outbox_sweep(older_than_seconds=0) == 2
    assert services.outbox_sweep(older_than_seconds=0) == 0
    assert len(mail.outbox) == 1 and Notification.objects.count() == 1


# --- reminders ------------------------------------------------------------------------------------

def test_reminders_nudge_waiting_reviewers_and_escalate_to_admins_once_per_wait(
    plan, author, reviewer, reviewer2, django_capture_on_commit_callbacks
):
    admin = AdminFactory(username="ada")
    ReviewRequest.objects.create(plan=plan, user=reviewer, requested_by=author)
    ReviewRequest.objects.create(plan=plan, user=reviewer2, requested_by=author)
    revision = submit(plan, django_capture_on_commit_callbacks)
    make_review(plan, reviewer2, revision, decision="APPROVED")  # rita already decided
    mail.outbox.clear()
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        assert review_services.review_reminders_send(now=now + timedelta(hours=23)) == {
            "reviewer": 0, "admin": 0}
        assert review_services.review_reminders_send(now=now + timedelta(hours=25)) == {
            "reviewer": 1, "admin": 0}
        assert review_services.review_reminders_send(now=now + timedelta(hours=26)) == {
            "reviewer": 0, "admin": 0}
        assert review_services.review_reminders_send(now=now + timedelta(hours=49)) == {
            "reviewer": 0, "admin": 1}
        assert review_services.review_reminders_send(now=now + timedelta(hours=72)) == {
            "reviewer": 0, "admin": 0}

    assert [m.to[0] for m in mail.outbox] == ["rob@example.com", "ada@example.com"]
    assert "Reminder" in mail.outbox[0].subject
    assert "over 48 hours" in mail.outbox[1].subject
    assert admin.notifications.count() == 1
    assert set(ReminderSent.objects.values_list("revision", "kind")) == {
        (revision.pk, "reviewer"), (revision.pk, "admin")}
    assert PlanRevision.objects.count() == 1


# --- inbox pages ----------------------------------------------------------------------------------

def _inbox_items(user, count):
    return [Notification.objects.create(recipient=user, event="plan.submitted",
                                        title=f"Item {i}", url="/plans/1/") for i in range(count)]


def test_nav_shows_unread_count_and_mark_read_clears_it(client, reviewer, author):
    items = _inbox_items(reviewer, 3)
    _inbox_items(author, 2)
    client.force_login(reviewer)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert 'aria-label="3 unread"' in page and "Item 2" in page

    response = client.post(reverse("notifications:mark_read", args=[items[0].pk]))
    assert response.status_code == 302
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert 'aria-label="2 unread"' in page

    client.post(reverse("notifications:mark_all_read"))
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "unread" not in page
    assert Notification.objects.filter(recipient=author, read_at__isnull=True).count() == 2


def test_mark_read_needs_post_and_is_only_for_the_recipient(client, reviewer, author):
    (theirs,) = _inbox_items(author, 1)
    (mine,) = _inbox_items(reviewer, 1)
    client.force_login(reviewer)
    assert client.get(reverse("notifications:mark_read", args=[mine.pk])).status_code == 405
    assert client.post(reverse("notifications:mark_read", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_requires_the_csrf_token(reviewer):
    from django.test import Client

    (item,) = _inbox_items(reviewer, 1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)
    assert client.post(reverse("notifications:mark_read", args=[item.pk])).status_code == 403


def test_inbox_page_query_count_does_not_grow_with_items(
    client, reviewer, django_assert_max_num_queries
):
    client.force_login(reviewer)
    _inbox_items(reviewer, 2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("notifications:inbox"))
    _inbox_items(reviewer, 20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Item 19" in client.get(reverse("notifications:inbox")).content.decode()


def test_nothing_is_delivered_before_the_transaction_commits(
    plan, reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=plan.author,
                          recipients=[reviewer])
    assert mail.outbox == [] and Notification.objects.count() == 0
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1 and Notification.objects.count() == 1


def test_beat_schedule_names_real_tasks(settings):
    from config.celery_app import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


def test_inbox_items_link_to_the_plan_on_the_current_host(plan, reviewer):
    for outbox_id in notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=plan.author,
                                       recipients=[reviewer]):
        outbox_deliver(outbox_id=outbox_id)
    assert Notification.objects.get().url == f"/plans/{plan.pk}/"
    assert f"http://127.0.0.1:8000/plans/{plan.pk}/" in mail.outbox[0].body


def test_webhook_urls_must_be_http(db):
    from django.core.exceptions import ValidationError

    endpoint = WebhookEndpoint(name="x", url="ftp://127.0.0.1/hook", secret="k")
    with pytest.raises(ValidationError):
        endpoint.full_clean()


# --- who may hear as a reviewer -------------------------------------------------------------------

def test_a_requested_group_reaches_only_members_who_may_review_the_plan(
    plan, author, reviewer, django_capture_on_commit_callbacks
):
    from plans.models import PlanEditor

    group = Group.objects.create(name="Platform")
    outsider = UserFactory(username="nina")  # in the group, not a reviewer
    coeditor = ReviewerFactory(username="cora")  # a reviewer who edited the plan
    author.groups.add(Group.objects.get(name=REVIEWERS))  # the author is a reviewer too
    group.user_set.add(reviewer, outsider, coeditor, author)
    PlanEditor.objects.create(plan=plan, user=coeditor)
    ReviewRequest.objects.create(plan=plan, group=group, requested_by=author)

    submit(plan, django_capture_on_commit_callbacks)
    assert [m.to[0] for m in mail.outbox] == ["rob@example.com"]

    # Reminders have no actor to leave out: the author still never hears "review this".
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        review_services.review_reminders_send(now=timezone.now() + timedelta(hours=25))
    assert [m.to[0] for m in mail.outbox] == ["rob@example.com"]
    assert not Notification.objects.filter(recipient__in=[author, outsider, coeditor]).exists()


# --- one click, one email -------------------------------------------------------------------------

def _decide(plan, reviewer, decision, comment, capture):
    from reviews import services as review_services
    from tests.reviewkit import answer_all

    review = review_services.review_start(actor=reviewer, plan=plan)
    if decision == "APPROVED":
        answer_all(review, reviewer)
    mail.outbox.clear()
    Notification.objects.all().delete()
    with capture(execute=True):
        review_services.review_decide(actor=reviewer, review=review, decision=decision,
                                      comment=comment)


def test_a_decision_that_sends_the_plan_back_reaches_the_author_once(
    plan, author, reviewer, django_capture_on_commit_callbacks
):
    submit(plan, django_capture_on_commit_callbacks)
    _decide(plan, reviewer, "NEEDS_REVISION", "Rollback misses the cache flush.",
            django_capture_on_commit_callbacks)
    assert len(emails_to("alice")) == 1 and len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "sent back for revision" in message.subject
    assert "Rollback misses the cache flush." in message.body
    assert "Decision: Needs revision" in message.body
    item = Notification.objects.get(recipient=author)
    assert item.event == "plan.needs_revision" and "cache flush" in item.body


def test_a_decision_that_leaves_the_plan_pending_is_reported_as_a_review(
    plan, author, reviewer, django_capture_on_commit_callbacks
):
    from reviews.models import ReviewPolicy

    ReviewPolicy.objects.update(min_approvals=2)
    submit(plan, django_capture_on_commit_callbacks)
    _decide(plan, reviewer, "APPROVED", "Looks good.", django_capture_on_commit_callbacks)
    assert [m.to[0] for m in mail.outbox] == ["alice@example.com"]
    assert "reviewed" in mail.outbox[0].subject and "Looks good." in mail.outbox[0].body
    assert list(Notification.objects.values_list("event", flat=True)) == ["review.decided"]


# --- headers --------------------------------------------------------------------------------------

def test_a_title_with_line_breaks_makes_a_one_line_subject(plan, reviewer):
    from plans.models import Plan

    Plan.objects.filter(pk=plan.pk).update(title="Cache\r\nBcc: victim@example.com\nsessions")
    plan.refresh_from_db()
    for outbox_id in notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=plan.author,
                                       recipients=[reviewer]):
        outbox_deliver(outbox_id=outbox_id)
    (message,) = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.subject.endswith("“Cache Bcc: victim@example.com sessions” for review")
    assert message.recipients() == ["rob@example.com"]
    assert "\n" not in Notification.objects.get().title
