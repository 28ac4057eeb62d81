"""The approval certificate: who approved which revision of a plan, when, under which policy.

It reads the record, and counts with the policy's own rules (reviews/policy.py): the approved
revision and the approvers named by the plan.approved audit entry, the decisions that apply to
that revision (approvals of an unchanged earlier revision included), and the requirements of the
policy recorded at approval time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch

from audit.models import AuditEntry
from plans.models import Plan, PlanRevision, PlanStatus

from . import policy
from .events import PLAN_APPROVED
from .models import ChecklistAnswer, Review


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
    def requirements(self) -> policy.Requirements:
        return policy.requirements(self.policy, high_risk=self.high_risk)


def approval_certificate(plan: Plan) -> Certificate | None:
    """The record of an approved plan's approval; None when the plan is not approved.

    Without a plan.approved entry (data older than the audit trail) the latest revision and the
    active policy stand in, and the page says so.
    """
    if plan.status != PlanStatus.APPROVED:
        return None
    entry = (
        AuditEntry.objects.filter(plan_id=plan.pk, action=PLAN_APPROVED.name)
        .order_by("-id").first()
    )
    revisions = plan.revisions.order_by("-number")
    revision = None
    if entry and entry.revision_hash:
        revision = revisions.filter(content_hash=entry.revision_hash).first()
    revision = revision or revisions.first()
    approvals: list[Review] = []
    if revision is not None:
        reviews = (
            Review.objects.filter(plan=plan, revision__number__lte=revision.number)
            .select_related("reviewer", "revision").defer("revision__content")
            .prefetch_related(Prefetch("answers", queryset=ChecklistAnswer.objects.order_by("id")))
            .order_by("revision__number", "decided_at", "id")
        )
        named = entry.payload.get("approvals") if entry else None
        approvals = [
            review for review in policy.decisions_for(revision, reviews).approvals
            if not isinstance(named, list) or review.reviewer.get_username() in named
        ]
        approvals.sort(key=lambda r: (r.decided_at is None, r.decided_at, r.pk))
    recorded = bool(entry and isinstance(entry.payload.get("policy"), dict))
    return Certificate(
        plan=plan, revision=revision,
        approved_at=entry.created_at if entry else max(
            (r.decided_at for r in approvals if r.decided_at), default=None
        ),
        approvals=approvals,
        policy=entry.payload["policy"] if recorded else policy.describe_policy(
            policy.active_policy()
        ),
        policy_recorded=recorded,
        high_risk=policy.plan_is_high_risk(plan),
    )
