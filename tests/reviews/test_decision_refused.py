"""A refused decision, as the reviewer sees it: the page again (400) opening at the decision
card (the form posts to #decision), the error first in the card, the choice and the comment
kept; a refused approval summarised (counts and the first few items, each a link to its
checklist row), not every item in one sentence. A recorded decision lands on the page's
messages (#main), not on the form's #decision."""

import re

import pytest
from django.urls import reverse

from reviews import services
from tests.reviewkit import answer_all, items_of, submitted_plan

pytestmark = pytest.mark.django_db

SUMMARY = "To approve, answer every checklist item and none with No: "


@pytest.fixture
def started(client, author, reviewer):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    return review


def decide(client, review, **data):
    return client.post(reverse("reviews:decide", args=[review.pk]), {"revision": 1, **data})


def decision_card(page: str) -> str:
    return page[page.index('id="decision"'):page.index('id="concerns-title"')]


def test_the_form_posts_to_the_decision_card(client, started):
    page = client.get(reverse("reviews:review", args=[started.pk])).content.decode()
    assert f'action="{reverse("reviews:decide", args=[started.pk])}#decision"' in page


def test_a_refused_approval_is_a_summary_with_links_to_the_items(client, started):
    items = items_of(started)
    response = decide(client, started, decision="APPROVED", comment="Looks fine.")
    assert response.status_code == 400
    page = response.content.decode()
    card = decision_card(page)
    # The error opens the form, before the choices, and says it in one line.
    errors = re.search(r'<ul class="errorlist" role="alert" id="decision-errors">(.*?)</ul>\s*'
                       r'</li></ul>', card, re.S)
    assert errors and card.index("decision-errors") < card.index('name="decision"')
    assert f"{SUMMARY}15 of 15 unanswered." in errors.group(1)
    # The first five items, each a link to its row on this page, then how many more.
    links = re.findall(r'<a href="#item-(\d+)">([^<]+)</a> <span class="muted">unanswered', card)
    assert links == [(str(i.pk), i.text) for i in items[:5]]
    for item in items[:5]:
        assert f'id="item-{item.pk}"' in page
    assert '<li class="muted">and <a href="#checklist">10 more</a></li>' in card
    assert items[5].text not in card
    # Not the old one long sentence of every item.
    assert "unanswered: " not in page and "answer every item" not in page
    # The choice and the comment kept.
    assert re.search(r'value="APPROVED"[^>]*checked', card)
    assert re.search(r">\s*Looks fine\.</textarea>", card)
    # The form still posts to the card (a second refusal lands there too).
    assert f'{reverse("reviews:decide", args=[started.pk])}#decision"' in card
    started.refresh_from_db()
    assert started.decision == ""


def test_an_item_answered_no_is_named_as_such(client, started, reviewer):
    items = items_of(started)
    answer_all(started, reviewer)
    services.review_answer(actor=reviewer, review=started, item=items[3], answer="no")
    services.review_answer(actor=reviewer, review=started, item=items[7], answer="no")
    page = decide(client, started, decision="APPROVED").content.decode()
    card = decision_card(page)
    assert f"{SUMMARY}2 answered No." in card
    assert "unanswered" not in card and "more" not in card
    assert re.findall(r'<a href="#item-(\d+)">[^<]+</a> <span class="muted">answered No',
                      card) == [str(items[3].pk), str(items[7].pk)]


def test_some_unanswered_and_one_no(client, started, reviewer):
    items = items_of(started)
    for item in items[:13]:
        services.review_answer(actor=reviewer, review=started, item=item, answer="yes")
    services.review_answer(actor=reviewer, review=started, item=items[0], answer="no")
    card = decision_card(decide(client, started, decision="APPROVED").content.decode())
    assert f"{SUMMARY}2 of 15 unanswered, 1 answered No." in card
    assert [pk for pk, _ in re.findall(r'<a href="#item-(\d+)">[^<]+</a> <span class="muted">'
                                       r'(unanswered|answered No)', card)] == [
        str(items[0].pk), str(items[13].pk), str(items[14].pk)]


def test_the_services_refusal_is_a_summary_too(started, reviewer):
    """What the API, the CLI and htmx read: counts and the first three items."""
    items = items_of(started)
    with pytest.raises(services.ValidationError) as refused:
        services.review_decide(actor=reviewer, review=started, decision="APPROVED")
    assert str(refused.value.messages[0]) == (
        f"{SUMMARY}15 of 15 unanswered: {items[0].text}; {items[1].text}; {items[2].text} "
        "and 12 more.")
    answer_all(started, reviewer)
    services.review_answer(actor=reviewer, review=started, item=items[3], answer="no")
    with pytest.raises(services.ValidationError) as refused:
        services.review_decide(actor=reviewer, review=started, decision="APPROVED")
    assert refused.value.messages == [f"{SUMMARY}1 answered No: {items[3].text}."]


def test_needs_revision_without_a_comment_lands_on_the_card_with_the_choice_kept(client,
                                                                                 started):
    response = decide(client, started, decision="NEEDS_REVISION", comment="   ")
    assert response.status_code == 400
    card = decision_card(response.content.decode())
    assert 'id="decision-errors"' in card
    assert "a comment is required to ask for revision or reject" in card
    assert re.search(r'value="NEEDS_REVISION"[^>]*checked', card)
    assert "refusal-items" not in card


def test_the_concern_form_on_a_refused_page_comes_back_to_the_review(client, started):
    """The refused page is rendered at /decide/; a concern raised from it returns to the
    review page (a GET of /decide/ is a 405)."""
    page = decide(client, started, decision="APPROVED").content.decode()
    review_url = reverse("reviews:review", args=[started.pk])
    assert f'name="next" value="{review_url}"' in page
    assert 'name="next" value="/reviews/' + f'{started.pk}/decide/"' not in page


def test_a_recorded_decision_lands_on_the_message(client, started, reviewer):
    answer_all(started, reviewer)
    response = decide(client, started, decision="APPROVED")
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:review", args=[started.pk]) + "#main"
    page = client.get(response["Location"]).content.decode()
    assert 'id="main"' in page and "Decision recorded: Approve" in page


def test_an_approval_that_leaves_the_plan_waiting_says_what_for(client, started, reviewer):
    services.concern_raise(actor=reviewer, plan=started.plan, title="Rate limits unclear")
    answer_all(started, reviewer)
    response = decide(client, started, decision="APPROVED")
    page = client.get(response["Location"]).content.decode()
    assert "Decision recorded: Approve. The plan is waiting for review (1 open concern to " \
           "resolve)." in page


def test_a_damaged_revision_number_is_said_in_the_card_and_nothing_is_decided(client, started):
    response = decide(client, started, decision="NEEDS_REVISION", comment="Fix it.",
                      revision="abc")
    assert response.status_code == 400
    card = decision_card(response.content.decode())
    errors = card[card.index('id="decision-errors"'):card.index('name="decision"')]
    assert "The page sent no revision number the plan has: reload the review" in errors
    started.refresh_from_db()
    assert started.decision == ""
