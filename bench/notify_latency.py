"""State change → delivered email: a real Celery worker over Redis vs. in-process delivery.

Needs DATABASE_URL (PostgreSQL, shared with the worker) and REDIS_URL. Works in a throwaway
database `bench_notify_<name>` (created and dropped here) and a worker on a queue of its own.
Each of the TRANSITIONS submits is timed from just before plan_submit() to the `sent_at` the
delivery recorded on the email outbox row; the plan is withdrawn (untimed) between submits.
"""

import statistics
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

TRANSITIONS = 200


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _summary(latencies_ms):
    return {
        "n": len(latencies_ms),
        "median_ms": round(statistics.median(latencies_ms), 2),
        "p95_ms": round(_percentile(latencies_ms, 0.95), 2),
        "mean_ms": round(statistics.fmean(latencies_ms), 2),
        "max_ms": round(max(latencies_ms), 2),
    }


def _fixtures():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts.roles import AUTHORS, REVIEWERS
    from plans.models import Plan, PlanStep, RiskLevel
    from reviews.models import ReviewRequest

    user_model = get_user_model()
    author = user_model.objects.create_user("bench-author", "author@example.com", "pw")
    reviewer = user_model.objects.create_user("bench-reviewer", "reviewer@example.com", "pw")
    author.groups.add(Group.objects.get_or_create(name=AUTHORS)[0])
    reviewer.groups.add(Group.objects.get_or_create(name=REVIEWERS)[0])
    plan = Plan.objects.create(
        author=author, title="Latency", problem_statement="p", unit_testing="t",
        rollback_if_fails="r",
    )
    PlanStep.objects.create(plan=plan, title="s", objective="o", risk=RiskLevel.LOW)
    ReviewRequest.objects.create(plan=plan, user=reviewer, requested_by=author)
    return author, plan


def _measure(author, plan, transitions, poll=0.002):
    from notifications.models import Channel, OutboxMessage, OutboxStatus
    from plans.services import plan_submit, plan_withdraw

    latencies = []
    for _ in range(transitions):
        started = timezone.now()
        revision = plan_submit(actor=author, plan=plan)
        rows = OutboxMessage.objects.filter(
            channel=Channel.EMAIL, event__in=["plan.submitted", "plan.resubmitted"],
            created_at__gte=started,
        )
        deadline = time.monotonic() + 30
        while True:
            row = rows.filter(status=OutboxStatus.SENT).first()
            if row is not None:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"no email delivered for revision {revision.number}")
            time.sleep(poll)
        latencies.append((row.sent_at - started).total_seconds() * 1000)
        plan.refresh_from_db()
        plan = plan_withdraw(actor=author, plan=plan)
    return latencies


def run(transitions: int = TRANSITIONS) -> dict:
    from config.celery_app import app
    from config.testing import CeleryWorker

    if not (settings.REDIS_URL and connection.vendor == "postgresql"):
        return {"skipped": "needs DATABASE_URL (PostgreSQL) and REDIS_URL: a real worker shares "
                           "the database and takes tasks from Redis"}

    original_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_notify_{original_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            author, plan = _fixtures()
            with CeleryWorker(redis_url=settings.REDIS_URL, email_dir=Path(tmp) / "worker",
                              env={"PLANGATE_NOTIFY_BACKOFF_BASE": "10"}):
                worker = _measure(author, plan, transitions)
            plan.refresh_from_db()
            saved = app.conf.task_always_eager
            app.conf.task_always_eager = True
            try:
                with override_settings(
                    EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                    EMAIL_FILE_PATH=str(Path(tmp) / "inprocess"),
                ):
                    inprocess = _measure(author, plan, transitions)
            finally:
                app.conf.task_always_eager = saved
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)

    worker_summary, inprocess_summary = _summary(worker), _summary(inprocess)
    return {
        "what": "plan_submit() start → email outbox row marked sent (file email backend)",
        "real_worker_redis": worker_summary,
        "in_process_baseline": inprocess_summary,
        "median_ratio_worker_vs_in_process": round(
            worker_summary["median_ms"] / inprocess_summary["median_ms"], 2
        ),
    }
