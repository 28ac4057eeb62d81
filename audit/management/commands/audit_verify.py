"""Walk the audit chain in id order and report the first broken link, then compare the chain
with the newest signed checkpoint (audit/checkpoint.py), which catches removed newest entries
and a rewritten chain."""

from django.core.management.base import BaseCommand, CommandError

from audit import checkpoint
from audit.log import GENESIS_HASH, chain_hash
from audit.models import AuditEntry


def first_broken_link(queryset=None, chunk_size: int = 2000) -> tuple[int, str | None]:
    """(entries checked, None) when the chain holds, else (entries checked, what broke)."""
    queryset = AuditEntry.objects.all() if queryset is None else queryset
    expected_prev = GENESIS_HASH
    count = 0
    for entry in queryset.order_by("id").iterator(chunk_size=chunk_size):
        if entry.prev_hash != expected_prev:
            return count, (
                f"entry #{entry.pk} ({entry.action}): its previous-hash does not match the "
                "entry before it (an entry was removed or edited before it)"
            )
        if chain_hash(entry.prev_hash, entry) != entry.entry_hash:
            return count, (
                f"entry #{entry.pk} ({entry.action}): its content does not match its hash "
                "(the entry was edited)"
            )
        expected_prev = entry.entry_hash
        count += 1
    return count, None


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit 1 at the first broken link."

    def handle(self, *args, **options):
        count, broken = first_broken_link()
        if broken:
            raise CommandError(
                f"Audit chain broken at {broken}. {count} entries before it verified.",
                returncode=1,
            )
        try:
            latest = checkpoint.latest()
            lost = checkpoint.check(latest) if latest else None
        except checkpoint.CheckpointError as exc:
            raise CommandError(f"Audit checkpoint unusable: {exc}.", returncode=1) from None
        if lost:
            raise CommandError(f"Audit trail truncated or rewritten: {lost}.", returncode=1)
        self.stdout.write(f"{count} entries verified")
        if latest is None:
            self.stdout.write("no checkpoint yet: run `manage.py audit_checkpoint` (beat does "
                              "it on a schedule) so truncation can be detected")
        else:
            self.stdout.write(f"matches the checkpoint of {latest.created_at} "
                              f"({latest.count} entries)")
