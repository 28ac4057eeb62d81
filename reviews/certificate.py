"""The approval certificate: who approved which revision of a plan, when, under which policy.

It reads the record, and counts with the policy's own rules (reviews/policy.py): the approved
revision and the approvers named by the plan.approved audit entry, the decisions that apply to
that revision (approvals of an unchanged earlier revision included), and the requirements of the
policy recorded at approval time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch
from django.template.loader import render_to_string

from audit.models import AuditEntry
from plans.models import APPROVED_STATES, Plan, PlanRevision

from . import policy
from .events import PLAN_APPROVED
from .models import ChecklistAnswer, Review


@dataclass(frozen=True)
class CertificateRecord:
    """A part a higher app adds to the certificate (the implementation record): its templates
    (HTML page and Markdown export) and what they render."""

    html_template: str
    markdown_template: str
    context: dict

    def html(self) -> str:
        return render_to_string(self.html_template, self.context)

    def markdown(self) -> str:
        return render_to_string(self.markdown_template, self.context)


#: Functions ``plan -> CertificateRecord | None`` that higher apps add in ``AppConfig.ready()``
#: (implementation/apps.py): reviews cannot import them.
_records: list[Callable[[Plan], CertificateRecord | None]] = []


def register_record(provider: Callable[[Plan], CertificateRecord | None]) -> None:
    if provider not in _records:
        _records.append(provider)


@dataclass(frozen=True)
class ApprovedRevision:
    """One approval of the plan: the revision and when (every amendment adds one)."""

    revision: PlanRevision
    approved_at: datetime
    approvers: list[str]


def approved_revisions(plan: Plan) -> list[ApprovedRevision]:
    """Every revision the plan was approved at, in order (the first approval, then each approved
    amendment), from the plan.approved audit entries. Two queries."""
    entries = list(AuditEntry.objects.filter(plan_id=plan.pk, action=PLAN_APPROVED.name)
                   .exclude(revision_hash="").order_by("id")
                   .values_list("revision_hash", "created_at", "payload"))
    revisions = {r.content_hash: r for r in PlanRevision.objects.filter(
        plan=plan, content_hash__in=[e[0] for e in entries]).defer("content").order_by("number")}
    return [ApprovedRevision(revisions[sha], at, list((payload or {}).get("approvals") or []))
            for sha, at, payload in entries if sha in revisions]


@dataclass
class Certificate:
    plan: Plan
    revision: PlanRevision | None
    approved_at: datetime | None
    approvals: list[Review] = field(default_factory=list)
    policy: dict = field(default_factory=dict)
    policy_recorded: bool = False  # False: the policy is today's, not a record of approval time
    high_risk: bool = False
    history: list[ApprovedRevision] = field(default_factory=list)  # every approval, in order
    records: list[CertificateRecord] = field(default_factory=list)  # from higher apps

    @property
    def requirements(self) -> policy.Requirements:
        return policy.requirements(self.policy, high_risk=self.high_risk)


def approval_certificate(plan: Plan) -> Certificate | None:
    """The record of an approved plan's approval (also while it is implemented and after it is
    verified); None when the plan has no approval that stands.

    Without a plan.approved entry (data older than the audit trail) the latest revision and the
    active policy stand in, and the page says so.
    """
    if plan.status not in APPROVED_STATES:
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
            .prefetch_related(Prefetch("answers", queryset=ChecklistAnswer.objects.select_related(
                "carried_from").defer("carried_from__content").order_by("id")))
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
        history=approved_revisions(plan),
        records=[record for provider in _records if (record := provider(plan)) is not None],
    )
