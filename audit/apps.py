from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_login_failed
        from django.db.models.signals import m2m_changed

        from . import signals

        user_login_failed.connect(signals.login_failed, dispatch_uid="audit.login_failed")
        m2m_changed.connect(
            signals.groups_changed, sender=get_user_model().groups.through,
            dispatch_uid="audit.groups_changed",
        )
