"""Test settings: fast hashing, in-memory email, static files without a manifest."""

from .base import *  # noqa: F403
from .base import DATABASES, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Unit tests run tasks in-process; the tests that prove the real broker path
# (tests/e2e/test_real_services.py, tests/notifications/test_notifications_real.py) start their
# own worker and switch this off for their duration.
CELERY_TASK_ALWAYS_EAGER = True

# Tests never share a live Redis cache (with each other or with a developer's running app):
# each test process has its own local memory, cleared before every test (tests/conftest.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The tests' webhook receivers (config/testing.py WebhookReceiver) listen on loopback, which real
# webhooks may not reach; the tests of that refusal set this back to [].
PLANGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]

# PostgreSQL refuses TRUNCATE of the audit trail; tests flush with its triggers off for the flush.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "config.db.postgresql"

PLANGATE_AUDIT_CHECKPOINT_KEY = "test-checkpoint-key"
