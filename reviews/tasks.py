"""Celery tasks of the review workflow: thin wrappers over reviews.services."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True)
def send_review_reminders() -> dict:
    return services.review_reminders_send()
