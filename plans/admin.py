"""Plans in the Django admin: read-only rows (plans change through the app's services, which
record editors, revisions and the audit trail), with actions that call those same services."""

import hashlib

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _

from accounts.admin import (
    PlangateModelAdmin,
    ReadOnlyModelAdmin,
    ReadOnlyTabularInline,
    ServiceAdminMixin,
)
from accounts.roles import is_admin
from accounts.templatetags import plangate_admin
from audit.selectors import data_version
from core.http import DOMAIN_ERRORS, user_message
from core.urls import pk_url

from . import services
from .models import (
    Plan,
    PlanEditor,
    PlanRevision,
    PlanStep,
    StepAction,
    StepFile,
    SubmissionRule,
    SuccessCriterion,
)


class PlanStepInline(ReadOnlyTabularInline):
    model = PlanStep
    fields = ("position", "title", "objective", "estimate", "risk")


class SuccessCriterionInline(ReadOnlyTabularInline):
    model = SuccessCriterion
    fields = ("position", "text", "done")


class PlanRevisionInline(ReadOnlyTabularInline):
    model = PlanRevision
    fields = ("number", "content_hash", "created_by", "created_at")


class PlanEditorInline(ReadOnlyTabularInline):
    model = PlanEditor
    fields = ("user",)


def _run_service(modeladmin, request, queryset, service, done: str) -> None:
    succeeded = 0
    for plan in queryset:
        try:
            service(actor=request.user, plan=plan)
        except DOMAIN_ERRORS as exc:
            modeladmin.message_user(request, f"{plan}: {user_message(exc)}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, f"{done} {succeeded} plan(s).", messages.SUCCESS)


class PlanChangeList(ChangeList):
    """Each row links to its plan twice (id, title): one reverse() per page, not two per row.
    The rows load none of the plan's text (its Markdown source and JSON sections): they show
    none of it. (Actions get the full rows: ChangeList.get_queryset is left alone.)"""

    ROWS_DEFER = ("sections", "review_checklist", "extra_sections", "source", "import_report")

    def get_results(self, request):
        self.queryset = self.queryset.defer(*self.ROWS_DEFER)
        super().get_results(request)

    def url_for_result(self, result):
        if not hasattr(self, "_change_url"):
            self._change_url = pk_url(f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                                      current_app=self.model_admin.admin_site.name)
        return self._change_url(result.pk)


class VersionedCountPaginator(Paginator):
    """The number of plans listed, counted once per data version (audit.selectors: plans are
    written only by services, which audit every write) and query: COUNT(*) reads every plan.
    Kept in this process too (plangate_admin.recent): the key names the version."""

    COUNT_SECONDS = 24 * 60 * 60

    @cached_property
    def count(self):
        version = data_version()
        if version is None:  # nothing audited yet: no version to key by
            return self.object_list.count()
        # Keyed by what counts (the tables, joins, conditions, DISTINCT): compiling the rows'
        # columns and order too was a third of the view.
        query = self.object_list.values_list("pk").query
        query.clear_ordering(force=True)
        try:
            sql, params = query.sql_with_params()
        except EmptyResultSet:  # a condition no row can meet (`?id=` beyond the id column)
            return 0
        key = "admin-count:" + hashlib.sha256(repr((version, sql, params)).encode()).hexdigest()
        return plangate_admin.recent.cached(key, self.object_list.count, self.COUNT_SECONDS)


@admin.register(Plan)
class PlanAdmin(ReadOnlyModelAdmin):
    list_display = ("id", "title", "author", "status", "created_at", "updated_at")
    list_display_links = ("id", "title")
    list_filter = ("status", "created_at", "updated_at")
    search_fields = ("title", "author__username", "sections__problem_statement")
    list_select_related = ("author",)
    # Kept cheap with 10,000s of plans: a page of 25 rows (rendering admin rows is most of the
    # page), one count (not also the unfiltered total), and no date hierarchy (it scanned every
    # plan for the distinct years on each load; the date filters above do without a query).
    list_per_page = 25
    show_full_result_count = False
    change_list_template = "admin/plangate_change_list.html"  # cached whole, rows drawn per column
    cache_rows = True  # the cells show the plan's own fields and its author's name, nothing else
    cache_filters = True  # a field's choices and dates: the same for every plan list
    paginator = VersionedCountPaginator
    inlines = (PlanStepInline, SuccessCriterionInline, PlanRevisionInline, PlanEditorInline)
    actions = ("submit_plans", "withdraw_plans")

    def has_service_permission(self, request) -> bool:
        return is_admin(request.user)

    def get_changelist(self, request, **kwargs):
        return PlanChangeList

    def action_checkbox(self, obj):
        # The markup of Django's own (a CheckboxInput widget), without a template render per
        # row: the widgets were ~15% of the page.
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html('<input type="checkbox" name="{}" value="{}" class="action-select" '
                           'aria-label="{}">', ACTION_CHECKBOX_NAME, str(obj.pk), label)

    @admin.action(description="Submit selected plans for review", permissions=["service"])
    def submit_plans(self, request, queryset):
        _run_service(self, request, queryset, services.plan_submit, "Submitted")

    @admin.action(description="Withdraw selected plans from review", permissions=["service"])
    def withdraw_plans(self, request, queryset):
        _run_service(self, request, queryset, services.plan_withdraw, "Withdrew")


class StepActionInline(ReadOnlyTabularInline):
    model = StepAction
    fields = ("position", "text", "done")


class StepFileInline(ReadOnlyTabularInline):
    model = StepFile
    fields = ("position", "path", "description")


@admin.register(PlanStep)
class PlanStepAdmin(ReadOnlyModelAdmin):
    list_display = ("title", "plan", "position", "estimate", "risk")
    list_filter = ("risk",)
    search_fields = ("title", "objective", "plan__title")
    list_select_related = ("plan",)
    inlines = (StepActionInline, StepFileInline)


@admin.register(StepAction)
class StepActionAdmin(ReadOnlyModelAdmin):
    list_display = ("text", "step", "done")
    list_filter = ("done",)
    search_fields = ("text", "step__title")
    list_select_related = ("step",)


@admin.register(StepFile)
class StepFileAdmin(ReadOnlyModelAdmin):
    list_display = ("path", "description", "step")
    search_fields = ("path", "description", "step__title")
    list_select_related = ("step",)


@admin.register(SuccessCriterion)
class SuccessCriterionAdmin(ReadOnlyModelAdmin):
    list_display = ("text", "plan", "done")
    list_filter = ("done",)
    search_fields = ("text", "plan__title")
    list_select_related = ("plan",)


@admin.register(PlanRevision)
class PlanRevisionAdmin(ReadOnlyModelAdmin):
    list_display = ("plan", "number", "content_hash", "created_by", "created_at")
    list_filter = ("created_at",)
    search_fields = ("plan__title", "content_hash", "created_by__username")
    list_select_related = ("plan", "created_by")
    date_hierarchy = "created_at"


@admin.register(PlanEditor)
class PlanEditorAdmin(ReadOnlyModelAdmin):
    list_display = ("plan", "user")
    search_fields = ("plan__title", "user__username")
    list_select_related = ("plan", "user")


class SubmissionRuleForm(forms.ModelForm):
    """The required sections as checkboxes, one per '##' section the author writes."""

    required = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple,
        help_text="A plan cannot be submitted for review until each of these is filled in.",
    )

    class Meta:
        model = SubmissionRule
        fields = ["required"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["required"].choices = [(s.key, s.label)
                                           for s in services.submission_sections()]
        if not self.instance.pk:
            self.initial["required"] = SubmissionRule.required_keys()


@admin.register(SubmissionRule)
class SubmissionRuleAdmin(ServiceAdminMixin, PlangateModelAdmin):
    """One row: which sections submission requires. Saved by submission_rule_update (audited)."""

    form = SubmissionRuleForm
    list_display = ("__str__", "updated_at", "updated_by")

    def has_add_permission(self, request, *args):
        return super().has_add_permission(request, *args) and not SubmissionRule.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        rule = services.submission_rule_update(actor=request.user,
                                               required=form.cleaned_data["required"])
        obj.pk = rule.pk
