from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class InsightsConfig(AppConfig):
    """What waits on whom: role dashboards, search, review-flow insights."""

    name = "insights"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: these modules use the models, which exist only once apps are loaded.
        from plans.models import Plan, PlanStep, StepAction
        from reviews.models import Comment, Concern, Review

        from . import indexing

        # Keep each plan's search document current: refreshed once, after the change commits.
        post_save.connect(indexing.on_plan_saved, sender=Plan, dispatch_uid="insights-plan")
        for model in (PlanStep, StepAction, Comment, Concern, Review):
            for signal in (post_save, post_delete):
                signal.connect(indexing.on_part_changed, sender=model,
                               dispatch_uid=f"insights-{model._meta.label_lower}")

        # The workflow diagram at the top of the plan page (plans/panels.py).
        from plans import panels
        from plans import selectors as plan_selectors

        from .templatetags import insights_tags

        # The timeline's names are read ahead with the page's own entries (one round trip).
        panels.register("workflow", order=0, render=insights_tags.workflow_html, place=panels.TOP,
                        cache_keys=plan_selectors.timeline_names_cache_keys)
