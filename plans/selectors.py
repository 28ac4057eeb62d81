"""Reads that pages depend on. Each does its own joins so a page's query count stays fixed."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    IntegerField,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.shortcuts import get_object_or_404

from .models import RISK_RANK, Plan, PlanRevision, PlanStep

RANK_RISK = {rank: risk for risk, rank in RISK_RANK.items()}


def _risk_rank():
    return Case(
        *(When(steps__risk=risk, then=Value(rank)) for risk, rank in RISK_RANK.items() if rank),
        default=Value(0),
        output_field=IntegerField(),
    )


def plan_list(*, user, mine: bool = False, status: str = "", author: str = "", risk: str = "",
              q: str = "") -> QuerySet[Plan]:
    """Plans for the list pages, each annotated with steps_count, total_hours and risk_rank
    (0 none, 1 low, 2 medium, 3 high). One query however many plans; filters are optional."""
    plans = (
        Plan.objects.select_related("author")
        .defer(*(f.name for f in Plan._meta.concrete_fields if f.get_internal_type() == "TextField"
                 or f.name in ("sections", "extra_sections")))
        .annotate(
            steps_count=Count("steps"),
            total_hours=Sum("steps__estimated_hours"),
            risk_rank=Max(_risk_rank()),
        )
        .order_by("-updated_at", "-id")
    )
    if mine:
        plans = plans.filter(author=user)
    if status:
        plans = plans.filter(status=status)
    if author:
        plans = plans.filter(author__username=author)
    if RISK_RANK.get(risk):
        plans = plans.filter(risk_rank=RISK_RANK[risk])
    text = q.strip()
    if text:
        plans = plans.filter(Q(title__icontains=text)
                             | Q(sections__problem_statement__icontains=text))
    return plans


def plan_authors():
    """Users who wrote at least one plan, for the author filter."""
    return (
        get_user_model().objects.filter(plans__isnull=False).distinct()
        .order_by("username").only("username", "first_name", "last_name")
    )


def plan_with_content(pk: int) -> Plan:
    """A plan with everything its document shows: author, steps with actions and files, criteria.

    Five queries whatever the number of steps (plan, steps, actions, files, criteria)."""
    return get_object_or_404(
        Plan.objects.select_related("author").prefetch_related(
            Prefetch("steps", queryset=PlanStep.objects.prefetch_related("actions", "files")),
            "success_criteria",
        ),
        pk=pk,
    )


def plan_revisions(plan: Plan) -> QuerySet[PlanRevision]:
    return plan.revisions.select_related("created_by").order_by("-number")


def plan_revision(plan: Plan, number: int) -> PlanRevision:
    return get_object_or_404(
        PlanRevision.objects.select_related("created_by"), plan=plan, number=number
    )
