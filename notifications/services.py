"""Every notification write: recording events in the outbox, delivering, retrying, reminding.

notify_plan_event() is called inside the transaction of the service that changed the plan. It
writes one outbox row per recipient per chosen channel (and one per webhook endpoint), all in
the caller's transaction, and asks for dispatch on commit: if the state change rolls back, no one
hears about it; if it commits, the rows exist even when the broker is down, and the periodic
sweep (outbox_sweep) dispatches whatever the broker never received.

Cost: an event's rows are one insert, its email is rendered once (each recipient's name is put
in after), and all the rows a transaction recorded go to the broker as one task after commit.
"""

import functools
import logging
import re
import uuid
from datetime import timedelta
from functools import partial
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from accounts.display import display_name
from accounts.roles import is_admin
from audit.log import log
from core.cache import SharedValue
from core.errors import NotAllowed, ValidationError

from . import events, selectors, webhooks
from .events import Event
from .models import (
    Channel,
    Notification,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    ReminderSent,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

#: A row left in "sending" this long belongs to a worker that died mid-send (see outbox_deliver):
#: longer than any SMTP conversation, short enough that the email is only minutes late.
STALE_SENDING_AFTER = timedelta(seconds=settings.PLANGATE_STALE_SENDING_SECONDS)
#: A dispatched row still pending this long lost its task (e.g. Redis lost data): send it again.
#: Longer than the broker's visibility timeout by one sweep interval, so a task Redis is about
#: to redeliver (its worker was killed) wins, and a few minutes at most with the defaults.
REDISPATCH_AFTER = timedelta(seconds=settings.PLANGATE_BROKER_VISIBILITY_TIMEOUT
                             + settings.PLANGATE_OUTBOX_SWEEP_INTERVAL)


class DeliveryError(Exception):
    """A delivery attempt failed in a way worth retrying (SMTP error, webhook non-2xx, timeout)."""


# --- recording ------------------------------------------------------------------------------------

def _audience(event: Event, plan, revision) -> list:
    """Everyone the event's audiences name, in order (duplicates are left out later)."""
    return [user for name in event.notify.audience
            for user in events.audience(name)(plan, revision)]


#: All that recording a notification reads of a recipient (its id, whether it is active, its
#: email and display name): audiences may load users with only these columns.
RECIPIENT_FIELDS = ("id", "username", "first_name", "last_name", "email", "is_active")


def _unique_recipients(users, actor) -> list:
    seen, result = set(), []
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        if actor is not None and user.pk == actor.pk:
            continue  # nobody is notified of their own action
        seen.add(user.pk)
        result.append(user)
    return result


_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]+")


def _headline(event: Event, *, plan, actor) -> str:
    """One line (it becomes the email subject): line breaks in a title or name become spaces."""
    actor_name = (actor.get_full_name() or actor.get_username()) if actor else "Plangate"
    text = event.notify.headline.format(
        actor=actor_name, plan=plan, hours=settings.PLANGATE_ADMIN_ESCALATION_HOURS,
    )
    return _LINE_BREAKS.sub(" ", text)


def _webhook_payload(event: Event, *, plan, actor, revision, timestamp) -> dict:
    return {
        "event": event.name,
        "plan_id": plan.pk,
        "plan_title": plan.title,
        "revision_hash": revision.content_hash if revision else "",
        "actor": actor.get_username() if actor else None,
        "timestamp": timestamp.isoformat(),
    }


def notify_plan_event(*, event: Event, plan, actor, revision=None, review=None,
                      comment: str = "", recipients=None) -> list[int]:
    """Record notifications for `event` on `plan`; delivered after the transaction commits.

    Recipients default to the event's audience; the actor is always left out. Each
    recipient gets one row per channel they chose for this event (default: email and inbox), and
    each active webhook endpoint that wants the event gets one row. Returns the outbox ids.
    """
    if event.notify is None or event not in events.notifiable():
        raise ValueError(f"{event.name!r} is not a registered notification event")
    if revision is None and review is not None:
        revision = review.revision
    if revision is None:
        revision = plan.revisions.order_by("-number").first()
    if not comment and review is not None:
        comment = review.comment
    if recipients is None:
        recipients = _audience(event, plan, revision)
    users = _unique_recipients(recipients, actor)

    now = timezone.now()
    headline = _headline(event, plan=plan, actor=actor)
    path = plan.get_absolute_url()
    url = settings.SITE_URL.rstrip("/") + path
    context = {
        "event": event.name, "headline": headline, "plan": plan, "actor": actor,
        "revision": revision, "review": review, "comment": comment, "url": url,
        "decision": review.get_decision_display() if review is not None and review.decision
        else "",
    }
    preferences = selectors.channel_preferences(users, event.name)
    emailed = [user for user in users if preferences[user.pk][0] and user.email]
    email = _EmailBodies(context) if emailed else None
    body = render_to_string("notifications/inbox_body.txt", context).strip()
    # Each row is what sets it apart from the event's others ({field: value}); the columns are
    # OutboxMessage's own (_insert_outbox).
    common = {"event": event.name, "plan_id": plan.pk, "actor_id": actor.pk if actor else None,
              "subject": headline[:300], "url": url, "created_at": now}
    rows = []
    for user in users:
        wants_email, wants_inbox = preferences[user.pk]
        if wants_email and user.email:
            text, html = email.for_recipient(user)
            rows.append({"channel": Channel.EMAIL, "recipient_id": user.pk, "body_text": text,
                         "body_html": html})
        if wants_inbox:
            # In-app links stay relative to whichever host the user is on.
            rows.append({"channel": Channel.INBOX, "recipient_id": user.pk, "body_text": body,
                         "url": path})
    # (WebhookEndpoint.wants, over the shared list of active endpoints.)
    endpoints = [pk for pk, names in WEBHOOK_ROUTES.get() if not names or event.name in names]
    if endpoints:
        payload = _webhook_payload(event, plan=plan, actor=actor, revision=revision,
                                   timestamp=now)
        rows += [{"channel": Channel.WEBHOOK, "endpoint_id": endpoint_id, "payload": payload}
                 for endpoint_id in endpoints]
    if not rows:
        return []
    # Marked dispatched with the insert when a broker takes them after commit: no write of its
    # own (a transaction, a disk flush) per notified request. Should the publish fail, dispatch
    # empties the mark again for the sweep; should the process die between commit and publish,
    # the sweep redispatches the rows REDISPATCH_AFTER their mark.
    marked = _handed_to_a_broker()
    if marked:
        common["dispatched_at"] = now
    # No savepoint: this runs inside the caller's transaction, and a failure here must undo
    # the caller's state change too (nothing half-saved), which the outer atomic does.
    with transaction.atomic(savepoint=False):
        ids = _insert_outbox(common, rows)
        _dispatch_on_commit(ids, marked=marked)
    return ids


@functools.cache
def _outbox_fields() -> dict:
    """{attname: field} of OutboxMessage's columns but its id, in the model's order: the model
    stays their one definition (read once the app registry is ready)."""
    fields = {field.attname: field for field in OutboxMessage._meta.concrete_fields
              if not field.primary_key}
    # What bulk_create would do that _insert_outbox does not: a field that sets itself on save
    # (auto_now) or that the database computes (db_default, generated).
    computed = [name for name, field in fields.items()
                if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
                or field.generated or field.has_db_default()]
    if computed:
        raise TypeError(f"_insert_outbox cannot set {', '.join(computed)} as bulk_create would")
    return fields


def _insert_outbox(common: dict, rows: list[dict]) -> list[int]:
    """Insert one outbox row per dict of ``rows`` ({attname: value}, over ``common``; any other
    column takes its field's default, worked out once per event: a callable default is the
    same for every row), as bulk_create would; returns their ids, in order.

    Without a model instance per row, and the values the rows share prepared once per event,
    not once per row (bulk_create and its instances were a third of the CPU of recording an
    event); each value is still prepared by its own field (get_db_prep_save). No field of
    OutboxMessage computes its value on save (auto_now and the like: _outbox_fields refuses
    one), the one step of bulk_create this leaves out; neither sends a signal.
    """
    connection = connections[router.db_for_write(OutboxMessage)]
    if not connection.features.can_return_rows_from_bulk_insert:  # (SQLite before 3.35)
        objs = OutboxMessage.objects.bulk_create(OutboxMessage(**{**common, **row}) for row in rows)
        return [obj.pk for obj in objs]
    fields = _outbox_fields()
    varying = set().union(*rows)
    unknown = (varying | common.keys()) - fields.keys()
    if unknown:
        raise TypeError(f"OutboxMessage has no column {', '.join(sorted(unknown))}")
    shared = {name: field.get_db_prep_save(common[name] if name in common
                                           else field.get_default(), connection)
              for name, field in fields.items()}
    if connection.vendor == "postgresql":
        return _insert_outbox_arrays(connection, fields, shared, varying, rows)
    values = [[*{**shared, **{name: fields[name].get_db_prep_save(value, connection)
                              for name, value in row.items()}}.values()]
              for row in rows]
    ops = connection.ops
    # (Only the model's own table and column names are put in the SQL; values are parameters.)
    table = ops.quote_name(OutboxMessage._meta.db_table)
    columns = ", ".join(ops.quote_name(field.column) for field in fields.values())
    insert = f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
    returning = f" RETURNING {ops.quote_name(OutboxMessage._meta.pk.column)}"
    row_sql = f"({', '.join(['%s'] * len(fields))})"
    # Within the database's limit on a statement's parameters (SQLite's: 999 by default).
    limit = connection.features.max_query_params or 65_535
    size = max(1, min(ops.bulk_batch_size(list(fields.values()), values), limit // len(fields)))
    ids = []
    with connection.cursor() as cursor:
        for start in range(0, len(values), size):
            batch = values[start:start + size]
            cursor.execute(insert + ", ".join([row_sql] * len(batch)) + returning,
                           [value for row in batch for value in row])
            ids += [pk for (pk,) in cursor.fetchall()]
    return ids


def _insert_outbox_arrays(connection, fields: dict, shared: dict, varying: set,
                          rows: list[dict]) -> list[int]:
    """_insert_outbox on PostgreSQL: one INSERT ... SELECT for any number of rows, a value per
    column the rows share and an array per column some row sets, read back row by row (UNNEST,
    in order, as bulk_create's inserts there are).

    Why (measured in-process, alternating rounds, median CPU of the call for an event's 20
    rows, the bench's / with 600- and 1,500-character bodies and two webhooks): rows of VALUES
    took 2,900 / 3,000 µs, most of it psycopg converting the placeholders of a statement of 360
    parameters, afresh each call (it caches that, and so prepares, only statements of at most
    50 parameters); this takes 760 / 1,050 µs (a quarter / a third). An array for every one of
    the 18 columns took 1,300 / 1,250 µs, one jsonb document of the rows (jsonb_to_recordset)
    1,360 / 1,720 µs. The statement has a parameter a column at most, whatever the number of
    rows (far within PostgreSQL's 65,535), and one text for each set of columns the rows set,
    so psycopg converts it once and the server prepares it. The arrays go in binary (%b,
    psycopg 3): as text each element is quoted and escaped, 1,520 / 3,600 µs (and as slow as
    VALUES for all 18 columns, which is why arrays once lost). An event of one or two rows
    (VALUES of 18 or 36 parameters, which psycopg caches) costs 35-70 µs more this way.
    """
    arrays = [name for name in fields if name in varying]
    params = [value for name, value in shared.items() if name not in varying]
    params += [[fields[name].get_db_prep_save(row[name], connection) if name in row
                else shared[name] for row in rows] for name in arrays]
    sql = _outbox_arrays_sql(connection.alias, tuple(arrays),
                             tuple(field.column for field in fields.values()))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


@functools.lru_cache(maxsize=64)
def _outbox_arrays_sql(alias: str, arrays: tuple, columns: tuple) -> str:
    """_insert_outbox_arrays' statement on the database ``alias``: a parameter for each of
    OutboxMessage's ``columns`` but the fields named in ``arrays``, then an array for each of
    those. Worked out once per set of columns and their names (a foreign key's db_type builds a
    field, and the text alone took about as long as an event of a few rows saves)."""
    connection = connections[alias]
    ops, fields = connection.ops, _outbox_fields()
    # Each cast is the column's own type without its length (varchar, not varchar(300), as
    # bulk_create does): a value too long is refused by the column, not cut short by the cast.
    casts = {name: field.db_type(connection).split("(")[0] for name, field in fields.items()}
    names = dict(zip(fields, map(ops.quote_name, columns), strict=True))
    select = ", ".join(f"r.{names[name]}" if name in arrays else f"%s::{casts[name]}"
                       for name in fields)
    unnest = ", ".join(f"%b::{casts[name]}[]" for name in arrays)
    # (Only the model's own table, columns and their types are put in the SQL; values are
    # parameters.)
    return (f"INSERT INTO {ops.quote_name(OutboxMessage._meta.db_table)} "  # noqa: S608
            f"({', '.join(names.values())}) SELECT {select} "
            f"FROM UNNEST({unnest}) AS r({', '.join(names[name] for name in arrays)}) "
            f"RETURNING {ops.quote_name(OutboxMessage._meta.pk.column)}")


def _load_webhook_routes() -> list[tuple[int, list[str]]]:
    """(id, events) of each active endpoint; never its URL or secret (those stay in the
    database, read when delivering)."""
    return list(WebhookEndpoint.objects.filter(is_active=True).values_list("pk", "events"))


#: Which endpoints hear which events, read by every notified event: shared, and read afresh
#: after any endpoint change commits (signals connected in NotificationsConfig.ready).
WEBHOOK_ROUTES = SharedValue("webhook-routes", _load_webhook_routes)


class _StandIn:
    """The recipient while an event's emails are rendered once for all of them: its display
    name is a token that each recipient's own name then replaces (the templates may use only
    ``recipient|display_name``; the rest of an email is the same for everyone)."""

    def __init__(self) -> None:
        self.token = f"recipient-{uuid.uuid4().hex}"

    def get_full_name(self) -> str:
        return self.token

    def get_username(self) -> str:
        return self.token


class _EmailBodies:
    """An event's email, text and HTML, rendered once; ``for_recipient`` personalises it."""

    def __init__(self, context: dict) -> None:
        self.stand_in = _StandIn()
        personal = {**context, "recipient": self.stand_in}
        self.text = render_to_string("notifications/email/notification.txt", personal)
        self.html = render_to_string("notifications/email/notification.html", personal)

    def for_recipient(self, user) -> tuple[str, str]:
        name, token = display_name(user), self.stand_in.token
        return self.text.replace(token, name), self.html.replace(token, escape(name))


# --- dispatch -------------------------------------------------------------------------------------

#: Outbox ids per delivery task: one task for an event's rows, several for a large sweep.
DISPATCH_BATCH = 100
#: The delivery task (tasks.py), published by its name in Celery's registry: tasks.py calls
#: these services back, so this module does not import it (NotificationsConfig.ready() does).
DELIVER_TASK = "notifications.tasks.deliver_notification"


class _DispatchOnCommit:
    """The outbox ids recorded in one transaction, handed to the broker once it commits: one
    publish per transaction, however many events and recipients it notified."""

    attribute = "_plangate_outbox_dispatch"

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.marked = False
        self.done = False

    def __call__(self) -> None:
        self.done = True
        dispatch(self.ids, marked=self.marked)

    @classmethod
    def current(cls, connection) -> "_DispatchOnCommit":
        """This transaction's batch: a new one unless a batch not yet run is still registered
        (a rolled-back transaction or savepoint drops its callbacks, and its batch with them)."""
        batch = getattr(connection, cls.attribute, None)
        if batch is None or batch.done or not any(
            callback is batch for _, callback, _ in connection.run_on_commit
        ):
            batch = cls()
            setattr(connection, cls.attribute, batch)
            transaction.on_commit(batch)
        return batch


def _dispatch_on_commit(ids: list[int], *, marked: bool) -> None:
    batch = _DispatchOnCommit.current(transaction.get_connection())
    batch.ids.extend(ids)
    batch.marked = marked  # the same for every event of a transaction (_handed_to_a_broker)


def _handed_to_a_broker() -> bool:
    """Rows recorded now go to a broker after commit (not run in-process, eagerly)."""
    return not current_app.conf.task_always_eager


def dispatch(outbox_ids: list[int], *, marked: bool = False) -> int:
    """Hand delivery tasks to the broker: one task per DISPATCH_BATCH ids. Runs after commit;
    never raises.

    A broker failure (Redis down: the publish raises once the retry policy gives up) is
    logged and leaves the rows pending with dispatched_at empty, which is what the sweep looks
    for. After the first failure the rest are not tried, so a request pays the timeout once.
    ``marked``: the rows were recorded with dispatched_at already set (notify_plan_event, when a
    broker takes them), so only those not handed over are changed: back to empty.
    Returns how many rows were handed over.
    """
    deliver_notification = current_app.tasks[DELIVER_TASK]
    published = []
    for start in range(0, len(outbox_ids), DISPATCH_BATCH):
        batch = list(outbox_ids[start:start + DISPATCH_BATCH])
        try:
            # argsrepr (what monitoring shows of the arguments): Celery's own, saferepr, took a
            # quarter of this publish's CPU for a list of ints whose repr() is as safe.
            deliver_notification.apply_async((batch,), argsrepr=repr((batch,)))
        except Exception:
            logger.warning(
                "Broker unavailable: %d notification(s) left pending for the outbox sweep",
                len(outbox_ids) - len(published), exc_info=True,
            )
            break
        published += batch
    unpublished = outbox_ids[len(published):]
    if marked:
        if unpublished:  # never handed over after all: the sweep's to take
            try:
                OutboxMessage.objects.filter(
                    pk__in=unpublished, status=OutboxStatus.PENDING
                ).update(dispatched_at=None)
            except Exception:  # they are redispatched REDISPATCH_AFTER their mark instead
                logger.warning("Could not unmark undispatched notifications", exc_info=True)
    elif published and _handed_to_a_broker():
        # (Run eagerly, the task already finished: a row still pending failed its one attempt
        # and is left undispatched on purpose, for the sweep.)
        try:
            OutboxMessage.objects.filter(
                pk__in=published, status=OutboxStatus.PENDING
            ).update(dispatched_at=timezone.now())
        except Exception:  # the sweep may dispatch these again; delivery is idempotent
            logger.warning("Could not mark notifications dispatched", exc_info=True)
    return len(published)


def retry_countdown(retries: int) -> float:
    """Seconds before retry number `retries` + 1: exponential, capped (see settings)."""
    return min(
        settings.PLANGATE_NOTIFY_BACKOFF_BASE * (2 ** retries), settings.PLANGATE_NOTIFY_BACKOFF_MAX
    )


# --- delivery -------------------------------------------------------------------------------------

def _post_webhook(message: OutboxMessage) -> None:
    try:
        webhooks.post(url=message.endpoint.url, secret=message.endpoint.secret,
                      payload=message.payload, delivery=str(message.pk))
    except webhooks.WebhookFailure as exc:
        raise DeliveryError(f"Webhook {message.endpoint.name}: {exc}") from exc


def message_id(message: OutboxMessage) -> str:
    """The same Message-ID every time this row is sent: should a worker die after the SMTP
    server took the email but before the row was marked sent, the copy sent again is one mail
    servers and clients recognise as the same message."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">").strip() or "plangate"
    return f"<plangate-outbox-{message.pk}@{domain}>"


def _send_email(message: OutboxMessage) -> None:
    email = EmailMultiAlternatives(
        subject=f"[Plangate] {message.subject}", body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL, to=[message.recipient.email],
        headers={"X-Plangate-Outbox": str(message.pk), "Message-ID": message_id(message)},
    )
    email.attach_alternative(message.body_html, "text/html")
    try:
        email.send()
    except Exception as exc:
        raise DeliveryError(f"Email to {message.recipient.email} failed: {exc}") from exc


def _record_failure(message: OutboxMessage, error: str, *, final: bool,
                    for_sweep: bool = False) -> None:
    message.status = OutboxStatus.FAILED if final else OutboxStatus.PENDING
    message.last_error = error[:2000]
    # A task retry is scheduled: the sweep leaves the row alone. Without one (for_sweep), an
    # empty dispatched_at is what the next sweep looks for.
    message.dispatched_at = None if for_sweep else timezone.now()
    message.save(update_fields=["status", "last_error", "dispatched_at"])


def _mark_sent(message: OutboxMessage) -> None:
    message.status = OutboxStatus.SENT
    message.sent_at = timezone.now()
    message.last_error = ""
    message.save(update_fields=["status", "sent_at", "last_error", "attempts", "attempted_at"])


def outbox_deliver(*, outbox_id: int, final_attempt: bool = False,
                   retry_later: bool = False) -> str:
    """Deliver one outbox row at most once. Returns "sent", "skipped", "failed" or "pending".

    Raises DeliveryError when the attempt failed and another attempt is allowed (the task retries
    with backoff); on the final attempt the row ends "failed" with the error instead.

    `retry_later` (embedded mode: the task runs eagerly inside the user's request) never raises
    and never waits: a failed attempt is recorded and the row stays "pending" for the outbox
    sweep (or the admin's retry), returning "pending"; once the row has had
    1 + PLANGATE_NOTIFY_MAX_RETRIES attempts it ends "failed".

    Idempotency: the row is locked (select_for_update) and anything not "pending" is skipped, so
    a redelivered or duplicated task finds the row sent (or being sent) and does nothing.

    - inbox: the inbox item is created and the row marked sent in one transaction (exactly once;
      the one-to-one from inbox item to outbox row backs this up).
    - webhook: sent while the row lock is held and marked sent in the same transaction. If the
      process dies after the receiver answered but before commit, the row is still pending and
      is sent again: at-least-once. Receivers dedupe on the X-Plangate-Delivery header.
    - email: SMTP cannot join a database transaction. The row is first committed as "sending",
      then sent, then marked sent. A worker killed mid-send leaves it "sending"; after
      STALE_SENDING_AFTER the sweep puts it back to "pending" and sends it again, with the same
      Message-ID (message_id): at-least-once, because a lost notification of an approval is
      worse than a duplicate that mail clients fold into one. An SMTP error is known not to
      have sent, so it goes back to "pending" and is retried.
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(of=("self",))
            .select_related("endpoint", "recipient").filter(pk=outbox_id).first()
        )
        if message is None or message.status != OutboxStatus.PENDING:
            return "skipped"
        message.attempts += 1
        message.attempted_at = timezone.now()
        if message.channel == Channel.INBOX:
            Notification.objects.create(
                recipient=message.recipient, outbox=message, event=message.event,
                plan_id=message.plan_id, title=message.subject, body=message.body_text,
                url=message.url, created_at=message.created_at,
            )
            _mark_sent(message)
            return "sent"
        final = final_attempt or (
            retry_later and message.attempts > settings.PLANGATE_NOTIFY_MAX_RETRIES
        )
        if message.channel == Channel.WEBHOOK:
            try:
                _post_webhook(message)
            except DeliveryError as exc:
                message.save(update_fields=["attempts", "attempted_at"])
                _record_failure(message, str(exc), final=final, for_sweep=retry_later)
                error = exc
            else:
                _mark_sent(message)
                return "sent"
        else:
            error = None
            message.status = OutboxStatus.SENDING
            message.save(update_fields=["status", "attempts", "attempted_at"])
    if message.channel == Channel.WEBHOOK:
        return _failed(error, final=final, retry_later=retry_later)

    try:
        _send_email(message)
    except DeliveryError as exc:
        _record_failure(message, str(exc), final=final, for_sweep=retry_later)
        return _failed(exc, final=final, retry_later=retry_later)
    _mark_sent(message)
    return "sent"


def _deliver_inbox_rows(outbox_ids: list[int]) -> set[int]:
    """Deliver the pending inbox rows among ``outbox_ids`` in one transaction: their inbox
    items in one insert, the rows marked sent in one update. Returns the ids it handled (rows
    not pending, e.g. already delivered by a duplicate task, are left alone)."""
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update(of=("self",))
            .filter(pk__in=outbox_ids, channel=Channel.INBOX, status=OutboxStatus.PENDING)
            .defer("body_html", "payload", "last_error")
        )
        if not rows:
            return set()
        Notification.objects.bulk_create([
            Notification(recipient_id=m.recipient_id, outbox=m, event=m.event, plan_id=m.plan_id,
                         title=m.subject, body=m.body_text, url=m.url, created_at=m.created_at)
            for m in rows
        ])
        selectors.unread_changed(m.recipient_id for m in rows)  # bulk_create sends no signal
        now = timezone.now()
        OutboxMessage.objects.filter(pk__in=[m.pk for m in rows]).update(
            status=OutboxStatus.SENT, sent_at=now, attempted_at=now, last_error="",
            attempts=F("attempts") + 1,
        )
    return {m.pk for m in rows}


def outbox_deliver_many(outbox_ids: list[int], *, final_attempt: bool = False,
                        retry_later: bool = False) -> list[int]:
    """Deliver several outbox rows (an event's, dispatched together): inbox rows in bulk, then
    each email and webhook through outbox_deliver (same guarantees). Returns the ids whose
    attempt failed and may be retried (never any with ``retry_later`` or ``final_attempt``)."""
    done = _deliver_inbox_rows(outbox_ids)
    retry = []
    for outbox_id in outbox_ids:
        if outbox_id in done:
            continue
        try:
            outbox_deliver(outbox_id=outbox_id, final_attempt=final_attempt,
                           retry_later=retry_later)
        except DeliveryError as exc:
            logger.info("Notification %s will be retried: %s", outbox_id, exc)
            retry.append(outbox_id)
    return retry


def _failed(error: DeliveryError, *, final: bool, retry_later: bool) -> str:
    if final:
        return "failed"
    if retry_later:
        logger.warning("Notification delivery failed; left pending for the sweep: %s", error)
        return "pending"
    raise error


# --- sweep, retry -------------------------------------------------------------------------------

def outbox_sweep(*, older_than_seconds: int | None = None) -> int:
    """Dispatch pending rows the broker never received or lost; resend rows stuck in "sending".

    A row qualifies when it is pending and either was never handed to the broker and is older
    than `older_than_seconds` (default PLANGATE_OUTBOX_SWEEP_AFTER_SECONDS, so rows still
    waiting for their on-commit dispatch are left alone), or was handed over long ago
    (REDISPATCH_AFTER) and is still pending. Returns how many tasks were dispatched.
    """
    if older_than_seconds is None:
        older_than_seconds = settings.PLANGATE_OUTBOX_SWEEP_AFTER_SECONDS
    now = timezone.now()
    stuck = OutboxMessage.objects.filter(
        status=OutboxStatus.SENDING, attempted_at__lt=now - STALE_SENDING_AFTER
    )
    stuck.update(
        status=OutboxStatus.PENDING, dispatched_at=None,
        last_error="The worker stopped while sending; sent again with the same Message-ID.",
    )
    cutoff = now - timedelta(seconds=older_than_seconds)
    never = OutboxMessage.objects.filter(
        status=OutboxStatus.PENDING, dispatched_at__isnull=True, created_at__lte=cutoff
    )
    lost = OutboxMessage.objects.filter(
        status=OutboxStatus.PENDING, dispatched_at__lt=now - REDISPATCH_AFTER
    )
    ids = {*never.values_list("pk", flat=True), *lost.values_list("pk", flat=True)}
    return dispatch(sorted(ids)) if ids else 0


@transaction.atomic
def notification_retry(*, actor, outbox_ids) -> int:
    """Send failed (or stuck pending) outbox rows again, e.g. from the admin. Returns the count."""
    rows = OutboxMessage.objects.select_for_update().filter(
        pk__in=list(outbox_ids), status__in=[OutboxStatus.FAILED, OutboxStatus.PENDING]
    )
    ids = sorted(rows.values_list("pk", flat=True))
    if not ids:
        return 0
    OutboxMessage.objects.filter(pk__in=ids).update(
        status=OutboxStatus.PENDING, dispatched_at=None
    )
    log(events.NOTIFICATION_RETRIED.name, actor=actor, payload={"outbox_ids": ids})
    transaction.on_commit(partial(dispatch, ids))
    return len(ids)


# --- inbox, preferences ---------------------------------------------------------------------------

def notification_mark_read(*, actor, notification: Notification) -> Notification:
    if notification.recipient_id != actor.pk:
        raise NotAllowed("Not your notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, actor) -> int:
    count = Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    selectors.unread_changed([actor.pk])  # after the write: update() sends no signal
    return count


@transaction.atomic
def notification_preferences_update(*, actor, choices: dict[str, tuple[bool, bool]]) -> None:
    """Save the actor's channels per event: {event: (email, inbox)}; unknown events refused."""
    unknown = set(choices) - {event.name for event in events.notifiable()}
    if unknown:
        raise ValidationError(f"Unknown events: {', '.join(sorted(unknown))}")
    for event, (email, inbox) in choices.items():
        NotificationPreference.objects.update_or_create(
            user=actor, event=event, defaults={"email": bool(email), "inbox": bool(inbox)}
        )


# --- reminders ------------------------------------------------------------------------------------

def remind_once(*, revision_id: int, kind: str, notify) -> bool:
    """Record the (revision, kind) wait and call ``notify`` in one transaction; False if that
    wait was already reminded (by an earlier run, or a concurrent one)."""
    try:
        with transaction.atomic():
            _, created = ReminderSent.objects.get_or_create(revision_id=revision_id, kind=kind)
            if created:
                notify()
            return created
    except IntegrityError:  # a concurrent run recorded it first
        return False


# --- webhook endpoints (the admin writes them through these) --------------------------------------

def _audited_url(url: str) -> str:
    """The URL as the audit trail records it: a password in it is left out."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


def _log_webhook(*, actor, endpoint: WebhookEndpoint, change: str, fields,
                 secret_changed: bool) -> None:
    """One payload shape for add, change and delete; never the secret, only whether it
    changed."""
    log(events.WEBHOOK_CHANGED, actor=actor, obj=endpoint, payload={
        "change": change, "name": endpoint.name, "url": _audited_url(endpoint.url),
        "events": endpoint.events, "is_active": endpoint.is_active, "fields": list(fields),
        "secret_changed": secret_changed,
    })


def _webhook_errors(endpoint: WebhookEndpoint) -> dict[str, str]:
    errors = {}
    if problem := webhooks.url_problem(endpoint.url):
        errors["url"] = problem
    names = endpoint.events
    known = sorted(event.name for event in events.notifiable())
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        errors["events"] = ("List the event names to send, as a JSON list of strings, or [] "
                            "for every event.")
    elif unknown := sorted(set(names) - set(known)):
        errors["events"] = (f"Unknown event(s): {', '.join(unknown)}. Events that can be sent: "
                            f"{', '.join(known)}.")
    return errors


@transaction.atomic
def webhook_save(*, actor, endpoint: WebhookEndpoint, changed_fields,
                 created: bool) -> WebhookEndpoint:
    """Save a webhook endpoint (new or edited): an http(s) URL, and registered notification
    events only (none means every event)."""
    if not is_admin(actor):
        raise NotAllowed("Only admins change webhook endpoints.")
    errors = _webhook_errors(endpoint)
    if errors:
        raise ValidationError(errors)
    endpoint.full_clean()
    stored = (None if created else WebhookEndpoint.objects.filter(pk=endpoint.pk)
              .values_list("secret", flat=True).first())
    endpoint.save()
    _log_webhook(actor=actor, endpoint=endpoint, change="added" if created else "changed",
                 fields=changed_fields, secret_changed=stored != endpoint.secret)
    return endpoint


@transaction.atomic
def webhook_delete(*, actor, endpoint: WebhookEndpoint) -> None:
    if not is_admin(actor):
        raise NotAllowed("Only admins change webhook endpoints.")
    _log_webhook(actor=actor, endpoint=endpoint, change="deleted", fields=[],
                 secret_changed=False)
    endpoint.delete()
