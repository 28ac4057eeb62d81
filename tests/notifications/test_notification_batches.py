"""An event's notifications are written in bulk and handed to the broker once per transaction,
its email rendered once: each recipient still gets their own, correct message."""

import pytest
from django.core import mail
from django.db import transaction

from notifications import tasks
from notifications.models import Channel, Notification, OutboxMessage, OutboxStatus
from notifications.services import notify_plan_event
from plans.events import PLAN_SUBMITTED
from plans.services import plan_submit
from reviews import events as review_events
from reviews.models import ReviewRequest
from tests.factories import ReviewerFactory, ready_plan

pytestmark = pytest.mark.django_db

NAMES = ["Ada Lovelace", "Grace Hopper", "<b>O'Brien</b> & Co", "Ken", "Barbara Liskov",
         "Edsger", "Frances Allen", "Dennis", "Radia", "Leslie Lamport"]


@pytest.fixture
def publishes(monkeypatch):
    """Every delivery task handed to the broker (then run, as in embedded mode)."""
    calls = []
    real_publish = tasks.deliver_notification.apply_async

    def publish(args, **options):
        calls.append(*args)
        return real_publish(args, **options)

    monkeypatch.setattr(tasks.deliver_notification, "apply_async", publish)
    return calls


@pytest.fixture
def ten_reviewers():
    people = []
    for n, name in enumerate(NAMES):
        first, _, last = name.rpartition(" ") if " " in name else (name, "", "")
        people.append(ReviewerFactory(username=f"r{n}", first_name=first, last_name=last))
    return people


def test_ten_recipients_each_get_their_own_email_and_inbox_item_from_one_publish(
    author, ten_reviewers, publishes, django_capture_on_commit_callbacks
):
    plan = ready_plan(author=author, title="Cache <sessions>")
    for user in ten_reviewers:
        ReviewRequest.objects.create(plan=plan, user=user, requested_by=author)

    with django_capture_on_commit_callbacks(execute=True):
        plan_submit(actor=author, plan=plan)

    rows = OutboxMessage.objects.filter(plan=plan)
    assert [sorted(ids) for ids in publishes] == [sorted(rows.values_list("pk", flat=True))]
    assert set(rows.values_list("status", flat=True)) == {OutboxStatus.SENT}
    assert len(mail.outbox) == 10
    for user in ten_reviewers:
        [message] = [m for m in mail.outbox if m.to == [user.email]]
        name = user.get_full_name() or user.get_username()
        assert message.body.startswith(f"Hello {name},\n")
        html, _ = message.alternatives[0]
        escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        escaped = escaped.replace("'", "&#x27;")
        assert f"<p>Hello {escaped},</p>" in html
        assert "Cache &lt;sessions&gt;" in html and "Cache <sessions>" in message.body
        others = [u for u in ten_reviewers if u != user]
        assert not any(o.last_name and o.get_full_name() in message.body for o in others)
        assert "recipient-" not in message.body + html  # no stand-in left behind
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        f"r{n}" for n in range(10)]


def test_events_recorded_in_one_transaction_are_published_together(
    author, reviewer, reviewer2, publishes, django_capture_on_commit_callbacks
):
    plan = ready_plan(author=author)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        first = notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=author,
                                  recipients=[reviewer])
        second = notify_plan_event(event=review_events.REVIEW_REQUESTED, plan=plan,
                                   actor=author, recipients=[reviewer2])
    assert publishes == [first + second]
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2


def test_a_rolled_back_savepoint_publishes_nothing_of_its_own(
    author, reviewer, reviewer2, publishes, django_capture_on_commit_callbacks
):
    plan = ready_plan(author=author)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        try:
            with transaction.atomic():
                notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=author,
                                  recipients=[reviewer])
                raise RuntimeError("the state change failed")
        except RuntimeError:
            pass
        kept = notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=author,
                                 recipients=[reviewer2])
    assert publishes == [kept]
    assert [m.to for m in mail.outbox] == [[reviewer2.email]]


def test_a_batch_delivered_twice_creates_each_inbox_item_and_email_once(author, reviewer,
                                                                        reviewer2):
    plan = ready_plan(author=author)
    ids = notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=author,
                            recipients=[reviewer, reviewer2])
    assert OutboxMessage.objects.filter(channel=Channel.INBOX).count() == 2
    for _ in range(2):  # a redelivered task
        tasks.deliver_notification.apply(args=[ids])
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2
    inbox = Notification.objects.get(recipient=reviewer)
    row = OutboxMessage.objects.get(pk=inbox.outbox_id)
    assert (row.status, row.attempts, inbox.title) == (OutboxStatus.SENT, 1, row.subject)


@pytest.fixture
def broker_mode(monkeypatch):
    """As with a broker: tasks are published (here: recorded), not run in-process."""
    from config.celery_app import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    published = []
    monkeypatch.setattr(tasks.deliver_notification, "apply_async",
                        lambda args, **options: published.append(*args))
    yield published
    app.conf.task_always_eager = eager


def test_with_a_broker_rows_are_marked_dispatched_with_their_insert_not_after(
    author, reviewer, broker_mode, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    plan = ready_plan(author=author)
    ReviewRequest.objects.create(plan=plan, user=reviewer, requested_by=author)
    with django_capture_on_commit_callbacks() as callbacks:
        plan_submit(actor=author, plan=plan)
    rows = OutboxMessage.objects.filter(plan=plan)
    assert rows.count() == 2 and not rows.filter(dispatched_at__isnull=True).exists()
    with CaptureQueriesContext(connection) as after_commit:
        for callback in callbacks:
            callback()
    assert broker_mode == [sorted(rows.values_list("pk", flat=True))]
    assert not [q for q in after_commit.captured_queries
                if "notifications_outboxmessage" in q["sql"]]  # no write of its own


def test_with_the_broker_down_the_mark_is_emptied_for_the_sweep(
    author, reviewer, broker_mode, monkeypatch, django_capture_on_commit_callbacks
):
    def down(args, **options):
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:1")

    monkeypatch.setattr(tasks.deliver_notification, "apply_async", down)
    plan = ready_plan(author=author)
    ReviewRequest.objects.create(plan=plan, user=reviewer, requested_by=author)
    with django_capture_on_commit_callbacks(execute=True):
        plan_submit(actor=author, plan=plan)
    rows = OutboxMessage.objects.filter(plan=plan)
    assert rows.count() == 2 and not rows.filter(dispatched_at__isnull=False).exists()
    assert set(rows.values_list("status", flat=True)) == {OutboxStatus.PENDING}
