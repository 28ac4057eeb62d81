"""The after-approval records in the admin, read-only: they are written only by the services
(implementation/services.py), and a record that could be edited would prove nothing."""

from django.contrib import admin

from accounts.admin import ReadOnlyModelAdmin

from .models import CriterionCheck, DriftReport, ProgressReport, Verification


class ReadOnly(ReadOnlyModelAdmin):
    """Admins browse these (the role's permissions, as for every other record); nobody edits."""


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnly):
    list_display = ("plan", "step_number", "action_number", "commit", "reported_by", "created_at")
    list_select_related = ("plan", "reported_by")


@admin.register(DriftReport)
class DriftReportAdmin(ReadOnly):
    list_display = ("plan", "revision", "head_commit", "clear", "reported_by", "created_at")
    list_select_related = ("plan", "revision", "reported_by")

    @admin.display(boolean=True)
    def clear(self, obj):
        return obj.clear


@admin.register(CriterionCheck)
class CriterionCheckAdmin(ReadOnly):
    list_display = ("plan", "number", "text", "checked_by", "checked_at")
    list_select_related = ("plan", "checked_by")


@admin.register(Verification)
class VerificationAdmin(ReadOnly):
    list_display = ("plan", "outcome", "reviewer", "created_at")
    list_select_related = ("plan", "reviewer")
