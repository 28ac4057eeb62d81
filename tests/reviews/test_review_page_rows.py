"""The review page writes out its checklist rows and its empty decision form itself, and caches
what it reads beyond the review under the data version (reviews/selectors.py versioned), as the
conversation and the certificate do: the same markup as the forms' widgets, answers still saved
and validated through it, every write shown on the next view, and a fixed, small query count."""

import re
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import profile_update
from reviews import certificate, selectors, services
from reviews.forms import DecisionForm
from reviews.models import ChecklistAnswer
from tests.factories import ReviewerFactory
from tests.implementation.kit import approved_plan
from tests.reviewkit import items_of, queries, text, two_step_plan
from tests.reviews.test_review_queries import REVIEW_PAGE_MAX_QUERIES

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(client, author, reviewer):
    plan = two_step_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    return plan, review, reverse("reviews:review", args=[review.pk])


def test_the_empty_decision_form_is_what_its_widgets_render(client, started):
    _plan, review, url = started
    page = text(client, url)
    form = DecisionForm(initial={"revision": review.revision.number})
    for radio in form["decision"]:
        assert f'<label for="{radio.id_for_label}" class="choice">{radio.tag()} ' \
               f'{radio.choice_label}</label>' in page
    assert str(form["comment"]) in page and str(form["revision"]) in page


def test_a_refused_decision_keeps_the_choice_and_comment(client, started):
    _plan, review, _url = started
    response = client.post(reverse("reviews:decide", args=[review.pk]),
                           {"decision": "REJECTED", "comment": "", "revision": "1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="REJECTED" id="id_decision_2" required checked' in page
    assert 'role="alert"' in page


def test_answers_posted_through_the_page_are_saved_and_validated(client, started):
    _plan, review, url = started
    first, second = items_of(review)[:2]
    page = text(client, url)  # the page's rows are cached from here on
    # The row's form: what the POST names (AnswerForm), and the request's CSRF token.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert f'<input type="hidden" name="item" value="{first.pk}">' in page
    assert f'id="answer-{first.pk}-yes"><label for="answer-{first.pk}-yes">Yes</label>' in page
    answer_url = reverse("reviews:answer", args=[review.pk])
    assert page.count(f'action="{answer_url}"') == len(items_of(review))
    response = client.post(answer_url, {"item": first.pk, "answer": "no", "note": "Why <b>?",
                                        "revision": "1", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    page = text(client, url)
    assert f'value="no" checked id="answer-{first.pk}-no"' in page
    assert 'value="Why &lt;b&gt;?"' in page and "1 / 15 answered" in page
    # Refused: not a choice; nothing saved, the page unchanged.
    client.post(answer_url, {"item": second.pk, "answer": "maybe", "revision": "1"})
    assert not ChecklistAnswer.objects.filter(review=review, item=second).exists()
    assert "1 / 15 answered" in text(client, url)
    # Through htmx: the saved row and the counters, out of band.
    response = client.post(answer_url, {"item": second.pk, "answer": "na", "revision": "1"},
                           HTTP_HX_REQUEST="true")
    row = response.content.decode()
    assert f'value="na" checked id="answer-{second.pk}-na"' in row and "Saved" in row
    assert 'hx-swap-oob="true">2 / 15 answered' in row
    assert "2 / 15 answered" in text(client, url)


def test_the_review_page_shows_each_write_at_once(client, started, author, reviewer, reviewer2):
    plan, review, url = started
    assert "Rob Renamed" not in text(client, url)  # cached from here on
    services.review_answer(actor=reviewer, review=review, item=items_of(review)[0], answer="yes")
    page = text(client, url)
    assert "1 / 15 answered" in page
    services.concern_raise(actor=reviewer2, plan=plan, title="Rollback plan")
    assert "Rollback plan" in text(client, url)
    profile_update(actor=reviewer, user=reviewer, first_name="Rob", last_name="Renamed",
                   email=reviewer.email)
    assert "Review by Rob Renamed" in text(client, url)
    # Read by the author: the same rows, the author's view of them (no forms).
    client.force_login(author)
    page = text(client, url)
    assert "Rollback plan" in page and f'action="{reverse("reviews:answer", args=[review.pk])}"' \
        not in page


def test_the_review_page_reads_only_the_review_while_nothing_changed(client, started, reviewer):
    plan, review, url = started
    text(client, url)
    warm = queries(client, url)
    cache.clear()
    cold = queries(client, url)
    # Session, user, the review (with the data version); the rows come from the cache.
    assert warm <= REVIEW_PAGE_MAX_QUERIES < cold
    # Many more answers and concerns: the same counts.
    for item in items_of(review):
        services.review_answer(actor=reviewer, review=review, item=item, answer="yes")
    for i in range(5):
        services.concern_raise(actor=ReviewerFactory(), plan=plan, title=f"Concern {i}")
    cache.clear()
    assert queries(client, url) == cold
    assert queries(client, url) == warm


def test_cached_rows_are_keyed_by_what_renders_them(monkeypatch):
    """A release that changes the approval partial's labels, the Markdown renderer or the row
    format reads afresh: each is part of every versioned key."""
    before, digest = selectors.code_version(), certificate.approval_digest()
    selectors.code_version.cache_clear()
    monkeypatch.setattr(certificate, "Decision", mock.Mock(choices=[("APPROVED", "Approved!")]))
    assert certificate.approval_digest() != digest and selectors.code_version() != before
    monkeypatch.undo()
    selectors.code_version.cache_clear()
    assert selectors.code_version() == before
    selectors.code_version.cache_clear()
    monkeypatch.setattr(selectors, "ROWS_VERSION", selectors.ROWS_VERSION + 1)
    assert selectors.code_version() != before
    selectors.code_version.cache_clear()


def test_an_approval_section_is_rendered_again_when_its_labels_change(client, author,
                                                                       reviewer, monkeypatch):
    plan = approved_plan(author, reviewer)
    url = reverse("reviews:certificate", args=[plan.pk])
    client.force_login(author)
    text(client, url)
    monkeypatch.setattr(certificate, "Answer", mock.Mock(choices=[("yes", "Yes indeed")]))
    selectors.code_version.cache_clear()
    renderer = mock.Mock(wraps=certificate.render_to_string)
    with mock.patch("reviews.certificate.render_to_string", renderer):
        text(client, url)
    selectors.code_version.cache_clear()
    assert any(c.args[0] == "reviews/includes/certificate_approval.html"
               for c in renderer.call_args_list)


def test_the_api_reads_only_the_approved_revision(client, author, reviewer):
    """api.presenters.approved_revision: the certificate's revision, not the whole
    certificate (no implementation record)."""
    from api import presenters

    plan = approved_plan(author, reviewer)
    certified = certificate.approval_certificate(plan).revision
    with CaptureQueriesContext(connection) as ctx:
        assert presenters.approved_revision(plan) == certified
    assert len(ctx.captured_queries) == 2
