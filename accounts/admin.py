"""Admin base classes shared by every app, and the user admin.

Members of the Admins group (staff) use the Django admin without per-model permissions: the
role is the permission, as everywhere else in Plangate (accounts.roles.is_admin). Models written
only by services are shown read-only; admin actions call those services.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

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


class PlangateModelAdmin(RolePermissionsMixin, admin.ModelAdmin):
    list_per_page = 50


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


class UserAdmin(RolePermissionsMixin, DjangoUserAdmin):
    """Group membership changes made here are audited (audit.signals.groups_changed).

    Users who appear in the audit trail cannot be deleted (the entries protect them): deactivate
    them instead.
    """

    list_display = ("username", "email", "first_name", "last_name", roles, "is_active",
                    "is_staff", "last_login")
    list_filter = ("groups", "is_active", "is_staff", "is_superuser")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, UserAdmin)
