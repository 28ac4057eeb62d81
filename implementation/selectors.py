"""Reads after approval: the implementation panel of the plan page, the record the certificate
shows, and who hears about implementation events.

``implementation_record`` is the one loader: the panel, the record page, the certificate and the
API all read it, in a fixed number of queries whatever the number of steps and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count

from plans import permissions
from plans.models import APPROVED_STATES, Plan, PlanEditor, PlanStatus
from reviews.certificate import (
    AMENDMENT_STATES,
    ApprovedRevision,
    CertificateRecord,
    approved_revisions,
)
from reviews.models import Review

from .drift import revision_steps
from .models import CriterionCheck, DriftReport, ProgressReport, Verification

#: Where the panel is shown at all: once the plan has been approved (an amendment under review
#: or sent back keeps the record of the work so far).
SHOWN_IN = (*APPROVED_STATES, PlanStatus.PENDING_REVIEW, PlanStatus.NEEDS_REVISION,
            PlanStatus.REJECTED)


@dataclass
class StepProgress:
    number: int
    title: str
    actions: int
    reports: list[ProgressReport] = field(default_factory=list)

    @property
    def actions_done(self) -> set[int]:
        return {r.action_number for r in self.reports if r.action_number}

    @property
    def done(self) -> bool:
        """The whole step was reported done, or every one of its actions was."""
        return any(r.action_number is None for r in self.reports) or (
            self.actions > 0 and len(self.actions_done) >= self.actions)


@dataclass
class Criterion:
    number: int
    text: str
    check: CriterionCheck | None


@dataclass
class ImplementationRecord:
    plan: Plan
    history: list[ApprovedRevision]
    steps: list[StepProgress]
    unplaced: list[ProgressReport]  # reports on a step an amendment removed
    drift_reports: list[DriftReport]
    criteria: list[Criterion]
    verifications: list[Verification]

    @property
    def approved(self) -> ApprovedRevision | None:
        return self.history[-1] if self.history else None

    @property
    def last_drift(self) -> DriftReport | None:
        return self.drift_reports[-1] if self.drift_reports else None

    @property
    def commits(self) -> list[str]:
        """Every commit reported, in the order first reported."""
        seen: dict[str, None] = {}
        for step in self.steps:
            for report in step.reports:
                if report.commit:
                    seen.setdefault(report.commit, None)
        for report in self.unplaced:
            if report.commit:
                seen.setdefault(report.commit, None)
        return list(seen)

    @property
    def reports(self) -> list[ProgressReport]:
        return sorted([r for s in self.steps for r in s.reports] + self.unplaced,
                      key=lambda r: r.pk)

    @property
    def steps_done(self) -> int:
        return sum(1 for step in self.steps if step.done)

    @property
    def last_verification(self) -> Verification | None:
        return self.verifications[-1] if self.verifications else None

    @property
    def verified(self) -> Verification | None:
        last = self.last_verification
        return last if last is not None and self.plan.status == PlanStatus.VERIFIED else None


def implementation_record(plan: Plan, *, criteria: bool = True) -> ImplementationRecord | None:
    """The plan's record after approval; None for a plan never approved. Eight queries, six
    without the success criteria and their ticks (``criteria=False``: the plan page's panel).
    Its users come without their password hash: the certificate page caches the record."""
    history = approved_revisions(plan)  # two
    if not history:
        return None
    if plan.status in AMENDMENT_STATES:
        # An amendment is under review, sent back or withdrawn: the plan's rows are its steps,
        # but the work goes on (and is reported) against the approved revision's.
        steps = [StepProgress(number=n, title=title, actions=len(actions))
                 for n, (title, actions) in enumerate(revision_steps(history[-1].revision),
                                                      start=1)]
    else:
        steps = [StepProgress(number=n, title=s.title, actions=s.action_count)
                 for n, s in enumerate(plan.steps.annotate(action_count=Count("actions"))
                                       .order_by("position", "id"), start=1)]
    by_number = {step.number: step for step in steps}
    reports = list(ProgressReport.objects.filter(plan=plan).select_related("reported_by")
                   .defer("reported_by__password"))
    unplaced = []
    for report in reports:
        step = by_number.get(report.step_number)
        if step is not None and report.step_title == step.title:
            step.reports.append(report)
        else:
            unplaced.append(report)
    rows = []
    if criteria:
        checks = {c.number: c for c in CriterionCheck.objects.filter(plan=plan)
                  .select_related("checked_by").defer("checked_by__password")}
        rows = [Criterion(number=n, text=c.text, check=checks.get(n))
                for n, c in enumerate(plan.success_criteria.all(), start=1)]
    return ImplementationRecord(
        plan=plan, history=history, steps=steps, unplaced=unplaced,
        drift_reports=list(DriftReport.objects.filter(plan=plan)
                           .select_related("reported_by", "revision")
                           .defer("revision__content", "reported_by__password")),
        criteria=rows,
        verifications=list(Verification.objects.filter(plan=plan).select_related("reviewer")
                           .defer("reviewer__password")),
    )


@dataclass
class Panel:
    record: ImplementationRecord | None
    can_implement: bool
    can_verify: bool


def panel(plan: Plan, user) -> Panel | None:
    """The implementation panel of the plan page; None when it has nothing to show."""
    if plan.status not in SHOWN_IN:
        return None
    record = implementation_record(plan, criteria=False)
    if record is None:
        return None
    editors = set(PlanEditor.objects.filter(plan=plan).values_list("user_id", flat=True))
    return Panel(record=record,
                 can_implement=permissions.can_implement(plan, user, editor_ids=editors),
                 can_verify=permissions.can_verify(plan, user, editor_ids=editors))


def certificate_record(plan: Plan) -> CertificateRecord | None:
    """The certificate's implementation record (registered in ImplementationConfig.ready)."""
    record = implementation_record(plan)
    if record is None:
        return None
    return CertificateRecord(html_template="implementation/certificate_record.html",
                             markdown_template="implementation/certificate_record.md",
                             context={"record": record})


def plan_reviewers(plan: Plan, revision=None) -> list:
    """Everyone who decided on any revision of the plan (the audience PLAN_REVIEWERS)."""
    decided = Review.objects.filter(plan=plan).exclude(decision="").values("reviewer")
    return list(get_user_model().objects.filter(pk__in=decided, is_active=True).order_by("pk"))
