from django.apps import AppConfig

from notifications.events import register

from . import events


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API and tokens"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        register(*events.EVENTS)
