# Production image: gunicorn serves Django; the same image runs the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app
RUN useradd --create-home --uid 1000 plangate

COPY pyproject.toml README.md ./
RUN pip install --upgrade pip && pip install .

COPY . .
# collectstatic needs the production settings to import, and they refuse to load without a secret,
# allowed hosts and an email backend: build-time stand-ins here, the real values come at run time
# (tests/project/test_deployment.py runs this step with exactly this environment).
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost EMAIL_URL=consolemail:// \
    python manage.py collectstatic --noinput

# Uploaded images and the signed audit checkpoints live on volumes (docker-compose `media`,
# `audit-checkpoints`), owned by the app user.
RUN mkdir -p /app/media /app/audit-checkpoints && chown plangate /app/media /app/audit-checkpoints

USER plangate
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
