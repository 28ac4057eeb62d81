"""The request-reviewers form repeats what was typed in its error only so far: a long unknown
name (or a long list of names) is cut to about 60 characters with an ellipsis."""

import pytest
from django.contrib.messages import get_messages

from tests.factories import AuthorFactory
from tests.reviewkit import submitted_plan

pytestmark = pytest.mark.django_db


def _ask(client, plan, usernames, **headers):
    return client.post(f"/reviews/plan/{plan.pk}/request/", {"usernames": usernames}, **headers)


def test_a_5000_character_unknown_name_is_not_repeated_whole(client, author):
    plan = submitted_plan(author)
    client.force_login(author)
    name = "x" * 5000
    response = _ask(client, plan, name)
    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == f"No such user: {'x' * 59}….", message[:200]
    htmx = _ask(client, plan, name, HTTP_HX_REQUEST="true")  # the htmx answer says the same
    assert (htmx.status_code, htmx.content.decode()) == (400, message)


def test_a_short_unknown_name_is_repeated_as_typed(client, author):
    plan = submitted_plan(author)
    client.force_login(author)
    response = _ask(client, plan, "nobody, rob2", HTTP_HX_REQUEST="true")
    assert response.content.decode() == "No such user: nobody, rob2."


def test_a_long_list_of_ineligible_users_is_cut_short(client, author):
    plan = submitted_plan(author)
    names = [AuthorFactory(username=f"writer-{i:02d}-" + "w" * 30).username for i in range(5)]
    client.force_login(author)
    response = _ask(client, plan, ", ".join(names), HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 400
    prefix = "Cannot review this plan (not a reviewer, or its author or editor): "
    assert text.startswith(prefix + names[0])
    assert text.endswith("….") and len(text) == len(prefix) + 61
