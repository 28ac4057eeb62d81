"""The registered audit actions. log() refuses any name not listed here, so a typo in a service
fails its tests instead of writing an entry nobody will ever filter for.

Register a new action by adding it to ACTIONS (or calling register() from an app's ready()).
"""

ACTIONS: dict[str, str] = {
    "plan.created": "Plan created",
    "plan.imported": "Plan imported from Markdown",
    "plan.edited": "Plan edited",
    "plan.submitted": "Plan submitted for review",
    "plan.resubmitted": "Plan resubmitted after revision",
    "plan.withdrawn": "Plan withdrawn from review",
    "plan.approved": "Plan approved",
    "plan.needs_revision": "Plan sent back for revision",
    "plan.rejected": "Plan rejected",
    "review.started": "Review started",
    "review.answered": "Checklist answered",
    "review.decided": "Review decision made",
    "review.requested": "Review requested",
    "concern.raised": "Concern raised",
    "concern.resolved": "Concern resolved",
    "comment.posted": "Comment posted",
    "policy.changed": "Review policy changed",
    "checklist.changed": "Checklist template changed",
    "webhook.changed": "Webhook endpoint changed",
    "group.member_added": "User added to group",
    "group.member_removed": "User removed from group",
    "auth.login_failed": "Login failed",
    "notification.retried": "Notification retried",
}


class UnknownAuditAction(ValueError):
    """log() was called with an action name that is not registered."""


def register(name: str, label: str) -> None:
    if "." not in name:
        raise ValueError(f"Audit action names are namespaced (noun.verb): {name!r}")
    ACTIONS.setdefault(name, label)


def check(name: str) -> None:
    if name not in ACTIONS:
        raise UnknownAuditAction(
            f"Unknown audit action {name!r}; register it in audit/actions.py."
        )
