"""Reviews in the Django admin. Checklist templates and the review policy are edited here, and
written only by the review services (checklist_save / checklist_delete, policy_save /
policy_delete), which validate, write and audit each change; a refusal is shown on the form or
as an error message (accounts.admin.ServiceAdminMixin). Answers keep the text they answered, so
editing a template never alters reviews already given. Reviews, answers, concerns, comments and
requests are written by the review services: read-only here."""

from django import forms
from django.contrib import admin
from django.db import models

from accounts.admin import (
    PlangateModelAdmin,
    PlangateTabularInline,
    ReadOnlyModelAdmin,
    ReadOnlyTabularInline,
    ServiceAdminMixin,
)

from . import services
from .models import (
    MAX_APPROVALS,
    ChecklistAnswer,
    ChecklistGroup,
    ChecklistItem,
    ChecklistTemplate,
    Comment,
    CommentEdit,
    Concern,
    Review,
    ReviewPolicy,
    ReviewRequest,
)


class ChecklistServiceMixin(ServiceAdminMixin):
    """A template, group or item is saved by checklist_save, with one audit entry (against its
    template) per admin save, its inline rows included."""

    def save_model(self, request, obj, form, change):
        """Saved in save_related: the audit entry says whether the inline rows changed too."""

    def save_related(self, request, form, formsets, change):
        services.checklist_save(
            actor=request.user, obj=form.instance, changed_fields=form.changed_data,
            created=not change, inlines_changed=any(f.has_changed() for f in formsets),
        )
        super().save_related(request, form, formsets, change)  # the inline rows, after obj

    def delete_model(self, request, obj):
        services.checklist_delete(actor=request.user, obj=obj)


class ChecklistTemplateForm(forms.ModelForm):
    """Ticking "Is default" on another template is allowed: checklist_save un-defaults the
    current default, then validates the one-default constraint itself."""

    def _get_validation_exclusions(self):
        return super()._get_validation_exclusions() | {"is_default"}


class ChecklistGroupInline(PlangateTabularInline):
    model = ChecklistGroup
    fields = ("position", "title")
    show_change_link = True


class ChecklistItemInline(PlangateTabularInline):
    model = ChecklistItem
    fields = ("position", "text")


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(ChecklistServiceMixin, PlangateModelAdmin):
    form = ChecklistTemplateForm
    list_display = ("name", "is_default", "created_at")
    list_filter = ("is_default",)
    search_fields = ("name",)
    inlines = (ChecklistGroupInline,)


@admin.register(ChecklistGroup)
class ChecklistGroupAdmin(ChecklistServiceMixin, PlangateModelAdmin):
    list_display = ("title", "template", "position")
    list_filter = ("template",)
    search_fields = ("title", "template__name")
    list_select_related = ("template",)
    inlines = (ChecklistItemInline,)


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ChecklistServiceMixin, PlangateModelAdmin):
    list_display = ("text", "group", "position")
    list_filter = ("group__template",)
    search_fields = ("text", "group__title")
    list_select_related = ("group", "group__template")


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(ServiceAdminMixin, PlangateModelAdmin):
    list_display = ("name", "min_approvals", "high_risk_min_approvals", "updated_at")
    search_fields = ("name",)
    filter_horizontal = ("required_groups", "high_risk_required_groups")
    # Both counts are PositiveIntegerFields whose validators ask for 1..MAX_APPROVALS: without
    # this their form fields say "greater than or equal to 0" (and min="0") for -1.
    formfield_overrides = {models.PositiveIntegerField: {"min_value": 1,
                                                         "max_value": MAX_APPROVALS}}

    def save_model(self, request, obj, form, change):
        """Saved in save_related, by policy_save, with its groups (it sets them itself)."""

    def save_related(self, request, form, formsets, change):
        services.policy_save(
            actor=request.user, policy=form.instance,
            required_groups=form.cleaned_data["required_groups"],
            high_risk_required_groups=form.cleaned_data["high_risk_required_groups"],
            changed_fields=form.changed_data, created=not change,
        )

    def delete_model(self, request, obj):
        services.policy_delete(actor=request.user, policy=obj)


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


@admin.register(CommentEdit)
class CommentEditAdmin(ReadOnlyModelAdmin):
    """A comment's earlier versions: who wrote what before an edit is part of the record."""

    list_display = ("comment", "written_at", "replaced_at")
    list_filter = ("replaced_at",)
    search_fields = ("body", "comment__body", "comment__author__username")
    list_select_related = ("comment",)


@admin.register(ReviewRequest)
class ReviewRequestAdmin(ReadOnlyModelAdmin):
    list_display = ("plan", "user", "group", "requested_by", "created_at")
    list_filter = ("group", "created_at")
    search_fields = ("plan__title", "user__username", "requested_by__username")
    list_select_related = ("plan", "user", "group", "requested_by")
