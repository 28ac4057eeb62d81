"""_insert_outbox writes exactly the values it is given, whatever they hold (quotes, braces,
backslashes, non-ASCII, NULLs, nested JSON) and however many rows there are, and returns the
ids of those rows in order (PostgreSQL: one array per column the rows set; SQLite: rows of
VALUES, several statements past its parameter limit)."""

from datetime import timedelta

import pytest
from django.db import DataError, transaction
from django.utils import timezone

from notifications.models import Channel, OutboxMessage, WebhookEndpoint
from notifications.services import _insert_outbox
from tests.factories import ReviewerFactory, ready_plan

pytestmark = pytest.mark.django_db

AWKWARD = [
    'He said "ship it", then {left} [it] \\ to me',
    "Ünïcödé — “quotes” ‘single’ 日本語 🚀",
    "NULL",  # the word, not a missing value
    "{\"a\": 1}, {NULL}, ',' \\\\ \\N",
    "",
]

COLUMNS = ("event", "channel", "status", "plan_id", "actor_id", "recipient_id", "endpoint_id",
           "subject", "body_text", "body_html", "url", "payload", "attempts", "last_error",
           "created_at", "dispatched_at", "attempted_at", "sent_at")


def read_back(ids):
    rows = OutboxMessage.objects.in_bulk(ids)
    return [{name: getattr(rows[pk], name) for name in COLUMNS} for pk in ids]


def test_rows_read_back_as_given_in_order_of_the_ids(author):
    plan = ready_plan(author=author)
    people = [ReviewerFactory(username=f"member{n}") for n in range(3)]
    endpoint = WebhookEndpoint.objects.create(name="CI", url="https://ci.example/hook",
                                              secret="s")
    now = timezone.now().replace(microsecond=123456)
    common = {"event": "plan.submitted", "plan_id": plan.pk, "actor_id": author.pk,
              "subject": AWKWARD[0], "url": "https://plans.example/plans/1/",
              "created_at": now, "dispatched_at": now}
    rows = []
    for n, text in enumerate(AWKWARD * 13):  # 65 rows: more than one statement on SQLite
        user = people[n % len(people)]
        if n % 5 == 4:
            rows.append({"channel": Channel.WEBHOOK, "endpoint_id": endpoint.pk,
                         "payload": {"text": text, "nested": {"list": [1, None, text, 2.5]},
                                     "n": n}})
        elif n % 2:
            rows.append({"channel": Channel.EMAIL, "recipient_id": user.pk, "body_text": text,
                         "body_html": f"<p>{text}</p>", "subject": text[:300]})
        else:
            # A row's own None and dates take over from the shared ones.
            rows.append({"channel": Channel.INBOX, "recipient_id": user.pk, "body_text": text,
                         "url": "/plans/1/", "dispatched_at": None,
                         "attempted_at": now + timedelta(seconds=n), "attempts": n})

    ids = _insert_outbox(common, rows)

    defaults = {"status": "pending", "recipient_id": None, "endpoint_id": None, "body_text": "",
                "body_html": "", "payload": {}, "attempts": 0, "last_error": "",
                "attempted_at": None, "sent_at": None}
    assert len(set(ids)) == len(rows)
    assert read_back(ids) == [{**defaults, **common, **row} for row in rows]


def test_events_of_different_kinds_in_turn_each_get_their_own_columns(author):
    """One event's rows set some columns, the next's others: none gets another's values."""
    plan = ready_plan(author=author)
    rob = ReviewerFactory(username="rob")
    endpoint = WebhookEndpoint.objects.create(name="CI", url="https://ci.example/hook",
                                              secret="s")
    common = {"event": "plan.approved", "plan_id": plan.pk, "actor_id": None,
              "subject": "Approved", "created_at": timezone.now()}
    inbox = [{"channel": Channel.INBOX, "recipient_id": rob.pk, "body_text": "first"}]
    webhook = [{"channel": Channel.WEBHOOK, "endpoint_id": endpoint.pk, "payload": {"id": 7}}]

    ids = [_insert_outbox(common, rows)[0] for rows in (inbox, webhook, inbox)]

    assert [(r["channel"], r["recipient_id"], r["endpoint_id"], r["body_text"], r["payload"])
            for r in read_back(ids)] == [
        (Channel.INBOX, rob.pk, None, "first", {}),
        (Channel.WEBHOOK, None, endpoint.pk, "", {"id": 7}),
        (Channel.INBOX, rob.pk, None, "first", {}),
    ]


@pytest.mark.services
def test_a_value_too_long_for_its_column_is_refused_not_cut_short(author, require_postgres):
    """PostgreSQL enforces a column's length (SQLite does not): a subject over 300 characters
    fails the insert rather than being stored shortened."""
    plan = ready_plan(author=author)
    rob = ReviewerFactory(username="rob")
    common = {"event": "plan.submitted", "plan_id": plan.pk, "created_at": timezone.now()}
    inbox = {"channel": Channel.INBOX, "recipient_id": rob.pk}

    # Too long in one row (a column the rows set), then in what the rows share.
    for common_subject, row_subjects in (("Submitted", ["x" * 300, "x" * 301]), ("y" * 301, [])):
        rows = [{**inbox, "subject": subject} for subject in row_subjects] or [inbox]
        with pytest.raises(DataError), transaction.atomic():
            _insert_outbox({**common, "subject": common_subject}, rows)
    assert not OutboxMessage.objects.filter(plan=plan).exists()
