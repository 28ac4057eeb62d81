"""Celery tasks: thin wrappers that take ids and call back into notifications.services.

Delivery retries with exponential backoff (services.retry_countdown: BASE * 2**n seconds, capped
at PLANGATE_NOTIFY_BACKOFF_MAX = 240 s by default). Countdowns stay below the Redis transport's
visibility timeout (PLANGATE_BROKER_VISIBILITY_TIMEOUT = 300 s): a message whose ETA lies beyond
it is redelivered to a second worker and runs twice. Tasks are acks_late with
reject_on_worker_lost (settings), so a killed worker's task is redelivered within that timeout;
outbox_deliver() is idempotent, so redelivery is safe.
Run eagerly (embedded mode, no Redis) a delivery is tried once and a failure is left to the sweep.
"""

import os

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from . import services


@shared_task(bind=True, acks_late=True, ignore_result=True)
def deliver_notification(self, outbox_id: int | list[int]) -> str:
    """Deliver one outbox row or a batch (services.dispatch sends an event's rows together).
    A retry takes only the rows whose attempt failed, with the batch's retry count."""
    ids = list(outbox_id) if isinstance(outbox_id, list | tuple) else [outbox_id]
    if self.request.is_eager:
        # Embedded mode (no broker): this runs inside the user's request. One attempt only; a
        # failure stays pending for the outbox sweep or the admin's retry, never retried inline.
        services.outbox_deliver_many(ids, retry_later=True)
        return "done"
    retries = self.request.retries
    max_retries = settings.PLANGATE_NOTIFY_MAX_RETRIES
    failed = services.outbox_deliver_many(ids, final_attempt=retries >= max_retries)
    if failed:
        raise self.retry(
            args=[failed], exc=services.DeliveryError(f"{len(failed)} notification(s) failed"),
            countdown=services.retry_countdown(retries), max_retries=max_retries,
        )
    return "done"


@shared_task(ignore_result=True)
def sweep_outbox() -> int:
    return services.outbox_sweep()


@shared_task(ignore_result=True)
def ping(token: str) -> int:
    """Health probe: record the pid of the process that ran it in the cache (Redis) under
    `token`, so a caller without a result backend can see which process ran it."""
    cache.set(f"plangate:ping:{token}", os.getpid(), timeout=300)
    return os.getpid()
