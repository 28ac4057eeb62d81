"""When a plan's search document is refreshed: once per plan, after the transaction that changed
what it indexes commits (signals connected in InsightsConfig.ready()).

The refresh is a task (insights/tasks.py): a worker does it when a broker is configured, off the
request; without one (CELERY_TASK_ALWAYS_EAGER) it runs in-process right after the commit, as
before, so the next page already finds the change. A save that names only fields the document
does not read (a status transition, a review started without a comment) sends nothing.
"""

from __future__ import annotations

import logging

from django.db import transaction

from plans.models import Plan, PlanStep
from reviews.models import Review

from . import search, tasks

logger = logging.getLogger(__name__)

#: The fields of these models that a search document reads (search.documents).
INDEXED_FIELDS = {Plan: {"title", "sections", "extra_sections"}, Review: {"comment"}}


class _Refresh:
    """An on-commit callback for one plan; remembered so a transaction that saves a plan and
    fifty steps refreshes its document once."""

    def __init__(self, plan_id: int):
        self.plan_id = plan_id
        self.done = False

    def __call__(self) -> None:
        self.done = True
        try:
            # No publish retries: with the broker down, refreshing here at once is better than
            # a request waiting out the retry policy before doing the same.
            tasks.refresh_search_document.apply_async((self.plan_id,), retry=False)
        except Exception:  # the broker is down: do it here rather than leave it stale
            logger.warning("Broker unavailable: search document of plan %s refreshed in-process",
                           self.plan_id, exc_info=True)
            search.refresh(self.plan_id)


def schedule_refresh(plan_id: int | None) -> None:
    if plan_id is None:
        return
    conn = transaction.get_connection()
    pending = (cb.plan_id for _, cb, _ in conn.run_on_commit
               if isinstance(cb, _Refresh) and not cb.done)
    if conn.in_atomic_block and plan_id in pending:
        return
    # robust: the change is committed already; a failed refresh is logged, never a 500 (the
    # next change or `search_reindex` rebuilds it).
    transaction.on_commit(_Refresh(plan_id), robust=True)


def _indexed_change(sender, instance, created: bool, update_fields) -> bool:
    fields = INDEXED_FIELDS.get(sender)
    if fields is None:
        return True
    if update_fields is not None:
        return bool(fields & set(update_fields))
    if created and sender is Review:
        return bool(instance.comment)  # a review is started without one
    return True


def on_plan_saved(sender, instance, created=False, update_fields=None, **kwargs):
    if _indexed_change(sender, instance, created, update_fields):
        schedule_refresh(instance.pk)


def on_part_changed(sender, instance, created=False, update_fields=None, **kwargs):
    """A step, step action, comment, concern or review was saved or deleted."""
    if not _indexed_change(sender, instance, created, update_fields):
        return
    plan_id = getattr(instance, "plan_id", None)
    if plan_id is None and hasattr(instance, "step_id"):  # a step's action
        plan_id = PlanStep.objects.filter(pk=instance.step_id).values_list(
            "plan_id", flat=True).first()
    schedule_refresh(plan_id)
