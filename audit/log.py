"""The one way to write the audit trail: log(action, actor=..., obj=..., payload=...), or
append(new_entry(...), new_entry(...)) for several entries of one change at once.

Each entry stores the SHA-256 of (previous entry's hash + its own canonical content), so editing
or deleting any entry breaks the chain (see `manage.py audit_verify`).

Appends are serialised so that concurrent writers never fork the chain: on PostgreSQL a
transaction-scoped advisory lock is taken before the last hash is read (and held until the
caller's transaction commits, so chain order is commit order); SQLite has one global write lock.
"""

import functools
import hashlib
import json

from django.db import connections, router, transaction
from django.utils import timezone

from .actions import check
from .context import current_request
from .models import AppendOnlyError, AuditEntry

GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock key: any constant that no other code uses ("audit" in ASCII).
ADVISORY_LOCK_KEY = 0x6175646974


def canonical_content(entry: AuditEntry) -> str:
    return json.dumps(
        {
            "action": entry.action,
            "actor_id": entry.actor_id,
            "actor": entry.actor_repr,
            "created_at": entry.created_at.isoformat(),
            "object_type": entry.object_type,
            "object_id": entry.object_id,
            "object_repr": entry.object_repr,
            "plan_id": entry.plan_id,
            "revision_hash": entry.revision_hash,
            "ip_address": entry.ip_address,
            "user_agent": entry.user_agent,
            "payload": entry.payload,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )


def chain_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256((prev_hash + canonical_content(entry)).encode()).hexdigest()


#: On PostgreSQL, a function of the audit app's migrations (0006) that takes the lock and then
#: reads the head: one round trip, the read a statement of its own, so it sees every entry
#: committed before the lock was granted (under READ COMMITTED each statement of a volatile
#: function takes a new snapshot; one SELECT doing both would read with a snapshot older
#: than the lock, and could fork the chain).
LOCK_AND_READ_HEAD = "SELECT audit_chain_lock_and_head(%s)"
READ_HEAD = f"SELECT entry_hash FROM {AuditEntry._meta.db_table} ORDER BY id DESC LIMIT 1"  # noqa: S608


def _lock_chain(connection) -> str:
    """Take the chain for this transaction and read its head (the last entry's hash)."""
    with connection.cursor() as cursor:
        # Without the ORM: building the query cost more than running it.
        if connection.vendor == "postgresql":
            cursor.execute(LOCK_AND_READ_HEAD, [ADVISORY_LOCK_KEY])
        else:  # SQLite: the transaction holds the database's one write lock already
            cursor.execute(READ_HEAD)
        row = cursor.fetchone()
    return row[0] if row and row[0] is not None else GENESIS_HASH


def _normalise_ip(value: str | None) -> str | None:
    """The form the database will hand back, so the hash matches after a reload."""
    if not value:
        return None
    return AuditEntry._meta.get_field("ip_address").get_prep_value(value)


def new_entry(action, *, actor=None, obj=None, plan=None, revision_hash: str = "",
              payload: dict | None = None) -> AuditEntry:
    """An audit entry not yet appended (``append()`` chains and writes it).

    ``action``: a registered action name, or an event (notifications.events.Event) whose name
    it is."""
    action = getattr(action, "name", action)
    check(action)
    request_info = current_request.get()
    authenticated = actor is not None and actor.is_authenticated
    return AuditEntry(
        action=action,
        actor=actor if authenticated else None,
        actor_repr=actor.get_username() if authenticated else "",
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        plan=plan,
        revision_hash=revision_hash,
        ip_address=_normalise_ip(request_info.ip_address) if request_info else None,
        user_agent=request_info.user_agent if request_info else "",
        payload=json.loads(json.dumps(payload or {}, default=str)),
    )


def append(*entries: AuditEntry) -> list[AuditEntry]:
    """Append ``entries`` (from ``new_entry()``), in order, in the caller's transaction: one lock
    and head read, then one insert (on PostgreSQL one per 3 entries: _insert)."""
    if not entries:
        return []
    if any(new.pk is not None or not new._state.adding for new in entries):
        raise AppendOnlyError("Audit entries are append-only: this one was written already.")
    using = router.db_for_write(AuditEntry)
    # No savepoint: an entry that cannot be written must undo the caller's whole transaction
    # anyway, since a change without its audit entry is not allowed.
    with transaction.atomic(using=using, savepoint=False):
        head = _lock_chain(connections[using])
        for new in entries:
            # bulk_create's check, before the hash is taken of the related ids: an unsaved actor
            # or plan is refused (it would be stored as no one), one saved since it was given
            # is taken by its id.
            new._prepare_related_fields_for_save(operation_name="append")
            new.prev_hash = head
            new.created_at = timezone.now()
            new.entry_hash = head = chain_hash(head, new)
        _insert(connections[using], entries)
    return list(entries)


#: psycopg converts a statement's placeholders once, and so lets the server prepare it, only
#: when it has at most this many parameters (psycopg/_queries.py): on PostgreSQL an INSERT has
#: 3 entries of AuditEntry's 14 columns at most. Longer appends are several such statements:
#: measured in-process (alternating rounds, median CPU), they cost about as much as one
#: statement of all the rows at 4 entries and less from 6 on (0.8x at 100; UNNEST of binary
#: arrays, as the outbox's, 0.7x of this at 100, but no service appends more than 2, and for
#: 1 or 2 rows the outbox measured VALUES cheaper). SQLite has no such cache:
#: one statement takes as many rows as its parameters allow (0.8x of 3-row ones at 30 or 100).
PSYCOPG_CACHED_PARAMS = 50


def _insert(connection, entries) -> None:
    """Write ``entries`` (chained) as ``bulk_create(entries)`` would, without building its query
    (that was most of an append's CPU): each value prepared by its own field (pre_save, then
    get_db_prep_save), the ids read back (RETURNING) and set, and each entry marked saved.
    """
    if not connection.features.can_return_rows_from_bulk_insert:  # (SQLite before 3.35)
        AuditEntry.objects.using(connection.alias).bulk_create(entries)
        return
    fields = _written_fields()
    if connection.vendor == "postgresql":
        size = PSYCOPG_CACHED_PARAMS // len(fields)
    else:  # within the database's limit on a statement's parameters (SQLite's: 999)
        size = connection.ops.bulk_batch_size(fields, entries)
    with connection.cursor() as cursor:
        for start in range(0, len(entries), size):
            batch = entries[start:start + size]
            cursor.execute(_insert_sql(connection.alias, len(batch)),
                           [field.get_db_prep_save(field.pre_save(new, True), connection)
                            for new in batch for field in fields])
            for new, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                new.pk = pk
                new._state.adding = False
                new._state.db = connection.alias


@functools.cache
def _written_fields() -> list:
    """AuditEntry's columns but its id, in the model's order (read once the models are ready).
    The id is the one value the database sets: none of the others may be left to it, since the
    hash is taken of them all before the insert."""
    opts = AuditEntry._meta
    if opts.db_returning_fields != [opts.pk]:
        raise TypeError("append() cannot write a field whose value the database sets")
    return [field for field in opts.concrete_fields if not field.primary_key]


@functools.lru_cache(maxsize=128)
def _insert_sql(alias: str, rows: int) -> str:
    """INSERT of ``rows`` entries on the database ``alias``, returning their ids in order."""
    ops, opts = connections[alias].ops, AuditEntry._meta
    # (Only the model's own table and column names are put in the SQL; values are parameters.)
    columns = ", ".join(ops.quote_name(field.column) for field in _written_fields())
    row = f"({', '.join(['%s'] * len(_written_fields()))})"
    return (f"INSERT INTO {ops.quote_name(opts.db_table)} ({columns}) "  # noqa: S608
            f"VALUES {', '.join([row] * rows)} RETURNING {ops.quote_name(opts.pk.column)}")


def log(action, **details) -> AuditEntry:
    """Append one audit entry (``new_entry()``'s arguments). Call inside the service's
    transaction."""
    return append(new_entry(action, **details))[0]
