"""Settings shared by every environment.

Everything configurable comes from the environment (django-environ). With nothing set, Plangate runs
on an embedded default: a SQLite file, Celery tasks executed in-process after commit, email printed
to the console. DATABASE_URL selects PostgreSQL and REDIS_URL selects Redis (broker and cache).
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-key-never-use-in-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("PLANGATE_SITE_URL", default="http://127.0.0.1:8000")
# How many reverse proxies in front of Django append to X-Forwarded-For (0: trust REMOTE_ADDR).
PLANGATE_TRUSTED_PROXIES = env.int("PLANGATE_TRUSTED_PROXIES", default=0)

DJANGO_APPS = [
    "accounts.apps.PlangateAdminConfig",  # django.contrib.admin with Plangate's admin site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "django_fsm",
    "django_htmx",
    "markdownx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
LOCAL_APPS = [
    "accounts",
    "audit",
    "plans",
    "reviews",
    "notifications",
    "implementation",
    "insights",
    "api",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "audit.middleware.AuditRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
                "notifications.context_processors.unread_notifications",
            ],
            # Every template names people the same way: {{ user|display_name }}.
            "builtins": ["accounts.templatetags.accounts_tags"],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves several threads (runserver) and processes (a command beside
    # the server): each write transaction takes SQLite's write lock when it begins and waits up
    # to 20 s for it, instead of failing with "database is locked" when two writers meet; WAL
    # lets pages read while someone writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "transaction_mode": "IMMEDIATE", "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    })
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters travel apart from the SQL (psycopg's server-side binding) instead of being
    # quoted into it in Python: about a tenth of a write's CPU (make bench, writes). A statement
    # a connection ran five times is prepared (psycopg's default; Django turns it off): the
    # server no longer plans it each time, about a tenth of a write cycle's time again (each
    # connection keeps at most 100). "off" for PgBouncer in transaction mode; after a migration
    # that changes a column's type, restart the processes (README, Production stack).
    threshold = env("DATABASE_PREPARE_THRESHOLD", default="5")
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "server_side_binding": True,
        "prepare_threshold": None if threshold in ("", "off") else int(threshold),
    })
# Persistent connections (docker-compose: 60 s) are checked before each request reuses one.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Signed checkpoints of the audit chain's head (audit/checkpoint.py): a file outside the
# database, and a key that is not in it (default: derived from SECRET_KEY).
PLANGATE_AUDIT_CHECKPOINT_FILE = env.path(
    "PLANGATE_AUDIT_CHECKPOINT_FILE", default=BASE_DIR / "audit-checkpoints.jsonl"
)
PLANGATE_AUDIT_CHECKPOINT_KEY = env("PLANGATE_AUDIT_CHECKPOINT_KEY", default="")
PLANGATE_AUDIT_CHECKPOINT_MINUTES = env.int("PLANGATE_AUDIT_CHECKPOINT_MINUTES", default=10)

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "core.cache_backend.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed-login throttling (accounts/throttle.py): attempts are refused for the rest of a window
# once either counter reaches its limit.
PLANGATE_LOGIN_MAX_FAILURES_PER_USER = env.int("PLANGATE_LOGIN_MAX_FAILURES_PER_USER", default=5)
PLANGATE_LOGIN_MAX_FAILURES_PER_IP = env.int("PLANGATE_LOGIN_MAX_FAILURES_PER_IP", default=20)
PLANGATE_LOGIN_LOCKOUT_SECONDS = env.int("PLANGATE_LOGIN_LOCKOUT_SECONDS", default=15 * 60)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # the dashboard
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Email: console by default, SMTP through EMAIL_URL (e.g. smtp://user:pass@host:587).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="Plangate <plangate@localhost>")

# Celery: Redis when REDIS_URL is set; otherwise tasks run in-process (they are only ever sent
# after the transaction commits, so the embedded default behaves like the real thing).
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"  # (named: kombu warns of a bare one)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task fetched by a worker that is then killed goes back to the queue after this many seconds
# (acks_late): minutes, not the hour Redis' transport would default to. Retry countdowns stay
# below it (PLANGATE_NOTIFY_BACKOFF_MAX), or a waiting retry would be redelivered and run twice.
PLANGATE_BROKER_VISIBILITY_TIMEOUT = env.int("PLANGATE_BROKER_VISIBILITY_TIMEOUT", default=300)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": PLANGATE_BROKER_VISIBILITY_TIMEOUT, "socket_connect_timeout": 2,
}
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# How often beat runs the outbox sweep, and how long a row may stay "sending" before the sweep
# takes its worker for dead (notifications/services.py). bench/faults.py shortens both.
PLANGATE_OUTBOX_SWEEP_INTERVAL = env.float("PLANGATE_OUTBOX_SWEEP_INTERVAL", default=60.0)
PLANGATE_STALE_SENDING_SECONDS = env.int("PLANGATE_STALE_SENDING_SECONDS", default=300)
CELERY_BEAT_SCHEDULE: dict = {
    # A signed checkpoint of the audit chain's head, so truncation is detected.
    "audit-checkpoint": {
        "task": "audit.tasks.write_checkpoint",
        "schedule": PLANGATE_AUDIT_CHECKPOINT_MINUTES * 60.0,
    },
    # Outbox rows whose dispatch never reached the broker (it was down at commit time).
    "notifications-sweep-outbox": {
        "task": "notifications.tasks.sweep_outbox",
        "schedule": PLANGATE_OUTBOX_SWEEP_INTERVAL,
    },
    # Reviewer reminders and admin escalations, once a day.
    "reviews-review-reminders": {
        "task": "reviews.tasks.send_review_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
}

# Markdown editing: previews go through the same sanitising renderer as the plan pages.
MARKDOWNX_MARKDOWNIFY_FUNCTION = "plans.rendering.render_markdown"
MARKDOWNX_UPLOAD_CONTENT_TYPES = ["image/jpeg", "image/png", "image/gif"]
MARKDOWNX_UPLOAD_MAX_SIZE = 5 * 1024 * 1024
MARKDOWNX_MEDIA_PATH = "markdownx/"
MARKDOWNX_SVG_JAVASCRIPT_PROTECTION = True
# Uploads larger than this in width x height (x frames, for a GIF) are refused from their header,
# before decoding: a few hundred KB of PNG can otherwise expand to gigabytes of pixels.
PLANGATE_IMAGE_MAX_PIXELS = env.int("PLANGATE_IMAGE_MAX_PIXELS", default=40_000_000)

# --- The REST API (api/): tokens or the session, problem details, a per-token rate limit ----------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a request without credentials is a 401 with a Bearer challenge.
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.media.LimitedJSONParser"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Requests per token (else per user, else per client address); beyond it 429 with Retry-After.
# A client waiting on a decision polls every 2 s: 30 a minute.
PLANGATE_API_RATE = env("PLANGATE_API_RATE", default="120/min")
# Bodies over this are a 413 before they are read. The endpoints that take a plan's Markdown
# (up to 1 MB, plans.markdown.MAX_BYTES) allow api.base.MARKDOWN_BODY_BYTES instead: 6 bytes
# of JSON a byte of Markdown at worst (\u00XX), plus 64 KiB.
PLANGATE_API_MAX_BODY_BYTES = env.int("PLANGATE_API_MAX_BODY_BYTES", default=1024 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "Plangate API",
    "DESCRIPTION": "Submit plans, wait for a human decision, verify that exactly this text is "
                   "approved. Errors are RFC 9457 problem details.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_problem_responses",
    ],
    # The docs page's assets are served from this app's static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Content-Security-Policy (django-csp): no inline script or style anywhere, no 'unsafe-*' -----
# Every script and stylesheet is a file under static/; htmx's indicator style is in plangate.css
# (templates/base.html turns off the style element htmx would inject). Violations are POSTed to
# config.views.csp_report, which logs them. Static files (WhiteNoise, above the middleware) and
# /media/ (config/urls.py, deploy/Caddyfile) carry their own headers.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "report-uri": "/csp-report/",
    },
}
PLANGATE_CSP_REPORT_MAX_BYTES = 16 * 1024  # a violation report is ~1 KB; larger bodies are a 413

# Plangate policy knobs that are not per-plan (per-plan policy lives in the database).
PLANGATE_REMINDER_AFTER_HOURS = env.int("PLANGATE_REMINDER_AFTER_HOURS", default=24)
PLANGATE_ADMIN_ESCALATION_HOURS = env.int("PLANGATE_ADMIN_ESCALATION_HOURS", default=48)

# Notification delivery. Retry n waits min(BASE * 2**n, MAX) seconds; MAX stays below the
# broker's visibility timeout (PLANGATE_BROKER_VISIBILITY_TIMEOUT) so a countdown never outlives
# it and runs twice.
PLANGATE_NOTIFY_MAX_RETRIES = env.int("PLANGATE_NOTIFY_MAX_RETRIES", default=5)
PLANGATE_NOTIFY_BACKOFF_BASE = env.float("PLANGATE_NOTIFY_BACKOFF_BASE", default=10.0)
PLANGATE_NOTIFY_BACKOFF_MAX = env.float("PLANGATE_NOTIFY_BACKOFF_MAX", default=240.0)
if PLANGATE_NOTIFY_BACKOFF_MAX >= PLANGATE_BROKER_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured("PLANGATE_NOTIFY_BACKOFF_MAX must be below "
                               "PLANGATE_BROKER_VISIBILITY_TIMEOUT (see the comment above it)")
PLANGATE_OUTBOX_SWEEP_AFTER_SECONDS = env.int("PLANGATE_OUTBOX_SWEEP_AFTER_SECONDS", default=60)
PLANGATE_WEBHOOK_TIMEOUT = env.float("PLANGATE_WEBHOOK_TIMEOUT", default=5.0)
# Webhook receivers must be on public addresses (notifications/webhooks.py); these host names
# are exempt (e.g. an internal CI server), comma-separated.
PLANGATE_WEBHOOK_ALLOWED_HOSTS = env.list("PLANGATE_WEBHOOK_ALLOWED_HOSTS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # Run in-process (embedded mode), a task's "succeeded" line would land amid a command's
    # or the dev server's own output; a worker still logs each task it runs.
    "loggers": {"celery.app.trace": {"level": "WARNING"}} if CELERY_TASK_ALWAYS_EAGER else {},
}
