from django.contrib import admin, messages
from django.db import models

from accounts.admin import PlangateModelAdmin, ReadOnlyModelAdmin, ServiceAdminMixin

from . import services
from .models import (
    Notification,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    ReminderSent,
    WebhookEndpoint,
)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(PlangateModelAdmin):
    list_display = ("id", "event", "channel", "recipient", "endpoint", "status", "attempts",
                    "short_error", "created_at", "sent_at")
    list_filter = ("status", "channel", "event")
    search_fields = ("subject", "recipient__username", "recipient__email", "last_error")
    list_select_related = ("recipient", "endpoint")
    date_hierarchy = "created_at"
    actions = ["retry_selected"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # rows change only through delivery or the retry action

    def has_delete_permission(self, request, obj=None):
        return False  # the outbox is the record of what was sent: no delete page, no action

    @admin.display(description="Last error")
    def short_error(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.action(description="Retry selected failed notifications")
    def retry_selected(self, request, queryset):
        ids = list(queryset.filter(
            status__in=[OutboxStatus.FAILED, OutboxStatus.PENDING]
        ).values_list("pk", flat=True))
        count = services.notification_retry(actor=request.user, outbox_ids=ids)
        level = messages.SUCCESS if count else messages.WARNING
        self.message_user(request, f"Queued {count} notification(s) for another attempt.", level)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceAdminMixin, PlangateModelAdmin):
    """Where plan events are sent is as sensitive as who may approve: endpoints are written by
    webhook_save / webhook_delete, which validate (http(s) URLs, registered events) and audit
    every change (never the secret itself, only that it changed)."""

    list_display = ("name", "url", "is_active", "events", "created_at")
    list_filter = ("is_active",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        services.webhook_save(actor=request.user, endpoint=obj, changed_fields=form.changed_data,
                              created=not change)

    def delete_model(self, request, obj):
        services.webhook_delete(actor=request.user, endpoint=obj)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyModelAdmin):
    list_display = ("title", "recipient", "event", "created_at", "read_at")
    list_filter = ("event",)
    list_select_related = ("recipient",)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyModelAdmin):
    """Everyone sets their own preferences on their profile page (validated, one row per
    registered event): the admin only shows them, so no one mutes another's notifications."""

    list_display = ("user", "event", "email", "inbox")
    list_filter = ("event",)


@admin.register(ReminderSent)
class ReminderSentAdmin(ReadOnlyModelAdmin):
    list_display = ("revision", "kind", "created_at")
    list_filter = ("kind",)
