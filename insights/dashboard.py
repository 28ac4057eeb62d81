"""The home page: what waits on me, by role. A user may hold several roles and sees each part.

Each part does a fixed number of queries however many plans there are (tests/insights pin it at
10 and 1,000 plans): lists are cut to LIMIT rows and their details loaded for those rows only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Window
from django.utils import timezone

from accounts.roles import ADMINS, AUTHORS, REVIEWERS, has_role, is_admin
from core import cache as shared_cache
from notifications.models import OutboxMessage, OutboxStatus
from plans.models import Plan, PlanEditor, PlanRevision, PlanStatus
from plans.selectors import RANK_RISK, plan_list
from reviews import policy
from reviews.models import Concern, Decision, Review, ReviewRequest
from reviews.selectors import whose_turn

from . import caching
from .queues import Queues, Waiting, load_queues

LIMIT = 10
DECISIONS_SHOWN = 6
SENT_BACK = (Decision.NEEDS_REVISION, Decision.REJECTED)


def _plans(user, ids) -> dict[int, Plan]:
    """The plans with these ids, with author, steps count, hours and risk (one query)."""
    plans = {p.pk: p for p in plan_list(user=user).filter(pk__in=list(ids))}
    for plan in plans.values():
        plan.highest_risk_value = RANK_RISK.get(plan.risk_rank or 0, "")
    return plans


def _recent_decisions(reviews):
    return list(reviews.exclude(decision="").select_related("plan", "reviewer", "revision")
                .defer("revision__content", "plan__sections", "plan__source",
                       "plan__import_report", "plan__extra_sections", "plan__review_checklist")
                .order_by("-decided_at", "-id")[:DECISIONS_SHOWN])


# --- author ---------------------------------------------------------------------------------------
@dataclass
class UnderReview:
    plan: Plan
    turn: str
    missing: list[str]


@dataclass
class SentBack:
    plan: Plan
    feedback: list[Review]
    concerns: list[Concern]


@dataclass
class AuthorPart:
    counts: dict[str, int]
    drafts: list[Plan]
    sent_back: list[SentBack]
    under_review: list[UnderReview]
    decisions: list[Review]


def author_part(user) -> AuthorPart:
    """About 14 queries."""
    mine = plan_list(user=user, mine=True)
    counts = dict(Plan.objects.filter(author=user).values_list("status").annotate(n=Count("pk"))
                  .order_by())
    drafts = list(mine.filter(status=PlanStatus.DRAFT)[:LIMIT])
    back = list(mine.filter(status=PlanStatus.NEEDS_REVISION)[:LIMIT])
    pending = list(mine.filter(status=PlanStatus.PENDING_REVIEW)[:LIMIT])
    for plan in drafts + back + pending:
        plan.highest_risk_value = RANK_RISK.get(plan.risk_rank or 0, "")
    return AuthorPart(
        counts=counts, drafts=drafts, sent_back=_sent_back(back),
        under_review=_under_review(pending),
        decisions=_recent_decisions(Review.objects.filter(plan__author=user)),
    )


def _sent_back(plans: list[Plan]) -> list[SentBack]:
    """Each plan with the decisions that sent its latest revision back, and its open concerns."""
    ids = [p.pk for p in plans]
    latest = PlanRevision.objects.filter(plan=OuterRef("plan")).order_by("-number")
    feedback = defaultdict(list)
    for review in (Review.objects.filter(plan_id__in=ids, decision__in=SENT_BACK)
                   .annotate(latest=Subquery(latest.values("pk")[:1]))
                   .select_related("reviewer").order_by("decided_at", "id")):
        if review.revision_id == review.latest:
            feedback[review.plan_id].append(review)
    concerns = defaultdict(list)
    for concern in (Concern.objects.filter(plan_id__in=ids, resolved_at__isnull=True)
                    .select_related("raised_by")):
        concerns[concern.plan_id].append(concern)
    return [SentBack(p, feedback[p.pk], concerns[p.pk]) for p in plans]


def _under_review(plans: list[Plan]) -> list[UnderReview]:
    """Whose turn it is and what is missing, by the review policy (reviews/policy.py)."""
    if not plans:
        return []
    ids = [p.pk for p in plans]
    revisions = {}
    for revision in PlanRevision.objects.filter(plan_id__in=ids).defer("content").order_by(
            "number"):
        revisions[revision.plan_id] = revision  # the last is the current one
    reviews = defaultdict(list)
    for review in (Review.objects.filter(plan_id__in=ids).select_related("revision", "reviewer")
                   .defer("revision__content").prefetch_related("reviewer__groups")):
        reviews[review.plan_id].append(review)
    concerns = dict(Concern.objects.filter(plan_id__in=ids, resolved_at__isnull=True)
                    .values_list("plan_id").annotate(n=Count("pk")).order_by())
    editors = defaultdict(set)
    for plan_id, user_id in PlanEditor.objects.filter(plan_id__in=ids).values_list(
            "plan_id", "user_id"):
        editors[plan_id].add(user_id)
    requests = defaultdict(list)
    for request in ReviewRequest.objects.filter(plan_id__in=ids).select_related("user", "group"):
        requests[request.plan_id].append(request)
    rules = policy.describe_policy(policy.active_policy())
    rows = []
    for plan in plans:
        revision = revisions.get(plan.pk)
        status = policy.evaluate(
            plan=plan, revision=revision, reviews=reviews[plan.pk],
            open_concerns=concerns.get(plan.pk, 0), policy=rules,
            high_risk=plan.risk_rank == 3, editors=editors[plan.pk],
        )
        current = [r for r in reviews[plan.pk] if revision and r.revision_id == revision.pk]
        rows.append(UnderReview(plan, whose_turn(plan, current, requests[plan.pk], status),
                                status.missing))
    return rows


# --- reviewer -------------------------------------------------------------------------------------
@dataclass
class Awaiting:
    plan: Plan
    waiting: Waiting
    overdue: bool


@dataclass
class Resubmitted:
    plan: Plan
    my_review: Review
    current_number: int


@dataclass
class ReviewerPart:
    awaiting: list[Awaiting]
    awaiting_total: int
    resubmitted: list[Resubmitted]
    decisions: list[Review]


def reviewer_part(user, queues: Queues, now) -> ReviewerPart:
    """Plans awaiting me (oldest first), plans I reviewed that came back, my decisions."""
    mine = queues.for_reviewer(user.pk)
    shown = mine[:LIMIT]
    plans = _plans(user, [w.plan_id for w in shown])
    awaiting = [Awaiting(plans[w.plan_id], w, w.due() is not None and w.due() <= now)
                for w in shown if w.plan_id in plans]
    latest = PlanRevision.objects.filter(plan=OuterRef("plan")).order_by("-number")
    decided_current = Review.objects.filter(
        plan=OuterRef("plan"), reviewer=user, revision=OuterRef("current_id")).exclude(decision="")
    earlier = (
        Review.objects.filter(reviewer=user, plan__status=PlanStatus.PENDING_REVIEW)
        .exclude(decision="")
        .annotate(current_id=Subquery(latest.values("pk")[:1]),
                  current_number=Subquery(latest.values("number")[:1]))
        .exclude(revision_id=F("current_id"))
        .filter(~Exists(decided_current))
        .select_related("revision", "plan__author").defer("revision__content")
        .order_by("-decided_at", "-id")
    )
    resubmitted, seen = [], set()
    for review in earlier[:LIMIT * 5]:
        if review.plan_id in seen or review.revision.number >= review.current_number:
            continue
        seen.add(review.plan_id)
        resubmitted.append(Resubmitted(review.plan, review, review.current_number))
    return ReviewerPart(
        awaiting=awaiting, awaiting_total=len(mine), resubmitted=resubmitted[:LIMIT],
        decisions=_recent_decisions(Review.objects.filter(reviewer=user)),
    )


# --- admin ----------------------------------------------------------------------------------------
@dataclass
class Overdue:
    plan: Plan
    waiting: Waiting
    escalated: bool
    reviewers: list[str]


@dataclass
class AdminPart:
    by_state: list[tuple[str, str, int]]  # (state, label, count), every state of the workflow
    overdue: list[Overdue]
    overdue_total: int
    queues: list[tuple[str, int, Waiting]]  # (reviewer, length, oldest)
    failed: list[OutboxMessage]
    failed_total: int


def admin_part(user, queues: Queues, now) -> AdminPart:
    """Everything but the failed deliveries (failed_part: never cached)."""
    counts = dict(Plan.objects.values_list("status").annotate(n=Count("pk")).order_by())
    states = Plan._meta.get_field("status").choices
    by_state = [(value, label, counts.pop(value, 0)) for value, label in states]
    by_state += [(value, value, n) for value, n in sorted(counts.items())]
    late = queues.overdue(now)
    plans = _plans(user, [w.plan_id for w in late[:LIMIT]])
    overdue = [
        Overdue(plans[w.plan_id], w, w.escalated_at() <= now,
                sorted(queues.reviewer_names[u] for u in queues.awaited.get(w.plan_id, ())))
        for w in late[:LIMIT] if w.plan_id in plans
    ]
    return AdminPart(
        by_state=by_state, overdue=overdue, overdue_total=len(late),
        queues=[(queues.reviewer_names[uid], n, oldest)
                for uid, n, oldest in queues.lengths()[:LIMIT]],
        failed=[], failed_total=0,
    )


def failed_part(admin: AdminPart) -> None:
    """The newest failed deliveries and their number, in one query: read live, since the
    worker marks a delivery failed without an audit entry (so without a new cache version).
    A delivery that failed and waits for its next try counts too: without a worker (embedded
    mode) nothing retries it until an admin does."""
    rows = list(OutboxMessage.objects.filter(Q(status=OutboxStatus.FAILED)
                                             | Q(status=OutboxStatus.PENDING, attempts__gt=0))
                .select_related("recipient", "plan", "endpoint")
                .defer("body_text", "body_html", "payload", "plan__sections",
                       "plan__source", "plan__import_report", "plan__extra_sections",
                       "plan__review_checklist")
                .annotate(total=Window(Count("pk")))
                .order_by("-created_at", "-id")[:LIMIT])
    admin.failed = rows
    admin.failed_total = rows[0].total if rows else 0


# --- the page -------------------------------------------------------------------------------------
@dataclass
class Dashboard:
    author: AuthorPart | None = None
    reviewer: ReviewerPart | None = None
    admin: AdminPart | None = None
    roles: list[str] = field(default_factory=list)


@dataclass
class _Cached:
    """A board and the moments between which its due / overdue / escalated flags hold."""

    board: Dashboard
    valid_from: datetime | None
    valid_until: datetime | None

    def holds_at(self, now) -> bool:
        return ((self.valid_from is None or self.valid_from <= now)
                and (self.valid_until is None or now < self.valid_until))


def dashboard(user, *, version: str | None, now=None, read_with: Iterable[str] = ()
              ) -> Dashboard:
    """The parts of `user`'s roles. Someone without any role (may still write plans) sees the
    author's part. Cached per user and data version (insights/caching.py data_version) for as
    long as no plan's due or escalation time passes; the failed deliveries are read each time.
    ``read_with``: the cache keys the rest of the page reads, read in the same round trip."""
    now = now or timezone.now()
    key = caching.key("dashboard", version, user.pk)
    shared_cache.read_ahead([*([key] if key else []), *read_with])
    cached = caching.get_or_compute(key, lambda: _compute(user, now),
                                    fresh=lambda c: c.holds_at(now))
    board = cached.board
    if board.admin:
        failed_part(board.admin)
    return board


def _compute(user, now) -> _Cached:
    board = Dashboard()
    reviewer, admin = has_role(user, REVIEWERS), is_admin(user)
    if has_role(user, AUTHORS) or not (reviewer or admin):
        board.author = author_part(user)
        board.roles.append(AUTHORS)
    queues = load_queues() if reviewer or admin else None
    if reviewer:
        board.reviewer = reviewer_part(user, queues, now)
        board.roles.append(REVIEWERS)
    if admin:
        board.admin = admin_part(user, queues, now)
        board.roles.append(ADMINS)
    moments = [t for w in (queues.waiting.values() if queues else ())
               for t in (w.due(), w.escalated_at()) if t is not None]
    return _Cached(board, max((t for t in moments if t <= now), default=None),
                   min((t for t in moments if t > now), default=None))
