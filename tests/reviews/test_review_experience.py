"""The review page and the author's view of reviews (issue #12): every review reachable and
readable by the author, carried-over answers shown and confirmed, re-requesting a review, live
counters, labels, a decision kept after a form error and one clear message for a final one."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from accounts.display import display_name
from audit.models import AuditEntry
from notifications.models import OutboxMessage
from plans.models import PlanStatus
from plans.services import plan_submit
from reviews import services
from reviews.models import ChecklistAnswer, ReviewPolicy, ReviewRequest
from tests.factories import AuthorFactory
from tests.reviewkit import answer_all, items_of, revise, submitted_plan

pytestmark = pytest.mark.django_db

ROLLBACK = "Rollback plan is viable"
TESTING = "Testing strategy is comprehensive"
ARCHITECTURE = "Aligns with project architecture"


def item(review, text):
    return next(i for i in items_of(review) if i.text == text)


def sent_back(author, reviewer):
    """rob answers everything, says No to the rollback with a note, and asks for revision."""
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    services.review_answer(actor=reviewer, review=review, item=item(review, ROLLBACK),
                           answer="no", note="Rollback for the bucket is missing")
    services.review_answer(actor=reviewer, review=review, item=item(review, ARCHITECTURE),
                           answer="yes", note="Matches the cache layer")
    services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                           comment="Say how the bucket is rolled back.")
    plan.refresh_from_db()
    return plan, review


def resubmitted(author, reviewer):
    plan, first = sent_back(author, reviewer)
    plan = revise(plan, author, "Logins are slow; the bucket is versioned for rollback.")
    plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    return plan, first


# --- authors see every review --------------------------------------------------------------
def test_the_author_opens_each_review_from_the_plan_page(client, author, reviewer):
    plan, review = sent_back(author, reviewer)
    client.force_login(author)
    page = client.get(plan.get_absolute_url()).content.decode()
    url = reverse("reviews:review", args=[review.pk])
    rob = re.escape(display_name(reviewer))
    assert re.search(rf'{rob}: <a href="{url}" data-review-link><span class="status '
                     r'status-NEEDS_REVISION">Needs revision</span></a>', page)
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "You are reading" in body and "every checklist answer and note" in body
    assert "Say how the bucket is rolled back." in body  # the decision's comment
    row = body[body.index(ROLLBACK):]
    assert re.match(rf'{ROLLBACK}</span>\s*<strong class="answer-no">No</strong>\s*'
                    r'<span class="answer-note"> — Rollback for the bucket is missing</span>', row)
    assert body.count('class="answer-yes">Yes</strong>') == 14
    assert "Record decision" not in body and "data-answer-form" not in body  # read, not write


def test_earlier_reviews_stay_linked_after_a_resubmission(client, author, reviewer):
    plan, first = resubmitted(author, reviewer)
    client.force_login(author)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "Earlier reviews (1)" in page
    rob, url = re.escape(display_name(reviewer)), reverse("reviews:review", args=[first.pk])
    assert re.search(rf'{rob} on revision 1: <a href="{url}"'
                     r' data-review-link>', page)


# --- carried-over answers ------------------------------------------------------------------
def test_carried_answers_are_marked_and_must_be_confirmed_before_deciding(
        client, author, reviewer):
    plan, first = resubmitted(author, reviewer)
    client.force_login(reviewer)
    response = client.post(reverse("reviews:start", args=[plan.pk]), follow=True)
    review = response.context["review"]
    page = response.content.decode()
    answers = ChecklistAnswer.objects.filter(review=review)
    assert answers.count() == 15
    assert all(a.carried_from_id == first.revision_id and not a.confirmed for a in answers)
    assert review.answers_carried_from_id == first.revision_id
    assert "15 answers carried over from your review of revision 1" in page
    assert "0 / 15" not in page and "15 / 15 answered · 15 to confirm" in page
    assert page.count("not yet confirmed") == 15 and page.count(">Confirm</button>") == 15
    # Where each came from, and whether the part of the plan it is about changed since.
    testing = page[page.index(TESTING):]
    assert testing.index("From revision 1, unchanged section") < testing.index("</li>")
    architecture = page[page.index(ARCHITECTURE):]
    assert architecture.index("From revision 1, the plan changed since") < architecture.index(
        "</li>")

    for decision in ("APPROVED", "NEEDS_REVISION"):
        with pytest.raises(services.ValidationError,
                           match=r"Confirm or change the 15 answers carried over from revision 1"
                                 r" before deciding: Solution addresses"):
            services.review_decide(actor=reviewer, review=review, decision=decision,
                                   comment="Fine.")
    entry = AuditEntry.objects.filter(action="review.started", object_id=str(review.pk)).get()
    assert entry.payload["answers_copied"] == 15 and entry.payload["copied_from_revision"] == 1

    # Confirming is saving the same answer; changing it makes it this revision's own.
    for i in items_of(review):
        if i.text == ROLLBACK:
            services.review_answer(actor=reviewer, review=review, item=i, answer="yes")
        elif i.text == ARCHITECTURE:
            services.review_answer(actor=reviewer, review=review, item=i, answer="yes",
                                   note="Matches the cache layer")
        else:
            services.review_answer(actor=reviewer, review=review, item=i, answer="yes")
    rollback = answers.get(item__text=ROLLBACK)
    assert rollback.carried_from_id is None and rollback.confirmed and rollback.note == ""
    kept = answers.get(item__text=ARCHITECTURE)
    assert kept.carried_from_id == first.revision_id and kept.confirmed
    assert services.unconfirmed_answers(review) == []
    services.review_decide(actor=reviewer, review=review, decision="APPROVED")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED

    # The certificate says which answers were carried over, and that they were confirmed.
    cert = client.get(reverse("reviews:certificate", args=[plan.pk])).content.decode()
    assert cert.count("carried from r1, confirmed on r2") == 14
    row = cert[cert.index(f"<td>{ROLLBACK}</td>"):]
    assert "carried from" not in row[:row.index("</tr>")]
    markdown = client.get(reverse("reviews:certificate_markdown", args=[plan.pk])).content.decode()
    assert (f"{ARCHITECTURE}: Yes (Matches the cache layer) [carried from r1, confirmed on r2]"
            in markdown)
    assert f"{ROLLBACK}: Yes\n" in markdown
    assert "Rollback for the bucket is missing" not in cert + markdown  # the stale note is gone


def test_confirming_through_the_page_keeps_the_row_and_updates_the_counters(
        client, author, reviewer):
    plan, _ = resubmitted(author, reviewer)
    review = services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    target = item(review, TESTING)
    response = client.post(reverse("reviews:answer", args=[review.pk]),
                           {"item": target.pk, "answer": "yes", "revision": 2, "confirm": "1"},
                           HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "From revision 1, unchanged section · confirmed" in body
    assert ">Confirm</button>" not in body
    assert re.search(r'id="checklist-count" aria-live="polite" hx-swap-oob="true">'
                     r"15 / 15 answered · 14 to confirm</span>", body)


# --- live counters, labels ------------------------------------------------------------------
def test_each_saved_answer_updates_the_checklist_counter(client, author, reviewer):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    for number, i in enumerate(items_of(review)[:3], start=1):
        response = client.post(reverse("reviews:answer", args=[review.pk]),
                               {"item": i.pk, "answer": "yes", "revision": 1},
                               HTTP_HX_REQUEST="true")
        assert (f'hx-swap-oob="true">{number} / 15 answered</span>'
                in response.content.decode())
    page = client.get(reverse("reviews:review", args=[review.pk])).content.decode()
    assert 'id="checklist-count" aria-live="polite">3 / 15 answered</span>' in page


class Fields(HTMLParser):
    """The form fields of a page outside the plan's document, and the labels' targets."""

    def __init__(self):
        super().__init__()
        self.fields, self.labelled, self.depth = [], set(), 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "article":
            self.depth += 1
        if tag == "label" and attrs.get("for"):
            self.labelled.add(attrs["for"])
        if self.depth == 0 and tag in ("input", "select", "textarea") and attrs.get(
                "type") not in ("hidden", "submit"):
            self.fields.append(attrs)

    def handle_endtag(self, tag):
        if tag == "article":
            self.depth -= 1


def test_every_field_on_the_review_page_has_a_label(client, author, reviewer):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    parser = Fields()
    parser.feed(client.get(reverse("reviews:review", args=[review.pk])).content.decode())
    assert len(parser.fields) > 45  # 15 x (3 answers, a note), the decision, the concern form
    unlabelled = [f.get("name") for f in parser.fields if f.get("id") not in parser.labelled]
    assert unlabelled == []


def test_statuses_are_said_in_words(client, author, reviewer):
    plan, review = sent_back(author, reviewer)
    client.force_login(author)
    for url in (reverse("reviews:review", args=[review.pk]), plan.get_absolute_url()):
        page = client.get(url).content.decode()
        statuses = re.findall(r'<span class="status status-[A-Z_]+">([^<]*)</span>', page)
        assert "Needs revision" in statuses
        assert all(s.strip() for s in statuses)  # never a coloured badge alone


# --- re-request a review -------------------------------------------------------------------
def test_the_author_asks_an_earlier_reviewer_again(client, author, reviewer, reviewer2):
    plan, _ = resubmitted(author, reviewer)
    client.force_login(author)
    page = client.get(plan.get_absolute_url()).content.decode()
    url = reverse("reviews:rerequest", args=[plan.pk, reviewer.pk])
    assert f'action="{url}"' in page and "Re-request review" in page
    OutboxMessage.objects.all().delete()
    response = client.post(url, follow=True)
    assert "Asked" in response.content.decode() and "to review this plan again" in (
        response.content.decode())
    assert ReviewRequest.objects.filter(plan=plan, user=reviewer).exists()
    notified = set(OutboxMessage.objects.values_list("recipient__username", "event"))
    assert notified and notified <= {("rob", "review.rerequested")}
    entry = AuditEntry.objects.get(plan=plan, action="review.rerequested")
    assert entry.payload["user"] == "rob" and entry.payload["revision"] == 2
    # Once rob reviews revision 2 he is no longer offered; rita never reviewed it.
    services.review_start(actor=reviewer, plan=plan)
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "Re-request review" not in page
    with pytest.raises(services.ValidationError, match="rita cannot be asked again"):
        services.review_rerequest(actor=author, plan=plan, reviewer=reviewer2)
    with pytest.raises(services.NotAllowed):
        services.review_rerequest(actor=AuthorFactory(), plan=plan, reviewer=reviewer)


# --- the decision form ------------------------------------------------------------------------
def test_the_chosen_decision_and_comment_survive_a_form_error(client, author, reviewer):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer)
    url = reverse("reviews:decide", args=[review.pk])
    response = client.post(url, {"decision": "NEEDS_REVISION", "comment": "", "revision": 1})
    assert response.status_code == 400
    page = response.content.decode()
    assert "a comment is required to ask for revision or reject" in page
    assert re.search(r'<input type="radio" name="decision" value="NEEDS_REVISION"[^>]*checked',
                     page)
    assert not re.search(r'value="APPROVED"[^>]*checked', page)

    response = client.post(url, {"decision": "APPROVED", "comment": "Ship it, carefully.",
                                 "revision": 1})
    page = response.content.decode()
    assert response.status_code == 400 and "To approve, answer every checklist item" in page
    assert re.search(r'value="APPROVED"[^>]*checked', page)
    assert re.search(r">\s*Ship it, carefully.</textarea>", page)
    response = client.post(url, {"comment": "Which one?", "revision": 1})
    page = response.content.decode()
    assert "Choose approve, needs revision or reject." in page
    assert re.search(r">\s*Which one\?</textarea>", page)
    review.refresh_from_db()
    assert review.decision == ""


def test_a_second_decision_gets_one_clear_message(client, author, reviewer):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    ReviewPolicy.objects.update(min_approvals=2)  # one decision leaves the plan under review
    answer_all(review, reviewer)
    client.force_login(reviewer)
    url = reverse("reviews:decide", args=[review.pk])
    client.post(url, {"decision": "APPROVED", "revision": 1}, follow=True)
    response = client.post(url, {"decision": "REJECTED", "comment": "No.", "revision": 1},
                           follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["You already decided on this revision (Approve); a decision is final."]
    assert "This plan changed" not in response.content.decode()
