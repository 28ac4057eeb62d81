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

        # The shared list of webhook routes (services.py) is read afresh after any change.
        from django.db.models.signals import post_delete, post_save

        # tasks: the delivery task joins Celery's registry, where services.dispatch finds it.
        from . import services, tasks  # noqa: F401
        from .models import Notification, WebhookEndpoint

        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(services.WEBHOOK_ROUTES.changed, sender=WebhookEndpoint, weak=False,
                           dispatch_uid=f"shared-webhook-routes-{name}")
            # And each user's unread count (selectors.py).
            signal.connect(selectors.notification_changed, sender=Notification,
                           dispatch_uid=f"shared-unread-{name}")
