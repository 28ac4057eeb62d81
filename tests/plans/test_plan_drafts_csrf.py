"""The plan page's draft controls carry the CSRF token, so they work in a real browser."""

import pytest
from django.test import Client

from plans.models import Plan
from plans.services import plan_create

pytestmark = pytest.mark.django_db


def test_archive_and_delete_forms_post_with_the_csrf_token(author):
    plan = plan_create(actor=author, title="Guarded")
    client = Client(enforce_csrf_checks=True)
    client.force_login(author)
    page = client.get(plan.get_absolute_url()).content.decode()
    token = client.cookies["csrftoken"].value
    for action in (f"/plans/{plan.pk}/archive/", f"/plans/{plan.pk}/delete/"):
        form = page.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
        assert 'name="csrfmiddlewaretoken"' in form, action
    response = client.post(f"/plans/{plan.pk}/archive/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.archived_at is not None
    assert client.post(f"/plans/{plan.pk}/delete/").status_code == 403  # no token
    assert Plan.objects.filter(pk=plan.pk).exists()
