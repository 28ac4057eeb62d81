"""The approval certificate: who approved which revision of a plan, when, under which policy.

It reads the record, and counts with the policy's own rules (reviews/policy.py): the approved
revision and the approvers named by the plan.approved audit entry, the decisions that apply to
that revision (approvals of an unchanged earlier revision included), and the requirements of the
policy recorded at approval time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, prefetch_related_objects
from django.template.loader import get_template, render_to_string
from django.utils.safestring import mark_safe

from audit.models import AuditEntry
from core import cache as shared_cache
from plans.models import APPROVED_STATES, Plan, PlanRevision, PlanStatus
from plans.rendering import CACHE_SECONDS, RENDER_VERSION

from . import policy
from .events import PLAN_APPROVED
from .models import Answer, ChecklistAnswer, Decision, Review


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


def _approved_entries(plan: Plan) -> list[tuple]:
    """(revision hash, created_at, payload) of the plan's plan.approved audit entries, oldest
    first."""
    return list(AuditEntry.objects.filter(plan_id=plan.pk, action=PLAN_APPROVED.name)
                .order_by("id").values_list("revision_hash", "created_at", "payload"))


def _history(entries: list[tuple], revisions: list[PlanRevision]) -> list[ApprovedRevision]:
    by_hash: dict[str, PlanRevision] = {}
    for revision in sorted(revisions, key=lambda r: r.number):
        by_hash[revision.content_hash] = revision  # the last of equal texts, as before
    return [ApprovedRevision(by_hash[sha], at, list((payload or {}).get("approvals") or []))
            for sha, at, payload in entries if sha and sha in by_hash]


def approved_revisions(plan: Plan) -> list[ApprovedRevision]:
    """Every revision the plan was approved at, in order (the first approval, then each approved
    amendment), from the plan.approved audit entries. Two queries (none while the certificate
    hands its own to the records it gathers)."""
    known = getattr(plan, "_approved_history", None)
    if known is not None:
        return known
    entries = _approved_entries(plan)
    revisions = list(PlanRevision.objects.filter(
        plan=plan, content_hash__in=[e[0] for e in entries]).defer("content"))
    return _history(entries, revisions)


def _answers() -> Prefetch:
    return Prefetch("answers", queryset=ChecklistAnswer.objects.select_related(
        "carried_from").defer("carried_from__content").order_by("id"))


_APPROVAL_TEMPLATE = "reviews/includes/certificate_approval.html"


def approval_digest() -> str:
    """A digest of what a cached approval section is made of besides the review: the partial's
    source and the wording of the decision and answer labels it shows, so that a release that
    changes either renders the sections afresh (the Markdown renderer is RENDER_VERSION)."""
    parts = [get_template(_APPROVAL_TEMPLATE).template.source,
             repr(Decision.choices), repr(Answer.choices)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def approval_sections(approvals: list[Review]) -> None:
    """Give each approval its ``section_html``: the decision, its comment and the checklist
    answers as the certificate shows them. A decided review never changes (its decision and
    answers are final: services.review_answer refuses), so each is rendered once and cached
    under the review and its decision; answers are loaded only for those not cached. The
    reviewer's name stays out of it: a user may rename themselves."""
    digest = approval_digest()
    keys = {r.pk: f"reviews:cert-approval:v{RENDER_VERSION}:{digest}:{r.pk}:{r.decision}:"
                  f"{r.decided_at.isoformat() if r.decided_at else ''}" for r in approvals}
    found = shared_cache.get_many(keys.values())
    missing = [r for r in approvals if keys[r.pk] not in found]
    prefetch_related_objects(missing, _answers())
    rendered = {keys[r.pk]: render_to_string(_APPROVAL_TEMPLATE, {"review": r}) for r in missing}
    shared_cache.set_many(rendered, CACHE_SECONDS)
    found.update(rendered)
    for review in approvals:
        review.section_html = mark_safe(found[keys[review.pk]])  # noqa: S308 - escaped, nh3


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
    amendment: Amendment | None = None  # an amendment of ``revision`` not decided yet

    @property
    def requirements(self) -> policy.Requirements:
        return policy.requirements(self.policy, high_risk=self.high_risk)


def _certified(entry: tuple | None, revisions: list[PlanRevision]) -> PlanRevision | None:
    """The revision the last plan.approved entry names (``revisions`` newest first); the latest
    one when no entry names one it has."""
    revision = None
    if entry and entry[0]:
        revision = next((r for r in revisions if r.content_hash == entry[0]), None)
    return revision or (revisions[0] if revisions else None)


#: States in which an earlier approval stands although the plan's current revision is not
#: approved: an amendment under review, sent back for revision (a reviewer who refuses only the
#: change asks for revision: README, Amendments), or withdrawn by its author (a draft again:
#: only an amendment takes an approved plan back to one). A rejected amendment rejects the
#: plan: no approval stands.
AMENDMENT_STATES = {PlanStatus.PENDING_REVIEW: "pending",
                    PlanStatus.NEEDS_REVISION: "needs_revision",
                    PlanStatus.DRAFT: "draft"}


@dataclass(frozen=True)
class Amendment:
    """The amendment of an approved plan not approved (yet): its revision (the plan's latest
    one) and its state, "pending" (under review), "needs_revision" (sent back) or "draft"
    (withdrawn by its author)."""

    revision: PlanRevision
    state: str


@dataclass(frozen=True)
class StandingApproval:
    """Which revision of the plan is approved now (without its text), and the amendment of it
    that is not decided yet, if any."""

    revision: PlanRevision | None  # None only for an approved plan without revisions (bad data)
    amendment: Amendment | None
    entry: tuple | None  # the plan.approved entry for it: (revision hash, created_at, payload)
    entries: list[tuple]  # every plan.approved entry, oldest first
    revisions: list[PlanRevision]  # the plan's revisions, newest first


def standing_approval(plan: Plan) -> StandingApproval | None:
    """The one answer to "which revision of this plan is approved now": the verify and
    approvals endpoints, the plan JSON, the certificate (and so the MCP tools and the hook,
    which ask the API) all read it. None when no approval stands.

    Approved (implemented, verified): the revision the last plan.approved entry names (the
    latest revision without one: data older than the audit trail). An amendment under review,
    sent back or withdrawn (AMENDMENT_STATES): the approval before it stands (README: until the
    amendment is approved, drift is measured against the revision approved before), found only
    by its entry, and the amendment is the latest revision. Two queries (one for a plan under
    review, sent back or a draft that was never approved), none for a rejected plan."""
    amending = AMENDMENT_STATES.get(plan.status)
    if plan.status not in APPROVED_STATES and amending is None:
        return None
    entries = _approved_entries(plan)
    entry = entries[-1] if entries else None
    if amending is None:
        revisions = list(plan.revisions.defer("content").order_by("-number"))  # a plan has few
        return StandingApproval(_certified(entry, revisions), None, entry, entries, revisions)
    if entry is None or not entry[0]:
        return None  # under review or sent back, never approved: not an amendment
    revisions = list(plan.revisions.defer("content").order_by("-number"))
    # The approved revision is older than the amendment (the current one), even should the
    # amendment have come back to the approved text.
    revision = next((r for r in revisions[1:] if r.content_hash == entry[0]), None)
    if revision is None:
        return None
    return StandingApproval(revision, Amendment(revisions[0], amending), entry, entries,
                            revisions)


def certified_revision(plan: Plan) -> PlanRevision | None:
    """The revision approval_certificate(plan) is for (without its text), without the rest of
    the certificate (standing_approval's queries)."""
    standing = standing_approval(plan)
    return standing.revision if standing else None


def approval_certificate(plan: Plan, *, answers: bool = True,
                         records: bool = True) -> Certificate | None:
    """The record of an approved plan's approval (also while it is implemented, after it is
    verified, and while an amendment of it is under review or sent back: ``amendment``); None
    when the plan has no approval that stands (standing_approval).

    Without a plan.approved entry (data older than the audit trail) the latest revision and the
    active policy stand in, and the page says so. ``answers=False``: the approvals' checklist
    answers are not loaded (the page takes them from approval_sections). ``records=False``: nor
    the higher apps' records (the implementation record's queries), for a caller that shows none.
    """
    standing = standing_approval(plan)
    if standing is None:
        return None
    entries, entry, revisions = standing.entries, standing.entry, standing.revisions
    revision = standing.revision
    payload = (entry[2] or {}) if entry else {}
    approvals: list[Review] = []
    if revision is not None:
        reviews = (
            Review.objects.filter(plan=plan, revision__number__lte=revision.number)
            # Users without their password hash: the certificate page caches the approvals.
            .select_related("reviewer", "revision")
            .defer("revision__content", "reviewer__password")
            .order_by("revision__number", "decided_at", "id")
        )
        if answers:
            reviews = reviews.prefetch_related(_answers())
        named = payload.get("approvals") if entry else None
        approvals = [
            review for review in policy.decisions_for(revision, reviews).approvals
            if not isinstance(named, list) or review.reviewer.get_username() in named
        ]
        approvals.sort(key=lambda r: (r.decided_at is None, r.decided_at, r.pk))
    recorded = bool(entry and isinstance(payload.get("policy"), dict))
    history = _history(entries, revisions)
    # The records (implementation/selectors.py) read approved_revisions(plan): hand them this
    # one for the time they are gathered, instead of two more queries.
    plan._approved_history = history
    try:
        records = [record for provider in (_records if records else [])
                   if (record := provider(plan)) is not None]
    finally:
        del plan._approved_history
    high_risk = payload.get("high_risk")  # as the approval recorded it (older ones did not)
    if high_risk is None:
        high_risk = getattr(plan, "has_high_risk_step", None)  # annotated by the page's view
    return Certificate(
        plan=plan, revision=revision,
        approved_at=entry[1] if entry else max(
            (r.decided_at for r in approvals if r.decided_at), default=None
        ),
        approvals=approvals,
        policy=payload["policy"] if recorded else policy.describe_policy(
            policy.active_policy()
        ),
        policy_recorded=recorded,
        high_risk=policy.plan_is_high_risk(plan) if high_risk is None else high_risk,
        history=history,
        records=records,
        amendment=standing.amendment,
    )
