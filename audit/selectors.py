"""Reads of the audit trail and the approval record."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from plans.models import Plan, PlanRevision, PlanStatus
from reviews.models import ChecklistAnswer, Decision, Review, ReviewPolicy
from reviews.policy import describe_policy

from .models import AuditEntry


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def entries_filtered(*, plan: int | None = None, actor: str = "", action: str = "",
                     date_from: date | None = None, date_to: date | None = None) -> QuerySet:
    """Entries matching every given filter, newest first. date_to is inclusive."""
    qs = AuditEntry.objects.all()
    if plan:
        qs = qs.filter(plan_id=plan)
    if actor:
        qs = qs.filter(actor_repr__iexact=actor)
    if action:
        qs = qs.filter(action=action)
    if date_from:
        qs = qs.filter(created_at__gte=_start_of(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_start_of(date_to + timedelta(days=1)))
    return qs.order_by("-id")


def plan_timeline(plan_id: int) -> QuerySet:
    """Everything that happened to one plan, oldest first."""
    return AuditEntry.objects.filter(plan_id=plan_id).order_by("id")


@dataclass
class Certificate:
    plan: Plan
    revision: PlanRevision | None
    approved_at: datetime | None
    approvals: list[Review] = field(default_factory=list)
    policy: dict = field(default_factory=dict)
    policy_recorded: bool = False  # False: the policy is today's, not a record of approval time
    high_risk: bool = False

    @property
    def required_approvals(self) -> int | None:
        """As reviews.policy.requirements(): high risk raises the minimum, never lowers it."""
        if not self.policy:
            return None
        minimum = self.policy.get("min_approvals", 1)
        if self.high_risk:
            minimum = max(minimum, self.policy.get("high_risk_min_approvals", minimum))
        return max(minimum, 1)

    @property
    def required_groups(self) -> list[str]:
        groups = list(self.policy.get("required_groups", []))
        if self.high_risk:
            groups += [g for g in self.policy.get("high_risk_required_groups", [])
                       if g not in groups]
        return groups


def approval_certificate(plan: Plan) -> Certificate | None:
    """The record of an approved plan's approval; None when the plan is not approved.

    The approved revision is the one named by the plan.approved audit entry (else the latest),
    the approvals are the APPROVED reviews of that revision, and the policy is the one recorded
    in the plan.approved entry's payload ("policy") when the review service records it, else the
    active policy (flagged as such on the page).
    """
    if plan.status != PlanStatus.APPROVED:
        return None
    entry = (
        AuditEntry.objects.filter(plan_id=plan.pk, action="plan.approved").order_by("-id").first()
    )
    revisions = plan.revisions.order_by("-number")
    revision = None
    if entry and entry.revision_hash:
        revision = revisions.filter(content_hash=entry.revision_hash).first()
    revision = revision or revisions.first()
    approvals: list[Review] = []
    if revision is not None:
        # Approvals of an earlier revision with the same content count too (reviews.policy).
        reviews = (
            Review.objects.filter(plan=plan, decision=Decision.APPROVED,
                                  revision__content_hash=revision.content_hash)
            .select_related("reviewer", "revision")
            .prefetch_related(
                Prefetch("answers", queryset=ChecklistAnswer.objects.order_by("id"))
            )
            .order_by("-revision__number", "decided_at", "id")
        )
        named = entry.payload.get("approvals") if entry else None
        seen: set[int] = set()
        for review in reviews:
            if review.reviewer_id in seen:
                continue
            if isinstance(named, list) and review.reviewer.get_username() not in named:
                continue
            seen.add(review.reviewer_id)
            approvals.append(review)
        approvals.sort(key=lambda r: (r.decided_at is None, r.decided_at, r.pk))
    recorded = bool(entry and isinstance(entry.payload.get("policy"), dict))
    if recorded:
        policy = entry.payload["policy"]
    else:
        policy = describe_policy(
            ReviewPolicy.objects.prefetch_related(
                "required_groups", "high_risk_required_groups"
            ).order_by("-id").first()
        )
    approved_at = entry.created_at if entry else max(
        (r.decided_at for r in approvals if r.decided_at), default=None
    )
    return Certificate(
        plan=plan, revision=revision, approved_at=approved_at, approvals=approvals,
        policy=policy, policy_recorded=recorded,
        high_risk=plan.highest_risk == "high",
    )
