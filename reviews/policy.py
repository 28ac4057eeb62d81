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

import enum
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce

from accounts.roles import REVIEWERS, is_reviewer
from core.cache import SharedValue
from core.compiled import CompiledQuery
from plans.models import (
    Plan,
    PlanEditor,
    PlanRevision,
    PlanStatus,
    PlanStep,
    RiskLevel,
    is_high_risk,
)

from .models import Concern, Decision, Review, ReviewPolicy


@dataclass(frozen=True)
class Requirements:
    min_approvals: int
    required_groups: tuple[str, ...]  # group names, each must approve
    high_risk: bool


class Shortfall(enum.Enum):
    """What keeps a plan from approval. Decisions read the kind, never the wording."""

    APPROVALS = "approvals"  # fewer approvals than the minimum
    GROUP = "group"  # no approval from a required group
    CONCERNS = "concerns"  # open blocking concerns


#: How each shortfall reads (the only place its wording lives).
MESSAGES = {
    (Shortfall.APPROVALS, 1): "needs 1 more approval",
    (Shortfall.APPROVALS, 2): "needs {count} more approvals",
    (Shortfall.GROUP, 1): "needs an approval from {group}",  # (it may be one of the above)
    (Shortfall.CONCERNS, 1): "1 open concern to resolve",
    (Shortfall.CONCERNS, 2): "{count} open concerns to resolve",
}


@dataclass(frozen=True)
class Missing:
    kind: Shortfall
    count: int = 1
    group: str = ""

    @property
    def message(self) -> str:
        template = MESSAGES[(self.kind, min(self.count, 2))]
        return template.format(count=self.count, group=self.group)


@dataclass
class PolicyStatus:
    requirements: Requirements
    approvals: list[Review] = field(default_factory=list)  # counted, one per reviewer
    kept_approvals: list[Review] = field(default_factory=list)  # earlier revision, same hash
    stale_approvals: list[Review] = field(default_factory=list)  # earlier revision, changed
    decisions: dict[int, Review] = field(default_factory=dict)  # reviewer id -> current decision
    open_concerns: int = 0
    shortfalls: list[Missing] = field(default_factory=list)
    policy: dict = field(default_factory=dict)  # what it was evaluated against (describe_policy)

    @property
    def missing(self) -> list[str]:
        """What is still missing, in the words the page shows."""
        return [m.message for m in self.shortfalls]

    @property
    def missing_approvals(self) -> list[Missing]:
        return [m for m in self.shortfalls if m.kind in (Shortfall.APPROVALS, Shortfall.GROUP)]

    @property
    def satisfied(self) -> bool:
        return not self.missing_approvals

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
    """A review policy as plain data: what the approval records (audit payload, certificate)
    and what ``requirements`` reads. None means the model's defaults."""
    policy = policy or ReviewPolicy()
    saved = policy.pk is not None
    return {
        "id": policy.pk,
        "name": policy.name,
        "min_approvals": policy.min_approvals,
        "high_risk_min_approvals": policy.high_risk_min_approvals,
        "required_groups": sorted(g.name for g in policy.required_groups.all()) if saved else [],
        "high_risk_required_groups": sorted(
            g.name for g in policy.high_risk_required_groups.all()
        ) if saved else [],
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


def reviewers_of(plan: Plan, *also: Q):
    """``may_review`` as a query: the active members of the Reviewers group who are neither
    the plan's author nor its editors (it loads no group or editor rows). ``also``: further
    conditions, added in the same filter() call (each further filter() clones the query)."""
    user_model = get_user_model()
    reviewers = user_model.groups.through.objects.filter(group__name=REVIEWERS).values("user_id")
    editors = PlanEditor.objects.filter(plan_id=plan.pk).values("user_id")
    return user_model.objects.filter(~Q(pk=plan.author_id), ~Q(pk__in=editors), *also,
                                     pk__in=reviewers, is_active=True)


# --- how many -----------------------------------------------------------------------------------
def _load_policy() -> ReviewPolicy | None:
    return (
        ReviewPolicy.objects.prefetch_related("required_groups", "high_risk_required_groups")
        .order_by("-id")
        .first()
    )


# What a decision reads to evaluate the policy, compiled once (core.compiled: building these
# with the ORM at each decision cost more CPU than the database took to answer them).
# The newest policy row with its groups joined: a few rows, one per pair of a required and a
# high-risk group.
_NEWEST_POLICY_ROWS = CompiledQuery(lambda: ReviewPolicy.objects.filter(
    pk=Subquery(ReviewPolicy.objects.order_by("-id").values("pk")[:1])).values_list(
    "pk", "name", "min_approvals", "high_risk_min_approvals", "required_groups__name",
    "high_risk_required_groups__name"))
# The decisions evaluate() reads (those on the revision, and approvals), not every review a
# long-lived plan has had; each says whether its reviewer edits the plan. (Its conditions in
# one filter() call: each further filter() or exclude() clones it.)
_COUNTED_REVIEWS = CompiledQuery(lambda plan_id, revision_id: (
    Review.objects.filter(~Q(decision=""), Q(revision_id=revision_id)
                          | Q(decision=Decision.APPROVED), plan_id=plan_id)
    .select_related("revision", "reviewer").defer("revision__content")
    .annotate(reviewer_edits=Exists(PlanEditor.objects.filter(
        plan_id=plan_id, user_id=OuterRef("reviewer_id"))))))
_OPEN_CONCERNS_AND_RISK = CompiledQuery(lambda plan_id: Plan.objects.filter(pk=plan_id).values(
    open_concerns=Coalesce(Subquery(
        Concern.objects.filter(plan=OuterRef("pk"), resolved_at__isnull=True)
        .values("plan").annotate(n=Count("pk")).values("n")), 0),
    high_risk=Exists(PlanStep.objects.filter(plan=OuterRef("pk"), risk=RiskLevel.HIGH)),
))


def _stored_policy() -> dict:
    """``describe_policy`` of the newest policy row, read from the database in one query."""
    rows = _NEWEST_POLICY_ROWS.all()
    if not rows:
        return describe_policy(None)
    pk, name, min_approvals, high_risk_min_approvals = rows[0][:4]
    return {
        "id": pk, "name": name, "min_approvals": min_approvals,
        "high_risk_min_approvals": high_risk_min_approvals,
        "required_groups": sorted({row[4] for row in rows if row[4] is not None}),
        "high_risk_required_groups": sorted({row[5] for row in rows if row[5] is not None}),
    }


#: The active policy, read by every decision and several pages, is shared (core.cache.SharedValue):
#: every change of a policy row, its groups or a group's name is read afresh once it commits
#: (signals connected in ReviewsConfig.ready call policy_changed).
_ACTIVE = SharedValue("review-policy", _load_policy)
policy_changed = _ACTIVE.changed


def active_policy_cache_keys() -> list[str]:
    """The shared cache entries active_policy() reads (for core.cache.read_ahead)."""
    return _ACTIVE.cache_keys()


def active_policy() -> ReviewPolicy | None:
    """The newest policy row, with its groups; None means the model defaults."""
    return _ACTIVE.get()


def plan_is_high_risk(plan: Plan) -> bool:
    """Any step is High risk (uses prefetched steps when there are some)."""
    cache = getattr(plan, "_prefetched_objects_cache", {})
    if "steps" in cache:
        return is_high_risk(s.risk for s in cache["steps"])
    return plan.steps.filter(risk=RiskLevel.HIGH).exists()


def requirements(policy: dict, *, high_risk: bool) -> Requirements:
    """What a plan needs under ``policy`` (as ``describe_policy`` gives it, live or recorded at
    approval): high risk raises the minimum and adds groups, never lowers either."""
    minimum = policy.get("min_approvals", 1)
    groups = list(policy.get("required_groups", []))
    if high_risk:
        minimum = max(minimum, policy.get("high_risk_min_approvals", minimum))
        groups += [g for g in policy.get("high_risk_required_groups", []) if g not in groups]
    return Requirements(min_approvals=max(minimum, 1), required_groups=tuple(groups),
                        high_risk=high_risk)


# --- outcome --------------------------------------------------------------------------------------
@dataclass
class Decisions:
    """The decisions that apply to one revision (see the module docstring)."""

    current: dict[int, Review]  # reviewer id -> decision on this revision
    kept: list[Review]  # approvals of an earlier revision with the same content hash
    stale: list[Review]  # approvals of an earlier revision with different content

    @property
    def approvals(self) -> list[Review]:
        return [r for r in self.current.values() if r.decision == Decision.APPROVED] + self.kept


def decisions_for(revision: PlanRevision, reviews) -> Decisions:
    """Sort `reviews` (with `revision` loaded) into what counts for `revision`: decisions on
    it, approvals carried over from an unchanged earlier revision, and stale approvals."""
    current: dict[int, Review] = {}
    carried: dict[int, Review] = {}
    stale: list[Review] = []
    for review in reviews:
        if not review.decision:
            continue
        if review.revision_id == revision.pk:
            current[review.reviewer_id] = review
        elif review.decision == Decision.APPROVED:
            if review.revision.content_hash == revision.content_hash:
                carried[review.reviewer_id] = review
            else:
                stale.append(review)
    kept = [r for reviewer_id, r in carried.items() if reviewer_id not in current]
    # A stale approval stops being stale for display once its reviewer decided again.
    stale = [r for r in stale if r.reviewer_id not in current and r.reviewer_id not in carried]
    return Decisions(current=current, kept=kept,
                     stale=list({r.reviewer_id: r for r in stale}.values()))


def evaluate(*, plan: Plan, revision: PlanRevision | None, reviews, open_concerns: int,
             policy: dict, high_risk: bool, editors: set[int] | None = None) -> PolicyStatus:
    """Count the decisions that apply to `revision` against `policy` (``describe_policy``).

    `reviews`: the plan's reviews with `revision` and `reviewer` (and `reviewer__groups`)
    loaded. `editors`: ids of the plan's editors (their approvals never count).
    """
    status = PolicyStatus(requirements(policy, high_risk=high_risk), open_concerns=open_concerns,
                          policy=policy)
    editors = editors or set()
    if revision is None:
        status.shortfalls = [Missing(Shortfall.APPROVALS, status.requirements.min_approvals)]
        return status
    decisions = decisions_for(revision, reviews)
    status.decisions, status.kept_approvals = decisions.current, decisions.kept
    status.stale_approvals = decisions.stale
    status.approvals = [
        r for r in decisions.approvals
        if r.reviewer_id != plan.author_id and r.reviewer_id not in editors
        and _still_a_reviewer(r.reviewer)
    ]
    short = status.requirements.min_approvals - len(status.approvals)
    if short > 0:
        status.shortfalls.append(Missing(Shortfall.APPROVALS, short))
    approver_groups = [{g.name for g in r.reviewer.groups.all()} for r in status.approvals]
    for group in status.requirements.required_groups:
        if not any(group in groups for groups in approver_groups):
            status.shortfalls.append(Missing(Shortfall.GROUP, group=group))
    if open_concerns:
        status.shortfalls.append(Missing(Shortfall.CONCERNS, open_concerns))
    return status


def _still_a_reviewer(user) -> bool:
    """An approval counts only while its reviewer is active and still in the Reviewers group
    (uses the prefetched `reviewer__groups`)."""
    return user.is_active and any(g.name == REVIEWERS for g in user.groups.all())


_NEWEST_REVISION = CompiledQuery(lambda plan_id: PlanRevision.objects.filter(plan_id=plan_id)
                                 .defer("content").order_by("-number")[:1])


def current_revision(plan: Plan) -> PlanRevision | None:
    """The plan's newest revision, without its text (what the services read of it is its
    number and hash)."""
    revision = _NEWEST_REVISION.first(plan_id=plan.pk)
    if revision is not None:
        revision.plan = plan  # as plan.revisions would give it
    return revision


def evaluate_plan(plan: Plan, revision: PlanRevision | None = None, *,
                  editors: set[int] | None = None) -> PolicyStatus:
    """Load what evaluate() needs and evaluate: three queries (the policy with its groups is
    one), four when someone approved (their groups). ``editors``: the plan's editor ids, when
    the caller has them loaded already."""
    revision = revision or current_revision(plan)
    # (No revision, no decision: the query finds none.)
    reviews = _COUNTED_REVIEWS.all(plan_id=plan.pk, revision_id=revision.pk if revision else 0)
    # Groups are read only of approvals (_still_a_reviewer, required groups): none to read
    # when nobody approved.
    prefetch_related_objects([r.reviewer for r in reviews if r.decision == Decision.APPROVED],
                             "groups")
    if editors is None:  # the editors among the reviewers are all evaluate() asks about
        editors = {r.reviewer_id for r in reviews if r.reviewer_edits}
    open_concerns, high_risk = _open_concerns_and_risk(plan)
    return evaluate(
        plan=plan, revision=revision, reviews=reviews, open_concerns=open_concerns,
        # The decision is the gate: it reads the policy from the database, never the shared
        # copy, so not even a renewal token lost to a cache outage can approve under an old one.
        policy=_stored_policy(), high_risk=high_risk, editors=editors,
    )


def _open_concerns_and_risk(plan: Plan) -> tuple[int, bool]:
    """The plan's open concerns and whether it is high risk, in one query."""
    if "steps" in getattr(plan, "_prefetched_objects_cache", {}):
        open_concerns = Concern.objects.filter(plan=plan, resolved_at__isnull=True).count()
        return open_concerns, plan_is_high_risk(plan)
    row = _OPEN_CONCERNS_AND_RISK.get(plan_id=plan.pk)
    return row["open_concerns"], row["high_risk"]
