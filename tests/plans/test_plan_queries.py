"""The detail and list pages run the same number of SQL queries however big the data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from plans.models import Plan, PlanStep, RiskLevel, StepAction, StepFile, SuccessCriterion
from tests.factories import AuthorFactory, PlanFactory

pytestmark = pytest.mark.django_db


def plan_with_steps(author, count: int) -> Plan:
    plan = PlanFactory(author=author)
    steps = PlanStep.objects.bulk_create(
        PlanStep(plan=plan, position=i, title=f"Step {i}", objective=f"Objective *{i}*",
                 estimate="2 hours", estimated_hours=2, risk=RiskLevel.MEDIUM)
        for i in range(count)
    )
    StepAction.objects.bulk_create(
        StepAction(step=s, position=j, text=f"Task {j} of `{s.title}`", done=j == 0)
        for s in steps for j in range(3)
    )
    StepFile.objects.bulk_create(
        StepFile(step=s, position=j, path=f"app/f{j}.py", description="Change it")
        for s in steps for j in range(2)
    )
    SuccessCriterion.objects.bulk_create(
        SuccessCriterion(plan=plan, position=i, text=f"Criterion {i}") for i in range(3)
    )
    return plan


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_detail_page_query_count_does_not_grow_with_steps(
        author_client, author, django_assert_num_queries):
    small = plan_with_steps(author, 1)
    big = plan_with_steps(author, 50)
    author_client.get(small.get_absolute_url())  # lays each document out once (then cached)
    author_client.get(big.get_absolute_url())
    expected = count_queries(author_client, small.get_absolute_url())
    # Session, user and the plan: its steps, laid-out document, revision, editors and
    # transitions are cached under its updated_at, the review panel's rows under the version
    # the plan query reads, the policy, submission rule and groups are shared values. It was
    # 25 before the document, steps and active policy were read once, then 14. (Here, in the
    # test's own transaction, the shared values its writes changed are read from the database:
    # test_plan_page_freshness.py counts the 3 of a committed site.)
    assert expected <= 7
    with django_assert_num_queries(expected):
        response = author_client.get(big.get_absolute_url())
    page = response.content.decode()
    assert "Step 49" in page and page.count('type="checkbox"') >= 150
    assert "100 h" in page  # 50 steps x 2 hours


def bulk_plans(count: int, authors) -> None:
    plans = Plan.objects.bulk_create(
        Plan(title=f"Bulk plan {i}", author=authors[i % len(authors)],
             problem_statement="Something") for i in range(count)
    )
    PlanStep.objects.bulk_create(
        PlanStep(plan=p, position=j, title=f"S{j}", estimate="1 hour", estimated_hours=1,
                 risk=[RiskLevel.LOW, RiskLevel.HIGH][j])
        for p in plans[::3] for j in range(2)
    )


@pytest.mark.parametrize("query", ["", "?mine=1", "?risk=high&status=DRAFT&q=plan"])
def test_list_page_query_count_does_not_grow_with_plans(
        author_client, author, django_assert_num_queries, query):
    authors = [author, AuthorFactory(username="bob")]
    bulk_plans(10, authors)
    url = reverse("plans:list") + query
    author_client.get(url)  # loads the shared values the layout reads (then cached)
    expected = count_queries(author_client, url)
    # Session, user and the page (its count a subquery of it); the author filter and the
    # layout's shared values (read from the database here, in the test's transaction, which
    # changed them).
    assert expected <= 6
    bulk_plans(990, authors)
    # Plans new to the page: the step figures of all of them are read by one query, then kept.
    with django_assert_num_queries(expected + 1):
        author_client.get(url)
    with django_assert_num_queries(expected):
        response = author_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<tr>") == 26  # header + 25 per page
