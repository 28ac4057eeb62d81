"""The admin site. Its own module: accounts.admin registers models on ``admin.site``, which
imports this (accounts.apps.PlangateAdminConfig names it as the default site)."""

from functools import wraps

from django.contrib import admin
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

    def admin_view(self, view, cacheable=False):
        """Every POST of the admin in one transaction: an action (Django's "delete selected"
        writes its history rows before it deletes) or a list_editable save that fails half-way
        leaves nothing behind. Django wraps only the add, change and delete forms."""
        guarded = super().admin_view(view, cacheable)
        model = getattr(getattr(view, "__self__", None), "model", None)  # a ModelAdmin's view
        using = router.db_for_write(model) if model is not None else None

        @wraps(guarded)
        def inner(request, *args, **kwargs):
            if request.method != "POST":
                return guarded(request, *args, **kwargs)
            with transaction.atomic(using=using):
                return guarded(request, *args, **kwargs)

        return inner
