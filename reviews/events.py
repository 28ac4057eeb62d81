"""The names the review workflow writes to the audit log and sends to notifications.

Audit actions are namespaced `<noun>.<verb>`; the audit app registers AUDIT_ACTIONS. Notification
events are what notifications.services.notify_plan_event() receives.
"""

# --- audit actions --------------------------------------------------------------------------------
PLAN_SUBMITTED = "plan.submitted"
PLAN_RESUBMITTED = "plan.resubmitted"
PLAN_WITHDRAWN = "plan.withdrawn"
PLAN_APPROVED = "plan.approved"
PLAN_NEEDS_REVISION = "plan.needs_revision"
PLAN_REJECTED = "plan.rejected"
REVIEW_STARTED = "review.started"
REVIEW_ANSWERED = "review.answered"
REVIEW_DECIDED = "review.decided"
REVIEW_REQUESTED = "review.requested"
CONCERN_RAISED = "concern.raised"
CONCERN_RESOLVED = "concern.resolved"
COMMENT_POSTED = "comment.posted"
POLICY_CHANGED = "policy.changed"

#: Audit actions that record a change of a plan's status (one entry per transition).
TRANSITION_ACTIONS = frozenset({
    PLAN_SUBMITTED, PLAN_RESUBMITTED, PLAN_WITHDRAWN, PLAN_APPROVED, PLAN_NEEDS_REVISION,
    PLAN_REJECTED,
})

AUDIT_ACTIONS = frozenset({
    *TRANSITION_ACTIONS, REVIEW_STARTED, REVIEW_ANSWERED, REVIEW_DECIDED, REVIEW_REQUESTED,
    CONCERN_RAISED, CONCERN_RESOLVED, COMMENT_POSTED, POLICY_CHANGED,
})

# --- notification events (notify_plan_event(event=...)) ------------------------------------------
NOTIFY_EVENTS = frozenset({
    PLAN_SUBMITTED, PLAN_RESUBMITTED, PLAN_WITHDRAWN, PLAN_APPROVED, PLAN_NEEDS_REVISION,
    PLAN_REJECTED, REVIEW_REQUESTED, REVIEW_DECIDED, CONCERN_RAISED, COMMENT_POSTED,
})

#: The plan transition each outcome status is reached by, and its audit action / event.
OUTCOME_ACTIONS = {
    "APPROVED": PLAN_APPROVED,
    "NEEDS_REVISION": PLAN_NEEDS_REVISION,
    "REJECTED": PLAN_REJECTED,
}
