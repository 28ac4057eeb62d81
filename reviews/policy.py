"""The review policy: who may review a plan, how many approvals it needs, and the outcome.

`evaluate()` is a pure function over rows the caller has loaded (so the page selectors and the
decision service share it without extra queries); `evaluate_plan()` loads them itself.

Rules (issue #4):
- Reviewers are members of the Reviewers group, never the author, never a plan editor. An
  approval counts only while its reviewer is active and still in the Reviewers group.
- The active policy (the newest ReviewPolicy row) sets a minimum number of approvals and groups that
  must each approve; when any step is High risk, the high-risk numbers apply too.
- Only decisions on the current revision count, except approvals of an earlier revision whose
  content hash equals the current one (an unchanged resubmission keeps its approvals). Approvals
  of a revision with different content are stale.
- Outcome: any REJECTED -> REJECTED; else any NEEDS_REVISION -> NEEDS_REVISION; else policy
  satisfied and no open concern -> APPROVED; else PENDING_REVIEW.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.roles import REVIEWERS, is_reviewer
from plans.models import Plan, PlanEditor, PlanRevision, PlanStatus, RiskLevel

from .models import Concern, Decision, Review, ReviewPolicy


@dataclass(frozen=True)
class Requirements:
    min_approvals: int
    required_groups: tuple  # auth Group rows, each must approve
    high_risk: bool


@dataclass
class PolicyStatus:
    requirements: Requirements
    approvals: list[Review] = field(default_factory=list)  # counted, one per reviewer
    kept_approvals: list[Review] = field(default_factory=list)  # earlier revision, same hash
    stale_approvals: list[Review] = field(default_factory=list)  # earlier revision, changed
    decisions: dict[int, Review] = field(default_factory=dict)  # reviewer id -> current decision
    open_concerns: int = 0
    missing: list[str] = field(default_factory=list)

    @property
    def satisfied(self) -> bool:
        return not self.missing_approvals

    @property
    def missing_approvals(self) -> list[str]:
        return [m for m in self.missing if "approval" in m]

    @property
    def outcome(self) -> str:
        decided = {r.decision for r in self.decisions.values()}
        if Decision.REJECTED in decided:
            return PlanStatus.REJECTED
        if Decision.NEEDS_REVISION in decided:
            return PlanStatus.NEEDS_REVISION
        if self.satisfied and not self.open_concerns:
            return PlanStatus.APPROVED
        return PlanStatus.PENDING_REVIEW


def describe_policy(policy: ReviewPolicy | None) -> dict:
    """A review policy as plain data (for audit payloads and the certificate)."""
    if policy is None:
        return {}
    return {
        "id": policy.pk,
        "name": policy.name,
        "min_approvals": policy.min_approvals,
        "high_risk_min_approvals": policy.high_risk_min_approvals,
        "required_groups": sorted(g.name for g in policy.required_groups.all()),
        "high_risk_required_groups": sorted(
            g.name for g in policy.high_risk_required_groups.all()
        ),
    }


# --- who may review -------------------------------------------------------------------------------
def may_review(plan: Plan, user, *, editor_ids: set[int] | None = None) -> bool:
    """Reviewers group, not the author, not anyone who edited the plan's content."""
    if not (user.is_authenticated and user.is_active and is_reviewer(user)):
        return False
    if user.pk == plan.author_id:
        return False
    if editor_ids is None:
        return not PlanEditor.objects.filter(plan=plan, user=user).exists()
    return user.pk not in editor_ids


def editor_ids(plan: Plan) -> set[int]:
    return set(PlanEditor.objects.filter(plan=plan).values_list("user_id", flat=True))


# --- how many -----------------------------------------------------------------------------------
def active_policy() -> ReviewPolicy | None:
    """The newest policy row, with its groups; None means the model defaults."""
    return (
        ReviewPolicy.objects.prefetch_related("required_groups", "high_risk_required_groups")
        .order_by("-id")
        .first()
    )


def plan_is_high_risk(plan: Plan) -> bool:
    cache = getattr(plan, "_prefetched_objects_cache", {})
    if "steps" in cache:
        return any(s.risk == RiskLevel.HIGH for s in cache["steps"])
    return plan.steps.filter(risk=RiskLevel.HIGH).exists()


def requirements(policy: ReviewPolicy | None, *, high_risk: bool) -> Requirements:
    policy = policy or ReviewPolicy()
    minimum = policy.min_approvals
    groups = list(policy.required_groups.all()) if policy.pk else []
    if high_risk:
        minimum = max(minimum, policy.high_risk_min_approvals)
        if policy.pk:
            groups += [g for g in policy.high_risk_required_groups.all() if g not in groups]
    return Requirements(min_approvals=max(minimum, 1), required_groups=tuple(groups),
                        high_risk=high_risk)


# --- outcome --------------------------------------------------------------------------------------
def evaluate(*, plan: Plan, revision: PlanRevision | None, reviews, open_concerns: int,
             policy: ReviewPolicy | None, high_risk: bool,
             editors: set[int] | None = None) -> PolicyStatus:
    """Count the decisions that apply to `revision` (see module docstring).

    `reviews`: the plan's reviews with `revision` and `reviewer` (and `reviewer__groups`)
    loaded. `editors`: ids of the plan's editors (their approvals never count).
    """
    status = PolicyStatus(requirements(policy, high_risk=high_risk), open_concerns=open_concerns)
    editors = editors or set()
    if revision is None:
        status.missing = [_more(status.requirements.min_approvals)]
        return status
    carried: dict[int, Review] = {}
    for review in reviews:
        if not review.decision:
            continue
        if review.revision_id == revision.pk:
            status.decisions[review.reviewer_id] = review
        elif review.decision == Decision.APPROVED:
            if review.revision.content_hash == revision.content_hash:
                carried[review.reviewer_id] = review
            else:
                status.stale_approvals.append(review)
    for reviewer_id, review in carried.items():
        if reviewer_id not in status.decisions:
            status.kept_approvals.append(review)
    counted = [r for r in status.decisions.values() if r.decision == Decision.APPROVED]
    counted += status.kept_approvals
    status.approvals = [
        r for r in counted
        if r.reviewer_id != plan.author_id and r.reviewer_id not in editors
        and _still_a_reviewer(r.reviewer)
    ]
    # A stale approval stops being stale for display once its reviewer decided again.
    status.stale_approvals = [
        r for r in status.stale_approvals
        if r.reviewer_id not in status.decisions and r.reviewer_id not in carried
    ]
    status.stale_approvals = list({r.reviewer_id: r for r in status.stale_approvals}.values())

    short = status.requirements.min_approvals - len(status.approvals)
    if short > 0:
        status.missing.append(_more(short))
    approver_groups = [
        {g.pk for g in r.reviewer.groups.all()} for r in status.approvals
    ]
    for group in status.requirements.required_groups:
        if not any(group.pk in groups for groups in approver_groups):
            status.missing.append(f"needs 1 more approval from {group.name}")
    if open_concerns:
        status.missing.append(
            f"{open_concerns} open concern{'s' if open_concerns != 1 else ''} to resolve"
        )
    return status


def _still_a_reviewer(user) -> bool:
    """An approval counts only while its reviewer is active and still in the Reviewers group
    (uses the prefetched `reviewer__groups`)."""
    return user.is_active and any(g.name == REVIEWERS for g in user.groups.all())


def _more(n: int) -> str:
    return f"needs {n} more approval{'s' if n != 1 else ''}"


def current_revision(plan: Plan) -> PlanRevision | None:
    return plan.revisions.order_by("-number").first()


def evaluate_plan(plan: Plan, revision: PlanRevision | None = None) -> PolicyStatus:
    """Load what evaluate() needs (a fixed number of queries) and evaluate."""
    revision = revision or current_revision(plan)
    reviews = list(
        Review.objects.filter(plan=plan)
        .select_related("revision", "reviewer")
        .defer("revision__content")
        .prefetch_related("reviewer__groups")
    )
    open_concerns = Concern.objects.filter(plan=plan, resolved_at__isnull=True).count()
    return evaluate(
        plan=plan, revision=revision, reviews=reviews, open_concerns=open_concerns,
        policy=active_policy(), high_risk=plan_is_high_risk(plan), editors=editor_ids(plan),
    )
