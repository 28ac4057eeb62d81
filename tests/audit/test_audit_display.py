"""The audit pages read as text: a filter without matches says so and keeps its exports,
details are words (not Python dicts), the client is "Firefox 128 on Linux", and one review's
checklist answers are one row of the page, while the database and the exports keep one entry
per answer."""

import csv
import io
import re

import pytest
from django.urls import reverse

from audit.actions import AUTH_LOGIN_FAILED
from audit.context import RequestInfo, current_request
from audit.formatting import short_user_agent
from audit.log import log
from audit.models import AuditEntry
from plans.services import plan_create
from tests.audit_support import approve_through_services

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
              "Gecko) Chrome/131.0.0.0 Safari/537.36")
EDGE = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def page(response) -> str:
    return response.content.decode()


def test_a_filter_without_matches_says_so_and_keeps_the_exports(admin_client, author):
    plan_create(actor=author, title="Alpha")
    response = admin_client.get(reverse("audit:list"), {"actor": "nobody"})
    assert response.status_code == 200
    text = page(response)
    assert "No entries match these filters" in text
    assert "Export CSV" in text and "Export JSON Lines" in text
    assert f'{reverse("audit:export", args=["csv"])}?actor=nobody' in text


@pytest.mark.parametrize("agent, short", [
    (FIREFOX, "Firefox 128 on Linux"), (CHROME_MAC, "Chrome 131 on macOS"),
    (EDGE, "Edge 131 on Windows"), (SAFARI_IPHONE, "Safari 17 on iOS"),
    ("curl/8.5.0", "curl 8.5.0"), ("", ""),
])
def test_user_agents_read_as_browser_and_system(agent, short):
    assert short_user_agent(agent) == short


def test_details_are_words_and_the_whole_user_agent_is_kept_in_a_title(admin_client, author):
    token = current_request.set(RequestInfo(ip_address="10.0.0.7", user_agent=FIREFOX))
    try:
        plan_create(actor=author, title="Alpha")
    finally:
        current_request.reset(token)
    text = page(admin_client.get(reverse("audit:list")))
    assert "“Alpha”, 0 steps" in text
    assert "{'title'" not in text and "&#x27;title&#x27;" not in text
    assert "Firefox 128 on Linux" in text
    assert f'title="{FIREFOX}"' in text


def test_an_action_without_a_formatter_reads_key_by_key(admin_client):
    log(AUTH_LOGIN_FAILED, payload={"username": "mallory", "tries": None,
                                    "seen_in": ["web", "api"]})
    text = page(admin_client.get(reverse("audit:list")))
    assert "Seen in: web, api; Tries: —; Username: mallory" in text


def test_status_labels_not_constants_in_transitions(admin_client, author, reviewer):
    approve_through_services(author=author, reviewer=reviewer)
    text = page(admin_client.get(reverse("audit:list")))
    assert "Draft → Pending review, revision 1" in text
    assert "Pending review → Approved" in text
    assert "PENDING_REVIEW" not in re.sub(r"<code[^>]*>.*?</code>", "", text)


def test_one_reviews_checklist_answers_are_one_row_but_many_entries(admin_client, author,
                                                                    reviewer):
    plan, review = approve_through_services(author=author, reviewer=reviewer)
    answers = AuditEntry.objects.filter(action="review.answered", object_id=str(review.pk))
    count = answers.count()
    assert count > 5
    text = page(admin_client.get(reverse("reviews:timeline", args=[plan.pk])))
    rows = re.findall(r"<tr[ >].*?</tr>", text, re.S)
    answer_rows = [row for row in rows if "review.answered" in row]
    assert len(answer_rows) == 1
    assert f"{count} checklist answers" in answer_rows[0] and "<details>" in answer_rows[0]
    assert "Solution addresses the problem completely: Yes" in answer_rows[0]
    # The exports still list each answer as its own row.
    export = admin_client.get(reverse("audit:export", args=["csv"]), {"plan": plan.pk})
    body = b"".join(export.streaming_content).decode()
    exported = [r for r in csv.DictReader(io.StringIO(body)) if r["action"] == "review.answered"]
    assert len(exported) == count


def test_answers_of_different_reviews_are_not_merged(admin_client, author, reviewer,
                                                     reviewer2):
    from reviews.services import review_answer, review_start
    from tests.reviewkit import items_of, submitted_plan

    plan = submitted_plan(author)
    first, second = review_start(actor=reviewer, plan=plan), review_start(actor=reviewer2,
                                                                           plan=plan)
    items = items_of(first)
    for item in items[:2]:
        review_answer(actor=reviewer, review=first, item=item, answer="yes")
    for item in items[:2]:
        review_answer(actor=reviewer2, review=second, item=item, answer="no", note="Why?")
    text = page(admin_client.get(reverse("reviews:timeline", args=[plan.pk])))
    assert text.count("2 checklist answers") == 2
    assert ": No — Why?" in text
