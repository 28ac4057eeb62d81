"""The bench's own database and broker queue, so a run never touches anyone's data.

The configured database (DATABASE_URL) says which server and engine: the bench creates a
throwaway database beside it (PostgreSQL: ``bench_<name>`` on the same server; SQLite: a file in
a temporary folder), migrates it, and drops it at the end. Tasks go to a queue of the bench's own
on the configured broker (Redis) or, without one, to an in-memory broker; nothing consumes them
except the worker the notification benchmark starts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid

from django.conf import settings
from django.db import connection

from config.celery_app import app
from config.testing import database_url_for_current_connection, set_broker

QUEUE = f"plangate-bench-{uuid.uuid4().hex[:12]}"


@contextlib.contextmanager
def bench_database(*, keep: bool = False):
    """Create, migrate and enter a throwaway database on the configured server; yields its
    DATABASE_URL (for gunicorn and workers)."""
    original = connection.settings_dict["NAME"]
    folder = None
    if connection.vendor == "sqlite":
        folder = tempfile.mkdtemp(prefix="plangate-bench-")
        name = os.path.join(folder, "bench.sqlite3")
    else:
        name = f"bench_{original}"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield database_url()
    finally:
        if keep:
            print(f"(kept the bench database {name})")
        else:
            connection.creation.destroy_test_db(original, verbosity=0)
            if folder:
                shutil.rmtree(folder, ignore_errors=True)


def database_url() -> str:
    if connection.vendor == "sqlite":
        return f"sqlite:///{connection.settings_dict['NAME']}"
    return database_url_for_current_connection()


@contextlib.contextmanager
def bench_broker():
    """Publish to the bench's own queue (Redis when configured, else in memory), purged after."""
    conf = app.conf
    saved = (conf.task_always_eager, conf.task_default_queue, conf.broker_url)
    conf.task_always_eager = False
    conf.task_default_queue = QUEUE
    set_broker(settings.REDIS_URL or "memory://")
    try:
        yield QUEUE
    finally:
        purge(QUEUE)
        conf.task_always_eager, conf.task_default_queue = saved[0], saved[1]
        set_broker(saved[2])


def purge(queue: str) -> None:
    with contextlib.suppress(Exception), app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue)
