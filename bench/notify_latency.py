"""State change → delivered email, with a real Celery worker over Redis.

Needs PostgreSQL (the worker shares the bench database) and REDIS_URL. A worker on the bench's
own queue delivers; each of TRANSITIONS submits of a plan with 10 requested reviewers is timed
from just before plan_submit() to the ``sent_at`` of the email outbox rows its delivery recorded:
to the first recipient's email and to the last (all 10). The plan is withdrawn (untimed) between
submits. Figures: median and p95 over the transitions, in milliseconds.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from config.testing import CeleryWorker
from notifications.models import Channel, OutboxMessage, OutboxStatus
from plans.models import Plan, PlanStatus
from plans.services import plan_submit, plan_withdraw

from .stats import percentile

RECIPIENTS = 10


def skip_reason() -> str | None:
    if not settings.REDIS_URL:
        return "no REDIS_URL: a real worker takes its tasks from Redis"
    if connection.vendor != "postgresql":
        return "needs DATABASE_URL on PostgreSQL: a worker process shares the database"
    return None


def _measure(author, plan_id: int, transitions: int, poll: float = 0.003) -> tuple[list, list]:
    first, last = [], []
    for _ in range(transitions):
        plan = Plan.objects.get(pk=plan_id)
        if plan.status == PlanStatus.PENDING_REVIEW:
            plan_withdraw(actor=author, plan=plan)
        started = timezone.now()
        revision = plan_submit(actor=author, plan=plan)
        emails = OutboxMessage.objects.filter(channel=Channel.EMAIL, plan_id=plan_id,
                                              created_at__gte=started)
        deadline = time.monotonic() + 60
        while emails.filter(status=OutboxStatus.SENT).count() < RECIPIENTS:
            if time.monotonic() > deadline:
                raise TimeoutError(f"emails of revision {revision.number} not all delivered")
            time.sleep(poll)
        sent = emails.aggregate(first=Min("sent_at"), last=Max("sent_at"))
        first.append((sent["first"] - started).total_seconds() * 1000)
        last.append((sent["last"] - started).total_seconds() * 1000)
        plan_withdraw(actor=author, plan=Plan.objects.get(pk=plan_id))
    return first, last


def _figures(ms: list[float]) -> dict:
    return {"median": round(statistics.median(ms), 1), "p95": round(percentile(ms, 0.95), 1),
            "max": round(max(ms), 1)}


def run(fx, *, transitions: int, database_url: str) -> dict:
    if reason := skip_reason():
        return {"skipped": reason}
    with tempfile.TemporaryDirectory() as tmp, CeleryWorker(
        redis_url=settings.REDIS_URL, email_dir=Path(tmp) / "mail", database_url=database_url,
        env={"PLANGATE_NOTIFY_BACKOFF_BASE": "10"},
    ) as worker:
        try:
            first, last = _measure(fx.users["author"], fx.plan_writes, transitions)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; worker log:\n{worker.log_text()[-3000:]}") from exc
    return {
        "what": f"plan_submit() → email outbox rows marked sent by a real worker over Redis; "
                f"{RECIPIENTS} recipients (email + inbox each), {transitions} transitions",
        "last_recipient": _figures(last),
        "first_recipient": _figures(first),
        "transitions": transitions,
    }
