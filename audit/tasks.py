"""Celery tasks of the audit app."""

from celery import shared_task

from . import checkpoint


@shared_task(ignore_result=True)
def write_checkpoint() -> int:
    return checkpoint.write().count
