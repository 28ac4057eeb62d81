"""What happens in review, and the outcomes it leads to (registered in ReviewsConfig.ready)."""

from notifications.events import (
    ADMINS,
    AUTHOR,
    AWAITED_REVIEWERS,
    REVIEWER_POOL,
    STARTED_REVIEWERS,
    Event,
    Notify,
)
from plans import events as plan_events
from plans.models import PlanStatus

REVIEW_REQUESTED = Event("review.requested", "Review requested", Notify(
    "Someone asks me to review a plan", "{actor} asked you to review “{plan}”",
    (REVIEWER_POOL,),
))
REVIEW_REREQUESTED = Event("review.rerequested", "Review re-requested", Notify(
    "The author asks me to review a plan again", "{actor} asked you to review “{plan}” again",
    (),
))  # the audience is the one reviewer asked (reviews.services.review_rerequest)
REVIEW_STARTED = Event("review.started", "Review started")
REVIEW_ANSWERED = Event("review.answered", "Checklist answered")
REVIEW_DECIDED = Event("review.decided", "Review decision made", Notify(
    "A reviewer decides on my plan", "{actor} reviewed “{plan}”", (AUTHOR,),
))
PLAN_APPROVED = Event("plan.approved", "Plan approved", Notify(
    "My plan is approved", "“{plan}” was approved", (AUTHOR,),
))
PLAN_NEEDS_REVISION = Event("plan.needs_revision", "Plan sent back for revision", Notify(
    "My plan is sent back for revision", "“{plan}” was sent back for revision", (AUTHOR,),
))
PLAN_REJECTED = Event("plan.rejected", "Plan rejected", Notify(
    "My plan is rejected", "“{plan}” was rejected", (AUTHOR,),
))
CONCERN_RAISED = Event("concern.raised", "Concern raised", Notify(
    "A blocking concern is raised on my plan", "{actor} raised a blocking concern on “{plan}”",
    (AUTHOR,),
))
CONCERN_RESOLVED = Event("concern.resolved", "Concern resolved")
COMMENT_POSTED = Event("comment.posted", "Comment posted", Notify(
    "Someone comments on a plan I am involved in", "{actor} commented on “{plan}”",
    (AUTHOR, STARTED_REVIEWERS),
))
COMMENT_MENTIONED = Event("comment.mentioned", "Mentioned in a comment", Notify(
    "Someone mentions me in a comment", "{actor} mentioned you on “{plan}”", (),
))  # the audience is whoever the comment names (reviews.services.comment_post)
COMMENT_EDITED = Event("comment.edited", "Comment edited")
THREAD_RESOLVED = Event("comment.resolved", "Comment thread resolved")
THREAD_REOPENED = Event("comment.reopened", "Comment thread reopened")
PLAN_REMINDER = Event("plan.reminder", "Reviewers reminded", Notify(
    "Reminder: a plan is waiting for my review",
    "Reminder: “{plan}” is waiting for your review", (AWAITED_REVIEWERS,),
))
PLAN_ESCALATED = Event("plan.escalated", "Admins told of a long wait", Notify(
    "Admins: a plan has waited too long for review",
    "“{plan}” has been waiting for review for over {hours} hours", (ADMINS,),
))
POLICY_CHANGED = Event("policy.changed", "Review policy changed")
CHECKLIST_CHANGED = Event("checklist.changed", "Checklist template changed")

EVENTS = (REVIEW_REQUESTED, REVIEW_REREQUESTED, REVIEW_STARTED, REVIEW_ANSWERED,
          REVIEW_DECIDED, PLAN_APPROVED, PLAN_NEEDS_REVISION, PLAN_REJECTED, CONCERN_RAISED,
          CONCERN_RESOLVED, COMMENT_POSTED,
          COMMENT_MENTIONED, COMMENT_EDITED, THREAD_RESOLVED, THREAD_REOPENED, PLAN_REMINDER,
          PLAN_ESCALATED, POLICY_CHANGED, CHECKLIST_CHANGED)

#: The event each outcome of the policy is announced by.
OUTCOME_EVENTS = {
    PlanStatus.APPROVED: PLAN_APPROVED,
    PlanStatus.NEEDS_REVISION: PLAN_NEEDS_REVISION,
    PlanStatus.REJECTED: PLAN_REJECTED,
}

#: Events that record a change of a plan's status (one audit entry per transition).
TRANSITION_EVENTS = (plan_events.PLAN_SUBMITTED, plan_events.PLAN_RESUBMITTED,
                     plan_events.PLAN_WITHDRAWN, *OUTCOME_EVENTS.values())
