from django.apps import AppConfig

from audit.actions import register_formatter


class ReviewsConfig(AppConfig):
    name = "reviews"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: these modules use the models, which exist only once apps are loaded.
        from notifications import events as registry

        from . import events, selectors

        registry.register(*events.EVENTS)
        from .audit_details import FORMATTERS, GROUPED  # the audit pages' wording

        for name, formatter in FORMATTERS.items():
            register_formatter(name, formatter, grouped_as=GROUPED.get(name))
        for name, resolver in selectors.AUDIENCES.items():
            registry.register_audience(name, resolver)
