from django.apps import AppConfig
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import m2m_changed

from accounts.services import account_changed

from . import actions


class AuditConfig(AppConfig):
    name = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: signals uses the models, which exist only once apps are loaded.
        from . import signals

        for name, label in actions.OWN_ACTIONS.items():
            actions.register(name, label)
        user_login_failed.connect(signals.login_failed, dispatch_uid="audit.login_failed")
        account_changed.connect(signals.account_changed, dispatch_uid="audit.account_changed")
        m2m_changed.connect(
            signals.groups_changed, sender=get_user_model().groups.through,
            dispatch_uid="audit.groups_changed",
        )
