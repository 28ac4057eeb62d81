"""What happens to a plan's content and its way into review (registered in PlansConfig.ready)."""

from notifications.events import (
    EARLIER_REVIEWERS,
    REVIEWER_POOL,
    STARTED_REVIEWERS,
    Event,
    Notify,
)

PLAN_CREATED = Event("plan.created", "Plan created")
PLAN_IMPORTED = Event("plan.imported", "Plan imported from Markdown")
PLAN_EDITED = Event("plan.edited", "Plan edited")
PLAN_STARTED_FROM = Event("plan.started_from", "Plan started from another plan")
PLAN_SUBMITTED = Event("plan.submitted", "Plan submitted for review", Notify(
    "A plan I may review is submitted", "{actor} submitted “{plan}” for review",
    (REVIEWER_POOL,),
))
PLAN_RESUBMITTED = Event("plan.resubmitted", "Plan resubmitted after revision", Notify(
    "A plan is resubmitted after revision", "{actor} resubmitted “{plan}” for review",
    (REVIEWER_POOL, EARLIER_REVIEWERS),
))
PLAN_WITHDRAWN = Event("plan.withdrawn", "Plan withdrawn from review", Notify(
    "A plan I started reviewing is withdrawn", "{actor} withdrew “{plan}” from review",
    (STARTED_REVIEWERS,),
))
SUBMISSION_RULE_CHANGED = Event("plan.submission_rule_changed",
                                "Sections required for submission changed")
PLAN_DELETED = Event("plan.deleted", "Draft deleted")
PLAN_ARCHIVED = Event("plan.archived", "Plan archived")
PLAN_UNARCHIVED = Event("plan.unarchived", "Plan taken out of the archive")
DRAFT_EVENTS = (PLAN_DELETED, PLAN_ARCHIVED, PLAN_UNARCHIVED)

EVENTS = (PLAN_CREATED, PLAN_IMPORTED, PLAN_EDITED, PLAN_STARTED_FROM, PLAN_SUBMITTED,
          PLAN_RESUBMITTED, PLAN_WITHDRAWN, SUBMISSION_RULE_CHANGED, *DRAFT_EVENTS)
