"""No Docker engine runs here: docker-compose.yml is checked by reading it, and the Dockerfile's
build-time commands by running them with exactly the environment the Dockerfile gives them."""

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
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
    # Every web container (`--scale web=N`), looked up by the service's name.
    assert re.search(r"reverse_proxy \{\s*dynamic a web 8000\b", caddyfile)
    assert SERVICES["web"]["environment"]["PLANGATE_TRUSTED_PROXIES"] == "1"


def test_web_health_probe_asks_the_route_that_answers_it():
    """tests/project/test_foundation.py proves /healthz answers 200 under production settings."""
    from django.urls import resolve

    probe = " ".join(SERVICES["web"]["healthcheck"]["test"])
    path = re.search(r"http://127\.0\.0\.1:8000(/\w+)", probe).group(1)
    assert resolve(path).url_name == "healthz"
    assert "DJANGO_ALLOWED_HOSTS" in probe  # sends an allowed Host header


# --- the Dockerfile's build steps, run here without Docker (finding 11) --------------------------
def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) of each Dockerfile line, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            instructions.append((instruction.upper(), arguments.strip()))
    return instructions


def _dockerfile_env() -> dict[str, str]:
    env = {}
    for instruction, arguments in _dockerfile_instructions():
        if instruction == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(arguments))
    return env


def _manage_py_runs() -> list[tuple[dict[str, str], list[str]]]:
    """Each `RUN [VAR=value ...] python manage.py ...` of the Dockerfile: its own variables and
    the manage.py arguments."""
    runs = []
    for instruction, arguments in _dockerfile_instructions():
        words = shlex.split(arguments) if instruction == "RUN" else []
        if "manage.py" not in words:
            continue
        start = words.index("manage.py")
        assignments = dict(w.split("=", 1) for w in words[: start - 1] if "=" in w)
        runs.append((assignments, words[start + 1:]))
    return runs


def test_the_dockerfile_runs_manage_py_at_build_time():
    assert [args[0] for _, args in _manage_py_runs()] == ["collectstatic"]


@pytest.mark.parametrize("assignments,args", _manage_py_runs(),
                         ids=[" ".join(args) for _, args in _manage_py_runs()])
def test_each_build_time_manage_py_command_passes_with_the_dockerfiles_environment(
    assignments, args, tmp_path
):
    """Exactly the environment the image gives the command (its ENV lines and the RUN line's
    own variables; nothing from this machine but PATH), so `docker compose up --build` cannot
    stop at this step."""
    env = {**_dockerfile_env(), **assignments, "PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


# --- docker-compose.yml refers to things that exist -----------------------------------------------
def test_every_app_service_names_a_settings_module_and_programs_that_exist():
    for name, service in SERVICES.items():
        if "build" not in service:
            continue
        env = service["environment"]
        assert importlib.util.find_spec(env["DJANGO_SETTINGS_MODULE"]) is not None, name
        command = service["command"]
        if command[:2] == ["python", "manage.py"]:
            from django.core.management import get_commands

            assert (ROOT / "manage.py").exists() and command[2] in get_commands(), name


def test_every_volume_and_mounted_file_exists():
    declared = set(COMPOSE["volumes"])
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source}"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
    caddy_media = next(v.split(":")[1] for v in SERVICES["caddy"]["volumes"]
                       if v.startswith("media:"))
    assert f"root * {caddy_media}\n" in (ROOT / "deploy" / "Caddyfile").read_text()


def test_database_and_broker_healthchecks_probe_the_services_they_belong_to():
    assert "pg_isready" in " ".join(SERVICES["postgres"]["healthcheck"]["test"])
    assert SERVICES["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    for name in APP_SERVICES:
        depends = SERVICES[name]["depends_on"]
        assert "migrate" in depends or {"postgres", "redis"} <= set(depends), name
