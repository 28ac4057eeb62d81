from django.apps import AppConfig


class ImplementationConfig(AppConfig):
    """After approval: implementing, progress per step, drift reports, verification."""

    name = "implementation"
    default_auto_field = "django.db.models.BigAutoField"
