"""The review, conversation and certificate pages keep rendered fragments in the cache (each
keyed by an immutable text's hash, or by a decided review that can no longer change): a write
shows on the next view, and the query counts stay fixed and small."""

import re
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.roles import ADMINS, REVIEWERS
from accounts.services import profile_update
from implementation import services as implementation
from plans import permissions as plan_permissions
from plans import rendering
from plans.models import PlanEditor, RiskLevel
from plans.services import plan_submit, plan_update, plan_withdraw
from reviews import selectors, services
from reviews.models import ReviewPolicy
from tests.factories import PlanStepFactory, ReviewerFactory, UserFactory, ready_plan
from tests.implementation.kit import AMENDED, approved_plan
from tests.reviewkit import approve, queries, resubmit, text, two_step_plan

pytestmark = pytest.mark.django_db


# --- certificate ----------------------------------------------------------------------------------
def test_the_certificate_shows_each_write_after_approval(client, author, reviewer, reviewer2):
    plan = approved_plan(author, reviewer)
    url = reverse("reviews:certificate", args=[plan.pk])
    client.force_login(author)
    first = text(client, url)  # the approval's section is cached from here on
    assert "Steps done</strong>: 0 of" in first and "Rob Renamed" not in first
    # A reviewer renames themselves: the name is never part of the cached section.
    profile_update(actor=reviewer, user=reviewer, first_name="Rob", last_name="Renamed",
                   email=reviewer.email)
    implementation.progress_report(actor=author, plan=plan, step=1, commit="abc1234")
    page = text(client, url)
    assert "Rob Renamed" in page and "<code>abc1234</code>" in page
    assert "Steps done</strong>: 1 of" in page and "Implementing" in page
    # An approved amendment: its approval and its revision join the certificate.
    implementation.amendment_submit(actor=author, plan=plan, text=AMENDED)
    plan.refresh_from_db()
    approve(plan, reviewer2)
    page = text(client, url)
    assert "r2 (amendment)" in page and "@rita" in page


def test_a_decided_reviews_section_is_rendered_once(client, author, reviewer):
    plan = approved_plan(author, reviewer)
    url = reverse("reviews:certificate", args=[plan.pk])
    client.force_login(author)
    first = text(client, url)
    renderer = mock.Mock(wraps=rendering.render_to_string)
    with mock.patch("reviews.certificate.render_to_string", renderer):
        second = text(client, url)
    assert not any(c.args[0] == "reviews/includes/certificate_approval.html"
                   for c in renderer.call_args_list)
    def approvals(page: str) -> str:
        return page[page.index("@rob"):page.index("data-implementation-record")]

    assert approvals(second) == approvals(first)  # the checklist answers included
    assert "Solution addresses the problem completely" in approvals(second)


def test_the_certificate_query_count_does_not_grow_with_its_approvals(client, author):
    ReviewPolicy.objects.update(min_approvals=1, high_risk_min_approvals=3)
    one = approved_plan(author, ReviewerFactory())
    three = ready_plan(author=author)
    PlanStepFactory(plan=three, position=1, risk=RiskLevel.HIGH)  # needs three approvals
    plan_submit(actor=author, plan=three)
    for _ in range(3):
        three.refresh_from_db()
        approve(three, ReviewerFactory())
    client.force_login(author)
    small_url = reverse("reviews:certificate", args=[one.pk])
    text(client, small_url)
    small = queries(client, small_url)
    large_url = reverse("reviews:certificate", args=[three.pk])
    assert text(client, large_url).count("<strong>Decision</strong>") == 3
    assert queries(client, large_url) == small
    # Session, user, plan (with its risk and the data version), the layout's (when not
    # cached): the certificate comes whole from the cache until the next write.
    assert small <= 5
    # Read afresh: approval entries, revisions, reviews, their answers, the implementation
    # record (6) besides; as many for three approvals as for one.
    cache.clear()
    cold = queries(client, small_url)
    cache.clear()
    assert queries(client, large_url) == cold <= 16


# --- conversation ---------------------------------------------------------------------------------
def test_an_edited_comment_shows_its_new_text_at_once(client, author):
    plan = two_step_plan(author)
    comment = services.comment_post(actor=author, plan=plan, body="First **thought**")
    url = reverse("reviews:comments", args=[plan.pk])
    client.force_login(author)
    assert "First <strong>thought</strong>" in text(client, url)
    services.comment_edit(actor=author, comment=comment, body="Second *thought*")
    page = text(client, url)
    assert "Second <em>thought</em>" in page
    assert "First <strong>thought</strong>" in page  # kept as the earlier version, below it


def test_a_viewer_refused_the_plan_gets_403_before_any_page_is_built(client, author, reviewer,
                                                                       monkeypatch):
    plan = two_step_plan(author)
    url = f"/reviews/plan/{plan.pk}/comments/"
    # Were viewing ever narrowed (plans.permissions.can_view), the refused viewer builds nothing.
    monkeypatch.setattr(plan_permissions, "can_view", lambda plan, user: user.pk != reviewer.pk)
    client.force_login(reviewer)
    with mock.patch.object(selectors, "_conversation", wraps=selectors._conversation) as built:
        assert client.get(url).status_code == 403
    assert not built.called
    client.force_login(author)
    assert plan.title in text(client, url)  # now the page is in the cache ...
    client.force_login(reviewer)
    assert client.get(url).status_code == 403  # ... and still refused


def test_thread_forms_are_the_viewers_own_on_the_cached_page(author, reviewer):
    """Threads are rendered once for every viewer: each viewer's page carries their own CSRF
    token and only the buttons they may use, and a resolve shows on the next view."""
    plan = two_step_plan(author)
    root = services.comment_post(actor=reviewer, plan=plan, body="Why Redis?")
    url = reverse("reviews:comments", args=[plan.pk])
    outsider = UserFactory(username="olga")  # may see and reply, not resolve
    browsers = {}
    for user in (author, outsider):
        browsers[user] = Client(enforce_csrf_checks=True)
        browsers[user].force_login(user)
    resolve_url = reverse("reviews:thread_resolve", args=[root.pk])
    assert resolve_url in text(browsers[author], url)  # the page is cached from here on
    page = text(browsers[outsider], url)
    assert "Reply</label>" in page and resolve_url not in page
    token = re.search(rf'action="{reverse("reviews:comment_reply", args=[root.pk])}" '
                      r'class="cv-reply"><input type="hidden" name="csrfmiddlewaretoken" '
                      r'value="([^"]+)"', page)[1]
    response = browsers[outsider].post(reverse("reviews:comment_reply", args=[root.pk]),
                                       {"body": "Me too", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    services.thread_resolve(actor=author, comment=root)
    page = text(browsers[author], url)
    assert "Me too" in page and "Reopen thread" in page and resolve_url not in page


def test_each_revision_links_its_own_lines(client, author):
    """Blocks are cached per text and revision number: an unchanged resubmission (the same
    text under another number) links its lines to its own number."""
    plan = two_step_plan(author)
    plan_withdraw(actor=author, plan=plan)
    plan.refresh_from_db()
    plan_submit(actor=author, plan=plan)
    first, second = plan.revisions.order_by("number")
    assert (second.number, second.content_hash) == (2, first.content_hash)
    client.force_login(author)
    url = reverse("reviews:comments", args=[plan.pk])
    old = text(client, f"{url}?revision=1")
    new = text(client, f"{url}?revision=2")
    assert "?revision=1&amp;line_from=" in old and "?revision=2&amp;line_from=" not in old
    assert "?revision=2&amp;line_from=" in new and "?revision=1&amp;line_from=" not in new
    # A changed text is another entry altogether.
    plan = resubmit(plan, author, "Point reads at it", "Point reads elsewhere")
    assert "Point reads elsewhere" in text(client, f"{url}?revision=3")
    assert "Point reads elsewhere" not in text(client, f"{url}?revision=2")


# --- review page ----------------------------------------------------------------------------------
def test_the_review_page_shows_a_new_concern_and_decision_comment(client, author, reviewer,
                                                                  reviewer2):
    plan = two_step_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    url = reverse("reviews:review", args=[review.pk])
    client.force_login(reviewer)
    text(client, url)
    services.concern_raise(actor=reviewer2, plan=plan, title="Rollback", body="What about *X*?")
    assert "What about <em>X</em>?" in text(client, url)
    services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                           comment="Say **how**.")
    assert "Say <strong>how</strong>." in text(client, url)


def test_a_co_author_may_not_raise_a_concern_from_the_review_page(client, author, reviewer):
    """The page asks only whether the viewer edits the plan: an editor who is a reviewer
    still may not raise a concern there. Becoming one (an edit, a service) shows on the next
    view, though the page's rows are cached."""
    plan = two_step_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    url = reverse("reviews:review", args=[review.pk])
    editor = ReviewerFactory(username="eve", roles=(REVIEWERS, ADMINS))
    client.force_login(editor)
    assert "Raise a blocking concern" in text(client, url)
    plan_withdraw(actor=author, plan=plan)
    plan.refresh_from_db()
    plan_update(actor=editor, plan=plan, fields={"title": "Edited by eve"})
    assert PlanEditor.objects.filter(plan=plan, user=editor).exists()
    editor.groups.remove(Group.objects.get(name=ADMINS))  # (an admin may always raise one)
    plan.refresh_from_db()
    plan_submit(actor=author, plan=plan)
    assert "Raise a blocking concern" not in text(client, url)
    client.force_login(ReviewerFactory(username="ann"))  # not an editor: may raise one
    assert "Raise a blocking concern" in text(client, url)


def test_the_pages_render_without_the_cache(client, author, reviewer, settings, caplog):
    """Redis down (nothing listens): each page renders its fragments afresh, and says so."""
    plan = approved_plan(author, reviewer)
    services.comment_post(actor=author, plan=plan, body="A **bold** remark")
    review = plan.reviews.get()
    settings.CACHES = {"default": {
        "BACKEND": "core.cache_backend.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": {"socket_connect_timeout": 0.2},
    }}
    client.force_login(author)
    assert "A <strong>bold</strong> remark" in text(client, f"/reviews/plan/{plan.pk}/comments/")
    assert "Solution addresses the problem completely" in text(
        client, reverse("reviews:certificate", args=[plan.pk]))
    assert "Review by" in text(client, reverse("reviews:review", args=[review.pk]))
    assert "Cache unavailable" in caplog.text
