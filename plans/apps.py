from django.apps import AppConfig

from audit.actions import register_formatter
from notifications.events import register

from . import events


class PlansConfig(AppConfig):
    name = "plans"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        register(*events.EVENTS)
        from .audit_details import FORMATTERS  # the audit pages' wording; uses the models

        for name, formatter in FORMATTERS.items():
            register_formatter(name, formatter)
