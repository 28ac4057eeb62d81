"""Every write to a plan goes through here: the views, the API, admin and commands all call these.

Services take keyword-only arguments and an explicit actor, check permission, run in one
transaction, write the audit trail, and leave side effects (notifications) to run on commit.
"""

import hashlib

from django.db import transaction
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from audit.log import log
from notifications.services import notify_plan_event

from . import permissions
from .exceptions import PlanConflict, PlanPermissionDenied, ValidationError
from .models import Plan, PlanEditor, PlanRevision, PlanStatus


def _record_editor(plan: Plan, user) -> None:
    PlanEditor.objects.get_or_create(plan=plan, user=user)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PlanPermissionDenied(message)


def _refresh_for_write(plan: Plan) -> Plan:
    """Lock the plan row for the rest of the transaction and fail if its state moved on."""
    current = Plan.objects.select_for_update().get(pk=plan.pk)
    if current.status != plan.status:
        raise PlanConflict()
    return current


@transaction.atomic
def plan_create(*, actor, title: str = "", **fields) -> Plan:
    plan = Plan.objects.create(author=actor, title=title, **fields)
    _record_editor(plan, actor)
    log("plan.created", actor=actor, obj=plan, plan=plan, payload={"title": title})
    return plan


@transaction.atomic
def plan_import_markdown(*, actor, text: str | bytes, plan: Plan | None = None) -> Plan:
    """Create a plan from Markdown in the template's format, or replace an editable plan's content.

    Raises MarkdownImportError (with the line at fault) before anything is written.
    """
    from .markdown import apply_document, parse_plan

    document = parse_plan(text)
    if plan is None:
        plan = Plan.objects.create(author=actor)
        action = "plan.imported"
    else:
        plan = _refresh_for_write(plan)
        _require(permissions.can_edit(plan, actor), "You cannot edit this plan.")
        action = "plan.edited"
    apply_document(plan, document)
    _record_editor(plan, actor)
    log(action, actor=actor, obj=plan, plan=plan, payload={"source": "markdown"})
    return plan


def missing_for_submission(plan: Plan) -> list[str]:
    """What must be filled in before review, in the words the author sees."""
    missing = []
    if not plan.problem_statement.strip():
        missing.append("Problem statement")
    steps = list(plan.steps.all())
    if not steps:
        missing.append("At least one implementation step")
    for index, step in enumerate(steps, start=1):
        if not step.objective.strip():
            missing.append(f"Step {index}: objective")
        if not step.risk:
            missing.append(f"Step {index}: risk level")
    if not any(f.strip() for f in (plan.unit_testing, plan.integration_testing,
                                   plan.manual_testing)):
        missing.append("Testing strategy")
    if not (plan.rollback_if_fails.strip() or plan.rollback_partial.strip()):
        missing.append("Rollback plan")
    return missing


def revision_snapshot(plan: Plan) -> tuple[str, str]:
    """The canonical Markdown of the plan's content and its SHA-256."""
    from .markdown import content_hash_text

    text = content_hash_text(plan)
    return text, hashlib.sha256(text.encode()).hexdigest()


@transaction.atomic
def plan_submit(*, actor, plan: Plan) -> PlanRevision:
    """Send a draft (or a plan sent back for revision) for review, freezing a new revision."""
    plan = _refresh_for_write(plan)
    _require(permissions.can_submit(plan, actor), "Only the author can submit this plan.")
    missing = missing_for_submission(plan)
    if missing:
        raise ValidationError("Fill in before submitting: " + "; ".join(missing) + ".")
    resubmission = plan.status == PlanStatus.NEEDS_REVISION or plan.revisions.exists()
    previous_status = plan.status
    try:
        plan.submit()
        plan.save()
    except (ConcurrentTransition, TransitionNotAllowed) as exc:
        raise PlanConflict() from exc
    content, content_hash = revision_snapshot(plan)
    revision = PlanRevision.objects.create(
        plan=plan, number=plan.revisions.count() + 1, content=content,
        content_hash=content_hash, created_by=actor,
    )
    event = "plan.resubmitted" if resubmission else "plan.submitted"
    log(event, actor=actor, obj=plan, plan=plan, revision_hash=content_hash,
        payload={"from": previous_status, "to": plan.status, "revision": revision.number})
    notify_plan_event(event=event, plan=plan, actor=actor, revision=revision)
    return revision


@transaction.atomic
def plan_withdraw(*, actor, plan: Plan) -> Plan:
    """The author takes a plan under review back to draft."""
    plan = _refresh_for_write(plan)
    _require(permissions.can_withdraw(plan, actor), "Only the author can withdraw this plan.")
    try:
        plan.withdraw()
        plan.save()
    except (ConcurrentTransition, TransitionNotAllowed) as exc:
        raise PlanConflict() from exc
    log("plan.withdrawn", actor=actor, obj=plan, plan=plan,
        payload={"from": PlanStatus.PENDING_REVIEW, "to": plan.status})
    notify_plan_event(event="plan.withdrawn", plan=plan, actor=actor)
    return plan
