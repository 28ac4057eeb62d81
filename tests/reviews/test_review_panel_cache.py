"""The plan page's review panel is laid out once and kept under everything it shows
(reviews/templatetags/reviews_tags.py _panel_key): served from the cache it is the panel a fresh
layout would give, for every viewer and state; a change a user would notice shows on the next
view; no viewer is shown another's panel; its forms carry the page's own CSRF token."""

import re

import pytest
from django.contrib.auth.models import Group
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse

from accounts.roles import REVIEWERS
from accounts.services import profile_update
from core.cache import RecentValues
from plans.models import Plan, PlanStatus
from plans.rendering import TOKEN_MARK
from plans.services import plan_submit
from reviews import policy, services
from reviews.models import Decision, Review
from reviews.templatetags import reviews_tags
from tests.factories import AdminFactory, AuthorFactory, ReviewerFactory, UserFactory, ready_plan
from tests.reviewkit import answer_all, approve, revise

pytestmark = pytest.mark.django_db
committed = pytest.mark.django_db(transaction=True)  # real commits: the on-commit tokens run

PANEL = "reviews/includes/review_panel.html"
TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


@pytest.fixture(autouse=True)
def _own_recent_panels(monkeypatch):
    """Each test starts with none kept in this process (a plan's id is taken again after a
    rollback: an earlier test's panel would be served)."""
    monkeypatch.setattr(reviews_tags, "recent_panels", RecentValues(size=1024))


class _Fresh:
    """recent_panels that keeps nothing: every view lays the panel out."""

    def cached(self, key, compute, seconds):
        return compute()


def _get(client, plan):
    response = client.get(reverse("plans:detail", args=[plan.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<section class="card review-panel"')
    return html[start:html.index("</section>", start) + len("</section>")], response


def panel(client, plan) -> tuple[str, bool]:
    """(the page's review panel, its CSRF tokens blanked; whether it was laid out)."""
    html, response = _get(client, plan)
    return TOKEN.sub(r"\1\2", html), PANEL in [t.name for t in response.templates]


def fresh(client, plan, monkeypatch) -> str:
    """The panel laid out afresh, the cache bypassed."""
    with monkeypatch.context() as patch:
        patch.setattr(reviews_tags, "recent_panels", _Fresh())
        html, laid_out = panel(client, plan)
    assert laid_out
    return html


def kept(client, plan) -> str:
    """The panel as a second view serves it (from the cache)."""
    panel(client, plan)
    html, laid_out = panel(client, plan)
    assert not laid_out
    return html


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_panel_template_reads_only_the_plans_id_and_status():
    """_plain names a plan by its id and status: the panel's templates may read no more of
    one (a new attribute read there must be added to _plain's plan)."""
    read = set()
    for name in reviews_tags.PANEL_TEMPLATES:
        source = get_template(name).template.source
        read |= set(re.findall(r"\bplan\.(\w+)", source))
        assert "panel.plan" not in source and "plan|" not in source
    assert read <= {"pk", "status", "get_status_display"}


def test_a_kept_panel_is_the_fresh_one_for_every_viewer_and_state(monkeypatch):
    """One cache through the whole grid: a key that left out something a viewer or a state
    changes would serve an earlier panel, and differ from the fresh layout."""
    author, admin = AuthorFactory(username="alice"), AdminFactory(username="ada")
    reviewer, other_reviewer = ReviewerFactory(username="rob"), ReviewerFactory(username="rita")
    viewers = {name: signed_in(user) for name, user in {
        "author": author, "reviewer": reviewer, "other reviewer": other_reviewer,
        "admin": admin, "other user": UserFactory(username="olaf"),
    }.items()}
    plan = ready_plan(author=author, title="Grid plan")
    seen: dict[str, set] = {}

    def check(state: str) -> None:
        for name, client in viewers.items():
            shown = kept(client, plan)
            assert shown == fresh(client, plan, monkeypatch), (state, name)
            seen.setdefault(state, set()).add(shown)

    check("draft")
    services.review_request(actor=author, plan=plan, users=[reviewer])
    check("draft, a reviewer requested")
    services.review_request(actor=author, plan=plan, groups=[Group.objects.get(name=REVIEWERS)])
    check("draft, a group requested")
    plan_submit(actor=author, plan=Plan.objects.get(pk=plan.pk))
    check("pending, no review")
    review = services.review_start(actor=reviewer, plan=plan)
    check("pending, reviewer mid-review")
    answer_all(review, reviewer)
    services.concern_raise(actor=other_reviewer, plan=plan, title="Rollback <untested>",
                           section="Testing Strategy")
    check("pending, a concern open")
    services.review_decide(actor=reviewer, review=review, decision=Decision.NEEDS_REVISION,
                           comment="Say how the fallback is tested.")
    check("needs revision")
    plan = revise(plan, author, "Logins are slow under load; measured again.")
    check("needs revision, revised")
    plan_submit(actor=author, plan=Plan.objects.get(pk=plan.pk))
    check("pending again, an earlier review")
    concern = plan.concerns.get()
    services.concern_resolve(actor=other_reviewer, concern=concern)
    approve(Plan.objects.get(pk=plan.pk), other_reviewer)
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.APPROVED
    check("approved")
    rejected = ready_plan(author=author, title="Rejected plan")
    plan_submit(actor=author, plan=rejected)
    plan = rejected
    services.review_decide(actor=reviewer, review=services.review_start(actor=reviewer,
                                                                        plan=rejected),
                           decision=Decision.REJECTED, comment="No.")
    check("rejected")
    # The viewers' panels differ (actions, "Your review"), and so do the states'.
    assert all(len(panels) > 1 for panels in seen.values())
    assert len(set.union(*seen.values())) > len(seen)


def test_two_viewers_never_see_each_others_panel(reviewer):
    author = AuthorFactory(username="alice")
    plan = ready_plan(author=author)
    plan_submit(actor=author, plan=plan)
    review = services.review_start(actor=reviewer, plan=plan)
    mine = kept(signed_in(reviewer), plan)
    assert f'href="{reverse("reviews:review", args=[review.pk])}">Continue your review' in mine
    # Another reviewer, after the first one's panel is kept: their own actions, not the first's.
    theirs = kept(signed_in(ReviewerFactory(username="rita")), plan)
    assert "Continue your review" not in theirs and "Start review" in theirs
    authors = kept(signed_in(author), plan)
    assert "Withdraw from review" in authors and "Start review" not in authors
    assert "Withdraw from review" not in theirs and "Request reviewers" not in theirs


@committed
def test_a_recorded_decision_shows_on_the_next_view():
    author, reviewer = AuthorFactory(username="alice"), ReviewerFactory(username="rob")
    plan = ready_plan(author=author)
    plan_submit(actor=author, plan=plan)
    review = services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    client = signed_in(author)
    assert "reviewing" in kept(client, plan)
    services.review_decide(actor=reviewer, review=Review.objects.get(pk=review.pk),
                           decision=Decision.NEEDS_REVISION, comment="Test the fallback.")
    shown, laid_out = panel(client, plan)
    assert laid_out and "Needs revision" in shown and "Test the fallback." in shown
    assert "Resubmit for review" in shown


@committed
def test_a_requested_reviewer_shows_on_the_next_view():
    author = AuthorFactory(username="alice")
    reviewer = ReviewerFactory(username="rob", first_name="Robin", last_name="Hood")
    plan = ready_plan(author=author)
    client = signed_in(author)
    assert "Requested:" not in kept(client, plan)
    services.review_request(actor=author, plan=plan, users=[reviewer])
    shown, laid_out = panel(client, plan)
    assert laid_out and "Requested: Robin Hood" in shown


@committed
def test_a_reviewer_renaming_themselves_shows_on_the_next_view():
    author = AuthorFactory(username="alice")
    reviewer = ReviewerFactory(username="rob", first_name="Robin", last_name="Hood")
    plan = ready_plan(author=author)
    services.review_request(actor=author, plan=plan, users=[reviewer])
    client = signed_in(author)
    assert "Requested: Robin Hood" in kept(client, plan)
    profile_update(actor=reviewer, user=reviewer, first_name="Robin", last_name="Loxley",
                   email=reviewer.email)
    shown, _ = panel(client, plan)
    assert "Requested: Robin Loxley" in shown


@committed
def test_joining_the_reviewers_shows_on_the_next_view():
    author = AuthorFactory(username="alice")
    plan = ready_plan(author=author)
    plan_submit(actor=author, plan=plan)
    user = UserFactory(username="olaf")
    client = signed_in(user)
    assert "Start review" not in kept(client, plan)
    Group.objects.get(name=REVIEWERS).user_set.add(user)
    shown, laid_out = panel(client, plan)
    assert laid_out and "Start review" in shown


@committed
def test_a_new_group_shows_in_request_reviewers_on_the_next_view():
    author = AuthorFactory(username="alice")
    plan = ready_plan(author=author)
    client = signed_in(author)
    assert "Security" not in kept(client, plan)
    # A group is offered once a reviewer is in it (reviews.forms.reviewer_groups).
    Group.objects.create(name="Security").user_set.add(ReviewerFactory(username="rob"))
    shown, _ = panel(client, plan)
    assert ">Security</option>" in shown


@committed
def test_a_changed_policy_shows_on_the_next_view():
    author, admin = AuthorFactory(username="alice"), AdminFactory(username="ada")
    plan = ready_plan(author=author)
    plan_submit(actor=author, plan=plan)
    client = signed_in(author)
    assert "Approvals: 0 of 1" in kept(client, plan)
    row = policy.active_policy()
    row.min_approvals = row.high_risk_min_approvals = 3  # high risk never asks for fewer
    services.policy_save(actor=admin, policy=row, required_groups=[],
                         high_risk_required_groups=[], changed_fields=["min_approvals"],
                         created=False)
    shown, laid_out = panel(client, plan)
    assert laid_out and "Approvals: 0 of 3" in shown and "Needs 3 more approvals" in shown


def test_its_forms_carry_the_pages_csrf_token(author):
    plan = ready_plan(author=author)
    client = Client(enforce_csrf_checks=True)
    client.force_login(author)
    kept(client, plan)
    html, _ = _get(client, plan)
    # The panel's own (a masked token: every get_token differs, the page's header's too).
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]*)"', html)
    assert tokens and re.fullmatch(r"[A-Za-z0-9]{64}", tokens[0])
    assert TOKEN_MARK not in html
    # A token this client's cookie takes: the submission posts (CSRF checked).
    response = client.post(reverse("reviews:submit", args=[plan.pk]),
                           {"csrfmiddlewaretoken": tokens[0]})
    assert response.status_code == 302
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.PENDING_REVIEW


def test_a_text_that_has_the_token_mark_keeps_it_and_never_shows_a_token(author, reviewer):
    """The mark is a token's place only as a form writes one (value="..."): a title or a
    reviewer's name that has it shows it as typed on the page (toolbar and panel alike)."""
    plan = ready_plan(author=author, title=f"Odd {TOKEN_MARK} title")
    reviewer.first_name = f"Rob {TOKEN_MARK}"
    reviewer.save()
    services.review_request(actor=author, plan=plan, users=[reviewer])
    client = signed_in(author)
    for _ in range(2):  # laid out, then kept
        html = _get(client, plan)[1].content.decode()
        tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]*)"', html)
        assert tokens and all(re.fullmatch(r"[A-Za-z0-9]{64}", token) for token in tokens)
        assert html.count(TOKEN_MARK) >= 2  # the title, the reviewer's name: as typed
        for token in set(tokens):
            assert f"Odd {token}" not in html and f"Rob {token}" not in html
