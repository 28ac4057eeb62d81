"""The Markdown certificate and the notification text emails are text, not HTML: a title,
criterion or comment with ' " < & reads as typed there, never as ``&#x27;`` or ``&quot;``."""

import pytest

from implementation import services
from notifications.models import Channel, OutboxMessage
from reviews import services as review_services
from tests.implementation.kit import PLAN, approved_plan
from tests.reviewkit import answer_all, submitted_plan

pytestmark = pytest.mark.django_db

TITLE = "Fix the docs' snippet & <b>\"logged out\"</b> page"
CRITERION = "The docs' snippet says \"logged out\" for <5 & >1 users"
EVIDENCE = "CI's run: \"green\" <https://ci.example/1?a=1&b=2>"
ESCAPES = ("&#x27;", "&#39;", "&quot;", "&lt;", "&gt;", "&amp;")

TEXT = (PLAN.replace("# Implementation Plan - Split the app module", f"# {TITLE}")
        .replace("- [ ] The parser and the writer import nothing from each other",
                 f"- [ ] {CRITERION}"))


@pytest.fixture
def verified(author, reviewer):
    plan = approved_plan(author, reviewer, text=TEXT)
    assert plan.title == TITLE  # what the import kept is what the test expects to see
    services.implementation_start(actor=author, plan=plan)
    services.implementation_finish(actor=author, plan=plan)
    services.verification_decide(actor=reviewer, plan=plan, outcome="VERIFIED",
                                 evidence={1: EVIDENCE, 2: "Tests pass & docs' build"})
    return plan


def test_the_markdown_certificate_shows_the_text_verbatim(client, author, verified):
    client.force_login(author)
    response = client.get(f"/reviews/plan/{verified.pk}/certificate.md")
    assert response.status_code == 200
    text = response.content.decode()
    assert f"# Approval certificate: {TITLE}" in text
    record = text[text.index("## Implementation record"):]
    assert f"- {CRITERION}: {EVIDENCE} (rob)" in record
    assert "Tests pass & docs' build" in record
    for escape in ESCAPES:
        assert escape not in text, escape


def test_a_notification_text_email_shows_the_title_and_comment_verbatim(author, reviewer):
    plan = submitted_plan(author, title=TITLE)
    review = review_services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    comment = "Don't ship \"this\" yet: <3 of 5 & counting"
    review_services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                                  comment=comment)
    email = OutboxMessage.objects.get(channel=Channel.EMAIL, recipient=author)
    assert TITLE in email.subject and TITLE in email.body_text
    assert comment in email.body_text
    for escape in ESCAPES:
        assert escape not in email.body_text, escape
