"""Forged requests get 403 / 409 with a message, and change nothing (issue #4, Safety)."""

import pytest

from plans.models import PlanStatus
from plans.services import plan_submit
from reviews import services
from reviews.models import ChecklistAnswer, Review
from tests.factories import AuthorFactory, ReviewerFactory, ready_plan
from tests.reviewkit import actions, answer_all, items_of, revise, submitted_plan

pytestmark = pytest.mark.django_db


def test_reviewer_cannot_withdraw_someone_elses_plan(client, author, reviewer):
    plan = submitted_plan(author)
    client.force_login(reviewer)
    response = client.post(f"/reviews/plan/{plan.pk}/withdraw/")
    assert response.status_code == 403
    assert "Only the author can withdraw this plan." in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW
    assert "plan.withdrawn" not in actions(plan)


def test_other_author_cannot_submit_a_plan(client, author):
    plan = ready_plan(author=author)
    client.force_login(AuthorFactory(username="mallory"))
    response = client.post(f"/reviews/plan/{plan.pk}/submit/", HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert response.content.decode() == "Only the author can submit this plan."
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and not plan.revisions.exists()


def test_answering_someone_elses_review_is_forbidden(client, author, reviewer, reviewer2):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    client.force_login(reviewer2)
    response = client.post(f"/reviews/{review.pk}/answer/",
                           {"item": items_of(review)[0].pk, "answer": "no"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert response.content.decode() == "This is not your review."
    assert not ChecklistAnswer.objects.filter(review=review).exists()


def test_deciding_someone_elses_review_is_forbidden(client, author, reviewer, reviewer2):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    client.force_login(reviewer2)
    response = client.post(f"/reviews/{review.pk}/decide/",  # as the page sends it
                           {"decision": "APPROVED", "revision": 1}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert response.content.decode() == "This is not your review."
    review.refresh_from_db()
    assert review.decision == ""


def test_author_cannot_approve_own_plan_even_as_a_reviewer(client):
    author = AuthorFactory(username="alice", roles=["Authors", "Reviewers"])
    plan = submitted_plan(author)
    client.force_login(author)
    response = client.post(f"/reviews/plan/{plan.pk}/start/")
    assert response.status_code == 403
    assert "you are its author or one of its editors" in response.content.decode()
    assert not Review.objects.filter(plan=plan).exists()
    with pytest.raises(services.NotAllowed):
        services.review_start(actor=author, plan=plan)


def test_co_author_cannot_review(author):
    coauthor = ReviewerFactory(username="cora")
    plan = ready_plan(author=author)
    from plans.models import PlanEditor

    PlanEditor.objects.create(plan=plan, user=coauthor)
    plan_submit(actor=author, plan=plan)
    with pytest.raises(services.NotAllowed):
        services.review_start(actor=coauthor, plan=plan)


def test_self_approval_via_a_forged_review_row_is_refused(author):
    """Even a review row for the author (e.g. written by hand) cannot approve the plan."""
    author.groups.add(*ReviewerFactory(username="x").groups.all())
    plan = submitted_plan(author)
    review = Review.objects.create(plan=plan, revision=plan.revisions.get(), reviewer=author,
                                   checklist=services.default_checklist())
    with pytest.raises(services.NotAllowed, match="your own plan"):
        services.review_decide(actor=author, review=review, decision="REJECTED", comment="x")


def test_decision_on_a_stale_revision_is_a_conflict(client, author, reviewer):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    from plans.services import plan_withdraw

    plan_withdraw(actor=author, plan=plan)
    plan = revise(plan, author, "A different problem now.")
    plan_submit(actor=author, plan=plan)
    client.force_login(reviewer)
    response = client.post(f"/reviews/{review.pk}/decide/",
                           {"decision": "APPROVED", "revision": 1}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert response.content.decode().startswith("This plan changed, reload.")
    assert "stale" in response.content.decode()
    # In the browser: a message and back to the review page.
    response = client.post(f"/reviews/{review.pk}/decide/",
                           {"decision": "APPROVED", "revision": 1}, follow=True)
    assert response.redirect_chain[-1][0] == f"/reviews/{review.pk}/"
    assert "This plan changed, reload." in response.content.decode()
    review.refresh_from_db()
    assert review.decision == ""
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW


def test_decision_with_an_outdated_revision_number_is_a_conflict(client, author, reviewer):
    plan = submitted_plan(author)
    review = services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    client.force_login(reviewer)
    response = client.post(f"/reviews/{review.pk}/decide/", {"decision": "APPROVED",
                                                             "revision": 7},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    review.refresh_from_db()
    assert review.decision == ""


def test_non_reviewer_cannot_raise_a_concern(client, author):
    plan = submitted_plan(author)
    client.force_login(AuthorFactory(username="mallory"))
    response = client.post(f"/reviews/plan/{plan.pk}/concerns/", {"title": "Blocked!"})
    assert response.status_code == 403
    assert not plan.concerns.exists()


def test_only_author_or_admin_requests_reviewers(client, author, reviewer, reviewer2):
    plan = submitted_plan(author)
    client.force_login(reviewer)
    response = client.post(f"/reviews/plan/{plan.pk}/request/", {"usernames": "rita"})
    assert response.status_code == 403
    assert not plan.review_requests.exists()


def test_get_cannot_change_state(client, author):
    plan = ready_plan(author=author)
    client.force_login(author)
    assert client.get(f"/reviews/plan/{plan.pk}/submit/").status_code == 405


@pytest.mark.parametrize("role", ["author", "editor"])
def test_admin_who_wrote_the_plan_cannot_resolve_a_concern_to_approve_it(client, role,
                                                                        reviewer, reviewer2):
    """An admin who is the plan's author (or one of its editors) cannot resolve a reviewer's
    blocking concern: resolving it would approve their own plan. The raiser still can."""
    from plans.models import PlanEditor
    from tests.factories import AdminFactory

    boss = AdminFactory(username="boss")
    author = boss if role == "author" else AuthorFactory(username="alice")
    plan = ready_plan(author=author)
    if role == "editor":
        PlanEditor.objects.create(plan=plan, user=boss)
    plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    concern = services.concern_raise(actor=reviewer2, plan=plan, title="No rollback test")
    review = services.review_start(actor=reviewer, plan=plan)
    answer_all(review, reviewer)
    services.review_decide(actor=reviewer, review=review, decision="APPROVED")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PENDING_REVIEW  # only the concern holds it

    client.force_login(boss)
    page = client.get(f"/plans/{plan.pk}/").content.decode()
    assert "No rollback test" in page and ">Resolve</button>" not in page
    response = client.post(f"/reviews/concerns/{concern.pk}/resolve/")
    assert response.status_code == 403
    assert "author or editor" in response.content.decode()
    concern.refresh_from_db()
    plan.refresh_from_db()
    assert concern.is_open and plan.status == PlanStatus.PENDING_REVIEW
    assert "concern.resolved" not in actions(plan)

    client.force_login(reviewer2)  # the raiser's path stays
    assert ">Resolve</button>" in client.get(f"/plans/{plan.pk}/").content.decode()
    client.post(f"/reviews/concerns/{concern.pk}/resolve/")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_concern_forms_never_redirect_off_site(client, author, reviewer, target):
    plan = submitted_plan(author)
    client.force_login(reviewer)
    response = client.post(f"/reviews/plan/{plan.pk}/concerns/",
                           {"title": "Unclear", "next": target})
    assert response.status_code == 302 and response["Location"] == f"/plans/{plan.pk}/"
    concern = plan.concerns.get()
    response = client.post(f"/reviews/concerns/{concern.pk}/resolve/", {"next": target})
    assert response.status_code == 302 and response["Location"] == f"/plans/{plan.pk}/"
    # A path on this site is still honoured.
    concern = services.concern_raise(actor=reviewer, plan=plan, title="Again")
    response = client.post(f"/reviews/concerns/{concern.pk}/resolve/",
                           {"next": "/reviews/somewhere/"})
    assert response["Location"] == "/reviews/somewhere/"
