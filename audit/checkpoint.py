"""Anchored checkpoints of the audit chain's head, kept where the database cannot rewrite them.

The hash chain proves no entry was edited or removed *between* others, but deleting the newest
entries, or editing one and recomputing every later hash with the project's own function,
leaves a chain that still holds. So, on a schedule (Celery beat, audit.tasks), the head of the
chain (how many entries, the newest id and its hash) is appended as one JSON line to a file
outside the database (PLANGATE_AUDIT_CHECKPOINT_FILE, a volume of its own in docker-compose),
each line signed with HMAC-SHA256 under a key that is not in the database either
(PLANGATE_AUDIT_CHECKPOINT_KEY, by default derived from SECRET_KEY). `audit_verify` compares the
chain with the newest checkpoint: the entry it names must still exist with that hash, preceded
by exactly that many entries.

Why a file and not a table: someone who can rewrite the database could also delete the newest
checkpoint rows and fall back to an older one; a file on another volume, with lines they cannot
sign, is out of their reach. Copy the file off the machine (or mail it) for more.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .models import AuditEntry


@dataclass(frozen=True)
class Checkpoint:
    count: int
    head_id: int | None
    head_hash: str
    created_at: str

    def _message(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()


def _key() -> bytes:
    configured = settings.PLANGATE_AUDIT_CHECKPOINT_KEY
    if configured:
        return configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"plangate-audit-checkpoint",
                    hashlib.sha256).digest()


def _sign(checkpoint: Checkpoint) -> str:
    return hmac.new(_key(), checkpoint._message(), hashlib.sha256).hexdigest()


def _path() -> Path:
    return Path(settings.PLANGATE_AUDIT_CHECKPOINT_FILE)


def write() -> Checkpoint:
    """Append the chain's current head to the checkpoint file."""
    head = AuditEntry.objects.order_by("-id").only("id", "entry_hash").first()
    checkpoint = Checkpoint(
        count=AuditEntry.objects.count(), head_id=head.pk if head else None,
        head_hash=head.entry_hash if head else "", created_at=timezone.now().isoformat(),
    )
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps({**asdict(checkpoint), "signature": _sign(checkpoint)}) + "\n")
    return checkpoint


class CheckpointError(Exception):
    """The checkpoint file, or the chain measured against it, is not what it should be."""


def latest() -> Checkpoint | None:
    """The newest checkpoint (None when none was written yet); CheckpointError when its line
    is unreadable or its signature does not verify."""
    path = _path()
    if not path.exists():
        return None
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        return None
    try:
        data = json.loads(lines[-1])
        signature = data.pop("signature")
        checkpoint = Checkpoint(**data)
    except (ValueError, TypeError, KeyError):
        raise CheckpointError(f"the newest line of {path} is not a checkpoint") from None
    if not hmac.compare_digest(signature, _sign(checkpoint)):
        raise CheckpointError(f"the newest checkpoint in {path} is not signed with this key")
    return checkpoint


def check(checkpoint: Checkpoint) -> str | None:
    """What the chain lost against ``checkpoint`` (None when nothing)."""
    if checkpoint.head_id is None:
        return None
    head = AuditEntry.objects.filter(pk=checkpoint.head_id).only("entry_hash").first()
    if head is None:
        return (f"entry #{checkpoint.head_id}, the newest at the checkpoint of "
                f"{checkpoint.created_at}, is gone (the newest entries were removed)")
    if head.entry_hash != checkpoint.head_hash:
        return (f"entry #{checkpoint.head_id} no longer has the hash the checkpoint of "
                f"{checkpoint.created_at} recorded (the chain was rewritten)")
    before = AuditEntry.objects.filter(pk__lte=checkpoint.head_id).count()
    if before != checkpoint.count:
        return (f"{before} entries up to #{checkpoint.head_id}, where the checkpoint of "
                f"{checkpoint.created_at} counted {checkpoint.count}")
    return None
