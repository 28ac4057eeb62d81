"""The export's download name: the title survives in ``filename*`` with an ASCII fallback,
the same on the web page and in the API."""

import pytest
from django.urls import reverse

from tests.api.conftest import token_client
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def _web(client, plan):
    return client.get(reverse("plans:export", args=[plan.pk]))["Content-Disposition"]


def _api(author, plan):
    response = token_client(author).get(f"/api/v1/plans/{plan.pk}/markdown",
                                        HTTP_ACCEPT="text/markdown")
    assert response.status_code == 200
    return response["Content-Disposition"]


def test_japanese_title_downloads_under_its_own_name_with_plan_id_fallback(author_client,
                                                                           author):
    plan = PlanFactory(author=author, title="移行計画")
    expected = (f'attachment; filename="plan-{plan.pk}.md"; '
                "filename*=utf-8''%E7%A7%BB%E8%A1%8C%E8%A8%88%E7%94%BB.md")
    assert _web(author_client, plan) == expected
    assert _api(author, plan) == expected  # the API names the file the same way


def test_mixed_title_keeps_the_ascii_part_as_fallback(author_client, author):
    plan = PlanFactory(author=author, title="DB 移行計画")
    assert _web(author_client, plan) == ('attachment; filename="db.md"; '
                                         "filename*=utf-8''db-%E7%A7%BB%E8%A1%8C%E8%A8%88%E7%94%BB.md")


def test_ascii_title_has_just_the_plain_filename(author_client, author):
    plan = PlanFactory(author=author, title="Session Cache: v2!")
    assert _web(author_client, plan) == 'attachment; filename="session-cache-v2.md"'
    assert _api(author, plan) == 'attachment; filename="session-cache-v2.md"'
