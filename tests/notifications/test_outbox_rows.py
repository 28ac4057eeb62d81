"""The outbox rows an event records (one INSERT, without model instances): every column as the
delivery reads it, the ids returned for exactly those rows, and a team too large for one
statement's parameters on SQLite still all hear."""

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.models import Channel, NotificationPreference, OutboxMessage, WebhookEndpoint
from notifications.services import _insert_outbox, _outbox_fields, notify_plan_event
from plans.events import PLAN_SUBMITTED
from tests.factories import ReviewerFactory, ready_plan

pytestmark = pytest.mark.django_db


def test_each_row_has_the_columns_delivery_reads_and_the_ids_name_those_rows(author):
    plan = ready_plan(author=author, title="Cache sessions")
    ada = ReviewerFactory(username="ada", first_name="Ada", last_name="Lovelace")
    ken = ReviewerFactory(username="ken")
    NotificationPreference.objects.create(user=ken, event=PLAN_SUBMITTED.name, email=False)
    endpoint = WebhookEndpoint.objects.create(name="CI", url="https://ci.example/hook",
                                              secret="s3cret")

    ids = notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=author,
                            comment="Say how it is rolled back.", recipients=[ada, ken, author])

    rows = OutboxMessage.objects.in_bulk(ids)
    assert [(rows[pk].channel, rows[pk].recipient_id, rows[pk].endpoint_id) for pk in ids] == [
        (Channel.EMAIL, ada.pk, None), (Channel.INBOX, ada.pk, None),
        (Channel.INBOX, ken.pk, None),  # ken turned email off; the author is the actor
        (Channel.WEBHOOK, None, endpoint.pk),
    ]
    email, inbox, _, webhook = (rows[pk] for pk in ids)
    for row in rows.values():
        assert (row.event, row.status, row.plan_id, row.actor_id, row.attempts, row.last_error,
                row.attempted_at, row.sent_at) == (
            PLAN_SUBMITTED.name, "pending", plan.pk, author.pk, 0, "", None, None)
        name = author.get_full_name() or author.get_username()
        assert row.subject == f"{name} submitted “Cache sessions” for review"
        assert row.created_at == email.created_at
    assert email.url.endswith(plan.get_absolute_url()) and email.url.startswith("http")
    assert inbox.url == plan.get_absolute_url()  # relative: whichever host the user is on
    assert "Ada Lovelace" in email.body_text and "Ada Lovelace" in email.body_html
    assert (inbox.body_text, inbox.body_html) == ("“Say how it is rolled back.”", "")
    assert (email.payload, inbox.payload) == ({}, {})
    assert webhook.payload["event"] == PLAN_SUBMITTED.name
    assert webhook.payload["plan_id"] == plan.pk
    assert (webhook.body_text, webhook.body_html) == ("", "")


def test_a_team_too_large_for_one_statement_all_hear(author):
    """SQLite takes at most 999 parameters a statement: 40 reviewers' 80 rows are two INSERTs
    there, one on PostgreSQL; everyone gets both channels either way."""
    plan = ready_plan(author=author)
    team = [ReviewerFactory(username=f"member{n}") for n in range(40)]

    ids = notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=author, recipients=team)

    assert len(ids) == len(set(ids)) == 80
    recorded = OutboxMessage.objects.filter(pk__in=ids)
    assert sorted(recorded.values_list("recipient_id", "channel")) == sorted(
        (user.pk, channel) for user in team for channel in (Channel.EMAIL, Channel.INBOX))


def test_a_failed_insert_undoes_the_whole_change(author, monkeypatch):
    """Nothing half-saved: an outbox insert that fails takes the caller's write with it."""
    plan = ready_plan(author=author, title="Before")
    reviewer = ReviewerFactory(username="rob")
    monkeypatch.setattr(OutboxMessage._meta.get_field("subject"), "column", "no_such_column")

    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 - the driver's own
        plan.title = "After"
        plan.save(update_fields=["title"])
        notify_plan_event(event=PLAN_SUBMITTED, plan=plan, actor=author, recipients=[reviewer])

    plan.refresh_from_db()
    assert plan.title == "Before"
    assert not OutboxMessage.objects.filter(plan=plan).exists()


@pytest.mark.services
def test_an_event_with_more_rows_than_one_statement_takes_is_recorded(author, require_postgres):
    """PostgreSQL's protocol takes at most 65,535 parameters a statement: an event of more rows
    than that allows (e.g. a Reviewers group of some 1,800 people, each with email and inbox)
    is written in several."""
    plan = ready_plan(author=author)
    reviewer = ReviewerFactory(username="rob")
    rows = 65_535 // len(_outbox_fields()) + 1
    common = {"event": PLAN_SUBMITTED.name, "plan_id": plan.pk, "actor_id": author.pk,
              "subject": "Submitted", "url": "/plans/", "created_at": timezone.now()}
    ids = _insert_outbox(common, [{"channel": Channel.INBOX, "recipient_id": reviewer.pk}] * rows)
    assert len(set(ids)) == rows == OutboxMessage.objects.filter(plan=plan).count()
