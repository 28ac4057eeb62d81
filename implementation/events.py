"""What happens after approval (registered in ImplementationConfig.ready)."""

from notifications.events import AUTHOR, EARLIER_REVIEWERS, REVIEWER_POOL, Event, Notify

#: Everyone who decided on any revision of the plan (the approvers first of all): they hear how
#: the work they approved goes. Resolved by implementation.selectors.plan_reviewers.
PLAN_REVIEWERS = "plan_reviewers"

IMPLEMENTATION_STARTED = Event("plan.implementation_started", "Implementation started", Notify(
    "A plan I reviewed is being implemented", "{actor} started implementing “{plan}”",
    (PLAN_REVIEWERS,),
))
IMPLEMENTATION_FINISHED = Event("plan.implementation_finished", "Implementation finished", Notify(
    "A plan is implemented and waits for verification",
    "{actor} finished implementing “{plan}”: it waits for a post-implementation review",
    (PLAN_REVIEWERS,),
))
PLAN_VERIFIED = Event("plan.verified", "Implementation verified", Notify(
    "My plan's implementation is verified", "{actor} verified the implementation of “{plan}”",
    (AUTHOR,),
))
PLAN_SENT_BACK = Event("plan.sent_back_to_implementing", "Sent back to implementing", Notify(
    "My plan's implementation is sent back",
    "{actor} sent “{plan}” back to implementing", (AUTHOR,),
))
AMENDMENT_SUBMITTED = Event("plan.amendment_submitted", "Amendment submitted for review", Notify(
    "An approved plan is amended and waits for review",
    "{actor} submitted an amendment of “{plan}” for review", (REVIEWER_POOL, EARLIER_REVIEWERS),
))
PROGRESS_REPORTED = Event("plan.progress_reported", "Progress reported")
DRIFT_REPORTED = Event("plan.drift_reported", "Drift report uploaded")
CRITERION_CHECKED = Event("plan.criterion_checked", "Success criterion checked")

EVENTS = (IMPLEMENTATION_STARTED, IMPLEMENTATION_FINISHED, PLAN_VERIFIED, PLAN_SENT_BACK,
          AMENDMENT_SUBMITTED, PROGRESS_REPORTED, DRIFT_REPORTED, CRITERION_CHECKED)

#: Events that record a change of a plan's status (one audit entry per transition).
TRANSITION_EVENTS = (IMPLEMENTATION_STARTED, IMPLEMENTATION_FINISHED, PLAN_VERIFIED,
                     PLAN_SENT_BACK, AMENDMENT_SUBMITTED)
