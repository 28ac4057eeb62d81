from django.apps import AppConfig


class ImplementationConfig(AppConfig):
    """After approval: implementing, progress per step, drift reports, verification."""

    name = "implementation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: these modules use the models, which exist only once apps are loaded.
        from notifications import events as registry
        from reviews import certificate

        from . import events, selectors

        registry.register(*events.EVENTS)
        registry.register_audience(events.PLAN_REVIEWERS, selectors.plan_reviewers)
        certificate.register_record(selectors.certificate_record)

        # The plan page's implementation panel (plans/panels.py).
        from plans import panels

        from .templatetags import implementation_tags

        panels.register("implementation", order=30,
                        render=implementation_tags.implementation_panel_html)
