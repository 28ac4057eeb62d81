"""docker-compose.yml cannot run here (no Docker engine), so its wiring is checked by reading it."""

import importlib
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker", "beat")


def test_the_stack_has_every_service():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "beat", "caddy"}


def test_app_services_run_production_settings_against_postgres_and_redis():
    for name in APP_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production", name
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert SERVICES[name]["build"] == "."


def test_commands_name_modules_that_exist():
    module, attribute = SERVICES["web"]["command"][1].split(":")
    assert hasattr(importlib.import_module(module), attribute)
    for name in ("worker", "beat"):
        command = SERVICES[name]["command"]
        app = command[command.index("-A") + 1]
        assert importlib.util.find_spec(app) is not None, name


def test_only_the_tls_proxy_is_published_and_it_reaches_web():
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"caddy"}
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    assert SERVICES["web"]["environment"]["PLANGATE_TRUSTED_PROXIES"] == "1"


def test_web_health_probe_asks_the_route_that_answers_it():
    """tests/project/test_foundation.py proves /healthz answers 200 under production settings."""
    import re

    from django.urls import resolve

    probe = " ".join(SERVICES["web"]["healthcheck"]["test"])
    path = re.search(r"http://127\.0\.0\.1:8000(/\w+)", probe).group(1)
    assert resolve(path).url_name == "healthz"
    assert "DJANGO_ALLOWED_HOSTS" in probe  # sends an allowed Host header
