"""Notifications: the outbox (one row per recipient per channel, or per webhook endpoint), the
in-app inbox, per-user channel preferences, webhook endpoints and the reminder ledger.

Outbox rows are written in the transaction of the service that changed state and delivered by
notifications.tasks.deliver_notification after commit; their status is the delivery state machine:
pending → (sending →) sent, or → failed once retries are exhausted (an admin can retry).
"""

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    INBOX = "inbox", "In-app inbox"
    WEBHOOK = "webhook", "Webhook"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class NotificationPreference(models.Model):
    """A user's channels for one event type. No row means the defaults: email and inbox on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event = models.CharField(max_length=50)
    email = models.BooleanField(default=True)
    inbox = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="one_preference_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.event}"


class WebhookEndpoint(models.Model):
    """An outgoing webhook configured by an admin; bodies are signed with HMAC-SHA256(secret)."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500, validators=[URLValidator(schemes=["http", "https"])])
    secret = models.CharField(max_length=200, help_text="Shared secret for X-Plangate-Signature.")
    events = models.JSONField(
        default=list, blank=True, help_text="Event names to send, e.g. [\"plan.approved\"]; "
        "empty sends every event."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event: str) -> bool:
        return self.is_active and (not self.events or event in self.events)


class OutboxMessage(models.Model):
    """One notification to deliver through one channel, rendered when the event happened."""

    event = models.CharField(max_length=50, db_index=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Not indexed alone: the index on (status, created_at) serves every filter by status.
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    plan = models.ForeignKey(
        "plans.Plan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
        related_name="+",
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    subject = models.CharField(max_length=300)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    payload = models.JSONField(default=dict, blank=True, help_text="The webhook JSON body.")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When a delivery task was last handed to the broker."
    )
    attempted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last delivery attempt started."
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(channel="webhook", endpoint__isnull=False, recipient__isnull=True)
                    | (~models.Q(channel="webhook")
                       & models.Q(endpoint__isnull=True, recipient__isnull=False))
                ),
                name="outbox_recipient_xor_endpoint",
            ),
        ]

    def __str__(self) -> str:
        target = self.endpoint if self.channel == Channel.WEBHOOK else self.recipient
        return f"{self.event} → {target} ({self.channel}, {self.status})"


class Notification(models.Model):
    """An in-app inbox item, created by delivering an inbox outbox row (at most one per row)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    outbox = models.OneToOneField(
        OutboxMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbox_item"
    )
    event = models.CharField(max_length=50)
    plan = models.ForeignKey(
        "plans.Plan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class ReminderKind(models.TextChoices):
    REVIEWER = "reviewer", "Reviewer reminder"
    ADMIN = "admin", "Admin escalation"


class ReminderSent(models.Model):
    """The ledger that makes reminders once-only: one row per (waiting revision, kind)."""

    revision = models.ForeignKey(
        "plans.PlanRevision", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "reminder sent"
        verbose_name_plural = "reminders sent"
        constraints = [
            models.UniqueConstraint(fields=["revision", "kind"], name="one_reminder_per_wait"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder for {self.revision}"
