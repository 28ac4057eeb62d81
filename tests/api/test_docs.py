"""The OpenAPI schema and the interactive docs, served from this site's own files."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_schema_lists_the_contract_endpoints():
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    assert {"/api/v1/plans", "/api/v1/plans/{id}", "/api/v1/plans/{id}/revise",
            "/api/v1/plans/{id}/submit", "/api/v1/plans/{id}/withdraw",
            "/api/v1/plans/{id}/markdown", "/api/v1/plans/{id}/feedback",
            "/api/v1/plans/{id}/reviews", "/api/v1/plans/{id}/comments",
            "/api/v1/plans/{id}/concerns", "/api/v1/reviews/{id}/answers",
            "/api/v1/reviews/{id}/decision", "/api/v1/concerns/{id}/resolve", "/api/v1/verify",
            "/api/v1/approvals/{sha256}"} <= paths
    submit = schema["paths"]["/api/v1/plans/{id}/submit"]["post"]["responses"]
    assert "application/problem+json" in submit["409"]["content"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_loads_its_assets_from_this_site():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui" in a for a in assets)
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    # The init script naming the schema is a file of its own (the CSP allows no inline script).
    assert "/api/docs/?script=" in assets
    assert "/api/schema/" in Client().get("/api/docs/?script=").content.decode()


def test_every_api_route_answers_anonymous_with_401_not_a_login_redirect():
    """The site redirects anonymous visitors to the login page; the API answers 401 (a problem
    with a Bearer challenge) on every route, and its schema and docs are public."""
    from django.urls import get_resolver

    api = get_resolver().url_patterns
    routes = [p for r in api if getattr(r, "namespace", "") == "api" for p in r.url_patterns]
    client = Client()
    checked = 0
    for pattern in routes:
        route = str(pattern.pattern)
        if not route.startswith("v1/") or pattern.name == "not_found":
            continue
        path = "/api/" + re.sub(r"<int:\w+>", "1", re.sub(r"<str:\w+>", "x", route))
        response = client.get(path)
        assert response.status_code == 401, (path, response.status_code)
        assert response["WWW-Authenticate"].startswith("Bearer"), path
        checked += 1
    assert checked >= 15
    assert client.get("/api/v1/no-such-thing").status_code == 404  # a problem, not HTML
    assert client.get("/api/schema/").status_code == 200
    response = client.get("/api/tokens/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
