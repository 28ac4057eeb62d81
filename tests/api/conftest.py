"""API test helpers: a client authenticated by a real personal token (through the service)."""

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from api.services import token_create
from plans.markdown import export_plan
from plans.selectors import plan_with_content


def token_client(user, name="tests") -> APIClient:
    _, raw = token_create(actor=user, user=user, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.raw_token = raw
    return client


def markdown_of(plan) -> str:
    return export_plan(plan_with_content(plan.pk))


@pytest.fixture
def api_author(author):
    return token_client(author)


@pytest.fixture
def api_reviewer(reviewer):
    return token_client(reviewer)


@pytest.fixture
def api_reviewer2(reviewer2):
    return token_client(reviewer2)


@pytest.fixture
def api_admin(admin_user):
    return token_client(admin_user)


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def plan_markdown():
    """A complete plan in the template's format (the shared example), ready to submit."""
    return (Path(__file__).parents[1] / "data" / "rate-limit-login.md").read_text()
