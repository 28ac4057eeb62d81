"""Error pages are the app's own: styled in the site layout, saying what happened and linking
home; /favicon.ico is an icon, not a 404."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db

STYLESHEET = "css/plangate.css"


def test_unknown_page_is_the_styled_404(client, author):
    client.force_login(author)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert STYLESHEET in page and 'class="topbar"' in page
    assert "There is nothing here" in page and "/no-such-page/" in page
    assert f'href="{reverse("home")}"' in page


def test_anonymous_404_is_styled_too(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert STYLESHEET in response.content.decode()


def test_a_missing_plan_is_the_styled_404(client, author):
    client.force_login(author)
    response = client.get(reverse("plans:detail", args=[999999]))
    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()


def test_permission_denied_is_the_styled_403_with_its_reason(client, author):
    client.force_login(author)
    response = client.get(reverse("audit:list"))
    assert response.status_code == 403
    page = response.content.decode()
    assert STYLESHEET in page and "Error 403" in page
    assert "Only admins can see the audit trail." in page
    assert f'href="{reverse("home")}"' in page


def test_server_error_page_is_styled_without_any_context(author):
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert STYLESHEET in page and "Something went wrong" in page and 'href="/"' in page


def test_favicon_is_served_and_linked(client, author):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    client.force_login(author)
    page = client.get(reverse("plans:list")).content.decode()
    assert 'rel="icon"' in page and "favicon.svg" in page


def test_a_csrf_failure_is_the_styled_form_expired_page(author):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(author)
    response = client.post(reverse("profile"), {"first_name": "X"})
    assert response.status_code == 403
    page = response.content.decode()
    assert STYLESHEET in page and "This form has expired" in page
    author.refresh_from_db()
    assert author.first_name != "X"


def test_the_404_shows_no_internal_exception_name(client, author):
    client.force_login(author)
    assert "Resolver404" not in client.get("/no-such-page/").content.decode()
