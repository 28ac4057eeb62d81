"""Reviews in the Django admin. Checklist templates and the review policy are edited here, and
every such change is written to the audit trail (checklist.changed; policy.changed through
reviews.services.policy_changed). Answers keep the text they answered, so editing a template
never alters reviews already given. Reviews, answers, concerns, comments and requests are
written by the review services: read-only here."""

from django.contrib import admin

from accounts.admin import (
    PlangateModelAdmin,
    PlangateTabularInline,
    ReadOnlyModelAdmin,
    ReadOnlyTabularInline,
)
from audit.log import log

from . import policy, services
from .models import (
    ChecklistAnswer,
    ChecklistGroup,
    ChecklistItem,
    ChecklistTemplate,
    Comment,
    Concern,
    Review,
    ReviewPolicy,
    ReviewRequest,
)


def _change(change: bool) -> str:
    return "changed" if change else "added"


class ChecklistAuditMixin:
    """Every add, change or delete in a checklist template, group or item writes one entry."""

    def checklist_template(self, obj) -> ChecklistTemplate:
        return obj

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        log("checklist.changed", actor=request.user, obj=self.checklist_template(obj),
            payload={"change": _change(change), "object": f"{obj._meta.model_name} {obj}",
                     "fields": form.changed_data,
                     "inlines_changed": any(f.has_changed() for f in formsets)})

    def delete_model(self, request, obj):
        log("checklist.changed", actor=request.user, obj=self.checklist_template(obj),
            payload={"change": "deleted", "object": f"{obj._meta.model_name} {obj}"})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class ChecklistGroupInline(PlangateTabularInline):
    model = ChecklistGroup
    fields = ("position", "title")
    show_change_link = True


class ChecklistItemInline(PlangateTabularInline):
    model = ChecklistItem
    fields = ("position", "text")


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(ChecklistAuditMixin, PlangateModelAdmin):
    list_display = ("name", "is_default", "created_at")
    list_filter = ("is_default",)
    search_fields = ("name",)
    inlines = (ChecklistGroupInline,)


@admin.register(ChecklistGroup)
class ChecklistGroupAdmin(ChecklistAuditMixin, PlangateModelAdmin):
    list_display = ("title", "template", "position")
    list_filter = ("template",)
    search_fields = ("title", "template__name")
    list_select_related = ("template",)
    inlines = (ChecklistItemInline,)

    def checklist_template(self, obj):
        return obj.template


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ChecklistAuditMixin, PlangateModelAdmin):
    list_display = ("text", "group", "position")
    list_filter = ("group__template",)
    search_fields = ("text", "group__title")
    list_select_related = ("group", "group__template")

    def checklist_template(self, obj):
        return obj.group.template


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(PlangateModelAdmin):
    list_display = ("name", "min_approvals", "high_risk_min_approvals", "updated_at")
    search_fields = ("name",)
    filter_horizontal = ("required_groups", "high_risk_required_groups")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)  # m2m saved: snapshot is complete
        services.policy_changed(actor=request.user, policy_row=form.instance,
                                changes={"fields": form.changed_data, "created": not change})

    def delete_model(self, request, obj):
        log("policy.changed", actor=request.user, obj=obj,
            payload={"changes": {"deleted": True}, "policy": policy.describe_policy(obj)})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class ChecklistAnswerInline(ReadOnlyTabularInline):
    model = ChecklistAnswer
    fields = ("group_title", "item_text", "answer", "note", "answered_at")


@admin.register(Review)
class ReviewAdmin(ReadOnlyModelAdmin):
    list_display = ("plan", "revision", "reviewer", "decision", "decided_at", "created_at")
    list_filter = ("decision", "decided_at")
    search_fields = ("plan__title", "reviewer__username", "comment")
    list_select_related = ("plan", "revision", "revision__plan", "reviewer")
    inlines = (ChecklistAnswerInline,)


@admin.register(ChecklistAnswer)
class ChecklistAnswerAdmin(ReadOnlyModelAdmin):
    list_display = ("item_text", "answer", "review", "answered_at")
    list_filter = ("answer",)
    search_fields = ("item_text", "group_title", "note", "review__reviewer__username")
    list_select_related = ("review", "review__reviewer", "review__revision",
                           "review__revision__plan")


@admin.register(Concern)
class ConcernAdmin(ReadOnlyModelAdmin):
    list_display = ("title", "plan", "raised_by", "created_at", "resolved_by", "resolved_at")
    list_filter = ("resolved_at", "created_at")
    search_fields = ("title", "body", "plan__title", "raised_by__username")
    list_select_related = ("plan", "raised_by", "resolved_by")


@admin.register(Comment)
class CommentAdmin(ReadOnlyModelAdmin):
    list_display = ("plan", "author", "section", "created_at")
    list_filter = ("created_at",)
    search_fields = ("body", "plan__title", "author__username")
    list_select_related = ("plan", "author")


@admin.register(ReviewRequest)
class ReviewRequestAdmin(ReadOnlyModelAdmin):
    list_display = ("plan", "user", "group", "requested_by", "created_at")
    list_filter = ("group", "created_at")
    search_fields = ("plan__title", "user__username", "requested_by__username")
    list_select_related = ("plan", "user", "group", "requested_by")
