"""Reviewer autocomplete on "Request reviewers": suggestions of eligible reviewers only, to
who may request reviewers only; a datalist with htmx, a page without JavaScript."""

import pytest
from django.urls import reverse

from plans.models import PlanEditor
from tests.factories import AuthorFactory, ReviewerFactory
from tests.reviewkit import submitted_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(author):
    plan = submitted_plan(author)
    ReviewerFactory(username="rita", first_name="Rita", last_name="Moreno")
    ReviewerFactory(username="ron", first_name="Ron", last_name="Weasley")
    ReviewerFactory(username="rosa", first_name="Rosa", last_name="Parks", is_active=False)
    editor = ReviewerFactory(username="rick", first_name="Rick", last_name="Editor")
    PlanEditor.objects.create(plan=plan, user=editor)
    AuthorFactory(username="ralph", first_name="Ralph")  # not a reviewer
    return plan


def suggest(client, plan, typed, htmx=True):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.get(reverse("reviews:reviewer_suggestions", args=[plan.pk]),
                      {"usernames": typed}, **headers)


def test_the_request_form_has_the_suggesting_input(author_client, plan):
    page = author_client.get(plan.get_absolute_url()).content.decode()
    assert 'list="rq-users-list"' in page and '<datalist id="rq-users-list">' in page
    assert reverse("reviews:reviewer_suggestions", args=[plan.pk]) in page


def test_only_eligible_reviewers_are_suggested(author_client, plan):
    text = suggest(author_client, plan, "r").content.decode()
    assert 'value="rita"' in text and 'value="ron"' in text
    assert "Rita Moreno (rita)" in text
    for absent in ("rosa", "rick", "ralph", "alice"):  # inactive, editor, not a reviewer, author
        assert f'value="{absent}"' not in text


def test_names_match_too_and_each_option_completes_the_last_name(author_client, plan):
    text = suggest(author_client, plan, "rita, weas").content.decode()
    assert 'value="rita, ron"' in text
    assert 'value="rita, rita"' not in text  # a chosen reviewer is not offered again


def test_no_js_gets_a_page_listing_them(author_client, plan):
    response = suggest(author_client, plan, "", htmx=False)
    assert response.status_code == 200
    text = response.content.decode()
    assert "css/plangate.css" in text and "<code>rita</code>" in text
    assert "<code>rick</code>" not in text


@pytest.mark.parametrize("who", ["reviewer", "other"])
def test_others_cannot_list_reviewers(client, plan, reviewer, who):
    client.force_login(reviewer if who == "reviewer" else AuthorFactory(username="eve"))
    assert suggest(client, plan, "r").status_code == 403


def test_the_list_is_bounded(author_client, plan):
    for n in range(30):
        ReviewerFactory(username=f"rx{n:02d}")
    text = suggest(author_client, plan, "rx").content.decode()
    assert text.count("<option") == 20
