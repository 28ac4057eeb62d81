"""Who each plan under review waits on, for every plan at once (dashboards of reviewers and admins).

The rule is the reviews app's (reviews/selectors.py reviewers_awaited): the requested reviewers
(by name or through a group), or else every reviewer who may review the plan, minus those who
decided on its current revision; never its author or an editor, only active members of the
Reviewers group (reviews/policy.py may_review). `awaited()` applies it to rows loaded once, so a
dashboard does the same six queries for 10 plans under review or 1,000.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery

from accounts.roles import REVIEWERS
from plans.models import Plan, PlanEditor, PlanRevision, PlanStatus
from reviews.models import Review, ReviewRequest


@dataclass(frozen=True)
class Waiting:
    """A plan under review: its current revision and since when it waits."""

    plan_id: int
    author_id: int
    revision_id: int | None
    revision_number: int | None
    since: datetime | None

    def due(self) -> datetime | None:
        """When reviewers are reminded (reviews.services.review_reminders_send)."""
        if self.since is None:
            return None
        return self.since + timedelta(hours=settings.PLANGATE_REMINDER_AFTER_HOURS)

    def escalated_at(self) -> datetime | None:
        if self.since is None:
            return None
        return self.since + timedelta(hours=settings.PLANGATE_ADMIN_ESCALATION_HOURS)


@dataclass(frozen=True)
class Request:
    plan_id: int
    user_id: int | None
    group_id: int | None


def awaited(waiting: list[Waiting], *, requests: list[Request], editors: set[tuple[int, int]],
            decided: set[tuple[int, int]], reviewers: dict[int, set[int]]) -> dict[int, set[int]]:
    """Plan id -> ids of the reviewers it waits on.

    `editors`: (plan id, user id); `decided`: (revision id, reviewer id) of decisions;
    `reviewers`: id of each active member of the Reviewers group -> ids of their groups.
    """
    by_plan: dict[int, list[Request]] = defaultdict(list)
    for request in requests:
        by_plan[request.plan_id].append(request)
    result = {}
    for plan in waiting:
        eligible = {uid for uid in reviewers
                    if uid != plan.author_id and (plan.plan_id, uid) not in editors}
        asked = by_plan.get(plan.plan_id, [])
        named = {r.user_id for r in asked if r.user_id}
        groups = {r.group_id for r in asked if r.group_id}
        pool = {uid for uid in eligible if uid in named or reviewers[uid] & groups}
        if not pool:
            pool = eligible
        result[plan.plan_id] = {uid for uid in pool if (plan.revision_id, uid) not in decided}
    return result


@dataclass
class Queues:
    """Every plan under review with who it waits on, loaded in six queries."""

    waiting: dict[int, Waiting]
    awaited: dict[int, set[int]]
    reviewer_names: dict[int, str] = field(default_factory=dict)

    def for_reviewer(self, user_id: int) -> list[Waiting]:
        """The plans waiting on this reviewer, oldest first."""
        mine = [self.waiting[pid] for pid, users in self.awaited.items() if user_id in users]
        return sorted(mine, key=_oldest_first)

    def lengths(self) -> list[tuple[int, int, Waiting]]:
        """(reviewer id, queue length, oldest plan waiting on them), longest queue first."""
        counts: dict[int, list[Waiting]] = defaultdict(list)
        for pid, users in self.awaited.items():
            for uid in users:
                counts[uid].append(self.waiting[pid])
        rows = [(uid, len(plans), min(plans, key=_oldest_first)) for uid, plans in counts.items()]
        return sorted(rows, key=lambda r: (-r[1], _oldest_first(r[2]), r[0]))

    def overdue(self, now: datetime) -> list[Waiting]:
        """Plans past their reviewers' due time, oldest first."""
        late = [w for w in self.waiting.values() if w.due() is not None and w.due() <= now]
        return sorted(late, key=_oldest_first)


def _oldest_first(w: Waiting):
    return (w.since is None, w.since or datetime.max.replace(tzinfo=None), w.plan_id)


def load_queues() -> Queues:
    latest = PlanRevision.objects.filter(plan=OuterRef("pk")).order_by("-number")
    rows = (
        Plan.objects.filter(status=PlanStatus.PENDING_REVIEW)
        .annotate(rev_id=Subquery(latest.values("pk")[:1]),
                  rev_number=Subquery(latest.values("number")[:1]),
                  rev_at=Subquery(latest.values("created_at")[:1]))
        .values_list("pk", "author_id", "rev_id", "rev_number", "rev_at")
    )
    waiting = {row[0]: Waiting(*row) for row in rows}
    under_review = {"plan__status": PlanStatus.PENDING_REVIEW}
    requests = [Request(*r) for r in ReviewRequest.objects.filter(**under_review)
                .values_list("plan_id", "user_id", "group_id")]
    editors = set(PlanEditor.objects.filter(**under_review).values_list("plan_id", "user_id"))
    decided = set(Review.objects.filter(**under_review).exclude(decision="")
                  .values_list("revision_id", "reviewer_id"))
    users = (get_user_model().objects.filter(groups__name=REVIEWERS, is_active=True).distinct()
             .only("pk", "username").prefetch_related("groups"))
    reviewers, names = {}, {}
    for user in users:
        reviewers[user.pk] = {g.pk for g in user.groups.all()}
        names[user.pk] = user.get_username()
    return Queues(
        waiting=waiting,
        awaited=awaited(list(waiting.values()), requests=requests, editors=editors,
                        decided=decided, reviewers=reviewers),
        reviewer_names=names,
    )
