from django.apps import AppConfig


class InsightsConfig(AppConfig):
    """What waits on whom: role dashboards, search, review-flow insights."""

    name = "insights"
    default_auto_field = "django.db.models.BigAutoField"
