"""Settings of the benchmark process (and of the gunicorn and workers it starts).

The app's own settings (config.settings.local, from the environment), served as in production:
DEBUG off (no query log, no debug templates), plus the bench-only urlconf (bench/urls.py) that
adds the bare baseline view. Nothing here is reachable from the production app.
"""

from config.settings.local import *  # noqa: F403
from config.settings.local import STORAGES, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ROOT_URLCONF = "bench.urls"
# No collectstatic needed: the plain storage resolves {% static %} without a manifest.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # seeding only
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
