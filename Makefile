# Plangate: `make run` to try it, `make test` to test it. Python 3.11 on PATH is all you need.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run install migrate seed serve test lint fmt worker beat check-deploy bench faults clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml client/pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]" -e ./client
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	@echo "Plangate is serving on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

worker: install
	$(BIN)/celery -A config.celery_app worker --loglevel=INFO --concurrency=2

beat: install
	$(BIN)/celery -A config.celery_app beat --loglevel=INFO

check-deploy: install
	DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	DJANGO_ALLOWED_HOSTS=example.com EMAIL_URL=smtp://mail.example.com:25 \
		$(PY) manage.py check --deploy --settings=config.settings.production --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm .pytest_cache .ruff_cache

# Its own throwaway database beside the configured one (bench/db.py); e.g. BENCH=--quick.
bench: install
	$(PY) -m bench $(BENCH)

# Load and fault test (README "Load and fault test"): its own PostgreSQL database, Redis, gunicorn,
# Celery and SMTP sink; exits 1 when a check fails. FAULTS=--quick for short phases.
faults: install
	$(PY) -m bench.faults $(FAULTS)
