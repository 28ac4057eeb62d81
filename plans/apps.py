from django.apps import AppConfig

from notifications.events import register

from . import events


class PlansConfig(AppConfig):
    name = "plans"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        register(*events.EVENTS)
