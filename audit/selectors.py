"""Reads of the audit trail."""

from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .models import AuditEntry


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def entries_filtered(*, plan: int | None = None, actor: str = "", action: str = "",
                     date_from: date | None = None, date_to: date | None = None) -> QuerySet:
    """Entries matching every given filter, newest first. date_to is inclusive."""
    qs = AuditEntry.objects.all()
    if plan:
        qs = qs.filter(plan_id=plan)
    if actor:
        qs = qs.filter(actor_repr__iexact=actor)
    if action:
        qs = qs.filter(action=action)
    if date_from:
        qs = qs.filter(created_at__gte=_start_of(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_start_of(date_to + timedelta(days=1)))
    return qs.order_by("-id")


def plan_timeline(plan_id: int) -> QuerySet:
    """Everything that happened to one plan, oldest first."""
    return AuditEntry.objects.filter(plan_id=plan_id).order_by("id")
