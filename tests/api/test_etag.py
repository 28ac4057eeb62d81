"""Waiting: GET /plans/<id> sends an ETag and answers 304 to If-None-Match while nothing a
waiting client cares about changed; a decision, a comment or an answer changes it."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api import presenters
from reviews import services
from tests.reviewkit import submitted_plan

pytestmark = pytest.mark.django_db


def _etag(client, plan):
    response = client.get(f"/api/v1/plans/{plan.pk}")
    assert response.status_code == 200
    return response["ETag"]


def test_304_while_unchanged_and_a_new_etag_on_each_change(api_author, author, reviewer):
    plan = submitted_plan(author)
    etag = _etag(api_author, plan)
    response = api_author.get(f"/api/v1/plans/{plan.pk}", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response.content == b""
    assert response["ETag"] == etag
    seen = {etag}

    review = services.review_start(actor=reviewer, plan=plan)
    seen.add(_etag(api_author, plan))
    services.comment_post(actor=reviewer, plan=plan, body="Hm", step=plan.steps.get().pk)
    seen.add(_etag(api_author, plan))
    item = review.checklist.groups.first().items.first()
    services.review_answer(actor=reviewer, review=review, item=item, answer="no")
    seen.add(_etag(api_author, plan))
    services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                           comment="More detail.")
    latest = _etag(api_author, plan)
    seen.add(latest)
    assert len(seen) == 5
    response = api_author.get(f"/api/v1/plans/{plan.pk}", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response.json()["status"] == "NEEDS_REVISION"
    assert api_author.get(f"/api/v1/plans/{plan.pk}",
                          HTTP_IF_NONE_MATCH=f'"other", {latest}').status_code == 304


def test_a_304_costs_a_fixed_few_queries(api_author, author):
    plan = submitted_plan(author)
    etag = _etag(api_author, plan)
    api_author.get(f"/api/v1/plans/{plan.pk}", HTTP_IF_NONE_MATCH=etag)  # last_used written
    with CaptureQueriesContext(connection) as queries:
        response = api_author.get(f"/api/v1/plans/{plan.pk}", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    # the token (with its user), the ETag's one query, the plan's permission row
    assert len(queries) == 3, [q["sql"] for q in queries]


def test_304_still_needs_authentication(anonymous, api_author, author):
    plan = submitted_plan(author)
    etag = _etag(api_author, plan)
    assert anonymous.get(f"/api/v1/plans/{plan.pk}", HTTP_IF_NONE_MATCH=etag).status_code == 401


def test_a_decision_landing_while_the_answer_is_built_is_never_hidden_behind_a_304(
        api_author, author, reviewer):
    """The poll reads the plan, then a decision commits, then the answer goes out: its ETag
    must be the older one, so the next poll fetches the decision instead of a 304."""
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    read = presenters.plan_data

    def read_then_decide(pk, request):
        data = read(pk, request)
        services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                               comment="More detail.")
        return data

    with mock.patch.object(presenters, "plan_data", read_then_decide):
        first = api_author.get(f"/api/v1/plans/{plan.pk}")
    assert first.json()["status"] == "PENDING_REVIEW"
    again = api_author.get(f"/api/v1/plans/{plan.pk}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again.json()["status"] == "NEEDS_REVISION"
