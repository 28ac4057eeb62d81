"""The ground everything stands on: login everywhere, demo data, deploy checks, no CDN."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

from plans.models import Plan
from reviews.management.commands.seed_demo import DEMO_USERS, examples_dir

PUBLIC_ROUTES = {"login", "healthz", "admin:login", "markdownx_upload", "markdownx_markdownify",
                 "csp_report",  # browsers send CSP reports from the login page too
                 "favicon"}  # and ask for /favicon.ico on it
# The REST API answers 401 itself instead of redirecting (tests/api/test_docs.py); its token
# settings pages ("api:token...") are ordinary pages.
API_ROUTES = re.compile(r"^api:(?!token)")
BASE_DIR = Path(settings.BASE_DIR)


def _routes(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _routes(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name}", prefix + str(pattern.pattern)


def _sample_path(route: str) -> str:
    """Turn a route pattern into a concrete path with placeholder values."""
    path = re.sub(r"<(?:int:)?\w+>", "1", route)
    path = re.sub(r"<(?:slug|str|path):\w+>", "x", path)
    path = re.sub(r"<uuid:\w+>", "00000000-0000-0000-0000-000000000000", path)
    path = path.lstrip("^").rstrip("$").replace("\\Z", "")
    return "/" + path


def _private_routes():
    routes = sorted(set(_routes(get_resolver())))
    return [
        (name, _sample_path(route)) for name, route in routes
        if name not in PUBLIC_ROUTES and "(?P" not in route and not route.startswith("static")
        and not API_ROUTES.match(name)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "path"), _private_routes())
def test_anonymous_users_are_sent_to_login(client, name, path):
    response = client.get(path)
    assert response.status_code == 302, f"{name} ({path}) answered {response.status_code}"
    assert response["Location"].startswith(("/accounts/login/", "/admin/login/")), name


@pytest.mark.django_db
def test_login_page_is_public_and_styled(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Log in to Plangate" in html
    assert "/static/css/plangate.css" in html


@pytest.mark.django_db
def test_pages_load_no_asset_from_another_host(author_client):
    html = author_client.get("/accounts/login/", follow=True).content.decode()
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert assets, "expected the page to load its CSS and JS"
    assert all(a.startswith("/static/") for a in assets), assets


def test_htmx_is_vendored():
    htmx = BASE_DIR / "static" / "js" / "htmx.min.js"
    assert htmx.stat().st_size > 10_000
    assert "htmx" in htmx.read_text()[:2000]


@pytest.mark.django_db
def test_seed_demo_creates_users_who_can_log_in_and_is_idempotent(client, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    output = capsys.readouterr().out
    users = get_user_model().objects.filter(username__in=[u[0] for u in DEMO_USERS])
    assert users.count() == 4
    assert {g for u in users for g in u.groups.values_list("name", flat=True)} == {
        "Authors", "Reviewers", "Admins"
    }
    for username, _name, _roles, password in DEMO_USERS:
        assert f"{username}" in output and password in output
        client.logout()
        response = client.post("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, f"{username} could not log in"
        assert response["Location"] == "/"  # the dashboard
    examples = sorted(examples_dir().glob("*.md"))
    assert Plan.objects.count() == len(examples)


@pytest.mark.django_db
def test_wrong_password_shows_an_error(client):
    call_command("seed_demo")
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env={**clean_env, **env},
        capture_output=True, text=True, timeout=120, check=False,
    )


PRODUCTION_ENV = {
    # A real key: Django's check rightly warns (W009) about short or low-entropy ones.
    "DJANGO_SECRET_KEY": "a-long-random-secret-" + "x7Kp2mQ9" * 6,
    "DJANGO_ALLOWED_HOSTS": "example.com",
    "EMAIL_URL": "smtp://mail.example.com:25",
}


def test_production_settings_pass_check_deploy():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", "--settings=config.settings.production",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", sorted(PRODUCTION_ENV))
def test_production_settings_fail_fast_without_required_setting(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", "--settings=config.settings.production", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_health_probe_is_not_redirected_to_https():
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "ok = Client().get('/healthz', HTTP_HOST='example.com');"
        "page = Client().get('/accounts/login/', HTTP_HOST='example.com');"
        "print(ok.status_code, page.status_code, page.get('Location'))"
    )
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, capture_output=True, text=True,
        env={**clean_env, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.production"},
        timeout=120, check=False,
    )
    assert result.stdout.split() == ["200", "301", "https://example.com/accounts/login/"], (
        result.stderr
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "127.0.0.1"),  # no proxy configured: the header is not trusted
        (1, "203.0.113.9", "203.0.113.9"),  # one proxy appended the client's address
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client's own entry is ignored
    ],
)
def test_audit_records_the_client_address_behind_trusted_proxies(
    client, settings, author, proxies, forwarded, expected
):
    from audit.models import AuditEntry

    settings.PLANGATE_TRUSTED_PROXIES = proxies
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"},
                HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="127.0.0.1")
    entry = AuditEntry.objects.get(action="auth.login_failed")
    assert entry.ip_address == expected
