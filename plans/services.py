"""Every write to a plan goes through here: the views, the API, admin and commands all call these.

Services take keyword-only arguments and an explicit actor, check permission, run in one
transaction, write the audit trail, and leave side effects (notifications) to run on commit.
"""

import hashlib

from django.db import transaction
from django_fsm import ConcurrentTransition, TransitionNotAllowed, has_transition_perm

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


def _text(value):
    """Text as stored: line breaks normalised to "\\n" (browsers send textareas with CRLF, and
    the content hash must not change when nothing did). Other values pass through."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def _checked(value: str, validator, where: str) -> str:
    """Normalised ``value``, or ValidationError naming where it is (services don't all go
    through forms, so the model validators run here too)."""
    value = _text(value or "")
    try:
        validator(value)
    except ValidationError as exc:
        raise ValidationError(f"{where}: {' '.join(exc.messages)}") from None
    return value


def _plan_scalars(fields: dict) -> dict:
    from .models import validate_single_line

    fields = {name: _text(value) for name, value in fields.items()}
    if "title" in fields:
        fields["title"] = _checked(fields["title"], validate_single_line, "Title")
    return fields


def _clean_steps(steps: list[dict]) -> list[dict]:
    """Steps with their actions and files normalised and checked (see _step_values)."""
    from .models import validate_list_item, validate_single_line

    cleaned = []
    for number, data in enumerate(steps, start=1):
        data = dict(data)
        data["actions"] = [
            (_checked(text, validate_list_item, f"Step {number}, action"), done)
            for text, done in data.get("actions") or []
        ]  # fmt: skip
        data["files"] = [
            (_checked(path, validate_single_line, f"Step {number}, file path"),
             _checked(description, validate_list_item, f"Step {number}, file description"))
            for path, description in data.get("files") or []
        ]  # fmt: skip
        cleaned.append(data)
    return cleaned


@transaction.atomic
def plan_create(*, actor, title: str = "", steps: list[dict] | None = None,
                success_criteria: list | None = None, **fields) -> Plan:
    """Create a draft plan; optionally with its steps and success criteria (editor form)."""
    fields = _plan_scalars({"title": title, **fields})
    plan = Plan.objects.create(author=actor, **fields)
    title = plan.title
    if steps:
        _write_steps(plan, _clean_steps(steps))
    if success_criteria:
        _write_criteria(plan, success_criteria)
    _record_editor(plan, actor)
    log("plan.created", actor=actor, obj=plan, plan=plan,
        payload={"title": title, "steps": len(steps or [])})
    return plan


_EDITABLE_SCALARS = {
    "title", "created_on", "problem_statement", "existing_system", "research_findings",
    "high_level_approach", "technical_design", "unit_testing", "integration_testing",
    "manual_testing", "high_risk_items", "medium_risk_items", "risk_dependencies",
    "rollback_if_fails", "rollback_partial", "review_checklist",
}  # fmt: skip


def _step_values(number: int, data: dict) -> dict:
    """A step dict from the editor (or API) checked and reduced to PlanStep fields."""
    from .markdown import parse_estimate_hours
    from .models import RiskLevel, validate_single_line

    title = _text(data.get("title") or "").strip()
    if not title:
        raise ValidationError(f"Step {number}: a title is required.")
    title = _checked(title, validate_single_line, f"Step {number}, title")
    estimate = _checked((data.get("estimate") or "").strip(), validate_single_line,
                        f"Step {number}, estimated time")
    try:
        hours = parse_estimate_hours(estimate)
    except ValueError as exc:
        raise ValidationError(f"Step {number}: {exc}.") from None
    risk = (data.get("risk") or "").lower()
    if risk and risk not in RiskLevel.values:
        raise ValidationError(f"Step {number}: risk must be Low, Medium or High.")
    return {
        "title": title, "objective": _text(data.get("objective") or ""),
        "dependencies": _text(data.get("dependencies") or ""),
        "estimate": estimate if hours is not None else "", "estimated_hours": hours, "risk": risk,
    }  # fmt: skip


def _write_steps(plan: Plan, steps: list[dict]) -> None:
    """Make the plan's steps exactly ``steps``, in order. Steps keep their id (concerns and
    comments point at them) when the dict carries it; actions and files are rewritten."""
    from .models import PlanStep, StepAction, StepFile

    existing = {step.pk: step for step in PlanStep.objects.filter(plan=plan)}
    kept, actions, files = set(), [], []
    for position, data in enumerate(steps):
        values = _step_values(position + 1, data)
        step = existing.get(data.get("id") or None)
        if step is None or step.pk in kept:
            step = PlanStep(plan=plan)
        for name, value in values.items():
            setattr(step, name, value)
        step.position = position
        step.save()
        kept.add(step.pk)
        actions += [StepAction(step=step, position=i, text=text, done=done)
                    for i, (text, done) in enumerate(data.get("actions") or [])]
        files += [StepFile(step=step, position=i, path=path, description=description)
                  for i, (path, description) in enumerate(data.get("files") or [])]
    PlanStep.objects.filter(plan=plan).exclude(pk__in=kept).delete()
    StepAction.objects.filter(step__plan=plan).delete()
    StepFile.objects.filter(step__plan=plan).delete()
    StepAction.objects.bulk_create(actions)
    StepFile.objects.bulk_create(files)


def _write_criteria(plan: Plan, items: list) -> None:
    from .models import SuccessCriterion, validate_list_item

    rows = [
        SuccessCriterion(plan=plan, position=i, done=done,
                         text=_checked(text, validate_list_item, f"Success criterion {i + 1}"))
        for i, (text, done) in enumerate(items)
    ]  # fmt: skip
    SuccessCriterion.objects.filter(plan=plan).delete()
    SuccessCriterion.objects.bulk_create(rows)


@transaction.atomic
def plan_update(*, actor, plan: Plan, fields: dict | None = None, steps: list[dict] | None = None,
                success_criteria: list | None = None, expected_updated_at=None) -> Plan:
    """Save the editor's whole form in one go: scalar fields, steps (with actions and files, in
    order) and success criteria. ``None`` leaves that part alone.

    ``expected_updated_at`` (the plan's updated_at when the form was loaded) makes a save over
    someone else's newer save fail with PlanConflict instead of silently overwriting it.
    """
    current = Plan.objects.select_for_update().get(pk=plan.pk)
    _require(permissions.can_edit(current, actor), edit_refusal_reason(current, actor))
    if expected_updated_at is not None and current.updated_at != expected_updated_at:
        raise PlanConflict("Someone saved this plan after you opened it. Reload to see their "
                           "changes, then apply yours again.")
    fields = fields or {}
    unknown = set(fields) - _EDITABLE_SCALARS
    if unknown:
        raise ValidationError(f"Not editable here: {', '.join(sorted(unknown))}.")
    fields = _plan_scalars(fields)
    for name, value in fields.items():
        setattr(current, name, value)
    current.save()  # always: updated_at is the content identity the detail cache keys on
    if steps is not None:
        _write_steps(current, _clean_steps(steps))
    if success_criteria is not None:
        _write_criteria(current, success_criteria)
    _record_editor(current, actor)
    log("plan.edited", actor=actor, obj=current, plan=current,
        payload={"fields": sorted(fields), "steps": None if steps is None else len(steps),
                 "success_criteria": None if success_criteria is None
                 else len(success_criteria)})
    return current


def edit_refusal_reason(plan: Plan, actor) -> str:
    if not plan.is_editable:
        return (f"This plan is {plan.get_status_display().lower()}; it can be edited only as a "
                "draft or after it is sent back for revision.")
    return "Only the plan's author or an admin can edit this plan."


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
    """What must be filled in before review, in the words the author sees (Plan's own check,
    also the submit transition's condition)."""
    return plan.missing_for_submission()


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
    # The state machine's own gate (source state, conditions, permission) agrees.
    _require(has_transition_perm(plan.submit, actor), "Only the author can submit this plan.")
    previous = plan.revisions.order_by("-number").only("number", "content_hash").first()
    previous_status = plan.status
    try:
        plan.submit()
        plan.save()
    except (ConcurrentTransition, TransitionNotAllowed) as exc:
        raise PlanConflict() from exc
    content, content_hash = revision_snapshot(plan)
    revision = PlanRevision.objects.create(
        plan=plan, number=(previous.number if previous else 0) + 1, content=content,
        content_hash=content_hash, created_by=actor,
    )
    # Approvals are bound to a content hash (reviews/policy.py): an unchanged resubmission keeps
    # them, a changed one makes them stale.
    unchanged = previous is not None and previous.content_hash == content_hash
    event = "plan.resubmitted" if previous is not None else "plan.submitted"
    log(event, actor=actor, obj=plan, plan=plan, revision_hash=content_hash,
        payload={"from": previous_status, "to": plan.status, "revision": revision.number,
                 "previous_revision": previous.number if previous else None,
                 "content_unchanged": unchanged})
    notify_plan_event(event=event, plan=plan, actor=actor, revision=revision)
    return revision


@transaction.atomic
def plan_withdraw(*, actor, plan: Plan) -> Plan:
    """The author takes a plan under review back to draft."""
    plan = _refresh_for_write(plan)
    _require(permissions.can_withdraw(plan, actor) and has_transition_perm(plan.withdraw, actor),
             "Only the author can withdraw this plan.")
    try:
        plan.withdraw()
        plan.save()
    except (ConcurrentTransition, TransitionNotAllowed) as exc:
        raise PlanConflict() from exc
    revision = plan.revisions.order_by("-number").first()
    log("plan.withdrawn", actor=actor, obj=plan, plan=plan,
        revision_hash=revision.content_hash if revision else "",
        payload={"from": PlanStatus.PENDING_REVIEW, "to": plan.status})
    notify_plan_event(event="plan.withdrawn", plan=plan, actor=actor)
    return plan
