"""The one way to write the audit trail: log(action, actor=..., obj=..., payload=...), or
append(new_entry(...), new_entry(...)) for several entries of one change at once.

Each entry stores the SHA-256 of (previous entry's hash + its own canonical content), so editing
or deleting any entry breaks the chain (see `manage.py audit_verify`).

Appends are serialised so that concurrent writers never fork the chain: on PostgreSQL a
transaction-scoped advisory lock is taken before the last hash is read (and held until the
caller's transaction commits, so chain order is commit order); SQLite has one global write lock.
"""

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
    and head read, one insert, however many."""
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
            new.prev_hash = head
            new.created_at = timezone.now()
            new.entry_hash = head = chain_hash(head, new)
        AuditEntry.objects.using(using).bulk_create(entries)
    return list(entries)


def log(action, **details) -> AuditEntry:
    """Append one audit entry (``new_entry()``'s arguments). Call inside the service's
    transaction."""
    return append(new_entry(action, **details))[0]
