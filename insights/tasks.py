"""Celery tasks of this app: thin wrappers that take ids and call back into it."""

from celery import shared_task

from . import search


@shared_task(ignore_result=True)
def refresh_search_document(plan_id: int) -> bool:
    """Bring a plan's search document up to date (insights/indexing.py sends it on commit)."""
    return search.refresh(plan_id)
