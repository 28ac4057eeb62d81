from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.contrib.auth.signals import user_login_failed


class PlangateAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with Plangate's admin site as ``admin.site`` (accounts/sites.py);
    named in INSTALLED_APPS (never this app's default config)."""

    default = False
    default_site = "accounts.sites.PlangateAdminSite"


class AccountsConfig(AppConfig):
    verbose_name = "Accounts and roles"
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: the throttle reads the cache and the user model, set up with the apps.
        from .signals import count_login_failure

        user_login_failed.connect(count_login_failure, dispatch_uid="accounts.login_throttle")

        # Each user's cached group names (roles.py) are read afresh after any change to them.
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.db.models.signals import m2m_changed, post_save, pre_delete

        from . import roles

        m2m_changed.connect(roles.memberships_changed, sender=get_user_model().groups.through,
                            dispatch_uid="accounts.roles.memberships")
        for name, signal in (("saved", post_save), ("deleting", pre_delete)):
            signal.connect(roles.group_changed, sender=Group,
                           dispatch_uid=f"accounts.roles.group-{name}")
