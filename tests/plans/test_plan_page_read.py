"""The plan page reads its plan row with a query compiled once (plans/selectors.py
plan_for_page, core.compiled): each view still shows that plan's current row, a plan that is
not there is a 404, and the page reads what it read through the ORM."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import compiled
from plans import services
from plans.models import Plan
from tests.factories import ready_plan

pytestmark = pytest.mark.django_db


def page(client, pk: int):
    return client.get(reverse("plans:detail", args=[pk]))


def test_each_view_shows_the_plans_own_current_row(author_client, author):
    first = ready_plan(author=author, title="The first plan")
    second = ready_plan(author=author, title="The second plan")
    assert "The first plan" in page(author_client, first.pk).content.decode()
    # The same compiled query, another plan's values.
    html = page(author_client, second.pk).content.decode()
    assert "The second plan" in html and "The first plan" not in html
    services.plan_update(actor=author, plan=Plan.objects.get(pk=first.pk),
                         fields={"title": "The first plan, renamed"})
    assert "The first plan, renamed" in page(author_client, first.pk).content.decode()


def test_a_plan_that_is_not_there_is_a_404(author_client, author):
    plan = ready_plan(author=author)
    assert page(author_client, plan.pk).status_code == 200
    assert page(author_client, plan.pk + 1000).status_code == 404


def test_the_page_runs_the_sql_the_orm_runs(author_client, author, monkeypatch):
    plan = ready_plan(author=author)
    page(author_client, plan.pk)  # the cached parts kept: the plan row is what is left

    def statements(enabled: bool) -> list[str]:
        monkeypatch.setattr(compiled, "enabled", enabled)
        with CaptureQueriesContext(connection) as queries:
            response = page(author_client, plan.pk)
        assert response.status_code == 200
        # (The session's query names the time it runs at.)
        return [q["sql"] for q in queries if '"plans_plan"' in q["sql"]]

    read = statements(True)
    assert len(read) == 1 and read == statements(False)
