"""The notification events: what users can subscribe to, and how each one reads.

notify_plan_event(event=...) accepts exactly these names (a typo fails loudly). The headline is
formatted with `actor`, `plan` and `reviewer`; the settings page lists events in this order.
"""

EVENTS: dict[str, dict[str, str]] = {
    "review.requested": {
        "label": "Someone asks me to review a plan",
        "headline": "{actor} asked you to review “{plan}”",
    },
    "plan.submitted": {
        "label": "A plan I may review is submitted",
        "headline": "{actor} submitted “{plan}” for review",
    },
    "plan.resubmitted": {
        "label": "A plan is resubmitted after revision",
        "headline": "{actor} resubmitted “{plan}” for review",
    },
    "plan.withdrawn": {
        "label": "A plan I started reviewing is withdrawn",
        "headline": "{actor} withdrew “{plan}” from review",
    },
    "review.decided": {
        "label": "A reviewer decides on my plan",
        "headline": "{actor} reviewed “{plan}”",
    },
    "plan.approved": {
        "label": "My plan is approved",
        "headline": "“{plan}” was approved",
    },
    "plan.needs_revision": {
        "label": "My plan is sent back for revision",
        "headline": "“{plan}” was sent back for revision",
    },
    "plan.rejected": {
        "label": "My plan is rejected",
        "headline": "“{plan}” was rejected",
    },
    "concern.raised": {
        "label": "A blocking concern is raised on my plan",
        "headline": "{actor} raised a blocking concern on “{plan}”",
    },
    "comment.posted": {
        "label": "Someone comments on a plan I am involved in",
        "headline": "{actor} commented on “{plan}”",
    },
    "plan.reminder": {
        "label": "Reminder: a plan is waiting for my review",
        "headline": "Reminder: “{plan}” is waiting for your review",
    },
    "plan.escalated": {
        "label": "Admins: a plan has waited too long for review",
        "headline": "“{plan}” has been waiting for review for over {hours} hours",
    },
}

EVENT_CHOICES = [(name, spec["label"]) for name, spec in EVENTS.items()]
