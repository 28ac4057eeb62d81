"""The search document is refreshed by a task once the change commits (in-process here, as
without a broker), only when something it indexes changed, and rewritten only when its text did;
search results follow a submit, a comment and a decision."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insights import indexing, search, tasks
from insights.models import SearchDocument
from plans import permissions
from plans.services import plan_create, plan_submit, plan_update
from reviews import services
from tests.factories import ready_plan

pytestmark = pytest.mark.django_db


def found(client, user, text) -> list[int]:
    client.force_login(user)
    response = client.get(reverse("insights:search"), {"q": text})
    assert response.status_code == 200
    return [plan.pk for plan in response.context["rows"]]


def refreshes(callbacks) -> list[int]:
    return [cb.plan_id for cb in callbacks if isinstance(cb, indexing._Refresh)]


def test_results_follow_submit_comment_and_decision_through_the_task(
        client, author, reviewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        plan = ready_plan(author=author, title="Heron migration")
    assert found(client, author, "heron") == [plan.pk]
    sent = mock.patch.object(tasks.refresh_search_document, "apply_async",
                             wraps=tasks.refresh_search_document.apply_async)
    with sent as delay, django_capture_on_commit_callbacks(execute=True):
        plan_submit(actor=author, plan=plan)
        services.comment_post(actor=reviewer, plan=plan, body="What about the egret cache?")
    assert delay.call_args_list == [mock.call((plan.pk,), retry=False)]  # the comment, once
    assert found(client, author, "egret") == [plan.pk]
    with django_capture_on_commit_callbacks(execute=True):
        review = services.review_start(actor=reviewer, plan=plan)
    with sent as delay, django_capture_on_commit_callbacks(execute=True):
        services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                               comment="Say how the cormorant fallback is tested.")
    assert delay.call_args_list == [mock.call((plan.pk,), retry=False)]
    assert found(client, author, "cormorant") == [plan.pk]


def test_a_transition_or_a_review_started_refreshes_nothing(
        author, reviewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        plan = ready_plan(author=author)
    with django_capture_on_commit_callbacks() as callbacks:
        plan_submit(actor=author, plan=plan)
        services.review_start(actor=reviewer, plan=plan)
    assert refreshes(callbacks) == []
    with django_capture_on_commit_callbacks() as callbacks:
        plan.refresh_from_db()
        plan.title = "Renamed"
        plan.save(update_fields=["title", "updated_at"])
    assert refreshes(callbacks) == [plan.pk]


def test_an_unchanged_document_is_not_rewritten(author, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        plan = ready_plan(author=author, title="Ibis rollout")
    written = SearchDocument.objects.get(plan=plan).updated_at
    with CaptureQueriesContext(connection) as queries:
        assert search.refresh(plan.pk) is False
    assert not [q for q in queries.captured_queries
                if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert SearchDocument.objects.get(plan=plan).updated_at == written
    plan.title = "Ibis rollout, phase 2"
    plan.save()  # (no signal is needed: refresh reads the plan)
    assert search.refresh(plan.pk) is True
    assert SearchDocument.objects.get(plan=plan).title == "Ibis rollout, phase 2"


def test_with_the_broker_down_the_document_is_refreshed_in_process(
        client, author, django_capture_on_commit_callbacks):
    down = mock.patch.object(tasks.refresh_search_document, "apply_async",
                             side_effect=ConnectionError("broker down"))
    with down, django_capture_on_commit_callbacks(execute=True):
        plan = ready_plan(author=author, title="Stork handover")
    assert found(client, author, "stork") == [plan.pk]


def page(client, user, text) -> str:
    client.force_login(user)
    return client.get(reverse("insights:search"), {"q": text}).content.decode()


def test_a_kept_result_page_shows_a_new_match_and_an_edited_title_at_once(
        client, author, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = plan_create(actor=author, title="Heron survey")
    assert found(client, author, "heron") == [first.pk]
    assert found(client, author, "heron") == [first.pk]  # (kept now)
    with django_capture_on_commit_callbacks(execute=True):
        second = plan_create(actor=author, title="Heron census")
    assert sorted(found(client, author, "heron")) == [first.pk, second.pk]
    with django_capture_on_commit_callbacks(execute=True):
        plan_update(actor=author, plan=second, fields={"title": "Heron headcount"})
    html = page(client, author, "heron")
    assert "<mark>Heron</mark> headcount" in html and "census" not in html


def test_a_document_refreshed_after_its_commit_shows_at_once(
        client, author, django_capture_on_commit_callbacks):
    """The document is rewritten by a task once the audited change committed: a page kept in
    between (under the change's data version, ranked on the old document) is not served after."""
    with django_capture_on_commit_callbacks(execute=True):
        plan = plan_create(actor=author, title="Heron survey")
    with django_capture_on_commit_callbacks() as committed:  # the task has not run yet
        plan_update(actor=author, plan=plan, fields={"title": "Heron and egret survey"})
    assert found(client, author, "egret") == []  # the old document
    with django_capture_on_commit_callbacks(execute=True):
        for refresh in committed:
            if isinstance(refresh, indexing._Refresh):
                refresh()
    assert found(client, author, "egret") == [plan.pk]


def test_who_may_see_a_kept_result_is_asked_on_every_request(
        client, author, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        shown = plan_create(actor=author, title="Heron survey")
        hidden = plan_create(actor=author, title="Heron census")
    assert sorted(found(client, author, "heron")) == [shown.pk, hidden.pk]
    with mock.patch.object(permissions, "can_view", lambda plan, user: plan.pk != hidden.pk):
        assert found(client, author, "heron") == [shown.pk]
        assert f'data-plan="{hidden.pk}"' not in page(client, author, "heron")
