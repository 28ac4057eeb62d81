"""Under REQUIRE_SERVICES=1 (CI) with DATABASE_URL and REDIS_URL: the app really runs on
PostgreSQL, and a task really runs in a separate Celery worker process through Redis."""

import os
import uuid

import pytest
from django.db import connection

from config.testing import shared_cache, wait_for
from notifications.tasks import ping

pytestmark = pytest.mark.services


def test_database_is_postgresql(require_postgres, db):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_in_the_worker_process_through_redis(real_worker, settings):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    token = uuid.uuid4().hex
    ping.delay(token)
    pid = wait_for(lambda: shared_cache().get(f"plangate:ping:{token}"), timeout=20,
                   message="the worker never ran the ping task")
    assert pid == real_worker.process.pid
    assert pid != os.getpid()
    assert "notifications.tasks.ping[" in real_worker.log_text()
