"""The bench's data: a few plans built through the services (the pages time these), and filler
written in bulk until the database has the size asked for.

``seed_fixtures()`` builds, through the same services users go through: a 1-step and a 50-step
plan, a plan under review with 1 review and one with 20, a plan with two revisions and a
conversation, an approved plan, and plans with 10 requested reviewers for the write benchmarks
(one for the single process, one per concurrent writer).
``fill(plans=N, audit_entries=M)`` then tops the database up in bulk: plans of 5 steps (each with
an action and a file) and success criteria, a third of them reviewed (a revision, a decided
review, an outcome status), inbox items, and audit entries chained onto the trail's head so that
``audit_verify`` still holds. ``fill`` can be called again with larger numbers (small, then full
size: the query counts of both are compared).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from accounts.roles import ADMINS, AUTHORS, REVIEWERS
from audit.log import GENESIS_HASH, chain_hash
from audit.models import AuditEntry
from insights import search
from notifications.models import Notification
from plans.document import CheckItem, FileChange, PlanDocument, Step
from plans.markdown import render_plan
from plans.models import (
    Plan,
    PlanRevision,
    PlanStatus,
    PlanStep,
    RiskLevel,
    StepAction,
    StepFile,
    SuccessCriterion,
)
from plans.services import plan_import_markdown, plan_submit
from reviews import services as review_services
from reviews.models import (
    Answer,
    ChecklistAnswer,
    ChecklistItem,
    Decision,
    Review,
    ReviewRequest,
)

BATCH = 2000
AUTHORS_COUNT = 20
REVIEWERS_COUNT = 20  # 20 reviews on one plan; 10 of them are requested on the write plan
RECIPIENTS = 10
COMMENTS = 20  # the conversation page's


@dataclass
class Fixtures:
    """What the pages and write benchmarks use (ids, and the users by role)."""

    users: dict = field(default_factory=dict)  # "author", "reviewer", "admin", "superuser"
    reviewers: list = field(default_factory=list)
    plan_small: int = 0
    plan_large: int = 0
    review_small: int = 0
    review_large: int = 0
    plan_diff: int = 0
    plan_approved: int = 0
    plan_writes: int = 0  # DRAFT, with RECIPIENTS requested reviewers
    plan_writes_one: int = 0  # DRAFT, with 1 requested reviewer
    plans_concurrent: list = field(default_factory=list)  # as plan_writes, one per writer


def plan_text(title: str, steps: int) -> str:
    """A complete plan (every required section, steps with actions, files, estimate, risk)."""
    doc = PlanDocument(
        title=title,
        problem_statement="Logins are slow under load: **p95 of 2 s** at peak, see the graphs.",
        existing_system="- Stock Django login\n- Sessions in the database",
        high_level_approach="- Cache sessions in Redis\n- Keep the database as the fallback",
        unit_testing="- Counter tests\n- A test per fallback path",
        rollback_if_fails="- Turn the flag off\n- Restart the web processes",
        steps=[
            Step(title=f"Step {n}: part {n} of the change",
                 objective=f"What step {n} does, with `code`, *emphasis* and a [link](/plans/).",
                 actions=[CheckItem(f"Task {n}.{i}", i == 0) for i in range(3)],
                 files=[FileChange(f"app/module_{n}.py", "What changes there")],
                 dependencies=f"Step {n - 1}" if n > 1 else "None",
                 estimate="2-3 hours", risk=("Low", "Medium")[n % 2])
            for n in range(1, steps + 1)
        ],
        success_criteria=[CheckItem(f"Criterion {i}") for i in range(3)],
    )
    return render_plan(doc)


def _group(name: str) -> Group:
    return Group.objects.get_or_create(name=name)[0]


def _users() -> dict:
    users = get_user_model().objects
    authors = [users.create_user(f"bench-author-{n}", f"author{n}@example.com", "pw",
                                 first_name=f"Author {n}") for n in range(AUTHORS_COUNT)]
    reviewers = [users.create_user(f"bench-reviewer-{n}", f"reviewer{n}@example.com", "pw",
                                   first_name=f"Reviewer {n}") for n in range(REVIEWERS_COUNT)]
    _group(AUTHORS).user_set.add(*authors)
    _group(REVIEWERS).user_set.add(*reviewers)
    admin = users.create_user("bench-admin", "admin@example.com", "pw", is_staff=True)
    _group(ADMINS).user_set.add(admin)
    superuser = users.create_superuser("bench-root", "root@example.com", "pw")
    return {"author": authors[0], "authors": authors, "reviewer": reviewers[0],
            "reviewers": reviewers, "admin": admin, "superuser": superuser}


def _answer_all(review: Review, actor) -> None:
    items = ChecklistItem.objects.filter(group__template=review.checklist_id)
    for item in items:
        review_services.review_answer(actor=actor, review=review, item=item, answer="yes")


def _answer_all_in_bulk(review: Review) -> None:
    """The same answers as _answer_all, in one insert (for the 19 other reviews of a plan)."""
    items = ChecklistItem.objects.filter(group__template=review.checklist_id).select_related(
        "group")
    ChecklistAnswer.objects.bulk_create([
        ChecklistAnswer(review=review, item=item, group_title=item.group.title,
                        item_text=item.text, answer=Answer.YES)
        for item in items
    ])


def _submitted(author, title: str, steps: int = 5, requested=()) -> Plan:
    plan = plan_import_markdown(actor=author, text=plan_text(title, steps))
    for user in requested:
        ReviewRequest.objects.create(plan=plan, user=user, requested_by=author)
    plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    return plan


def _writes_plan(author, title: str, requested) -> int:
    plan = plan_import_markdown(actor=author, text=plan_text(title, 5))
    for user in requested:
        ReviewRequest.objects.create(plan=plan, user=user, requested_by=author)
    return plan.pk


def seed_fixtures(*, writers: int = 2) -> Fixtures:
    """The named plans, through the services (a few seconds); ``writers``: how many plans for
    the concurrent writers."""
    users = _users()
    author, reviewers = users["author"], users["reviewers"]
    reviewer = reviewers[0]
    fx = Fixtures(users={k: users[k] for k in ("author", "reviewer", "admin", "superuser")},
                  reviewers=reviewers)

    fx.plan_small = plan_import_markdown(actor=author, text=plan_text("One step", 1)).pk
    fx.plan_large = plan_import_markdown(actor=author, text=plan_text("Fifty steps", 50)).pk

    plan = _submitted(author, "Under review, one review")
    fx.review_small = review_services.review_start(actor=reviewer, plan=plan).pk

    plan = _submitted(author, "Under review, twenty reviews")
    for other in reviewers:
        review = review_services.review_start(actor=other, plan=plan)
        if other == reviewer:
            _answer_all(review, other)
        else:
            _answer_all_in_bulk(review)
    fx.review_large = Review.objects.get(plan=plan, reviewer=reviewer).pk

    plan = _submitted(author, "Two revisions and a conversation", requested=[reviewer])
    review = review_services.review_start(actor=reviewer, plan=plan)
    review_services.review_decide(actor=reviewer, review=review, decision=Decision.NEEDS_REVISION,
                                  comment="Say how the fallback is tested.")
    plan.refresh_from_db()
    text = plan_text("Two revisions and a conversation", 5).replace(
        "- A test per fallback path", "- A test per fallback path\n- A test with Redis down")
    plan = plan_import_markdown(actor=author, text=text, plan=plan)
    plan_submit(actor=author, plan=plan)
    parent = None
    for n in range(COMMENTS):
        speaker = author if n % 2 else reviewers[n % 5]
        comment = review_services.comment_post(
            actor=speaker, plan=plan, body=f"Comment {n}: what about **case {n}**?",
            parent=parent if n % 3 else None)
        parent = comment if n % 3 == 0 else parent
    fx.plan_diff = plan.pk

    plan = _submitted(author, "Approved")
    review = review_services.review_start(actor=reviewer, plan=plan)
    _answer_all(review, reviewer)
    review_services.review_decide(actor=reviewer, review=review, decision=Decision.APPROVED)
    fx.plan_approved = plan.pk

    fx.plan_writes = _writes_plan(author, "Writes plan_writes", reviewers[:RECIPIENTS])
    fx.plan_writes_one = _writes_plan(author, "Writes plan_writes_one", reviewers[:1])
    fx.plans_concurrent = [_writes_plan(author, f"Writes, concurrent writer {n + 1}",
                                        reviewers[:RECIPIENTS]) for n in range(writers)]
    return fx


# --- filler, in bulk ---------------------------------------------------------------------------
_SECTIONS = {
    "problem_statement": "Something is slow; this plan makes it fast.",
    "existing_system": "- What runs today",
    "high_level_approach": "- What changes",
    "unit_testing": "- Tests",
    "rollback_if_fails": "- Turn it off",
}
_RISKS = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.LOW, RiskLevel.MEDIUM)
_OUTCOMES = ((PlanStatus.APPROVED, Decision.APPROVED), (PlanStatus.NEEDS_REVISION,
             Decision.NEEDS_REVISION), (PlanStatus.REJECTED, Decision.REJECTED),
             (PlanStatus.PENDING_REVIEW, ""))
_FILLER_TEXT = plan_text("Filler", 5)


def _bulk(model, rows: list) -> list:
    created = []
    for start in range(0, len(rows), BATCH):
        created += model.objects.bulk_create(rows[start:start + BATCH])
    return created


@transaction.atomic
def _fill_plans(count: int, fx: Fixtures) -> None:
    users = get_user_model().objects
    authors = list(users.filter(username__startswith="bench-author-").order_by("pk"))
    reviewers = list(users.filter(username__startswith="bench-reviewer-").order_by("pk"))
    checklist = review_services.default_checklist()
    existing = Plan.objects.count()
    plans = _bulk(Plan, [
        # One plan in ten is about the rate limiter: the search page's query ("rate", see
        # bench/pages.py) matches a tenth of the plans, not none and not all.
        Plan(title=f"Filler plan {existing + n}" + (" for the rate limiter" if n % 10 == 0 else ""),
             author=authors[n % len(authors)],
             sections=_SECTIONS,
             status=_OUTCOMES[n % 4][0] if n % 3 == 0 else PlanStatus.DRAFT)
        for n in range(count)
    ])
    steps = _bulk(PlanStep, [
        PlanStep(plan=plan, position=i, title=f"Step {i + 1}", objective="Do *this* part.",
                 estimate="2 hours", estimated_hours=Decimal(2), risk=_RISKS[(plan.pk + i) % 5])
        for plan in plans for i in range(5)
    ])
    _bulk(StepAction, [StepAction(step=step, text="Write it") for step in steps])
    _bulk(StepFile, [StepFile(step=step, path="app/x.py", description="Changes") for step in steps])
    _bulk(SuccessCriterion, [SuccessCriterion(plan=plan, text="It is fast") for plan in plans])
    reviewed = [(n, plan) for n, plan in enumerate(plans) if n % 3 == 0]
    revisions = _bulk(PlanRevision, [
        PlanRevision(plan=plan, number=1, content=_FILLER_TEXT, created_by=plan.author,
                     content_hash=hashlib.sha256(f"{plan.pk}{_FILLER_TEXT}".encode()).hexdigest())
        for _, plan in reviewed
    ])
    now = timezone.now()
    _bulk(Review, [
        Review(plan=plan, revision=revision, reviewer=reviewers[n % len(reviewers)],
               checklist=checklist, decision=_OUTCOMES[n % 4][1],
               comment="" if _OUTCOMES[n % 4][1] in ("", Decision.APPROVED) else "Change it.",
               decided_at=now if _OUTCOMES[n % 4][1] else None)
        for (n, plan), revision in zip(reviewed, revisions, strict=True)
    ])
    _bulk(Notification, [
        Notification(recipient=reviewers[n % len(reviewers)], event="plan.submitted", plan=plan,
                     title=f"Someone submitted “{plan.title}” for review", url=f"/plans/{plan.pk}/",
                     read_at=now if n % 2 else None)
        for n, plan in reviewed
    ])
    search.rebuild_many([plan.pk for plan in plans])  # bulk rows send no signals: index them


@transaction.atomic
def _fill_audit(count: int) -> None:
    """``count`` more entries, chained onto the trail's head (the chain stays verifiable)."""
    head = AuditEntry.objects.order_by("-id").values_list("entry_hash", "created_at").first()
    prev, start = head or (GENESIS_HASH, timezone.now() - timedelta(days=30))
    plan_ids = list(Plan.objects.order_by("?").values_list("pk", flat=True)[:2000]) or [None]
    rows = []
    for n in range(count):
        plan_id = plan_ids[n % len(plan_ids)]
        entry = AuditEntry(
            action=("plan.created", "review.answered", "comment.posted")[n % 3],
            actor_repr=f"bench-author-{n % AUTHORS_COUNT}",
            created_at=start + timedelta(microseconds=n + 1),
            object_type="plans.plan", object_id=str(plan_id or ""), plan_id=plan_id,
            object_repr=f"Filler plan {plan_id}", revision_hash="ab" * 32,
            ip_address="203.0.113.7", user_agent="Mozilla/5.0 (bench)",
            payload={"n": n, "note": "x" * 40},
        )
        entry.prev_hash = prev
        entry.entry_hash = prev = chain_hash(prev, entry)
        rows.append(entry)
        if len(rows) == BATCH:
            AuditEntry.objects.bulk_create(rows)
            rows = []
    if rows:
        AuditEntry.objects.bulk_create(rows)


def fill(*, plans: int, audit_entries: int, fx: Fixtures) -> dict:
    """Top the database up to ``plans`` plans and ``audit_entries`` audit entries."""
    more_plans = max(0, plans - Plan.objects.count())
    if more_plans:
        _fill_plans(more_plans, fx)
    more_entries = max(0, audit_entries - AuditEntry.objects.count())
    if more_entries:
        _fill_audit(more_entries)
    if more_plans or more_entries:
        _analyze()
    return counts()


def _analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would give a live database
    (without them PostgreSQL plans the bench's queries for empty tables)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def counts() -> dict:
    return {"plans": Plan.objects.count(), "steps": PlanStep.objects.count(),
            "reviews": Review.objects.count(), "audit_entries": AuditEntry.objects.count(),
            "notifications": Notification.objects.count()}
