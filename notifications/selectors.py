"""Reads: who hears about a plan, a user's inbox and preferences."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.roles import ADMINS, REVIEWERS

from .events import EVENTS
from .models import Notification, NotificationPreference

User = get_user_model()


def _eligible(plan, users) -> list:
    """Only those who may review the plan (reviews.policy.may_review: in the Reviewers group,
    active, neither its author nor an editor), in the given order."""
    from reviews.policy import editor_ids, may_review

    editors = editor_ids(plan)
    result = []
    for user in users:
        # Prime accounts.roles' per-user cache from the prefetch: no query per user.
        user._plangate_roles = {g.name for g in user.groups.all()}
        if may_review(plan, user, editor_ids=editors):
            result.append(user)
    return result


def requested_reviewers(plan) -> list:
    """Reviewers asked by name or through a group (reviews.ReviewRequest), in request order;
    only group members (and named users) who may review this plan."""
    from reviews.models import ReviewRequest

    requests = ReviewRequest.objects.filter(plan=plan)
    return _eligible(plan, User.objects.filter(
        Q(pk__in=requests.filter(user__isnull=False).values("user"))
        | Q(groups__in=requests.filter(group__isnull=False).values("group")),
        is_active=True,
    ).distinct().order_by("pk").prefetch_related("groups"))


def reviewer_pool(plan) -> list:
    """Who a submitted plan waits on: the requested reviewers, or else every member of the
    Reviewers group who may review it (its author and co-editors may not)."""
    requested = requested_reviewers(plan)
    if requested:
        return requested
    return _eligible(plan, User.objects.filter(groups__name=REVIEWERS, is_active=True)
                     .distinct().order_by("pk").prefetch_related("groups"))


def earlier_reviewers(plan, revision=None) -> list:
    """Reviewers who reviewed an earlier revision of the plan (before `revision`)."""
    from reviews.models import Review

    reviews = Review.objects.filter(plan=plan)
    if revision is not None:
        reviews = reviews.exclude(revision=revision)
    return list(User.objects.filter(pk__in=reviews.values("reviewer"), is_active=True))


def reviewers_with_started_reviews(plan, revision=None) -> list:
    from reviews.models import Review

    revision = revision or plan.revisions.order_by("-number").first()
    if revision is None:
        return []
    reviews = Review.objects.filter(plan=plan, revision=revision)
    return list(User.objects.filter(pk__in=reviews.values("reviewer"), is_active=True))


def reviewers_awaited(plan, revision) -> list:
    """Reviewers the plan still waits on: the pool minus those who decided on this revision."""
    from reviews.models import Review

    decided = set(
        Review.objects.filter(revision=revision).exclude(decision="")
        .values_list("reviewer_id", flat=True)
    )
    return [user for user in reviewer_pool(plan) if user.pk not in decided]


def admins() -> list:
    return list(
        User.objects.filter(Q(groups__name=ADMINS) | Q(is_superuser=True), is_active=True)
        .distinct().order_by("pk")
    )


def channel_preferences(users, event: str) -> dict[int, tuple[bool, bool]]:
    """{user_id: (email, inbox)} for `event`; users without a row get the defaults (on, on)."""
    rows = NotificationPreference.objects.filter(user__in=users, event=event)
    chosen = {row.user_id: (row.email, row.inbox) for row in rows}
    return {user.pk: chosen.get(user.pk, (True, True)) for user in users}


def preferences_for_user(user) -> list[dict]:
    """Every event with the user's channels, in the order of EVENTS (for the settings page)."""
    chosen = {row.event: row for row in NotificationPreference.objects.filter(user=user)}
    return [
        {
            "event": name,
            "label": spec["label"],
            "email": chosen[name].email if name in chosen else True,
            "inbox": chosen[name].inbox if name in chosen else True,
        }
        for name, spec in EVENTS.items()
    ]


def inbox_for_user(user, *, limit: int = 100):
    return Notification.objects.filter(recipient=user).select_related("plan")[:limit]


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
