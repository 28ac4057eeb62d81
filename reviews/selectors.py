"""Reads for the review pages: each does a fixed number of queries, however many rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import get_object_or_404

from accounts.roles import REVIEWERS
from notifications import events as audiences
from plans import permissions as plan_permissions
from plans.diff import section_diff
from plans.models import Plan, PlanRevision, PlanStatus, PlanStep, is_high_risk

from . import permissions, policy
from .models import ChecklistAnswer, ChecklistGroup, Comment, Concern, Review, ReviewRequest


def _reviews(plan: Plan):
    return (
        Review.objects.filter(plan=plan)
        .select_related("revision", "reviewer")
        .defer("revision__content")
        .prefetch_related("reviewer__groups")
        .order_by("revision__number", "created_at", "id")
    )


@dataclass
class Panel:
    """What the review panel on the plan page shows."""

    plan: Plan
    revision: PlanRevision | None
    status: policy.PolicyStatus
    reviews: list[Review]  # on the current revision
    concerns: list[Concern]  # open ones
    requests: list[ReviewRequest]
    turn: str
    my_review: Review | None = None
    can_submit: bool = False
    can_withdraw: bool = False
    can_review: bool = False
    can_request: bool = False
    can_raise_concern: bool = False
    resolvable: set[int] = field(default_factory=set)  # ids of open concerns `user` may resolve
    missing_for_submission: list[str] = field(default_factory=list)


def review_panel(plan: Plan, user) -> Panel:
    """Status, whose turn it is, what is missing, open concerns and the actions `user` may take.

    About 9 queries whatever the number of reviews, concerns and requests.
    """
    revision = policy.current_revision(plan)
    reviews = list(_reviews(plan))
    concerns = list(
        Concern.objects.filter(plan=plan, resolved_at__isnull=True)
        .select_related("raised_by", "step").order_by("created_at", "id")
    )
    requests = list(ReviewRequest.objects.filter(plan=plan).select_related("user", "group"))
    editors = policy.editor_ids(plan)
    prefetched = getattr(plan, "_prefetched_objects_cache", {}).get("steps")
    steps = list(prefetched if prefetched is not None else
                 PlanStep.objects.filter(plan=plan).only("id", "risk", "objective", "plan_id"))
    status = policy.evaluate(
        plan=plan, revision=revision, reviews=reviews, open_concerns=len(concerns),
        policy=policy.describe_policy(policy.active_policy()),
        high_risk=is_high_risk(s.risk for s in steps),
        editors=editors,
    )
    current = [r for r in reviews if revision is not None and r.revision_id == revision.pk]
    panel = Panel(
        plan=plan, revision=revision, status=status, reviews=current, concerns=concerns,
        requests=requests, turn=_turn(plan, current, requests, status),
    )
    panel.my_review = next((r for r in current if r.reviewer_id == user.pk), None)
    panel.can_submit = plan_permissions.can_submit(plan, user)
    panel.can_withdraw = plan_permissions.can_withdraw(plan, user)
    panel.can_review = permissions.can_review(plan, user, editor_ids=editors)
    panel.can_request = permissions.can_request_reviewers(plan, user)
    panel.can_raise_concern = permissions.can_raise_concern(plan, user, editor_ids=editors)
    panel.resolvable = {
        c.pk for c in concerns
        if permissions.can_resolve_concern(c, user, plan=plan, editor_ids=editors)
    }
    if panel.can_submit:
        panel.missing_for_submission = plan.missing_for_submission()
    return panel


def _turn(plan: Plan, current: list[Review], requests, status) -> str:
    if plan.status in (PlanStatus.DRAFT, PlanStatus.NEEDS_REVISION):
        return f"{plan.author.get_full_name() or plan.author.get_username()} (the author)"
    if plan.status != PlanStatus.PENDING_REVIEW:
        return ""
    decided = set(status.decisions) | {r.reviewer_id for r in status.kept_approvals}
    waiting = [r.user.get_username() for r in requests if r.user and r.user_id not in decided]
    waiting += [f"the {r.group.name} group" for r in requests if r.group]
    if waiting:
        return "Reviewers: " + ", ".join(waiting)
    if status.open_concerns and not status.missing_approvals:
        return "Resolving the open concerns"
    return "Any reviewer"


@dataclass
class ReviewPage:
    review: Review
    plan: Plan
    revision: PlanRevision
    current: PlanRevision | None
    groups: list  # [(group, [(item, answer or None)])]
    answered: int
    total: int
    concerns: list[Concern]
    status: policy.PolicyStatus
    stale_reviews: list[Review]  # my approvals of earlier, different content
    diff: list  # section diff from the revision I last reviewed to this one
    diff_from: PlanRevision | None
    is_current: bool
    can_answer: bool
    can_raise_concern: bool
    steps: list[PlanStep]


def review_page(review_id: int, user) -> ReviewPage:
    """The review page: the revision, the checklist with answers, concerns, what changed."""
    review = get_object_or_404(
        Review.objects.select_related("plan__author", "revision", "reviewer", "checklist"),
        pk=review_id,
    )
    plan = review.plan
    groups = list(
        ChecklistGroup.objects.filter(template=review.checklist_id).prefetch_related("items")
    )
    answers = {a.item_id: a for a in ChecklistAnswer.objects.filter(review=review)}
    rows = [(g, [(item, answers.get(item.pk)) for item in g.items.all()]) for g in groups]
    total = sum(len(items) for _, items in rows)
    answered = sum(1 for _, items in rows for _, a in items if a is not None)
    reviews = list(_reviews(plan))
    current = PlanRevision.objects.filter(plan=plan).order_by("-number").only(
        "id", "number", "content_hash", "plan_id"
    ).first()
    concerns = list(
        Concern.objects.filter(plan=plan, resolved_at__isnull=True)
        .select_related("raised_by", "step")
    )
    editors = policy.editor_ids(plan)
    steps = list(PlanStep.objects.filter(plan=plan).only("id", "title", "position", "risk",
                                                        "plan_id"))
    status = policy.evaluate(
        plan=plan, revision=current, reviews=reviews, open_concerns=len(concerns),
        policy=policy.describe_policy(policy.active_policy()),
        high_risk=is_high_risk(s.risk for s in steps),
        editors=editors,
    )
    mine_earlier = [
        r for r in reviews
        if r.reviewer_id == review.reviewer_id and r.revision.number < review.revision.number
        and r.decision
    ]
    diff, diff_from = [], None
    if mine_earlier:
        last = mine_earlier[-1]
        if last.revision.content_hash != review.revision.content_hash:
            diff_from = PlanRevision.objects.get(pk=last.revision_id)
            diff = [s for s in section_diff(diff_from.content, review.revision.content)
                    if s.changed]
    stale = [r for r in status.stale_approvals if r.reviewer_id == review.reviewer_id]
    is_current = current is not None and review.revision_id == current.pk
    return ReviewPage(
        review=review, plan=plan, revision=review.revision, current=current, groups=rows,
        answered=answered, total=total, concerns=concerns, status=status,
        stale_reviews=stale, diff=diff, diff_from=diff_from, is_current=is_current,
        can_answer=(is_current and not review.decision and plan.status == PlanStatus.PENDING_REVIEW
                    and permissions.owns_review(review, user)),
        can_raise_concern=permissions.can_raise_concern(plan, user, editor_ids=editors),
        steps=steps,
    )


def plan_for_reviews(plan_id: int) -> Plan:
    return get_object_or_404(Plan.objects.select_related("author"), pk=plan_id)


def comment_threads(plan: Plan) -> list[dict]:
    """Top-level comments each with their replies (any depth), from one query."""
    comments = list(
        Comment.objects.filter(plan=plan).select_related("author", "step").order_by("created_at",
                                                                                  "id")
    )
    children: dict[int | None, list[Comment]] = {}
    for c in comments:
        children.setdefault(c.parent_id, []).append(c)

    def node(comment: Comment, depth: int) -> dict:
        return {"comment": comment, "depth": depth,
                "replies": [node(r, depth + 1) for r in children.get(comment.pk, [])]}

    return [node(c, 0) for c in children.get(None, [])]


def flat_threads(threads: list[dict]) -> list[dict]:
    out = []
    for t in threads:
        out.append(t)
        out.extend(flat_threads(t["replies"]))
    return out


# --- who hears about a plan (the notification audiences this app knows) --------------------------
def _eligible(plan, users) -> list:
    """Only those who may review the plan (reviews.policy.may_review: in the Reviewers group,
    active, neither its author nor an editor), in the given order."""
    editors = policy.editor_ids(plan)
    result = []
    for user in users:
        # Prime accounts.roles' per-user cache from the prefetch: no query per user.
        user._plangate_roles = {g.name for g in user.groups.all()}
        if policy.may_review(plan, user, editor_ids=editors):
            result.append(user)
    return result


def requested_reviewers(plan, revision=None) -> list:
    """Reviewers asked by name or through a group (reviews.ReviewRequest), in request order;
    only group members (and named users) who may review this plan."""
    requests = ReviewRequest.objects.filter(plan=plan)
    return _eligible(plan, get_user_model().objects.filter(
        Q(pk__in=requests.filter(user__isnull=False).values("user"))
        | Q(groups__in=requests.filter(group__isnull=False).values("group")),
        is_active=True,
    ).distinct().order_by("pk").prefetch_related("groups"))


def reviewer_pool(plan, revision=None) -> list:
    """Who a submitted plan waits on: the requested reviewers, or else every member of the
    Reviewers group who may review it (its author and co-editors may not)."""
    requested = requested_reviewers(plan)
    if requested:
        return requested
    return _eligible(plan, get_user_model().objects.filter(groups__name=REVIEWERS, is_active=True)
                     .distinct().order_by("pk").prefetch_related("groups"))


def earlier_reviewers(plan, revision=None) -> list:
    """Reviewers who reviewed an earlier revision of the plan (before `revision`)."""
    reviews = Review.objects.filter(plan=plan)
    if revision is not None:
        reviews = reviews.exclude(revision=revision)
    return list(get_user_model().objects.filter(pk__in=reviews.values("reviewer"), is_active=True))


def reviewers_with_started_reviews(plan, revision=None) -> list:
    revision = revision or plan.revisions.order_by("-number").first()
    if revision is None:
        return []
    reviews = Review.objects.filter(plan=plan, revision=revision)
    return list(get_user_model().objects.filter(pk__in=reviews.values("reviewer"), is_active=True))


def reviewers_awaited(plan, revision) -> list:
    """Reviewers the plan still waits on: the pool minus those who decided on this revision."""
    decided = set(
        Review.objects.filter(revision=revision).exclude(decision="")
        .values_list("reviewer_id", flat=True)
    )
    return [user for user in reviewer_pool(plan) if user.pk not in decided]


AUDIENCES = {
    audiences.REVIEWER_POOL: reviewer_pool,
    audiences.EARLIER_REVIEWERS: earlier_reviewers,
    audiences.STARTED_REVIEWERS: reviewers_with_started_reviews,
    audiences.AWAITED_REVIEWERS: reviewers_awaited,
}
