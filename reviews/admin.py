"""Admins edit checklist templates and the review policy here. Answers keep the text they
answered, so editing a template never alters reviews already given."""

from django.contrib import admin

from . import services
from .models import ChecklistGroup, ChecklistItem, ChecklistTemplate, ReviewPolicy


class ChecklistGroupInline(admin.TabularInline):
    model = ChecklistGroup
    extra = 0
    show_change_link = True


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "created_at"]
    inlines = [ChecklistGroupInline]


@admin.register(ChecklistGroup)
class ChecklistGroupAdmin(admin.ModelAdmin):
    list_display = ["title", "template", "position"]
    list_filter = ["template"]
    inlines = [ChecklistItemInline]


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "min_approvals", "high_risk_min_approvals", "updated_at"]
    filter_horizontal = ["required_groups", "high_risk_required_groups"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.policy_changed(actor=request.user, policy_row=form.instance,
                                changes={"fields": form.changed_data, "created": not change})
