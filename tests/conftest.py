"""Shared fixtures and the service gate.

Tests that need a real service (PostgreSQL, Redis, a Celery worker, chromium) call
`require_service(...)`: without the service they skip with a message, except under
REQUIRE_SERVICES=1 (CI), where they fail.
"""

import importlib
import os

import pytest
from django.core.cache import cache
from django.db import connection, transaction

from tests.factories import AdminFactory, AuthorFactory, ReviewerFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
DATA_MIGRATIONS = [
    ("accounts.migrations.0001_roles", "create_roles"),
    ("reviews.migrations.0002_default_checklist_and_policy", "create_defaults"),
]


def require_service(available: bool, why: str) -> None:
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {why}")
    pytest.skip(why)


@pytest.fixture(autouse=True)
def _baseline_rows(request):
    """Rows the data migrations create (roles, default checklist, review policy) are there in
    every database test, even after a transactional test's flush has emptied every table."""
    uses_db = request.node.get_closest_marker("django_db") or {
        "db", "transactional_db", "live_server"
    } & set(request.fixturenames)
    if not uses_db:
        return
    request.getfixturevalue("_django_db_helper")
    from django.apps import apps

    with transaction.atomic():
        for module, function in DATA_MIGRATIONS:
            getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _own_audit_checkpoints(settings, tmp_path):
    """Each test has its own (empty) audit checkpoint file, never the checkout's."""
    settings.PLANGATE_AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.jsonl"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: no failed logins counted, no rendered HTML."""
    cache.clear()


@pytest.fixture
def require_postgres():
    require_service(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def require_redis(settings):
    require_service(bool(settings.REDIS_URL), "needs Redis (set REDIS_URL)")
    return settings.REDIS_URL


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run a change and its on-commit callbacks (deliveries, renewed shared values), as its
    commit would: then nothing is pending, and pages read the shared cache."""
    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()
    return run


@pytest.fixture
def author(db):
    return AuthorFactory(username="alice")


@pytest.fixture
def reviewer(db):
    return ReviewerFactory(username="rob")


@pytest.fixture
def reviewer2(db):
    return ReviewerFactory(username="rita")


@pytest.fixture
def admin_user(db):
    return AdminFactory(username="ada")


@pytest.fixture
def author_client(client, author):
    client.force_login(author)
    return client


@pytest.fixture
def real_worker(require_postgres, require_redis, transactional_db, tmp_path):
    """A real `celery worker` subprocess over Redis, on a queue of its own, using this test's
    database (use with transaction=True tests so its rows are committed and visible). Emails it
    sends land as files in `real_worker.email_dir`."""
    from config.testing import CeleryWorker

    with CeleryWorker(redis_url=require_redis, email_dir=tmp_path / "emails") as worker:
        yield worker
