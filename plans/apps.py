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

        # The shared submission rule (SubmissionRule.required_keys) is read afresh after any
        # committed change of its row, however it is written.
        from django.db.models.signals import post_delete, post_save

        from .models import SubmissionRule, rule_changed

        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(rule_changed, sender=SubmissionRule, weak=False,
                           dispatch_uid=f"shared-plans.submissionrule-{name}")

        # So is the plan list's author filter (plans/selectors.py plan_authors).
        from django.contrib.auth import get_user_model

        from .models import Plan
        from .selectors import plan_authors_changed

        for sender in (Plan, get_user_model()):
            for name, signal in (("saved", post_save), ("deleted", post_delete)):
                signal.connect(plan_authors_changed, sender=sender, weak=False,
                               dispatch_uid=f"plan-authors-{sender._meta.label_lower}-{name}")
