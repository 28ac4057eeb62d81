"""An append-only, hash-chained audit log. Write to it only through audit.log (log, append).

Nothing in the application updates or deletes an entry: save() refuses an existing row, delete()
and the queryset's update()/delete() refuse, the admin is read-only, and on PostgreSQL a trigger
rejects UPDATE and DELETE (migration 0003). Users with entries cannot be deleted (deactivate
them); deleting a plan leaves its entries, and their plan id, as they were.
"""

from django.conf import settings
from django.db import models


class AppendOnlyError(ValueError):
    pass


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit entries are append-only.")

    def delete(self):
        raise AppendOnlyError("Audit entries are append-only.")


class AuditEntry(models.Model):
    action = models.CharField(max_length=100, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    actor_repr = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    plan = models.ForeignKey(
        "plans.Plan", on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+",
        db_constraint=False,
    )
    revision_hash = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_repr or 'system'}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit entries are append-only.")
