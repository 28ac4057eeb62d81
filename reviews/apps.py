from django.apps import AppConfig

from audit.actions import register_formatter
from plans import panels as plan_panels


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

        # The plan page's review panel and policy preview (plans/panels.py).
        from .templatetags import policy_tags, reviews_tags

        plan_panels.register("review", order=10, render=reviews_tags.review_panel_html,
                             cache_keys=reviews_tags.review_panel_cache_keys)
        plan_panels.register("policy", order=20, render=policy_tags.policy_preview_html)

        # Resubmitted text whose approvals still meet the policy is approved at once.
        from plans.services import UNCHANGED_RESUBMISSION

        from .services import settle_resubmission

        UNCHANGED_RESUBMISSION.append(settle_resubmission)

        # The cached active policy (reviews/policy.py) is read afresh after any change to it.
        from django.contrib.auth.models import Group
        from django.db.models.signals import m2m_changed, post_delete, post_save

        # So is the default checklist's id (reviews/services.py).
        from . import policy, services
        from .models import ChecklistTemplate, ReviewPolicy

        readers = ((policy.policy_changed, (ReviewPolicy, Group)),  # group names are in it
                   (services.DEFAULT_CHECKLIST_ID.changed, (ChecklistTemplate,)))
        for receiver, senders in readers:
            for sender in senders:
                for name, signal in (("saved", post_save), ("deleted", post_delete)):
                    signal.connect(receiver, sender=sender, weak=False,
                                   dispatch_uid=f"shared-{sender._meta.label_lower}-{name}")
        for through in (ReviewPolicy.required_groups.through,
                        ReviewPolicy.high_risk_required_groups.through):
            m2m_changed.connect(policy.policy_changed, sender=through, weak=False,
                                dispatch_uid=f"shared-{through._meta.label_lower}")

        # So are the submission rule and the groups the plan page's review panel offers.
        from django.contrib.auth import get_user_model

        from plans.models import SubmissionRule

        user_model = get_user_model()
        for sender in (SubmissionRule, Group, user_model):
            for name, signal in (("saved", post_save), ("deleted", post_delete)):
                signal.connect(reviews_tags.settings_changed, sender=sender, weak=False,
                               dispatch_uid=f"panel-settings-{sender._meta.label_lower}-{name}")
        m2m_changed.connect(reviews_tags.settings_changed, sender=user_model.groups.through,
                            weak=False, dispatch_uid="panel-settings-memberships")
