"""The one way to write the audit trail: log(action, actor=..., obj=..., payload=...).

Each entry stores the SHA-256 of (previous entry's hash + its own canonical content), so editing
or deleting any entry breaks the chain (see `manage.py audit_verify`).
"""

import hashlib
import json

from django.db import transaction
from django.utils import timezone

from .context import current_request
from .models import AuditEntry

GENESIS_HASH = "0" * 64


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


def log(action: str, *, actor=None, obj=None, plan=None, revision_hash: str = "",
        payload: dict | None = None) -> AuditEntry:
    """Append one audit entry. Call inside the service's transaction."""
    request_info = current_request.get()
    with transaction.atomic():
        entry = AuditEntry(
            action=action,
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_repr=actor.get_username() if actor is not None and actor.is_authenticated else "",
            created_at=timezone.now(),
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None else "",
            object_repr=str(obj)[:300] if obj is not None else "",
            plan=plan,
            revision_hash=revision_hash,
            ip_address=request_info.ip_address if request_info else None,
            user_agent=request_info.user_agent if request_info else "",
            payload=json.loads(json.dumps(payload or {}, default=str)),
        )
        last = AuditEntry.objects.select_for_update().order_by("-id").only("entry_hash").first()
        entry.prev_hash = last.entry_hash if last else GENESIS_HASH
        entry.entry_hash = chain_hash(entry.prev_hash, entry)
        entry.save()
    return entry
