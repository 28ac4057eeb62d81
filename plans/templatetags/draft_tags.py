"""The plan page's "Delete draft" / "Archive" controls, shown only to who may use them."""

from django import template

from .. import permissions

register = template.Library()


@register.inclusion_tag("plans/includes/draft_actions.html", takes_context=True)
def draft_actions(context, plan):
    user = context["request"].user
    return {
        "plan": plan, "csrf_token": context.get("csrf_token"),
        # One query, for a draft only (has it ever been submitted?).
        "can_delete": plan.status == "DRAFT" and permissions.can_delete(plan, user),
        "can_archive": permissions.can_archive(plan, user),
    }
