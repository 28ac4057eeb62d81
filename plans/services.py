"""Every write to a plan goes through here: the views, the API, admin and commands all call these.

Services take keyword-only arguments and an explicit actor, check permission, run in one
transaction, write the audit trail, and leave side effects (notifications) to run on commit.
"""

import hashlib
from collections import Counter

from django.db import connections, router, transaction
from django.db.models.deletion import Collector
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed, has_transition_perm

from accounts.roles import is_admin
from audit.log import log
from core.compiled import CompiledQuery
from core.errors import Conflict, NotAllowed, ValidationError
from notifications.services import notify_plan_event

from . import events, permissions, schema
from .document import PlanDocument
from .markdown import (
    MarkdownImportError,
    content_hash_text,
    created_date,
    decode_plan,
    document_from_plan,
    estimate_hours,
    export_plan,
    normalise_text,
    parse_plan_with_warnings,
    parse_risk,
    patch_source,
    read_back,
)
from .models import (
    Plan,
    PlanEditor,
    PlanRevision,
    PlanStatus,
    PlanStep,
    StepAction,
    StepFile,
    SubmissionRule,
    SuccessCriterion,
    status_phrase,
    validate_single_line,
)


def _record_editor(plan: Plan, user) -> None:
    PlanEditor.objects.get_or_create(plan=plan, user=user)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotAllowed(message)


#: Compiled once (core.compiled): every write of a plan reads it so.
_LOCKED_PLAN = CompiledQuery(lambda pk: Plan.objects.select_for_update().filter(pk=pk))


def _refresh_for_write(plan: Plan) -> Plan:
    """Lock the plan row for the rest of the transaction and fail if its state moved on."""
    current = _LOCKED_PLAN.get(pk=plan.pk)
    if current.status != plan.status:
        raise Conflict()
    return current


#: What a submission reads of a locked plan besides its row: its content (steps, their actions
#: and files, success criteria, each in its model's order) and its latest revision's number and
#: hash, in one statement written out. Built by the ORM this was five queries (a prefetch of
#: four, and the revision), and building them, their querysets and their instances cost the
#: submission more than everything else it does. Each row is (kind, then a model's columns in
#: field order, padded with NULLs; ``done`` last): test_the_content_read_is_what_the_orm_reads
#: pins them to plans/models.py. The first branch types every column (PostgreSQL unifies a
#: UNION's types pair by pair, and two untyped NULLs would make text).
CONTENT_SQL = """
SELECT 0 AS kind, id, plan_id, position, title, objective, dependencies, estimate,
  estimated_hours, risk, notes, CAST(NULL AS boolean) AS done
FROM plans_planstep WHERE plan_id = %s
UNION ALL
SELECT 1, a.id, a.step_id, a.position, a.text, NULL, NULL, NULL, NULL, NULL, NULL, a.done
FROM plans_stepaction a JOIN plans_planstep s ON s.id = a.step_id WHERE s.plan_id = %s
UNION ALL
SELECT 2, f.id, f.step_id, f.position, f.path, f.description, NULL, NULL, NULL, NULL, NULL, NULL
FROM plans_stepfile f JOIN plans_planstep s ON s.id = f.step_id WHERE s.plan_id = %s
UNION ALL
SELECT 3, id, plan_id, position, text, NULL, NULL, NULL, NULL, NULL, NULL, done
FROM plans_successcriterion WHERE plan_id = %s
UNION ALL
SELECT 4, NULL, NULL, r.number, r.content_hash, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM (SELECT number, content_hash FROM plans_planrevision WHERE plan_id = %s
      ORDER BY number DESC LIMIT 1) r
ORDER BY kind, position, id
"""
_STEP, _ACTION, _FILE, _CRITERION = range(4)  # and 4: the latest revision


def _converters(model, connection) -> list[tuple]:
    """(index, converters, column) for each of the model's concrete fields whose value the ORM
    converts as the database returns it (SQLite gives booleans as 0/1, decimals as numbers)."""
    found = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(
            connection)
        if converters:
            found.append((index, converters, column))
    return found


def read_content(plan: Plan) -> tuple[int, str] | None:
    """Read the plan's content into it as prefetch_related would (``plan.steps.all()``, each
    step's ``actions.all()`` and ``files.all()``, ``plan.success_criteria.all()``), and return
    its latest revision's (number, content_hash), None before the first. One statement
    (CONTENT_SQL): run it once the plan row is locked, so it reads what was committed by then."""
    connection = connections[plan._state.db]
    with connection.cursor() as cursor:
        cursor.execute(CONTENT_SQL, [plan.pk] * 5)
        rows = cursor.fetchall()
    models = (PlanStep, StepAction, StepFile, SuccessCriterion)
    converters = [_converters(model, connection) for model in models]
    steps, criteria, children, previous = [], [], {}, None
    for kind, *values, done in rows:
        if kind == 4:
            previous = (values[2], values[3])  # position holds its number, title its hash
            continue
        if kind == _FILE:
            values = values[:5]
        elif kind != _STEP:  # an action or a criterion: id, parent, position, text, done
            values = [*values[:4], done]
        for index, functions, column in converters[kind]:
            for function in functions:
                values[index] = function(values[index], column, connection)
        row = models[kind].from_db(connection.alias, None, values)
        if kind == _STEP:
            steps.append(row)
            children[row.pk] = ([], [])
        elif kind == _CRITERION:
            criteria.append(row)
        else:
            children[row.step_id][kind - _ACTION].append(row)
    for step in steps:
        _prefetched(step, "actions", children[step.pk][0])
        _prefetched(step, "files", children[step.pk][1])
    _prefetched(plan, "steps", steps)
    _prefetched(plan, "success_criteria", criteria)
    return previous


def _prefetched(instance, name: str, rows: list) -> None:
    """``rows`` as ``instance.<name>.all()``, kept the way prefetch_related keeps them (each row
    pointing back at ``instance``)."""
    manager = getattr(instance, name)
    queryset = manager.get_queryset()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    for row in rows:
        manager.field.set_cached_value(row, instance)
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[name] = queryset


def _text(value):
    """Text as stored: line breaks normalised to "\\n" (browsers send textareas with CRLF, and
    the content hash must not change when nothing did). Other values pass through."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def _checked(row, where: str, exclude) -> None:
    """The model's own field checks (lengths, validators, choices) on a row about to be saved:
    not every caller goes through a form. The ValidationError names where, and the field."""
    try:
        row.clean_fields(exclude=list(exclude))
    except ValidationError as exc:
        problems = "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()
        )
        raise ValidationError(f"{where}: {problems}") from None


def _editable(fields: dict) -> dict:
    """``fields``, if the editor may set them all: title, created date, every prose section of
    the schema and the review checklist."""
    editable = ["title", "created_on", "review_checklist", *schema.prose_keys()]
    unknown = set(fields) - set(editable)
    if unknown:
        raise ValidationError(f"Not editable here: {', '.join(sorted(unknown))}. "
                              f"Editable: {', '.join(editable)}.")
    return fields


def _field_values(plan: Plan, names) -> dict[str, str]:
    """The plan's values of these editable fields, as text (a date as the form sends it)."""
    prose = set(schema.prose_keys())
    values = {name: plan.sections.get(name, "") if name in prose else getattr(plan, name)
              for name in names}
    return {name: "" if value is None else str(value) for name, value in values.items()}


def _set_fields(plan: Plan, fields: dict) -> None:
    """Put the values on the plan, normalised and checked; prose goes into plan.sections."""
    prose = set(schema.prose_keys())
    for name, value in fields.items():
        if name in prose:
            plan.sections[name] = _text(value or "")
        else:
            setattr(plan, name, _text(value))
    stored = {"sections" if name in prose else name for name in fields}
    _checked(plan, "Plan", {f.name for f in Plan._meta.concrete_fields} - stored)


@transaction.atomic
def plan_create(*, actor, title: str = "", steps: list[dict] | None = None,
                success_criteria: list | None = None, **fields) -> Plan:
    """Create a draft plan; optionally with its steps and success criteria (editor form)."""
    plan = Plan(author=actor)
    _set_fields(plan, _editable({"title": title, **fields}))
    plan.save()
    title = plan.title
    if steps:
        _write_steps(plan=plan, steps=steps)
    if success_criteria:
        _write_criteria(plan=plan, items=success_criteria)
    _record_editor(plan, actor)
    log(events.PLAN_CREATED, actor=actor, obj=plan, plan=plan,
        payload={"title": title, "steps": len(steps or [])})
    return plan


def _step_values(number: int, data: dict) -> dict:
    """A step dict (the editor's, or one made from a document) reduced to PlanStep fields, its
    estimate and risk read the way the Markdown format reads them. An estimate is kept as
    written; one that is not a time ("TBD") has no hours and counts as unknown in totals.
    ``notes`` is written only when given (the editor does not show them)."""
    title = _text(data.get("title") or "").strip()
    if not title:
        raise ValidationError(f"Step {number}: a title is required.")
    estimate = _text(data.get("estimate") or "").strip()
    try:  # before parsing, which would only say that this is not a time
        validate_single_line(estimate)
    except ValidationError as exc:
        raise ValidationError(f"Step {number}: estimate: {' '.join(exc.messages)}") from None
    try:
        risk = parse_risk(data.get("risk") or "")
    except ValueError as exc:
        raise ValidationError(f"Step {number}: {exc}.") from None
    values = {
        "title": title, "objective": _text(data.get("objective") or ""),
        "dependencies": _text(data.get("dependencies") or ""),
        "estimate": estimate, "estimated_hours": estimate_hours(estimate), "risk": risk,
    }  # fmt: skip
    if "notes" in data:
        values["notes"] = _text(data["notes"] or "")
    return values


def _match_steps(existing: list[PlanStep], incoming: list[tuple]) -> list[PlanStep | None]:
    """For each incoming (id, title), the existing step it updates, or None for a new step.
    The rule is _write_steps's: its id, else the same title, else the same position."""
    free = list(existing)
    matched: list[PlanStep | None] = [None] * len(incoming)
    rules = (
        lambda step, position: step.pk == incoming[position][0],
        lambda step, position: step.title == incoming[position][1],
        lambda step, position: step.position == position,
    )
    for rule in rules:
        for position in range(len(incoming)):
            if matched[position] is None:
                matched[position] = next((step for step in free if rule(step, position)), None)
                if matched[position] is not None:
                    free.remove(matched[position])
    return matched


def _write_steps(*, plan: Plan, steps: list[dict]) -> None:
    """Make the plan's steps exactly ``steps`` (dicts as the editor sends them), in order: the
    one writer of steps, for the editor and for Markdown import and re-import.

    Steps keep their id where they still exist, because comments and concerns point at it.
    An incoming step updates, by preference: the step whose ``id`` it carries (the editor's rows
    do); else the first step not yet matched with the same title (Markdown has no ids, and a
    moved step keeps its title); else the step not yet matched at the same position (a step
    retitled in place). Incoming steps left over are created, existing ones left over deleted.
    Actions and files are rewritten. Everything is checked before anything is written.
    """
    values = [_step_values(number, data) for number, data in enumerate(steps, start=1)]
    incoming = [(data.get("id"), v["title"]) for data, v in zip(steps, values, strict=True)]
    matched = _match_steps(list(PlanStep.objects.filter(plan=plan)), incoming)
    rows = []
    for position, data in enumerate(steps):
        where = f"Step {position + 1}"
        step = matched[position] or PlanStep(plan=plan)
        for name, value in {**values[position], "position": position}.items():
            setattr(step, name, value)
        _checked(step, where, ["plan"])
        actions = [StepAction(position=i, text=_text(text), done=done)
                   for i, (text, done) in enumerate(data.get("actions") or [])]
        files = [StepFile(position=i, path=_text(path), description=_text(description))
                 for i, (path, description) in enumerate(data.get("files") or [])]
        for i, action in enumerate(actions, start=1):
            _checked(action, f"{where}, action {i}", ["step"])
        for i, file in enumerate(files, start=1):
            _checked(file, f"{where}, file {i}", ["step"])
        rows.append((step, actions, files))

    PlanStep.objects.filter(plan=plan).exclude(pk__in=[m.pk for m in matched if m]).delete()
    StepAction.objects.filter(step__plan=plan).delete()
    StepFile.objects.filter(step__plan=plan).delete()
    for step, actions, files in rows:
        step.save()
        for child in [*actions, *files]:
            child.step = step
    StepAction.objects.bulk_create([action for _, actions, _ in rows for action in actions])
    StepFile.objects.bulk_create([file for _, _, files in rows for file in files])
    getattr(plan, "_prefetched_objects_cache", {}).pop("steps", None)


def _write_criteria(*, plan: Plan, items: list) -> None:
    """Make the plan's success criteria exactly ``items`` ((text, done) pairs), in order.
    Nothing points at a criterion, so they are simply rewritten."""
    rows = [SuccessCriterion(plan=plan, position=i, text=_text(text), done=done)
            for i, (text, done) in enumerate(items)]
    for number, row in enumerate(rows, start=1):
        _checked(row, f"Success criterion {number}", ["plan"])
    SuccessCriterion.objects.filter(plan=plan).delete()
    SuccessCriterion.objects.bulk_create(rows)
    getattr(plan, "_prefetched_objects_cache", {}).pop("success_criteria", None)


@transaction.atomic
def plan_update(*, actor, plan: Plan, fields: dict | None = None, steps: list[dict] | None = None,
                success_criteria: list | None = None, expected_updated_at=None) -> Plan:
    """Save the editor's whole form in one go: scalar fields, steps (with actions and files, in
    order) and success criteria. ``None`` leaves that part alone.

    ``expected_updated_at`` (the plan's updated_at when the form was loaded) makes a save over
    someone else's newer save fail with Conflict instead of silently overwriting it.
    """
    current = _LOCKED_PLAN.get(pk=plan.pk)
    _require(permissions.can_edit(current, actor), edit_refusal_reason(current, actor))
    if expected_updated_at is not None and current.updated_at != expected_updated_at:
        raise Conflict("Someone saved this plan after you opened it. Reload to see their "
                           "changes, then apply yours again.")
    fields = fields or {}
    before = _field_values(current, _editable(fields))
    _set_fields(current, fields)
    # The audit names what the save changed, not every field the form sent.
    changed = sorted(name for name, value in _field_values(current, fields).items()
                     if value != before[name])
    current.save()  # always: updated_at is the content identity the detail cache keys on
    if steps is not None:
        _write_steps(plan=current, steps=steps)
    if success_criteria is not None:
        _write_criteria(plan=current, items=success_criteria)
    if current.source is not None:
        _rewrite_source(current)
    _record_editor(current, actor)
    log(events.PLAN_EDITED, actor=actor, obj=current, plan=current,
        payload={"fields": changed, "steps": None if steps is None else len(steps),
                 "success_criteria": None if success_criteria is None
                 else len(success_criteria)})
    return current


def _rewrite_source(plan: Plan) -> None:
    """After an edit of an imported plan, whose text (its revision, export and hash) is its
    source with the edited fields rewritten in place: that text must read back as the fields,
    or the page and the reviewed text would disagree; such an edit is refused, in the caller's
    transaction, so nothing is saved. The import report then describes that text (its warnings
    and their lines), not the text as first imported."""
    read_content(plan)  # the content just written, in one statement
    document = document_from_plan(plan)
    problems, report = read_back(patch_source(plan.source, document), document)
    if problems:
        raise ValidationError(
            "This edit cannot be written into the plan's Markdown so that it reads back as "
            f"entered: {'; '.join(problems)}. Nothing was saved. Look for a code block left "
            "open (```) or a heading line in what you entered: they take in the text after "
            "them.")
    plan.import_report = report.as_dict()
    plan.save(update_fields=["import_report"])


def edit_refusal_reason(plan: Plan, actor) -> str:
    if not plan.is_editable:
        return (f"This plan {status_phrase(plan.status)}; it can be edited only as a draft "
                "or after it is sent back for revision.")
    return "Only the plan's author or an admin can edit this plan."


@transaction.atomic
def plan_import_markdown(*, actor, text: str | bytes, plan: Plan | None = None) -> Plan:
    """Create a plan from any Markdown plan, or replace an editable plan's content with one.

    Nothing is refused for its shape: what the importer recognises fills the plan, the text is
    kept as the plan's source (its export and content hash), and what it noticed is in
    ``plan.import_report`` (warnings with their lines, template sections found). Raises
    MarkdownImportError, before anything is written, only for text that is too large, not UTF-8,
    has a NUL character or only blank lines.
    """
    source = decode_plan(text)  # kept as given: its export is these bytes
    document, report = parse_plan_with_warnings(source)
    if plan is None:
        plan = Plan.objects.create(author=actor)
        action = events.PLAN_IMPORTED
    else:
        plan = _refresh_for_write(plan)
        _require(permissions.can_edit(plan, actor), "You cannot edit this plan.")
        action = events.PLAN_EDITED
    apply_document(plan=plan, document=document, source=source)
    plan.import_report = report.as_dict()
    plan.save(update_fields=["import_report"])
    _record_editor(plan, actor)
    log(action, actor=actor, obj=plan, plan=plan,
        payload={"source": "markdown", "warnings": len(report.warnings)})
    return plan


@transaction.atomic
def apply_document(*, plan: Plan, document: PlanDocument, source: str | None = None) -> None:
    """Write a document's content into a saved plan with the editor's writers, so its steps
    keep their ids; the status is left alone. Callers check permission (plan_import_markdown).

    ``source`` is the text the document was read from (None for a document built in code: the
    plan then exports in the template's layout). A Created date not written YYYY-MM-DD is kept
    only in that text. Raises MarkdownImportError (``line`` None) when a value built in code
    does not fit the models, and writes nothing then (the importer's values always fit).
    """
    steps = [
        {"title": step.title, "objective": step.objective, "dependencies": step.dependencies,
         "estimate": step.estimate, "risk": step.risk, "notes": step.notes,
         "actions": [(action.text, action.checked) for action in step.actions],
         "files": [(change.path, change.description) for change in step.files]}
        for step in document.steps
    ]  # fmt: skip
    prose = set(schema.prose_keys())
    try:
        plan.sections = {}
        _set_fields(plan, {
            "title": document.title, "created_on": created_date(document.created),
            **{key: document.sections.get(key, "") for key in prose},
            "review_checklist": document.review_checklist,
            "extra_sections": [{"heading": e.heading, "body": e.body, "after": e.after}
                               for e in document.extra_sections],
        })  # fmt: skip
        plan.source = source  # as given, its line endings too (not _text's)
        plan.source_sha256 = "" if source is None else text_revision_hash(source)
        # A section's own text (a group's before its subsections, the steps' introduction).
        plan.sections.update({key: _text(text) for key, text in document.sections.items()
                              if key not in prose and text})
        plan.save()
        _write_steps(plan=plan, steps=steps)
        _write_criteria(plan=plan, items=[(c.text, c.checked) for c in document.success_criteria])
    except ValidationError as exc:
        message = " ".join(exc.messages)  # "Step 2: ..." -> "step 2: ...", as the importer says
        raise MarkdownImportError(None, message[:1].lower() + message[1:]) from None


@transaction.atomic
def plan_start_from(*, actor, plan: Plan) -> Plan:
    """A new draft with another plan's content (typically a rejected plan, whose decision is
    final): the way to start again. The copy is the text the plan's latest state holds, read
    as an import reads it, so an imported plan keeps its own layout; the new plan has no
    revisions, reviews or comments. Audited on the new plan, naming the one it came from."""
    _require(permissions.can_start_from(plan, actor),
             "Only the plan's author or an admin can start a new plan from it.")
    source_plan = Plan.objects.select_for_update().get(pk=plan.pk)
    imported = source_plan.source is not None
    text = export_plan(source_plan) if imported else content_hash_text(source_plan)
    document, report = parse_plan_with_warnings(text)
    copy = Plan.objects.create(author=actor)
    apply_document(plan=copy, document=document, source=text if imported else None)
    copy.import_report = report.as_dict() if imported else {}
    copy.save(update_fields=["import_report"])
    _record_editor(copy, actor)
    revision = source_plan.revisions.order_by("-number").only("number").first()
    log(events.PLAN_STARTED_FROM, actor=actor, obj=copy, plan=copy,
        payload={"from_plan": source_plan.pk, "from_status": source_plan.status,
                 "from_revision": revision.number if revision else None,
                 "title": copy.title})
    return copy


def missing_for_submission(plan: Plan) -> list[str]:
    """What must be filled in before review, in the words the author sees (Plan's own check,
    also the submit transition's condition)."""
    return plan.missing_for_submission()


def revision_snapshot(plan: Plan) -> tuple[str, str]:
    """The Markdown a revision of the plan holds and its SHA-256: an imported plan's own text
    (with what was edited since rewritten in place), else the canonical template layout."""
    text = content_hash_text(plan)
    return text, hashlib.sha256(text.encode()).hexdigest()


def text_revision_hash(text: str | bytes) -> str:
    """The content hash a revision would have if this exact text were imported and submitted:
    what `plangate verify` compares with the approved revision's hash. An imported plan's
    revision is its text, so this is the SHA-256 of the text itself (UTF-8, line endings as LF,
    no BOM). Raises MarkdownImportError for text that is too large, not UTF-8 or has a NUL."""
    return hashlib.sha256(normalise_text(text).encode()).hexdigest()


def submission_sections() -> list[schema.Section]:
    """The sections an admin may require before submission: the author's '##' sections."""
    return [s for s in schema.top_level() if s.kind not in schema.REVIEWER_KINDS]


@transaction.atomic
def submission_rule_update(*, actor, required: list[str]) -> SubmissionRule:
    """Set which sections must be filled in before a plan is submitted (admins only); audited
    with the rule before and after. Plans already under review are not affected."""
    _require(is_admin(actor), "Only an admin can change which sections submission requires.")
    allowed = [section.key for section in submission_sections()]
    unknown = sorted(set(required) - set(allowed))
    if unknown:
        raise ValidationError(f"Not a section that can be required: {', '.join(unknown)}.")
    before = SubmissionRule.required_keys()
    rule = SubmissionRule.objects.select_for_update().order_by("pk").first() or SubmissionRule()
    rule.required = [key for key in allowed if key in required]  # in schema order
    rule.updated_by = actor
    rule.save()
    log(events.SUBMISSION_RULE_CHANGED, actor=actor, obj=rule,
        payload={"from": before, "to": rule.required})
    return rule


@transaction.atomic
def plan_submit(*, actor, plan: Plan) -> PlanRevision:
    """Send a draft (or a plan sent back for revision) for review, freezing a new revision."""
    plan = _refresh_for_write(plan)
    if plan.status == PlanStatus.PENDING_REVIEW and (plan.author_id == actor.pk
                                                     or is_admin(actor)):
        # Submitted a moment ago (another tab, a double click): stale, not forbidden. A decided
        # plan is refused below (a rejection is final; an approved plan takes an amendment).
        raise Conflict(f"This plan {status_phrase(plan.status)}: there is nothing to submit.")
    # What the checks and the revision's text read, and the latest revision: one statement.
    previous = read_content(plan)
    _require(permissions.can_submit(plan, actor), "Only the author can submit this plan.")
    if plan.archived_at is not None:
        raise ValidationError("This plan is archived: take it out of the archive to submit it.")
    # The rule is read once: the checks below and the transition's own condition all ask.
    plan.submission_required = SubmissionRule.required_keys()
    missing = missing_for_submission(plan)
    if missing:
        raise ValidationError("Fill in before submitting: " + "; ".join(missing) + ".")
    # The state machine's own gate (source state, conditions, permission) agrees.
    _require(has_transition_perm(plan.submit, actor), "Only the author can submit this plan.")
    previous_status = plan.status
    try:
        plan.submit()
        # Only what the transition changed (updated_at too: the content identity pages key on).
        plan.save(update_fields=["status", "updated_at"])
    except (ConcurrentTransition, TransitionNotAllowed) as exc:
        raise Conflict() from exc
    content, content_hash = revision_snapshot(plan)
    previous_number, previous_hash = previous or (None, None)
    revision = PlanRevision.objects.create(
        plan=plan, number=(previous_number or 0) + 1, content=content,
        content_hash=content_hash, created_by=actor,
    )
    # Approvals are bound to a content hash (reviews/policy.py): an unchanged resubmission keeps
    # them, a changed one makes them stale.
    unchanged = previous is not None and previous_hash == content_hash
    event = events.PLAN_RESUBMITTED if previous is not None else events.PLAN_SUBMITTED
    notify_plan_event(event=event, plan=plan, actor=actor, revision=revision)
    # The audit entry last: the chain's lock is held from here until the commit, and every
    # other write waits for it (audit/log.py).
    log(event, actor=actor, obj=plan, plan=plan, revision_hash=content_hash,
        payload={"from": previous_status, "to": plan.status, "revision": revision.number,
                 "previous_revision": previous_number,
                 "content_unchanged": unchanged})
    if unchanged and previous_status == PlanStatus.DRAFT:
        for settle in UNCHANGED_RESUBMISSION:
            settle(plan=plan, revision=revision)
    return revision


#: Called, in the submission's transaction, after a withdrawn plan's text is resubmitted
#: unchanged (the approvals of that text still count): the reviews app approves the plan at
#: once when they meet the policy (reviews/apps.py fills it), rather than at the next decision.
#: (Not after a send-back: the reviewer who asked for changes reviews again.)
UNCHANGED_RESUBMISSION: list = []


@transaction.atomic
def plan_withdraw(*, actor, plan: Plan) -> Plan:
    """The author takes a plan under review back to draft."""
    plan = _refresh_for_write(plan)
    _require(permissions.can_withdraw(plan, actor) and has_transition_perm(plan.withdraw, actor),
             "Only the author can withdraw this plan.")
    try:
        plan.withdraw()
        plan.save(update_fields=["status", "updated_at"])
    except (ConcurrentTransition, TransitionNotAllowed) as exc:
        raise Conflict() from exc
    revision = plan.revisions.order_by("-number").first()
    log(events.PLAN_WITHDRAWN, actor=actor, obj=plan, plan=plan,
        revision_hash=revision.content_hash if revision else "",
        payload={"from": PlanStatus.PENDING_REVIEW, "to": plan.status})
    notify_plan_event(event=events.PLAN_WITHDRAWN, plan=plan, actor=actor)
    return plan


# --- putting drafts away ----------------------------------------------------------------------
@transaction.atomic
def plan_delete(*, actor, plan: Plan) -> None:
    """Delete a draft that was never submitted (nothing was reviewed or approved on it). Its
    audit entries stay, naming it; a plan that ever had a revision can only be archived."""
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    _require(permissions.can_delete(plan, actor),
             "Only a draft that was never submitted can be deleted, by its author or an admin;"
             " archive it instead.")
    log(events.PLAN_DELETED, actor=actor, obj=plan, plan=plan,
        payload={"title": plan.title, "status": plan.status, "with": _cascade(plan)})
    plan.delete()


def _cascade(plan: Plan) -> dict[str, int]:
    """What deleting the plan deletes with it, by model (steps, and any comment or concern
    someone left on the draft), so the audit entry says what went."""
    collector = Collector(using=router.db_for_write(Plan))
    collector.collect([plan])
    counts = Counter({model._meta.label: len(rows) for model, rows in collector.data.items()
                      if model is not Plan})
    for queryset in collector.fast_deletes:
        counts[queryset.model._meta.label] += queryset.count()
    return {label: n for label, n in sorted(counts.items()) if n}


def _set_archived(*, actor, plan: Plan, archived: bool) -> Plan:
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    _require(permissions.can_archive(plan, actor),
             f"This plan {status_phrase(plan.status)}; only a draft, a plan sent back for "
             "revision or a rejected plan can be archived, by its author or an admin.")
    if (plan.archived_at is not None) == archived:
        return plan  # already so: nothing to record
    plan.archived_at = timezone.now() if archived else None
    # Not save(): updated_at is the content identity (the detail cache, the editor's check).
    Plan.objects.filter(pk=plan.pk).update(archived_at=plan.archived_at)
    log(events.PLAN_ARCHIVED if archived else events.PLAN_UNARCHIVED, actor=actor, obj=plan,
        plan=plan, payload={"status": plan.status})
    return plan


@transaction.atomic
def plan_archive(*, actor, plan: Plan) -> Plan:
    """Hide a plan from the plan lists (its page, history and audit stay)."""
    return _set_archived(actor=actor, plan=plan, archived=True)


@transaction.atomic
def plan_unarchive(*, actor, plan: Plan) -> Plan:
    return _set_archived(actor=actor, plan=plan, archived=False)
