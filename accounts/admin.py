"""Admin base classes shared by every app, and the user admin.

Members of the Admins group (staff) use the Django admin without per-model permissions: the
role is the permission, as everywhere else in Plangate (accounts.roles.is_admin). Models written
only by services are shown read-only; admin actions call those services.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import connections, models, router, transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import Conflict, NotAllowed, ValidationError
from core.http import user_message

from . import services
from .roles import is_admin


class RolePermissionsMixin:
    """Admins may view, add, change and delete; anyone else needs Django's model permissions."""

    def has_module_permission(self, request):
        return is_admin(request.user) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_admin(request.user) or super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return is_admin(request.user) or super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return is_admin(request.user) or super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_admin(request.user) or super().has_delete_permission(request, obj)


class ReadOnlyMixin:
    """For rows that only services write (or nobody does): view only."""

    def get_readonly_fields(self, request, obj=None):
        return self.fields or [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ActionSelectionMixin:
    """An action posted with a selection no row can have (not an id, or an int outside the id
    column's range: a forged post, never the changelist's own checkboxes) is answered as an
    empty selection is, never with a 500 (the ORM raises on the value, or the database does)."""

    def _selection_is_valid(self, selected: list[str]) -> bool:
        field = self.model._meta.pk
        field = field.target_field if field.is_relation else field  # a one-to-one's id
        try:
            values = [field.to_python(value) for value in selected]
        except (ValidationError, TypeError, ValueError, OverflowError):
            return False
        if None in values:
            return False
        if isinstance(field, models.IntegerField):
            low, high = connections[router.db_for_read(self.model)].ops.integer_field_range(
                field.get_internal_type())
            return all((low is None or low <= value) and (high is None or value <= high)
                       for value in values)
        return True

    def response_action(self, request, queryset):
        if not self._selection_is_valid(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)):
            self.message_user(request, _("Items must be selected in order to perform actions "
                                         "on them. No items have been changed."),
                              messages.WARNING)
            return None  # the changelist redirects to itself
        return super().response_action(request, queryset)


class HugeIdLookupMixin:
    """A changelist filtered by an id no 64-bit column holds (`?plan_id=99999999999999999999`)
    is a bad lookup, as `?plan_id=abc` is (Django's "?e=1" page), never a 500: the ORM answers
    such an int compared with an integer field without a query, but not one compared with a
    foreign key, and SQLite's driver cannot even send it (OverflowError)."""

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)  # it runs the page's queries
        except OverflowError as exc:
            raise IncorrectLookupParameters(exc) from exc


class PlangateModelAdmin(HugeIdLookupMixin, ActionSelectionMixin, RolePermissionsMixin,
                         admin.ModelAdmin):
    list_per_page = 50


#: What a service raises to refuse (Django's own PermissionDenied stays a 403).
SERVICE_REFUSALS = (NotAllowed, Conflict, ValidationError)


def _refusal_errors(refusal: Exception) -> dict:
    """{field name or None: messages}: a ValidationError's field errors stay on their fields."""
    if isinstance(refusal, ValidationError) and hasattr(refusal, "error_dict"):
        return {field: [message for error in errors for message in error.messages]
                for field, errors in refusal.error_dict.items()}
    return {None: [user_message(refusal)]}


def _refusing(form_class, refusal: Exception):
    """``form_class``, invalid with the service's refusal as its errors."""

    class RefusedForm(form_class):
        def clean(self):
            cleaned_data = super().clean()
            for field, errors in _refusal_errors(refusal).items():
                self.add_error(field if field in self.fields else None, errors)
            return cleaned_data

    RefusedForm.__name__ = form_class.__name__
    return RefusedForm


class ServiceAdminMixin:
    """For model admins whose save_model / save_related / delete_model call services.

    A service refuses by raising (NotAllowed, Conflict, ValidationError) inside the transaction
    the admin wraps each add, change and delete in, so the exception rolls back everything the
    request wrote (the admin's own history rows too), and the admin sees why, never a 500:

    - add / change: the same POST is validated again with the refusal as the form's errors, so
      the form comes back with what the admin typed, the message on the field it concerns;
    - delete (one object): an error message on the object's change page, nothing deleted;
    - the "delete selected" action: all or nothing, in one transaction, and an error message.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SERVICE_REFUSALS as refusal:
            request._service_refusal = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        return form_class if refusal is None else _refusing(form_class, refusal)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except SERVICE_REFUSALS as refusal:
            self.message_user(request, user_message(refusal), messages.ERROR)
            opts = self.opts
            return HttpResponseRedirect(reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                args=[object_id],
            ))

    def changelist_view(self, request, extra_context=None):
        if request.method != "POST":  # actions (and list_editable) post here
            return super().changelist_view(request, extra_context)
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().changelist_view(request, extra_context)
        except SERVICE_REFUSALS as refusal:
            self.message_user(request, user_message(refusal), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_queryset(self, request, queryset):
        with transaction.atomic(using=router.db_for_write(self.model)):
            for obj in queryset:
                self.delete_model(request, obj)


class ReadOnlyModelAdmin(ReadOnlyMixin, PlangateModelAdmin):
    pass


class PlangateTabularInline(RolePermissionsMixin, admin.TabularInline):
    extra = 0


class ReadOnlyTabularInline(ReadOnlyMixin, PlangateTabularInline):
    show_change_link = True


User = get_user_model()


@admin.display(description="Roles")
def roles(user) -> str:
    return ", ".join(group.name for group in user.groups.all())


class UserAdmin(HugeIdLookupMixin, ActionSelectionMixin, RolePermissionsMixin, DjangoUserAdmin):
    """Group membership changes made here are audited (audit.signals.groups_changed), and so
    is unticking or ticking Active (accounts.services.account_active_changed).

    Users who appear in the audit trail cannot be deleted (the entries protect them): deactivate
    them instead.
    """

    list_display = ("username", "email", "first_name", "last_name", roles, "is_active",
                    "is_staff", "last_login")
    list_filter = ("groups", "is_active", "is_staff", "is_superuser")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The change form saves in one transaction (changeform_view): the entry joins it.
        if change and "is_active" in form.changed_data:
            services.account_active_changed(actor=request.user, user=obj)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, UserAdmin)


class GroupAdmin(HugeIdLookupMixin, ActionSelectionMixin, DjangoGroupAdmin):
    """Django's own (its model permissions, as before), answering a huge id in the query string
    or a forged action selection as the user admin does: a bad lookup, never a 500."""


if admin.site.is_registered(Group):
    admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)
