"""Every write of the review workflow: reviews, answers, decisions, concerns, comments, requests.

Each service runs in one transaction, locks the plan row (select_for_update) and re-checks the
plan's state and current revision inside the lock, so two people clicking at once never both act
on a stale state: the loser gets Conflict (HTTP 409). Every service writes the audit trail and
records notifications (delivered on commit).
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from accounts.roles import REVIEWERS, is_admin, is_reviewer
from audit.log import append, log, new_entry
from audit.models import AuditEntry
from core.cache import SharedValue
from core.compiled import CompiledQuery
from core.errors import Conflict, NotAllowed, ValidationError, echoed
from notifications import events as notification_events
from notifications.models import OutboxMessage, ReminderKind
from notifications.services import notify_plan_event, remind_once
from plans import permissions as plan_permissions
from plans.models import Plan, PlanEditor, PlanRevision, PlanStatus, PlanStep
from plans.services import revision_snapshot

from . import conversation, events, permissions, policy
from .models import (
    Answer,
    ChecklistAnswer,
    ChecklistGroup,
    ChecklistItem,
    ChecklistTemplate,
    Comment,
    CommentEdit,
    Concern,
    Decision,
    Review,
    ReviewPolicy,
    ReviewRequest,
)

NOT_UNDER_REVIEW = "This plan is no longer under review. Reload the page."
REVISION_CHANGED = "The plan was resubmitted since you loaded it: this revision is stale. Reload."
ALREADY_DECIDED = "You already decided on this revision; a decision is final."


# The reads every review write makes under its locks, compiled once (core.compiled): built by
# the ORM at each call they cost the write more CPU than the database took to answer them.
# With its author (who most notifications go to); only the plan row is locked.
_LOCKED_PLAN = CompiledQuery(lambda pk: Plan.objects.select_for_update(of=("self",))
                             .select_related("author").filter(pk=pk))
# A review, with what its audit entries name (str(review)); only the review row is locked. Read
# under the plan's lock, so whether its revision is still the current one, and whether its
# reviewer edits the plan, are as fresh as a query of their own would be.
_LOCKED_REVIEW = CompiledQuery(lambda pk, plan_id: (
    Review.objects.select_for_update(of=("self",))
    .select_related("reviewer", "revision").defer("revision__content")
    .annotate(outdated=Exists(PlanRevision.objects.filter(
                  plan_id=plan_id, number__gt=OuterRef("revision__number"))),
              reviewer_edits=Exists(PlanEditor.objects.filter(
                  plan_id=plan_id, user_id=OuterRef("reviewer_id"))))
    .filter(pk=pk, plan_id=plan_id)))
# The current revision, and whether the actor edits the plan.
_CURRENT_REVISION_AND_EDITS = CompiledQuery(lambda plan_id, actor_id: (
    PlanRevision.objects.filter(plan_id=plan_id).defer("content")
    .annotate(actor_edits=Exists(PlanEditor.objects.filter(plan_id=plan_id, user_id=actor_id)))
    .order_by("-number")[:1]))
# The actor's latest review of the plan, whichever revision it is of.
_LATEST_REVIEW = CompiledQuery(lambda plan_id, reviewer_id: (
    Review.objects.filter(plan_id=plan_id, reviewer_id=reviewer_id)
    .select_related("revision").defer("revision__content")
    .order_by("-revision__number")[:1]))

# A review's answers to the items of a checklist.
_ANSWERS_ON_CHECKLIST = CompiledQuery(lambda review_id, checklist_id: ChecklistAnswer.objects
                                      .filter(review_id=review_id,
                                              item__group__template=checklist_id))


def _lock_plan(plan_id: int) -> Plan:
    return _LOCKED_PLAN.get(pk=plan_id)


def _lock_review(review: Review) -> tuple[Plan, Review, PlanRevision | None]:
    """Lock the plan, then the review (always in that order), and load the current revision.
    (A review never moves to another plan: the plan id the caller's review has is used.)"""
    plan_id = review.plan_id or Review.objects.values_list("plan_id", flat=True).get(pk=review.pk)
    plan = _lock_plan(plan_id)
    review = _LOCKED_REVIEW.get(pk=review.pk, plan_id=plan.pk)
    review.plan = review.revision.plan = plan
    current = policy.current_revision(plan) if review.outdated else review.revision
    return plan, review, current


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotAllowed(message)


NO_DEFAULT_CHECKLIST = "No default review checklist is configured (ask an admin)."


def default_checklist() -> ChecklistTemplate:
    template = ChecklistTemplate.objects.filter(is_default=True).first()
    if template is None:
        raise ValidationError(NO_DEFAULT_CHECKLIST)
    return template


def _load_default_checklist_id() -> int | None:
    return ChecklistTemplate.objects.filter(is_default=True).values_list("pk", flat=True).first()


#: The id of the checklist new reviews get (shared; read afresh after any template change
#: commits: signals connected in ReviewsConfig.ready).
DEFAULT_CHECKLIST_ID = SharedValue("default-checklist", _load_default_checklist_id)


def _check_current(plan: Plan, review: Review, current: PlanRevision | None,
                   expected_revision: int | None) -> None:
    if plan.status != PlanStatus.PENDING_REVIEW:
        raise Conflict(NOT_UNDER_REVIEW)
    if current is None or review.revision_id != current.pk:
        raise Conflict(REVISION_CHANGED)
    if expected_revision is not None and int(expected_revision) != current.number:
        if not 1 <= int(expected_revision) < current.number:  # numbers run 1, 2, … the latest
            raise Conflict(f"Plan {plan.pk} has no revision {int(expected_revision)} (its "
                           f"latest is {current.number}).")
        raise Conflict(REVISION_CHANGED)


# --- reviews ------------------------------------------------------------------------------------
@transaction.atomic
def review_start(*, actor, plan: Plan) -> Review:
    """Open (or return) the actor's review of the plan's current revision.

    A reviewer who reviewed an earlier revision starts from their earlier answers (not their
    decision), each marked as carried over from that revision and unconfirmed: the review page
    shows them as such, with what changed since, and the reviewer confirms or changes each one
    before deciding (review_decide).
    """
    plan = _lock_plan(plan.pk)
    # The current revision, and whether the actor edits the plan, in one query (under the lock).
    revision = _CURRENT_REVISION_AND_EDITS.first(plan_id=plan.pk, actor_id=actor.pk)
    if revision is not None:
        revision.plan = plan  # what the audit entry names (str(review))
    editors = None if revision is None else {actor.pk} if revision.actor_edits else set()
    if not policy.may_review(plan, actor, editor_ids=editors):
        # Say why: most often the actor is in no reviewer role at all.
        raise NotAllowed(
            "Only reviewers review plans: you are not one (ask an admin to add you to the "
            f"{REVIEWERS} group)." if not (actor.is_active and is_reviewer(actor)) else
            "You cannot review this plan: you are its author or one of its editors, and they "
            "never review it.")
    if plan.status != PlanStatus.PENDING_REVIEW:
        raise Conflict(NOT_UNDER_REVIEW)
    # The actor's latest review of this plan: of the current revision (then it is returned), or
    # else of an earlier one (its answers are carried over).
    latest = _LATEST_REVIEW.first(plan_id=plan.pk, reviewer_id=actor.pk)
    if latest is not None and latest.revision_id == revision.pk:
        return latest
    checklist_id = DEFAULT_CHECKLIST_ID.get()
    if checklist_id is None:
        raise ValidationError(NO_DEFAULT_CHECKLIST)
    review = Review.objects.create(
        plan=plan, revision=revision, reviewer=actor, checklist_id=checklist_id
    )
    previous = latest
    copied = 0
    if previous is not None:
        # Only answers to items on the new review's checklist.
        rows = [
            ChecklistAnswer(review=review, item_id=a.item_id, group_title=a.group_title,
                            item_text=a.item_text, answer=a.answer, note=a.note,
                            carried_from_id=previous.revision_id, confirmed=False)
            for a in _ANSWERS_ON_CHECKLIST.all(review_id=previous.pk,
                                               checklist_id=review.checklist_id)
        ]
        copied = len(ChecklistAnswer.objects.bulk_create(rows))
        if copied:
            review.answers_carried_from_id = previous.revision_id
            review.save(update_fields=["answers_carried_from"])
    log(events.REVIEW_STARTED, actor=actor, obj=review, plan=plan,
        revision_hash=revision.content_hash,
        payload={"revision": revision.number, "answers_copied": copied,
                 "copied_from_revision": previous.revision.number if copied else None})
    return review


@transaction.atomic
def review_answer(*, actor, review: Review, item: ChecklistItem | int, answer: str,
                  note: str = "", expected_revision: int | None = None) -> ChecklistAnswer:
    """Save one checklist answer (yes / no / na, optional note); keeps the item's text.

    Saving an answer carried over from an earlier revision unchanged confirms it (it stays
    marked as carried); a different answer or note is this revision's own answer.
    """
    plan, review, current = _lock_review(review)
    _require(permissions.owns_review(review, actor), "This is not your review.")
    if review.decision:
        raise Conflict("This review is decided; a decision is final for its revision.")
    _check_current(plan, review, current, expected_revision)
    if answer not in Answer.values:
        raise ValidationError("Answer yes, no or N/A.")
    item_id = item.pk if isinstance(item, ChecklistItem) else item
    item = (ChecklistItem.objects.select_related("group")
            .filter(pk=item_id, group__template=review.checklist_id).first())
    if item is None:
        raise ValidationError("That item is not on this review's checklist.")
    note = note.strip()
    before = ChecklistAnswer.objects.filter(review=review, item=item).first()
    carried = before.carried_from_id if before is not None else None
    if before is not None and (before.answer, before.note) != (answer, note):
        carried = None  # changed: no longer the earlier revision's answer
    row, _ = ChecklistAnswer.objects.update_or_create(
        review=review, item=item,
        defaults={"group_title": item.group.title, "item_text": item.text, "answer": answer,
                  "note": note, "carried_from_id": carried, "confirmed": True},
    )
    payload = {"item": item.text, "answer": answer, "note": row.note}
    if before is not None and before.needs_confirmation:
        payload["carried"] = "confirmed" if carried else "changed"
    log(events.REVIEW_ANSWERED, actor=actor, obj=review, plan=plan,
        revision_hash=current.content_hash, payload=payload)
    return row


def unconfirmed_answers(review: Review) -> list[ChecklistAnswer]:
    """Answers carried over from an earlier revision that the reviewer has not yet confirmed
    or changed on this one; a decision waits for none."""
    return list(review.answers.filter(carried_from__isnull=False, confirmed=False)
                .select_related("carried_from").only("item_text", "carried_from__number"))


#: The ValidationError code of an approval refused for its checklist (the review page lists the
#: items with links instead of naming them).
APPROVAL_INCOMPLETE = "approval_incomplete"
UNANSWERED, ANSWERED_NO = "unanswered", "answered No"
EMPTY_CHECKLIST = ("This review's checklist has no items, so there is nothing to approve "
                   "against: an admin must add items to it (Admin → Checklist templates) first.")


def missing_for_approval(review: Review) -> tuple[list[tuple[ChecklistItem, str]], int]:
    """The checklist items an approval is waiting for, each with why (UNANSWERED or
    ANSWERED_NO: an approval needs neither), in checklist order; and how many items it has."""
    answers = {a.item_id: a for a in review.answers.all()}
    items = list(ChecklistItem.objects.filter(group__template=review.checklist_id)
                 .select_related("group")
                 .order_by("group__position", "group_id", "position", "id"))
    missing = []
    for item in items:
        answer = answers.get(item.pk)
        if answer is None:
            missing.append((item, UNANSWERED))
        elif answer.answer == Answer.NO:
            missing.append((item, ANSWERED_NO))
    return missing, len(items)


def approval_refusal(missing: list[tuple[ChecklistItem, str]], total: int, *,
                     named: int = 3) -> str:
    """Why an approval is refused: how many items are unanswered (of ``total``) and answered
    No, each with the first ``named`` of them, not every item at length."""
    parts = []
    for kind in (UNANSWERED, ANSWERED_NO):
        texts = [item.text for item, why in missing if why == kind]
        if not texts:
            continue
        count = f"{len(texts)} of {total}" if kind == UNANSWERED else str(len(texts))
        listed = ""
        if named:
            more = f" and {len(texts) - named} more" if len(texts) > named else ""
            listed = ": " + "; ".join(texts[:named]) + more
        parts.append(f"{count} {kind}{listed}")
    return ("To approve, answer every checklist item and none with No: "
            + (". " if named else ", ").join(parts) + ".")


@transaction.atomic
def review_decide(*, actor, review: Review, decision: str, comment: str = "",
                  expected_revision: int | None = None) -> Review:
    """Record the reviewer's decision on the current revision, then apply the policy's outcome."""
    plan, review, current = _lock_review(review)
    _require(permissions.owns_review(review, actor), "This is not your review.")
    # (The actor is the reviewer: whether they edit the plan was read with their review.)
    _require(policy.may_review(plan, actor, editor_ids={actor.pk} if review.reviewer_edits
                               else set()),
             "You cannot decide on your own plan.")
    if review.decision:
        raise Conflict(ALREADY_DECIDED)
    _check_current(plan, review, current, expected_revision)
    comment = (comment or "").strip()
    if decision not in Decision.values:
        raise ValidationError("Choose approve, needs revision or reject.")
    carried = unconfirmed_answers(review) if review.answers_carried_from_id else []
    if carried:
        raise ValidationError(
            f"Confirm or change the {len(carried)} answer{'s' if len(carried) != 1 else ''} "
            f"carried over from revision {carried[0].carried_from.number} before deciding: "
            + "; ".join(a.item_text for a in carried) + "."
        )
    if decision == Decision.APPROVED:
        missing, total = missing_for_approval(review)
        if missing:
            raise ValidationError(approval_refusal(missing, total), code=APPROVAL_INCOMPLETE)
        if not total:  # a checklist without items: nothing was checked, so nothing approves
            raise ValidationError(EMPTY_CHECKLIST)
    elif not comment:
        raise ValidationError(
            "Say what to change or why: a comment is required to ask for revision or reject."
        )
    review.decision = decision
    review.comment = comment
    review.decided_at = timezone.now()
    review.save(update_fields=["decision", "comment", "decided_at"])
    decided = new_entry(events.REVIEW_DECIDED, actor=actor, obj=review, plan=plan,
                        revision_hash=current.content_hash,
                        payload={"decision": decision, "comment": comment,
                                 "revision": current.number})
    _apply_outcome(plan=plan, actor=actor, revision=current, review=review, decided=decided)
    if plan.status == PlanStatus.PENDING_REVIEW:
        # The author hears once per click: the outcome event (approved, sent back, rejected,
        # carrying this comment) when the decision settles the plan, else review.decided.
        notify_plan_event(event=events.REVIEW_DECIDED, plan=plan, actor=actor, revision=current,
                          review=review, comment=comment)
    return review


def _apply_outcome(*, plan: Plan, actor, revision: PlanRevision, review: Review | None = None,
                   decided: AuditEntry | None = None):
    """Move a plan under review to the policy's outcome (call with the plan row locked and
    ``revision`` its current revision). ``decided``: the decision's audit entry, appended
    here, before the outcome's (one append for both)."""
    status = policy.evaluate_plan(plan, revision)
    target = status.outcome
    earlier = [decided] if decided is not None else []
    if plan.status != PlanStatus.PENDING_REVIEW or target == PlanStatus.PENDING_REVIEW:
        append(*earlier)
        return status
    transition = {
        PlanStatus.APPROVED: plan.approve,
        PlanStatus.NEEDS_REVISION: plan.request_revision,
        PlanStatus.REJECTED: plan.reject,
    }[target]
    previous = plan.status
    plan.known_revision = revision  # the transition's condition (a revision exists) holds
    try:  # the transition checks its own conditions once, here
        transition()
        # Only what a transition changes: the row is not rewritten, and nothing the search
        # index reads changed (insights rebuilds nothing).
        plan.save(update_fields=["status", "updated_at"])
    except (ConcurrentTransition, TransitionNotAllowed) as exc:
        raise Conflict() from exc
    event = events.OUTCOME_EVENTS[target]
    notify_plan_event(event=event, plan=plan, actor=actor, revision=revision, review=review,
                      comment=review.comment if review else "")
    # The audit entries last: the chain's lock is held from here until the commit, and every
    # other write waits for it (audit/log.py).
    append(*earlier, new_entry(
        event, actor=actor, obj=plan, plan=plan, revision_hash=revision.content_hash,
        payload={
            "from": previous, "to": plan.status, "revision": revision.number,
            "approvals": sorted(r.reviewer.get_username() for r in status.approvals),
            "decision_review": review.pk if review else None,
            "policy": status.policy,
            # Whether the policy took the plan as high-risk, as its steps were then: the
            # certificate says it even once an amendment has changed them.
            "high_risk": status.requirements.high_risk,
        },
    ))
    return status


# --- concerns -----------------------------------------------------------------------------------
def _step_of(plan: Plan, step) -> PlanStep | None:
    if step in (None, ""):
        return None
    step_id = step.pk if isinstance(step, PlanStep) else int(step)
    found = PlanStep.objects.filter(plan=plan, pk=step_id).first()
    if found is None:
        raise ValidationError("That step is not part of this plan.")
    return found


@transaction.atomic
def concern_raise(*, actor, plan: Plan, title: str, body: str = "", section: str = "",
                  step=None) -> Concern:
    """A named blocking concern; while open, the plan cannot be approved."""
    plan = _lock_plan(plan.pk)
    if plan.status in permissions.FINAL:
        raise Conflict("This plan's review is over; its decision is final.")
    _require(permissions.can_raise_concern(plan, actor),
             "Only a reviewer of this plan (or an admin) can raise a concern.")
    title = (title or "").strip()
    if not title:
        raise ValidationError("Name the concern.")
    # A concern is on the plan as it stands: its section is one of the current revision's (of a
    # draft never submitted: of its text as it stands).
    revision = policy.current_revision(plan)
    section = (section or "").strip()
    if section:
        section = _section_title(plan, revision, section)
    concern = Concern.objects.create(
        plan=plan, raised_by=actor, title=title[:200], body=(body or "").strip(),
        section=section[:100], step=_step_of(plan, step),
    )
    log(events.CONCERN_RAISED, actor=actor, obj=concern, plan=plan,
        revision_hash=revision.content_hash if revision else "",
        payload={"title": concern.title, "section": concern.section, "step": concern.step_id})
    notify_plan_event(event=events.CONCERN_RAISED, plan=plan, actor=actor, revision=revision,
                      comment=concern.title)
    return concern


@transaction.atomic
def concern_resolve(*, actor, concern: Concern) -> Concern:
    """Only the raiser or an admin resolves; resolving may complete an approval."""
    plan = _lock_plan(concern.plan_id)
    concern = Concern.objects.select_for_update().get(pk=concern.pk)
    if not concern.is_open:
        raise Conflict("This concern is already resolved.")
    _require(permissions.can_resolve_concern(concern, actor, plan=plan),
             "Only the reviewer who raised this concern, or an admin who is not the plan's "
             "author or editor, can resolve it.")
    concern.resolved_by = actor
    concern.resolved_at = timezone.now()
    concern.save(update_fields=["resolved_by", "resolved_at"])
    revision = policy.current_revision(plan)
    log(events.CONCERN_RESOLVED, actor=actor, obj=concern, plan=plan,
        revision_hash=revision.content_hash if revision else "",
        payload={"title": concern.title})
    if plan.status == PlanStatus.PENDING_REVIEW and revision is not None:
        _apply_outcome(plan=plan, actor=actor, revision=revision)
    return concern


# --- comments: threads anchored on a revision's lines -------------------------------------------
COMMENT_EDIT_WINDOW = permissions.COMMENT_EDIT_WINDOW
_MENTION = re.compile(r"(?<![\w@.])@([\w.+-]+)")
MAX_MENTIONS = 20  # one comment notifies at most this many people


def mentioned_users(body: str, plan: Plan, actor=None) -> list:
    """The active users an ``@username`` in ``body`` names who may see the plan (the actor
    aside: naming oneself notifies no one)."""
    names = {name.rstrip(".-+") for name in _MENTION.findall(body or "")}
    if not names:
        return []
    if len(names) > MAX_MENTIONS:
        raise ValidationError(f"Mention at most {MAX_MENTIONS} people in one comment.")
    users = (get_user_model().objects.filter(username__in=names, is_active=True)
             .exclude(pk=getattr(actor, "pk", None)).order_by("pk"))
    return [u for u in users if plan_permissions.can_view(plan, u)]


def _nth_step(plan: Plan, number: int) -> PlanStep | None:
    """The plan's step number ``number`` (from 1), or None when it has no such step (a number
    past its steps is never sent to the database: a huge OFFSET is refused there)."""
    steps = PlanStep.objects.filter(plan=plan).order_by("position", "id")
    if not 1 <= number <= steps.count():
        return None
    return steps[number - 1:number].first()


def _section_title(plan: Plan, revision: PlanRevision | None, section: str) -> str:
    """The own spelling of the section titled ``section`` (whatever its case) in ``revision``,
    or, with none (a draft never submitted), in the plan's text as it stands. A title it does
    not have is refused, naming the ones it has: filed on the plan as a whole instead, the
    comment or concern would silently lose what it is about."""
    if revision is None:
        text, content_hash = revision_snapshot(plan)
        outline = conversation.outline_of(content_hash, lambda: text)
        what = "This draft"
    else:
        outline, what = conversation.outline(revision), f"Revision {revision.number}"
    sections = outline.commentable  # (the checklist and approval are the app's own forms)
    title = next((t for t in sections if t.lower() == section.lower()), None)
    if title is None:
        raise ValidationError({"section": [
            f"{what} has no section “{section}”; its sections: "
            f"{'; '.join(sections) or 'none'} (or leave section out: the whole plan)."]})
    return title


def _anchor(plan: Plan, *, revision: int | None, section: str, step_number: int | None,
            line_from: int | None, line_to: int | None) -> dict:
    """The anchor's fields: the revision, its lines (a range, a step's or a section's) and their
    text; a section the revision does not have is refused (_section_title). No revision yet (a
    draft never submitted): the comment is on the plan as a whole, under one of its sections as
    it stands, or on one of its steps."""
    revisions = PlanRevision.objects.filter(plan=plan)
    chosen = (revisions.filter(number=revision) if revision else
              revisions.order_by("-number")).first()
    if revision and chosen is None:
        raise ValidationError(f"This plan has no revision {revision}.")
    section = (section or "").strip()
    if chosen is None and section:
        section = _section_title(plan, None, section)
    fields = {"section": section[:100]}
    if chosen is None and (line_from or line_to):
        raise ValidationError("This plan has no revision yet, so no lines to comment on: "
                              "comment on the whole plan, a section or a step.")
    if chosen is None and step_number:  # a draft's step, as the plan has it now
        step = _nth_step(plan, step_number)
        if step is None:
            raise ValidationError(f"This plan has no step {step_number}.")
        return {**fields, "step": step}
    if chosen is None or not (line_from or step_number or section):
        return fields
    outline = conversation.outline(chosen)
    title = _section_title(plan, chosen, section) if section else ""
    fields["section"] = title[:100]
    lines = conversation.lines_of(chosen.content)
    if line_from or line_to:
        line_from, line_to = line_from or line_to, line_to or line_from
        if not 1 <= line_from <= line_to <= len(lines):
            raise ValidationError(
                f"Choose lines between 1 and {len(lines)} of revision {chosen.number}, the first "
                "no later than the last.")
        if not "".join(lines[line_from - 1:line_to]).strip():
            raise ValidationError("Those lines are blank: choose lines with text on them.")
        step_number = step_number or conversation.section_of(outline, line_from)[1]
    elif step_number:
        if step_number not in outline.steps:
            raise ValidationError(f"Revision {chosen.number} has no step {step_number}.")
        line_from, line_to, _title = outline.steps[step_number]
    else:
        line_from, line_to = outline.sections[title]
    if not fields["section"]:
        fields["section"] = conversation.section_of(outline, line_from)[0][:100]
    text = "\n".join(lines[line_from - 1:line_to])
    step = _nth_step(plan, step_number) if step_number else None
    return {**fields, "revision": chosen, "line_from": line_from, "line_to": line_to,
            "anchor_text": text, "anchor_hash": conversation.anchor_hash(text), "step": step}


def _log_mentions(*, actor, plan: Plan, comment: Comment, revision, users: list) -> None:
    if users:
        log(events.COMMENT_MENTIONED, actor=actor, obj=comment, plan=plan,
            revision_hash=revision.content_hash if revision else "",
            payload={"users": [u.get_username() for u in users]})


def _notify_comment(*, plan: Plan, actor, comment: Comment, body: str, mentioned: list) -> None:
    """Who takes part hears of the comment (the plan's author, its reviewers under way and, for
    a reply, everyone in the thread); whoever it names hears they are named (once)."""
    revision = policy.current_revision(plan)
    named = {u.pk for u in mentioned}
    audience = [user for name in events.COMMENT_POSTED.notify.audience
                for user in notification_events.audience(name)(plan, revision)]
    if comment.parent_id is not None:
        thread = Comment.objects.filter(Q(pk=comment.parent_id) | Q(parent=comment.parent_id))
        audience += get_user_model().objects.filter(
            pk__in=thread.values("author_id")).order_by("pk")
    notify_plan_event(event=events.COMMENT_POSTED, plan=plan, actor=actor, revision=revision,
                      comment=body, recipients=[u for u in audience if u.pk not in named])
    if mentioned:
        notify_plan_event(event=events.COMMENT_MENTIONED, plan=plan, actor=actor,
                          revision=revision, comment=body, recipients=mentioned)


@transaction.atomic
def comment_post(*, actor, plan: Plan, body: str, parent: Comment | None = None,
                 section: str = "", step=None, step_number: int | None = None,
                 revision: int | None = None, line_from: int | None = None,
                 line_to: int | None = None) -> Comment:
    """Start a thread, or reply to one (a reply to a reply joins its thread).

    A thread is anchored, most precise first, on ``line_from``..``line_to`` of revision number
    ``revision`` (default: the current one), on step ``step_number`` of it (or the plan's step
    ``step``, a PlanStep or its id), or on the section titled ``section``; else on the plan as
    a whole. ``@username`` notifies that user when they may see the plan.
    """
    plan = _lock_plan(plan.pk)
    _require(permissions.can_comment(plan, actor), "You cannot comment on this plan.")
    body = (body or "").strip()
    if not body:
        raise ValidationError("Write a comment.")
    if parent is not None:
        if parent.plan_id != plan.pk:
            raise ValidationError("You can only reply to a comment on the same plan.")
        while parent.parent_id is not None:
            parent = parent.parent
        comment = Comment.objects.create(plan=plan, author=actor, parent=parent, body=body)
    else:
        if step not in (None, "") and not step_number:
            chosen = _step_of(plan, step)
            step_number = list(PlanStep.objects.filter(plan=plan).order_by("position", "id")
                               .values_list("pk", flat=True)).index(chosen.pk) + 1
        anchor = _anchor(plan, revision=revision, section=section, step_number=step_number,
                         line_from=line_from, line_to=line_to)
        comment = Comment.objects.create(plan=plan, author=actor, body=body, **anchor)
    current = policy.current_revision(plan)
    mentioned = mentioned_users(body, plan, actor)
    log(events.COMMENT_POSTED, actor=actor, obj=comment, plan=plan,
        revision_hash=current.content_hash if current else "",
        payload={"parent": comment.parent_id, "section": comment.section,
                 "step": comment.step_id, "revision": comment.revision.number
                 if comment.revision else None, "lines": [comment.line_from, comment.line_to]
                 if comment.line_from else None})
    _log_mentions(actor=actor, plan=plan, comment=comment, revision=current, users=mentioned)
    _notify_comment(plan=plan, actor=actor, comment=comment, body=body, mentioned=mentioned)
    return comment


def _lock_comment(comment: Comment) -> tuple[Plan, Comment]:
    plan = _lock_plan(comment.plan_id)
    return plan, Comment.objects.select_for_update().get(pk=comment.pk)


@transaction.atomic
def comment_edit(*, actor, comment: Comment, body: str, now=None) -> Comment:
    """Its author changes a comment within COMMENT_EDIT_WINDOW of posting it; the earlier text
    is kept (CommentEdit) and the comment shows as edited. Newly named users are notified."""
    plan, comment = _lock_comment(comment)
    now = now or timezone.now()
    _require(permissions.can_edit_comment(comment, actor, now=now),
             "Only its author can edit a comment, within "
             f"{int(COMMENT_EDIT_WINDOW.total_seconds() // 60)} minutes of posting it.")
    body = (body or "").strip()
    if not body:
        raise ValidationError("Write a comment.")
    if body == comment.body:
        return comment
    CommentEdit.objects.create(comment=comment, body=comment.body,
                               written_at=comment.edited_at or comment.created_at)
    previous = comment.body
    # Everyone named in any earlier version heard already: removing a name and adding it back
    # does not notify them again.
    earlier = [previous, *comment.edits.values_list("body", flat=True)]
    before = {u.pk for text in earlier for u in mentioned_users(text, plan, actor)}
    comment.body, comment.edited_at = body, now
    comment.save(update_fields=["body", "edited_at"])
    revision = policy.current_revision(plan)
    added = [u for u in mentioned_users(body, plan, actor) if u.pk not in before]
    log(events.COMMENT_EDITED, actor=actor, obj=comment, plan=plan,
        revision_hash=revision.content_hash if revision else "",
        payload={"before": previous, "after": body})
    _log_mentions(actor=actor, plan=plan, comment=comment, revision=revision, users=added)
    if added:
        notify_plan_event(event=events.COMMENT_MENTIONED, plan=plan, actor=actor,
                          revision=revision, comment=body, recipients=added)
    return comment


def _thread_set(*, actor, comment: Comment, resolved: bool) -> Comment:
    plan, comment = _lock_comment(comment)
    if comment.parent_id is not None:
        raise ValidationError("Resolve or reopen the thread, from its first comment.")
    _require(permissions.can_resolve_thread(plan, actor),
             "Only the plan's author and its reviewers resolve or reopen a thread.")
    if comment.is_resolved == resolved:
        raise Conflict("This thread is already resolved." if resolved
                       else "This thread is already open.")
    comment.resolved_at = timezone.now() if resolved else None
    comment.resolved_by = actor if resolved else None
    comment.save(update_fields=["resolved_at", "resolved_by"])
    revision = policy.current_revision(plan)
    log(events.THREAD_RESOLVED if resolved else events.THREAD_REOPENED, actor=actor,
        obj=comment, plan=plan, revision_hash=revision.content_hash if revision else "",
        payload={"comment": comment.pk})
    return comment


@transaction.atomic
def thread_resolve(*, actor, comment: Comment) -> Comment:
    """Mark a thread resolved (it folds away; anyone can still read and reopen it)."""
    return _thread_set(actor=actor, comment=comment, resolved=True)


@transaction.atomic
def thread_reopen(*, actor, comment: Comment) -> Comment:
    return _thread_set(actor=actor, comment=comment, resolved=False)


# --- review requests ------------------------------------------------------------------------------
@transaction.atomic
def review_request(*, actor, plan: Plan, users=(), groups=()) -> list[ReviewRequest]:
    """Ask named reviewers and/or groups to review; returns the requests that reached someone
    new: the new ones, and a group's earlier request when members who joined it since were
    notified now (none when all were asked already: then nobody is notified again)."""
    plan = _lock_plan(plan.pk)
    _require(permissions.can_request_reviewers(plan, actor),
             "Only the plan's author or an admin can request reviewers.")
    users, groups = list(users), list(groups)
    if not users and not groups:
        raise ValidationError("Name a reviewer or a group.")
    editors = policy.editor_ids(plan)
    ineligible = [u.get_username() for u in users if not policy.may_review(plan, u,
                                                                           editor_ids=editors)]
    if ineligible:
        raise ValidationError(
            "Cannot review this plan (not a reviewer, or its author or editor): "
            + echoed(", ".join(ineligible)) + "."
        )
    existing = ReviewRequest.objects.filter(plan=plan)
    have_users = set(existing.exclude(user=None).values_list("user_id", flat=True))
    have_groups = set(existing.exclude(group=None).values_list("group_id", flat=True))
    # Whoever was asked already is not asked (nor notified, nor audited) again.
    users = [u for u in users if u.pk not in have_users]
    recipients = {u.pk: u for u in users}
    # A group asked before reaches, when asked again, only its members who were never notified
    # of a request for this plan (they joined it since) and have not reviewed it.
    reached = _notified_of_requests(plan) if have_groups & {g.pk for g in groups} else set()
    again = []
    for group in groups:
        members = get_user_model().objects.filter(groups=group, is_active=True)
        eligible = [m for m in members if policy.may_review(plan, m, editor_ids=editors)]
        if not eligible:
            raise ValidationError(
                f"No one in the {group.name} group can review this plan (it needs a member of "
                "the Reviewers group who is not the plan's author or editor)."
            )
        if group.pk in have_groups:
            newcomers = [m for m in eligible if m.pk not in have_users | reached]
            if newcomers:
                again.append(group)
            eligible = newcomers
        for member in eligible:
            if member.pk not in have_users:
                recipients.setdefault(member.pk, member)
    groups = [g for g in groups if g.pk not in have_groups]
    if not users and not groups and not again:
        return []
    created = [
        ReviewRequest.objects.create(plan=plan, user=u, requested_by=actor) for u in users
    ] + [
        ReviewRequest.objects.create(plan=plan, group=g, requested_by=actor) for g in groups
    ]
    log(events.REVIEW_REQUESTED, actor=actor, obj=plan, plan=plan,
        payload={"users": [u.get_username() for u in users], "groups": [g.name for g in groups],
                 "groups_asked_again": [g.name for g in again],
                 "notified": sorted(u.get_username() for u in recipients.values()),
                 "notified_ids": sorted(recipients)})
    notify_plan_event(event=events.REVIEW_REQUESTED, plan=plan, actor=actor,
                      revision=policy.current_revision(plan), recipients=list(recipients.values()))
    return created + list(existing.filter(group__in=again))


def _notified_of_requests(plan: Plan) -> set[int]:
    """The ids of who was notified of a request to review ``plan`` (each request's audit entry
    has them; for entries older than that, the outbox's rows: one per recipient and channel,
    none for someone who turned both off), or has reviewed it."""
    payloads = AuditEntry.objects.filter(
        plan=plan, action=events.REVIEW_REQUESTED.name).values_list("payload", flat=True)
    outbox = OutboxMessage.objects.filter(
        plan=plan, event=events.REVIEW_REQUESTED.name, recipient__isnull=False)
    return {
        *(pk for payload in payloads for pk in (payload or {}).get("notified_ids", ())),
        *outbox.values_list("recipient_id", flat=True),
        *Review.objects.filter(plan=plan).values_list("reviewer_id", flat=True),
    }


@transaction.atomic
def review_rerequest(*, actor, plan: Plan, reviewer) -> ReviewRequest:
    """Ask a reviewer who reviewed this plan to review it again (after a revision, typically);
    only that reviewer is notified. Returns their (possibly existing) named review request."""
    plan = _lock_plan(plan.pk)
    _require(permissions.can_request_reviewers(plan, actor),
             "Only the plan's author or an admin can ask for a review again.")
    if plan.status != PlanStatus.PENDING_REVIEW:
        raise Conflict(NOT_UNDER_REVIEW)
    if not reviewer.is_active:
        # A form error, not a 403: the author did nothing wrong, the button was just stale.
        raise ValidationError(f"{reviewer.get_full_name() or reviewer.get_username()} is "
                              "deactivated: ask someone else.")
    revision = policy.current_revision(plan)
    reviews = list(Review.objects.filter(plan=plan).select_related("reviewer")
                   .order_by("revision__number", "id"))
    if reviewer.pk not in {u.pk for u in permissions.rerequestable(plan, reviews,
                                                                   revision)}:
        raise ValidationError(
            f"{reviewer.get_username()} cannot be asked again: only a reviewer who reviewed "
            "this plan and has not decided on its current revision can.")
    _require(policy.may_review(plan, reviewer), f"{reviewer.get_username()} cannot review "
             "this plan (not a reviewer, or its author or editor).")
    request, created = ReviewRequest.objects.get_or_create(
        plan=plan, user=reviewer, defaults={"requested_by": actor})
    log(events.REVIEW_REREQUESTED, actor=actor, obj=plan, plan=plan,
        revision_hash=revision.content_hash,
        payload={"user": reviewer.get_username(), "revision": revision.number,
                 "new_request": created})
    notify_plan_event(event=events.REVIEW_REREQUESTED, plan=plan, actor=actor,
                      revision=revision, recipients=[reviewer])
    return request


# --- reminders ------------------------------------------------------------------------------------
def review_reminders_send(*, now=None) -> dict[str, int]:
    """Nudge reviewers about plans waiting on them longer than PLANGATE_REMINDER_AFTER_HOURS
    and tell admins about plans waiting longer than PLANGATE_ADMIN_ESCALATION_HOURS.

    A wait is one submitted revision: each (revision, kind) is reminded at most once.
    """
    now = now or timezone.now()
    remind_after = timedelta(hours=settings.PLANGATE_REMINDER_AFTER_HOURS)
    escalate_after = timedelta(hours=settings.PLANGATE_ADMIN_ESCALATION_HOURS)
    sent = {"reviewer": 0, "admin": 0}
    waits = (
        (ReminderKind.REVIEWER, events.PLAN_REMINDER, remind_after, "reviewer"),
        (ReminderKind.ADMIN, events.PLAN_ESCALATED, escalate_after, "admin"),
    )
    plans = Plan.objects.filter(status=PlanStatus.PENDING_REVIEW).select_related("author")
    for plan in plans:
        revision = policy.current_revision(plan)
        if revision is None:
            continue
        waited = now - revision.created_at
        for kind, event, after, counter in waits:
            if waited >= after and remind_once(
                revision_id=revision.pk, kind=kind,
                notify=partial(_remind, event=event, plan=plan, revision=revision, now=now),
            ):
                sent[counter] += 1
    return sent


def _remind(*, event, plan: Plan, revision: PlanRevision, now) -> None:
    hours = (now - revision.created_at).total_seconds() / 3600
    log(event, obj=plan, plan=plan, revision_hash=revision.content_hash,
        payload={"revision": revision.number, "waited_hours": round(hours, 1)})
    notify_plan_event(event=event, plan=plan, actor=None, revision=revision)


# --- admin: review policy, checklists -------------------------------------------------------------
# The Django admin writes these rows only through the services below (reviews/admin.py). Each
# checks that the actor is an admin, validates, writes, and records one audit entry whose payload
# has the same keys whether the row was added, changed or deleted.
ONLY_DEFAULT = ("“{template}” is the default review checklist (new reviews use it). To change "
                "the default, tick “Is default” on the template that should replace it.")
NO_DEFAULT = ("No checklist template is the default, and new reviews need one: tick “Is "
              "default” on this template or another one.")


def _log_policy(*, actor, row: ReviewPolicy, change: str, fields) -> None:
    log(events.POLICY_CHANGED, actor=actor, obj=row, payload={
        "change": change, "fields": list(fields), "policy": policy.describe_policy(row),
    })


@transaction.atomic
def policy_save(*, actor, policy: ReviewPolicy, required_groups, high_risk_required_groups,
                changed_fields, created: bool) -> ReviewPolicy:
    """Save a review policy (new or edited) with its groups; audited with the saved policy."""
    _require(is_admin(actor), "Only admins change the review policy.")
    policy.full_clean()
    policy.save()
    policy.required_groups.set(required_groups)
    policy.high_risk_required_groups.set(high_risk_required_groups)
    _log_policy(actor=actor, row=policy, change="added" if created else "changed",
                fields=changed_fields)
    transaction.on_commit(partial(_settle_under_review, actor), robust=True)
    return policy


def settle_resubmission(*, plan: Plan, revision: PlanRevision) -> None:
    """Text resubmitted unchanged keeps the approvals it had (policy.py): when they meet the
    policy, the plan is approved now (an entry of no one's: no one acted), not at the next
    decision. One query when no approval of this text exists."""
    if Review.objects.filter(plan=plan, decision=Decision.APPROVED,
                             revision__content_hash=revision.content_hash).exists() \
            and not _awaits_a_new_decision(plan, revision):
        _apply_outcome(plan=plan, actor=None, revision=revision)


def _awaits_a_new_decision(plan: Plan, revision: PlanRevision) -> bool:
    """The plan was sent back (or rejected) before, and nobody decided on ``revision`` yet: only
    a decision settles it, never earlier approvals on their own (else withdrawing and
    resubmitting, or a policy save, would approve it past the reviewer who sent it back)."""
    decided = Review.objects.filter(plan=plan).exclude(decision="")
    return decided.filter(decision__in=[Decision.NEEDS_REVISION, Decision.REJECTED]) \
        .exclude(revision=revision).exists() and not decided.filter(revision=revision).exists()


def _settle_under_review(actor) -> None:
    """Once a policy change committed: a plan under review whose decisions now meet it moves on
    (approved, say, once fewer approvals are required), as the next decision would have moved
    it; its outcome's audit entry names the admin who changed the policy. Each plan in a
    transaction of its own, taking its row and then the audit chain, as every write does (the
    policy's own transaction held the chain: locking plans under it could deadlock); only
    plans with an approval, the only ones it can approve."""
    pending = (Plan.objects.filter(status=PlanStatus.PENDING_REVIEW,
                                   reviews__decision=Decision.APPROVED)
               .distinct().order_by("pk").values_list("pk", flat=True))
    for plan_id in pending:
        try:
            with transaction.atomic():
                plan = _lock_plan(plan_id)
                revision = policy.current_revision(plan)
                if plan.status == PlanStatus.PENDING_REVIEW and revision is not None \
                        and not _awaits_a_new_decision(plan, revision):
                    _apply_outcome(plan=plan, actor=actor, revision=revision)
        except Conflict:
            continue  # it changed meanwhile: its own next decision settles it


@transaction.atomic
def policy_delete(*, actor, policy: ReviewPolicy) -> None:
    """Delete a review policy; the entry records the policy as it was. Approvals already given
    keep the policy they were given under (recorded in their plan.approved entries)."""
    _require(is_admin(actor), "Only admins change the review policy.")
    _log_policy(actor=actor, row=policy, change="deleted", fields=[])
    policy.delete()
    transaction.on_commit(partial(_settle_under_review, actor), robust=True)


def _template_of(obj) -> ChecklistTemplate:
    if isinstance(obj, ChecklistTemplate):
        return obj
    if isinstance(obj, ChecklistGroup):
        return obj.template
    if isinstance(obj, ChecklistItem):
        return obj.group.template
    raise TypeError(f"Not part of a checklist: {obj!r}")


def _log_checklist(*, actor, obj, change: str, fields, inlines_changed: bool) -> None:
    log(events.CHECKLIST_CHANGED, actor=actor, obj=_template_of(obj), payload={
        "change": change, "object": f"{obj._meta.model_name} {obj}", "fields": list(fields),
        "inlines_changed": bool(inlines_changed),
    })


def _settle_default(template: ChecklistTemplate) -> None:
    """Exactly one template is the default: making ``template`` the default un-defaults the
    others; leaving no default at all is refused (the default rows are locked meanwhile)."""
    defaults = list(ChecklistTemplate.objects.select_for_update().filter(is_default=True))
    others = [t.pk for t in defaults if t.pk != template.pk]
    if template.is_default:
        ChecklistTemplate.objects.filter(pk__in=others).update(is_default=False)
    elif not others:
        stored = defaults[0] if defaults else None  # the template as saved, by its saved name
        raise ValidationError({"is_default": ONLY_DEFAULT.format(template=stored)
                               if stored else NO_DEFAULT})


@transaction.atomic
def checklist_save(*, actor, obj: ChecklistTemplate | ChecklistGroup | ChecklistItem,
                   changed_fields, created: bool, inlines_changed: bool = False):
    """Save a checklist template, group or item (new or edited); audited against its template.

    ``inlines_changed``: the same admin save also changed rows inside it (a template's groups,
    a group's items). Reviews keep the group and item text they answered, and keep the template
    they were given, so checklist edits never alter reviews already under way or given.
    """
    _require(is_admin(actor), "Only admins change review checklists.")
    if isinstance(obj, ChecklistTemplate):
        _settle_default(obj)
    obj.full_clean()
    obj.save()
    _log_checklist(actor=actor, obj=obj, change="added" if created else "changed",
                   fields=changed_fields, inlines_changed=inlines_changed)
    return obj


@transaction.atomic
def checklist_delete(*, actor, obj: ChecklistTemplate | ChecklistGroup | ChecklistItem) -> None:
    """Delete a checklist template, group or item. Answers to a deleted item keep its text.

    The default template cannot be deleted (make another one the default first), nor a template
    that reviews were given (they keep it)."""
    _require(is_admin(actor), "Only admins change review checklists.")
    if isinstance(obj, ChecklistTemplate):
        template = ChecklistTemplate.objects.select_for_update().get(pk=obj.pk)
        if template.is_default:
            raise ValidationError(
                f"“{template}” is the default review checklist (new reviews use it): make "
                "another template the default before deleting it."
            )
        used = Review.objects.filter(checklist=template).count()
        if used:
            raise ValidationError(
                f"“{template}” cannot be deleted: {used} review(s) use it, and a review keeps "
                "the checklist it was given."
            )
    _log_checklist(actor=actor, obj=obj, change="deleted", fields=[], inlines_changed=False)
    obj.delete()
