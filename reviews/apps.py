from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: these modules use the models, which exist only once apps are loaded.
        from notifications import events as registry

        from . import events, selectors

        registry.register(*events.EVENTS)
        for name, resolver in selectors.AUDIENCES.items():
            registry.register_audience(name, resolver)
