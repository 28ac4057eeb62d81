"""The admin site. Its own module: accounts.admin registers models on ``admin.site``, which
imports this (accounts.apps.PlangateAdminConfig names it as the default site)."""

from functools import wraps

from django.contrib import admin
from django.contrib.admin.actions import delete_selected
from django.db import router, transaction
from django.utils.functional import SimpleLazyObject


class PlangateAdminSite(admin.AdminSite):
    """The admin site (``admin.site``: accounts.apps.PlangateAdminConfig makes it the default).

    No sidebar listing every model on every admin page: building and drawing it was a fifth of
    a changelist; the breadcrumbs and the admin's home page list them. And the list of every
    app and model, which Django builds for every page (each_context) for that sidebar, is
    built only when a page shows it (the home page)."""

    enable_nav_sidebar = False

    def get_app_list(self, request, app_label=None):
        if app_label is not None:
            return super().get_app_list(request, app_label)
        return SimpleLazyObject(lambda: super(PlangateAdminSite, self).get_app_list(request))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_action(_atomic_delete_selected, "delete_selected")


@wraps(delete_selected)  # (its permission and description too)
def _atomic_delete_selected(modeladmin, request, queryset):
    """Django's "delete selected" in one transaction: it writes its history rows ("Deleted
    ...") before it deletes, so a deletion failing half-way would leave them behind. (Django
    wraps its add, change, delete and list-editable saves itself; the plan actions call the
    services, each of which is its own transaction: one plan's lock at a time.)"""
    with transaction.atomic(using=router.db_for_write(modeladmin.model)):
        return delete_selected(modeladmin, request, queryset)
