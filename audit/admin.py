from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin import ReadOnlyModelAdmin

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyModelAdmin):
    """Read-only: entries are only ever appended, by audit.log (log, append)."""

    list_display = ("id", "created_at", "action", "actor_repr", "object_repr", "plan_link",
                    "ip_address")
    list_filter = ("action", "created_at", "object_type")
    search_fields = ("actor_repr", "object_repr", "action", "revision_hash", "entry_hash",
                     "=object_id")
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="Plan", ordering="plan_id")
    def plan_link(self, entry):
        if not entry.plan_id:
            return ""
        url = reverse("reviews:timeline", args=[entry.plan_id])
        return format_html('<a href="{}">#{} timeline</a>', url, entry.plan_id)
