from django.apps import AppConfig
from django.contrib.auth.signals import user_login_failed


class AccountsConfig(AppConfig):
    verbose_name = "Accounts and roles"
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: the throttle reads the cache and the user model, set up with the apps.
        from .signals import count_login_failure

        user_login_failed.connect(count_login_failure, dispatch_uid="accounts.login_throttle")
