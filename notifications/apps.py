from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: these modules use the models, which exist only once apps are loaded.
        from . import events, selectors

        events.register(*events.OWN_EVENTS)
        events.register_audience(events.AUTHOR, selectors.plan_author)
        events.register_audience(events.ADMINS, selectors.admins)
