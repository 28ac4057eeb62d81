"""Reads for the API: the dicts the output serializers render, the plan's ETag, the feedback an
agent acts on, and the verification of a text against approvals. Counting approvals is the
certificate's (reviews/certificate.py) and hashing is plans.services.text_revision_hash: neither
is re-implemented here."""

from __future__ import annotations

import hashlib
import re

from django.db import connection
from django.shortcuts import get_object_or_404

from plans import selectors as plan_selectors
from plans.markdown import ImportReport
from plans.models import APPROVED_STATES, Plan, PlanRevision, PlanStatus, PlanStep
from plans.services import text_revision_hash
from reviews import selectors as review_selectors
from reviews.certificate import (
    AMENDMENT_STATES,
    Amendment,
    approval_certificate,
    certified_revision,
    standing_approval,
)
from reviews.conversation import lines_of
from reviews.forms import SECTION_LABELS
from reviews.models import Answer, ChecklistAnswer, ChecklistItem, Comment, Concern, Review


def _username(user) -> str:
    return user.get_username() if user is not None else ""


# --- plans ----------------------------------------------------------------------------------------
def plan_summary(plan: Plan, request) -> dict:
    return {"id": plan.pk, "title": plan.title, "status": plan.status,
            "url": request.build_absolute_uri(plan.get_absolute_url()),
            "author": _username(plan.author), "updated_at": plan.updated_at}


def _revision(revision: PlanRevision | None) -> dict | None:
    if revision is None:
        return None
    return {"number": revision.number, "sha256": revision.content_hash,
            "created_at": revision.created_at}


def approved_revision(plan: Plan) -> PlanRevision | None:
    """The revision the plan's certificate is for; only that part of it is read."""
    return certified_revision(plan)


def _amendment(amendment: Amendment | None) -> dict | None:
    """An amendment of the approved revision that is not decided yet: its revision and state."""
    if amendment is None:
        return None
    return {"revision": amendment.revision.number, "sha256": amendment.revision.content_hash,
            "state": amendment.state}


def plan_data(pk: int, request) -> dict:
    """The plan JSON of the contract (a fixed number of queries whatever its size)."""
    plan = plan_selectors.plan_with_content(pk)
    revision = plan.revisions.order_by("-number").first()
    # The revision approved now (the certificate's, only that part of it read): during an
    # amendment, the one approved before it.
    standing = standing_approval(plan)
    approved = standing.revision if standing else None
    steps = [
        {"id": step.pk, "number": number, "title": step.title, "risk": step.risk,
         "estimate": step.estimate, "files": [f.path for f in step.files.all() if f.path]}
        for number, step in enumerate(plan.steps.all(), start=1)
    ]
    return {
        **plan_summary(plan, request), "revision": _revision(revision),
        "approved_sha256": approved.content_hash if approved else None,
        "amendment": _amendment(standing.amendment if standing else None),
        "created_at": plan.created_at,
        "missing_for_submission": plan.missing_for_submission() if plan.is_editable else [],
        "import_report": _import_report(plan),
        "steps": steps,
    }


def _import_report(plan: Plan) -> dict | None:
    """What the last import of the plan's Markdown noticed (None for a plan made in the
    editor): the same report the plan page shows."""
    if not plan.import_report:
        return None
    report = ImportReport.from_dict(plan.import_report)
    return {"conformance": report.conformance(), "sections_missing": report.sections_missing,
            "warnings": [warning.as_dict() for warning in report.warnings]}


#: One statement of scalar subqueries, written out: the ORM would spend longer building seven
#: subqueries on every poll than the database spends answering them. The tables are the models'
#: (plans.Plan, PlanRevision, reviews.Review, ChecklistAnswer, Comment, Concern).
ETAG_SQL = """
SELECT p.status, p.updated_at,
  (SELECT MAX(id) FROM plans_planrevision WHERE plan_id = p.id),
  (SELECT MAX(id) FROM reviews_review WHERE plan_id = p.id),
  (SELECT MAX(decided_at) FROM reviews_review WHERE plan_id = p.id),
  (SELECT MAX(a.answered_at) FROM reviews_checklistanswer a
     JOIN reviews_review r ON a.review_id = r.id WHERE r.plan_id = p.id),
  (SELECT MAX(id) FROM reviews_comment WHERE plan_id = p.id),
  (SELECT MAX(edited_at) FROM reviews_comment WHERE plan_id = p.id),
  (SELECT COUNT(resolved_at) FROM reviews_comment WHERE plan_id = p.id),
  (SELECT MAX(resolved_at) FROM reviews_comment WHERE plan_id = p.id),
  (SELECT MAX(id) FROM reviews_concern WHERE plan_id = p.id),
  (SELECT MAX(resolved_at) FROM reviews_concern WHERE plan_id = p.id)
FROM plans_plan p WHERE p.id = %s
"""


def plan_etag(pk: int) -> str | None:
    """A validator of everything the plan JSON and its feedback show: status and content
    (updated_at moves on every save and transition), the current revision, reviews and their
    decisions, checklist answers, comments (posted, edited, resolved or reopened), concerns
    raised or resolved. One small query;
    None for an unknown plan.

    An id out of the id column's range is unknown without a query, as the ORM (and so
    core.compiled, which leaves such ids to it) answers it: SQLite's driver cannot even send
    one (OverflowError)."""
    low, high = connection.ops.integer_field_range(Plan._meta.pk.get_internal_type())
    if not low <= pk <= high:
        return None
    with connection.cursor() as cursor:
        cursor.execute(ETAG_SQL, [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    digest = hashlib.sha256("|".join(map(str, row)).encode()).hexdigest()[:32]
    return f'"p{pk}-{digest}"'


# --- feedback -------------------------------------------------------------------------------------
def _step_ref(step: PlanStep | None, numbers: dict[int, int]) -> dict | None:
    if step is None:
        return None
    return {"id": step.pk, "number": numbers.get(step.pk, step.position + 1),
            "title": step.title}


def _anchor(section: str, step: dict | None) -> str:
    if step is not None:
        return f"Step {step['number']}: {step['title']}"
    return SECTION_LABELS.get(section, section) or "Whole plan"


def _lines(start, end) -> dict | None:
    return {"from": start, "to": end} if start is not None else None


def _comments(plan: Plan, revision, numbers: dict[int, int]) -> list[dict]:
    """Every comment, oldest first, with its thread's state on the current revision: where
    its anchor stands now (``lines``, None when outdated or not anchored), where it was
    written (``anchored_lines`` of ``revision``), outdated, resolved. Replies carry their
    thread's state."""
    lines = lines_of(revision.content) if revision else []
    comments = list(Comment.objects.filter(plan=plan)
                    .select_related("author", "step", "resolved_by", "revision")
                    .defer("revision__content").order_by("created_at", "id"))
    state = {}
    for c in comments:
        if c.parent_id is None:
            placed, outdated, _moved = review_selectors.placement(c, revision, lines)
            state[c.pk] = {
                "thread": c.pk, "revision": c.revision.number if c.revision else None,
                "anchored_lines": _lines(c.line_from, c.line_to),
                "anchored_text": c.anchor_text,
                "lines": _lines(*placed) if placed else None, "outdated": outdated,
                "resolved": c.is_resolved, "resolved_by": _username(c.resolved_by) or None,
                "section": c.section, "step": _step_ref(c.step, numbers),
            }
    return [
        {"id": c.pk, "author": _username(c.author), "body": c.body, "parent": c.parent_id,
         "created_at": c.created_at, "edited_at": c.edited_at,
         **state[c.parent_id or c.pk]}
        for c in comments
    ]


def feedback_data(plan: Plan) -> dict:
    """Decisions, comments and concerns (each with its section or step), and the checklist
    items answered "No" on the current revision; plus all of it as Markdown."""
    numbers = {pk: n for n, pk in enumerate(
        PlanStep.objects.filter(plan=plan).values_list("pk", flat=True), start=1)}
    revision = plan.revisions.order_by("-number").first()
    reviews = list(Review.objects.filter(plan=plan).exclude(decision="")
                   .select_related("reviewer", "revision").defer("revision__content")
                   .order_by("decided_at", "id"))
    decisions = [{"reviewer": _username(r.reviewer), "decision": r.decision,
                  "comment": r.comment, "revision": r.revision.number,
                  "decided_at": r.decided_at} for r in reviews]
    comments = _comments(plan, revision, numbers)
    concerns = [
        {"id": c.pk, "title": c.title, "body": c.body, "raised_by": _username(c.raised_by),
         "resolved": not c.is_open, "section": c.section, "step": _step_ref(c.step, numbers),
         "created_at": c.created_at}
        for c in Concern.objects.filter(plan=plan).select_related("raised_by", "step")
    ]
    checklist_no = [] if revision is None else [
        {"reviewer": _username(a.review.reviewer), "item": a.item_text, "note": a.note}
        for a in ChecklistAnswer.objects.filter(review__revision=revision, answer=Answer.NO)
        .select_related("review__reviewer").order_by("review_id", "id")
    ]
    data = {"status": plan.status, "revision": revision.number if revision else None,
            "decisions": decisions, "comments": comments, "concerns": concerns,
            "checklist_no": checklist_no}
    data["markdown"] = feedback_markdown(plan, data)
    return data


def _quote(text: str) -> str:
    return "\n".join(f"  > {line}" if line else "  >" for line in text.strip().splitlines())


def _thread_state(c: dict) -> str:
    where = []
    if c["lines"]:
        where.append(f"lines {c['lines']['from']}–{c['lines']['to']}")
    if c["outdated"]:
        old = c["anchored_lines"]
        where.append(f"outdated: revision {c['revision']}'s lines {old['from']}–{old['to']} "
                     "have changed since")
    where.append(f"resolved by {c['resolved_by']}" if c["resolved"] else "open")
    return ", ".join(where)


def _fenced(text: str) -> list[str]:
    """``text`` as a fenced block inside a list item, its fence longer than any in the text."""
    runs = [len(run) for run in re.findall(r"~+", text)]
    fence = "~" * max(4, max(runs, default=0) + 1)
    return [f"  {fence}", *(f"  {line}" if line else "" for line in text.splitlines()),
            f"  {fence}"]


def _comments_markdown(comments: list[dict]) -> list[str]:
    """Threads grouped under the section or step they are on, open ones first; each with its
    lines on the current revision (or why it is outdated), then its replies."""
    replies: dict[int, list[dict]] = {}
    for c in comments:
        if c["parent"] is not None:
            replies.setdefault(c["thread"], []).append(c)
    roots = sorted((c for c in comments if c["parent"] is None),
                   key=lambda c: (c["resolved"], c["outdated"]))
    groups: dict[str, list[dict]] = {}
    for c in roots:
        groups.setdefault(_anchor(c["section"], c["step"]), []).append(c)
    lines = ["## Comments", ""]
    for anchor, threads in groups.items():
        lines += [f"### {anchor}", ""]
        for c in threads:
            edited = " (edited)" if c["edited_at"] else ""
            lines.append(f"- {c['author']} ({_thread_state(c)}){edited}:")
            lines.append(_quote(c["body"]))
            if c["outdated"] and c["anchored_text"]:
                lines.append("  Written on these lines (changed since):")
                lines += _fenced(c["anchored_text"])
            for r in replies.get(c["id"], []):
                lines.append(f"  - {r['author']} replied" + (" (edited)" if r["edited_at"]
                                                             else "") + ":")
                lines.append("\n".join("  " + line for line in _quote(r["body"]).splitlines()))
        lines.append("")
    return lines


def feedback_markdown(plan: Plan, data: dict) -> str:
    """What an agent reads to revise the plan: comments grouped under the section or step they
    are anchored to, open concerns, "No" answers, then the decisions."""
    revision = f", revision {data['revision']}" if data["revision"] else ""
    lines = [f"# Feedback on “{plan}” (plan {plan.pk}{revision}): {plan.get_status_display()}",
             ""]
    open_concerns = [c for c in data["concerns"] if not c["resolved"]]
    if open_concerns:
        lines += ["## Open concerns (block approval)", ""]
        for c in open_concerns:
            lines.append(f"- **{c['title']}** ({_anchor(c['section'], c['step'])}, raised by "
                         f"{c['raised_by']})")
            if c["body"]:
                lines.append(_quote(c["body"]))
        lines.append("")
    if data["checklist_no"]:
        lines += ["## Checklist items answered “No”", ""]
        for a in data["checklist_no"]:
            lines.append(f"- {a['item']} ({a['reviewer']})" + (f": {a['note']}" if a["note"]
                                                              else ""))
        lines.append("")
    if data["comments"]:
        lines += _comments_markdown(data["comments"])
    if data["decisions"]:
        lines += ["## Decisions", ""]
        for d in data["decisions"]:
            lines.append(f"- {d['reviewer']}: {d['decision']} (revision {d['revision']})")
            if d["comment"]:
                lines.append(_quote(d["comment"]))
        lines.append("")
    if len(lines) == 2:
        lines += ["No feedback yet.", ""]
    return "\n".join(lines)


# --- reviews --------------------------------------------------------------------------------------
def review_data(review_id: int) -> dict:
    review = get_object_or_404(Review.objects.select_related("reviewer", "revision")
                               .defer("revision__content"), pk=review_id)
    items = (ChecklistItem.objects.filter(group__template=review.checklist_id)
             .select_related("group").order_by("group__position", "group_id", "position", "id"))
    return {
        "id": review.pk, "plan": review.plan_id, "revision": review.revision.number,
        "reviewer": _username(review.reviewer), "decision": review.decision,
        "comment": review.comment, "decided_at": review.decided_at,
        "checklist": [{"item": i.pk, "text": i.text, "group": i.group.title} for i in items],
        "answers": [{"item": a.item_id, "text": a.item_text, "group": a.group_title,
                     "answer": a.answer, "note": a.note} for a in review.answers.all()],
    }


# --- verification ---------------------------------------------------------------------------------
STATE_OF_STATUS = {
    PlanStatus.DRAFT: "draft", PlanStatus.PENDING_REVIEW: "pending",
    PlanStatus.NEEDS_REVISION: "needs_revision", PlanStatus.REJECTED: "rejected",
}
AMENDMENT_PHRASES = {"pending": "waiting for review",
                     "needs_revision": "sent back for revision",
                     "draft": "withdrawn to a draft"}
REASONS = {
    "draft": "Plan {plan} is a draft: it has not been submitted for review.",
    "pending": "Plan {plan} is waiting for review; it is not approved yet.",
    "needs_revision": "Plan {plan} was sent back for revision; it is not approved.",
    "rejected": "Plan {plan} was rejected.",
}


def verify_text(text: str, plan_id: int | None = None) -> dict:
    """Is exactly this text approved? (MarkdownImportError for text that is not a plan.)"""
    return verify_hash(text_revision_hash(text), plan_id)


#: What an answer adds while an amendment of the approved revision is not decided.
AMENDMENT_NOTES = {
    "pending": "An amendment of it (revision {amended}) is under review: revision {approved} "
               "stays approved until the amendment is approved.",
    "draft": "An amendment of it (revision {amended}) was withdrawn to a draft: revision "
             "{approved} stays approved.",
    "needs_revision": "An amendment of it (revision {amended}) was sent back for revision: "
                      "revision {approved} stays approved.",
}


def _answer(sha256: str, state: str, reason: str, plan: Plan | None = None,
            revision: int | None = None, certificate=None,
            amendment: Amendment | None = None) -> dict:
    return {
        "approved": state == "approved", "state": state, "reason": reason, "sha256": sha256,
        "plan": plan.pk if plan else None, "revision": revision,
        "approved_by": [_username(r.reviewer) for r in certificate.approvals]
        if certificate else [],
        "approved_at": certificate.approved_at if certificate else None,
        "policy": {**certificate.policy, "recorded": certificate.policy_recorded,
                   "high_risk": certificate.high_risk} if certificate else None,
        "amendment": _amendment(amendment),
    }


def verify_hash(sha256: str, plan_id: int | None = None) -> dict:
    """The approval state of the text whose content hash is ``sha256``.

    The plan is the one named, else a plan with a revision of this hash (an approved one
    first). approved: its approval certificate is for this hash. changed: the plan is
    approved, but for another text. Otherwise the plan's status says why not; unknown: no plan.
    """
    sha256 = sha256.lower()
    revisions = PlanRevision.objects.filter(content_hash=sha256).select_related("plan")
    if plan_id is not None:
        plan = Plan.objects.filter(pk=plan_id).first()
        if plan is None:
            return _answer(sha256, "unknown", f"There is no plan {plan_id}.")
        candidates = [plan]
    else:
        candidates = list({r.plan_id: r.plan for r in revisions.order_by("-id")}.values())
        if not candidates:
            return _answer(sha256, "unknown", "No plan was ever submitted with this exact text.")
        # A plan whose approval stands first: approved, else one with an amendment of an
        # approval (only those are asked: two queries each).
        candidates.sort(key=lambda p: (p.status not in APPROVED_STATES,
                                       p.status not in AMENDMENT_STATES
                                       or standing_approval(p) is None))
    plan = candidates[0]
    matching = revisions.filter(plan=plan).order_by("-number").first()
    number = matching.number if matching else None
    certificate = approval_certificate(plan, records=False)  # the approvals, not the work
    if certificate is not None and certificate.revision is not None:
        approved, amendment = certificate.revision, certificate.amendment
        note = "" if amendment is None else " " + AMENDMENT_NOTES[amendment.state].format(
            amended=amendment.revision.number, approved=approved.number)
        if approved.content_hash == sha256:
            names = ", ".join(_username(r.reviewer) for r in certificate.approvals) or "no one"
            return _answer(sha256, "approved",
                           f"Revision {approved.number} of plan {plan.pk} is approved (by "
                           f"{names}).{note}", plan, approved.number, certificate, amendment)
        if amendment is not None and amendment.revision.content_hash == sha256:
            # The amendment's own text is not approved until it is: its state says why not.
            return _answer(sha256, amendment.state,
                           f"Revision {amendment.revision.number} of plan {plan.pk} is an "
                           f"amendment {AMENDMENT_PHRASES[amendment.state]}; it is not approved. "
                           f"Revision {approved.number} stays approved meanwhile.",
                           plan, amendment.revision.number, amendment=amendment)
        return _answer(sha256, "changed",
                       f"Plan {plan.pk} is approved as revision {approved.number}, but this "
                       f"text differs from it: it changed since approval.{note}", plan, number,
                       amendment=amendment)
    state = STATE_OF_STATUS.get(plan.status, "unknown")
    reason = REASONS.get(state, "Plan {plan} is not approved.").format(plan=plan.pk)
    if matching is None and plan.revisions.exists():
        reason += " This text is not any submitted revision of it."
    return _answer(sha256, state, reason, plan, number)
