"""Every write after approval: start, progress, drift reports, finish, amendments, verification.

Like every service in Plangate: keyword-only arguments and an explicit actor, the plan row locked
for one transaction, the permission checked (403) before the state (409), one audit entry per
write, notifications recorded for delivery on commit. Who may do what is plans.permissions:
``can_implement`` (the author or a co-author, also through their API token) and ``can_verify``
(a reviewer who neither wrote nor edited the plan).
"""

from __future__ import annotations

import re

from django.db import transaction
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from audit.log import log
from core.errors import Conflict, NotAllowed, ValidationError
from notifications.services import notify_plan_event
from plans import permissions
from plans.markdown import decode_plan, parse_plan_with_warnings
from plans.models import (
    AMENDABLE_STATES,
    Plan,
    PlanEditor,
    PlanRevision,
    PlanStatus,
    PlanStep,
    status_phrase,
)
from plans.services import apply_document, read_content, revision_snapshot
from reviews.certificate import AMENDMENT_STATES, approved_revisions, standing_approval

from . import drift, events
from .models import CriterionCheck, DriftReport, Outcome, ProgressReport, Verification

COMMIT = re.compile(r"^[0-9a-fA-F]{7,40}$")
MAX_NOTE = 2000
MAX_EVIDENCE = 2000
MAX_CHANGED_FILES = 5000
MAX_REF = 255

NOT_IMPLEMENTER = ("Only the plan's author or a co-author (or their API token) can do this "
                   "after approval.")
NOT_VERIFIER = ("Only a reviewer who is not the plan's author or a co-author can review its "
                "implementation: nobody verifies their own work.")


def _lock(plan: Plan) -> Plan:
    return Plan.objects.select_for_update().get(pk=plan.pk)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotAllowed(message)


def _state(plan: Plan, allowed, doing: str) -> None:
    if plan.status not in allowed:
        raise Conflict(f"This plan {status_phrase(plan.status)}: it cannot {doing} now. "
                       "Reload to see its state.")


def approved_revision(plan: Plan) -> PlanRevision | None:
    """The revision implementation is measured against: the last one approved (the plan, or
    its latest approved amendment), with its content. None before the first approval."""
    history = approved_revisions(plan)
    return PlanRevision.objects.get(pk=history[-1].revision.pk) if history else None


def _move(plan: Plan, transition, *, actor, event, revision: PlanRevision | None,
          payload: dict | None = None, comment: str = "") -> None:
    """Run a transition on the locked plan, audit it with from/to, and notify."""
    previous = plan.status
    if not can_proceed(transition):
        raise Conflict()
    try:
        transition()
        plan.save()
    except (ConcurrentTransition, TransitionNotAllowed) as exc:
        raise Conflict() from exc
    log(event, actor=actor, obj=plan, plan=plan,
        revision_hash=revision.content_hash if revision else "",
        payload={"from": previous, "to": plan.status,
                 "revision": revision.number if revision else None, **(payload or {})})
    notify_plan_event(event=event, plan=plan, actor=actor, revision=revision, comment=comment)


def _start(plan: Plan, actor) -> None:
    _move(plan, plan.start_implementation, actor=actor, event=events.IMPLEMENTATION_STARTED,
          revision=approved_revision(plan))


@transaction.atomic
def implementation_start(*, actor, plan: Plan) -> Plan:
    """The author (or their agent) starts implementing the approved plan: IMPLEMENTING."""
    plan = _lock(plan)
    _require(permissions.can_implement(plan, actor), NOT_IMPLEMENTER)
    _state(plan, (PlanStatus.APPROVED,), "start implementing (only an approved plan can)")
    _start(plan, actor)
    return plan


@transaction.atomic
def implementation_finish(*, actor, plan: Plan) -> Plan:
    """The author (or their agent) says the work is done: IMPLEMENTED, waiting for a reviewer."""
    plan = _lock(plan)
    _require(permissions.can_implement(plan, actor), NOT_IMPLEMENTER)
    _state(plan, (PlanStatus.IMPLEMENTING,), "be marked implemented (it is not being "
                                             "implemented)")
    reports = ProgressReport.objects.filter(plan=plan).count()
    _move(plan, plan.finish_implementation, actor=actor,
          event=events.IMPLEMENTATION_FINISHED, revision=approved_revision(plan),
          payload={"progress_reports": reports})
    return plan


def _live_steps(plan: Plan) -> list[tuple[PlanStep | None, str, list[str]]]:
    """The steps a report numbers when no amendment is in the way, as (row, title, action
    texts): the plan's rows, which are its approved revision's."""
    rows = PlanStep.objects.filter(plan=plan).prefetch_related("actions")
    return [(row, row.title, [action.text for action in row.actions.all()]) for row in rows]


def _steps_of(revision: PlanRevision) -> list[tuple[PlanStep | None, str, list[str]]]:
    """The steps of ``revision``'s own text, as _live_steps gives them, with no row: while an
    amendment is reviewed the plan's rows are the amendment's, and the report does not link
    one (it keeps the step's number and title, as any report does)."""
    return [(None, title, list(actions)) for title, actions in drift.revision_steps(revision)]


@transaction.atomic
def progress_report(*, actor, plan: Plan, step: int, action: int | None = None,
                    note: str = "", commit: str = "") -> ProgressReport:
    """Mark step ``step`` (1-based), or its action ``action`` (1-based), done, with an optional
    note and commit SHA. The first report on an approved plan starts its implementation.

    While an amendment of the plan is under review, sent back or withdrawn, the approval before
    it stands and the work goes on against it: reports are taken, numbered against the approved
    revision's steps (not the amendment's), and leave the plan's status to the amendment's
    review."""
    plan = _lock(plan)
    _require(permissions.can_implement(plan, actor), NOT_IMPLEMENTER)
    standing = standing_approval(plan) if plan.status in AMENDMENT_STATES else None
    if standing is None:
        _state(plan, (PlanStatus.APPROVED, PlanStatus.IMPLEMENTING),
               "take progress reports (only while it is approved or being implemented, or "
               "while an amendment of it is reviewed)")
        revision, steps = approved_revision(plan), _live_steps(plan)
    else:  # the approval that stands, with its text
        revision = PlanRevision.objects.get(pk=standing.revision.pk)
        steps = _steps_of(revision)
    if not 1 <= int(step) <= len(steps):
        whose = "the plan" if standing is None else "the approved revision"
        raise ValidationError(f"There is no step {step}: {whose} has {len(steps)} step(s).")
    row, title, actions = steps[int(step) - 1]
    action_text = ""
    if action is not None:
        if not 1 <= int(action) <= len(actions):
            raise ValidationError(f"Step {step} has no action {action}: it has "
                                  f"{len(actions)} action(s).")
        action_text = actions[int(action) - 1]
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(f"Keep the note under {MAX_NOTE} characters.")
    commit = (commit or "").strip()
    if commit and not COMMIT.match(commit):
        raise ValidationError("A commit is its SHA: 7 to 40 hexadecimal characters.")
    if plan.status == PlanStatus.APPROVED:
        _start(plan, actor)
    report = ProgressReport.objects.create(
        plan=plan, step=row, step_number=int(step), step_title=title,
        action_number=int(action) if action is not None else None, action_text=action_text,
        note=note, commit=commit.lower(), reported_by=actor,
    )
    log(events.PROGRESS_REPORTED, actor=actor, obj=report, plan=plan,
        revision_hash=revision.content_hash if revision else "",
        payload={"step": report.step_number, "action": report.action_number,
                 "note": note, "commit": report.commit})
    return report


@transaction.atomic
def drift_report_upload(*, actor, plan: Plan, changed: list[str], base: str = "",
                        head: str = "", head_commit: str = "") -> DriftReport:
    """Compare the files a branch changed with the approved revision's planned files and keep
    the report (each run is kept). Its implementers (the agent, a CI job with their
    token), reviewers and admins may upload one; the entry says who."""
    plan = _lock(plan)
    _require(permissions.can_report_drift(plan, actor),
             "Only the plan's author or a co-author (or their token), a reviewer or an admin "
             "can report drift on this plan.")
    revision = approved_revision(plan)
    if revision is None:
        raise Conflict("This plan has never been approved: there is no approved plan to compare "
                       "the changes with.")
    if len(changed) > MAX_CHANGED_FILES:
        raise ValidationError(f"At most {MAX_CHANGED_FILES} changed files per report.")
    for name, value in (("base", base), ("head", head)):
        if len(value or "") > MAX_REF:
            raise ValidationError(f"{name}: at most {MAX_REF} characters.")
    head_commit = (head_commit or "").strip()
    if head_commit and not COMMIT.match(head_commit):
        raise ValidationError("head_commit: a commit SHA, 7 to 40 hexadecimal characters.")
    result = drift.compare(changed, drift.planned_files(revision))
    report = DriftReport.objects.create(
        plan=plan, revision=revision, base=base or "", head=head or "",
        head_commit=head_commit.lower(), changed=result.changed, unplanned=result.unplanned,
        untouched=result.untouched, matches=result.matches, reported_by=actor,
    )
    log(events.DRIFT_REPORTED, actor=actor, obj=report, plan=plan,
        revision_hash=revision.content_hash,
        payload={"revision": revision.number, "base": report.base, "head": report.head,
                 "head_commit": report.head_commit, "changed": len(result.changed),
                 "unplanned": result.unplanned[:50], "untouched": result.untouched[:50],
                 "clear": result.clear})
    return report


@transaction.atomic
def amendment_submit(*, actor, plan: Plan, text: str | bytes) -> PlanRevision:
    """The implementation needs more than was approved: the author submits the amended plan's
    Markdown. It becomes a new revision, under review (PENDING_REVIEW) under the same policy as
    any revision; reviewers see it as a diff against the approved one. Until it is approved,
    drift is still measured against the revision approved before."""
    plan = _lock(plan)
    _require(permissions.can_implement(plan, actor),
             "Only the plan's author or a co-author can amend it.")
    _state(plan, AMENDABLE_STATES, "be amended (only an approved plan, or one being "
                                   "implemented, can)")
    approved = approved_revision(plan)
    source = decode_plan(text)  # kept as given, as an import keeps it
    document, report = parse_plan_with_warnings(source)
    apply_document(plan=plan, document=document, source=source)
    plan.import_report = report.as_dict()
    plan.save(update_fields=["import_report"])
    # The content just written, read back in one statement for the checks and the revision's
    # text (not a query per step), with the latest revision.
    previous = read_content(plan)
    missing = plan.missing_for_submission()
    if missing:
        raise ValidationError("Fill in before submitting: " + "; ".join(missing) + ".")
    content, content_hash = revision_snapshot(plan)
    if approved is not None and content_hash == approved.content_hash:
        raise ValidationError("This is the approved text: an amendment must change the plan.")
    PlanEditor.objects.get_or_create(plan=plan, user=actor)
    status_before = plan.status
    if not can_proceed(plan.amend):
        raise Conflict()
    try:
        plan.amend()
        plan.save()
    except (ConcurrentTransition, TransitionNotAllowed) as exc:
        raise Conflict() from exc
    revision = PlanRevision.objects.create(
        plan=plan, number=(previous[0] if previous else 0) + 1, content=content,
        content_hash=content_hash, created_by=actor,
    )
    log(events.AMENDMENT_SUBMITTED, actor=actor, obj=plan, plan=plan, revision_hash=content_hash,
        payload={"from": status_before, "to": plan.status, "revision": revision.number,
                 "amends_revision": approved.number if approved else None,
                 "warnings": len(report.warnings)})
    notify_plan_event(event=events.AMENDMENT_SUBMITTED, plan=plan, actor=actor,
                      revision=revision)
    return revision


def _check(plan: Plan, actor, number: int, evidence: str, criteria: list) -> CriterionCheck:
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationError(f"Success criterion {number}: give evidence (a link or a note).")
    if len(evidence) > MAX_EVIDENCE:
        raise ValidationError(f"Success criterion {number}: keep the evidence under "
                              f"{MAX_EVIDENCE} characters.")
    if not 1 <= int(number) <= len(criteria):
        raise ValidationError(f"There is no success criterion {number}: the plan has "
                              f"{len(criteria)}.")
    criterion = criteria[int(number) - 1]
    check, _ = CriterionCheck.objects.update_or_create(
        plan=plan, number=int(number),
        defaults={"criterion": criterion, "text": criterion.text, "evidence": evidence,
                  "checked_by": actor},
    )
    revision = approved_revision(plan)
    log(events.CRITERION_CHECKED, actor=actor, obj=check, plan=plan,
        revision_hash=revision.content_hash if revision else "",
        payload={"criterion": check.number, "text": check.text, "evidence": evidence})
    return check


@transaction.atomic
def criterion_check(*, actor, plan: Plan, number: int, evidence: str) -> CriterionCheck:
    """A reviewer ticks success criterion ``number`` (1-based) with evidence (a link or note)."""
    plan = _lock(plan)
    _require(permissions.can_verify(plan, actor), NOT_VERIFIER)
    _state(plan, (PlanStatus.IMPLEMENTED,), "be checked (only an implemented plan can)")
    return _check(plan, actor, number, evidence, list(plan.success_criteria.all()))


@transaction.atomic
def verification_decide(*, actor, plan: Plan, outcome: str, comment: str = "",
                        evidence: dict[int, str] | None = None) -> Verification:
    """End the post-implementation review: VERIFIED once every success criterion is ticked with
    evidence (``evidence`` may tick some now: number -> text), or SENT_BACK to implementing with
    a comment saying what is left."""
    plan = _lock(plan)
    _require(permissions.can_verify(plan, actor), NOT_VERIFIER)
    _state(plan, (PlanStatus.IMPLEMENTED,), "be verified (only an implemented plan can)")
    comment = (comment or "").strip()
    if outcome not in Outcome.values:
        raise ValidationError("Choose VERIFIED or SENT_BACK.")
    criteria = list(plan.success_criteria.all())
    for number, text in sorted((evidence or {}).items()):
        if (text or "").strip():
            _check(plan, actor, number, text, criteria)
    if outcome == Outcome.VERIFIED:
        checked = set(CriterionCheck.objects.filter(plan=plan).values_list("number", flat=True))
        unchecked = [str(n) for n in range(1, len(criteria) + 1) if n not in checked]
        if unchecked:
            raise ValidationError("To verify, tick every success criterion with evidence; "
                                  "not yet: " + ", ".join(unchecked) + ".")
        transition, event = plan.mark_verified, events.PLAN_VERIFIED
    else:
        if not comment:
            raise ValidationError("Say what is left to do: a comment is required to send the "
                                  "plan back to implementing.")
        transition, event = plan.send_back_to_implementing, events.PLAN_SENT_BACK
    verification = Verification.objects.create(plan=plan, outcome=outcome, comment=comment,
                                               reviewer=actor)
    _move(plan, transition, actor=actor, event=event, revision=approved_revision(plan),
          payload={"comment": comment, "verification": verification.pk}, comment=comment)
    return verification
