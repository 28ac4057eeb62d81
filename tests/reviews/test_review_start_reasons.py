"""Starting a review is refused with the real reason: someone in no reviewer role is told so,
not that authors and editors never review (they may be neither)."""

import pytest

from accounts.roles import AUTHORS, REVIEWERS
from core.errors import NotAllowed
from plans.models import PlanEditor
from reviews.models import Review
from reviews.services import review_start
from tests.api.conftest import token_client
from tests.api.test_plans_api import _problem
from tests.factories import AuthorFactory, ReviewerFactory
from tests.reviewkit import submitted_plan

pytestmark = pytest.mark.django_db

NOT_A_REVIEWER = "Only reviewers review plans: you are not one"
AUTHOR_OR_EDITOR = "you are its author or one of its editors"


def refusal(actor, plan) -> str:
    with pytest.raises(NotAllowed) as refused:
        review_start(actor=actor, plan=plan)
    assert not Review.objects.filter(plan=plan).exists()
    return str(refused.value)


def test_someone_in_no_reviewer_role_is_told_they_are_not_a_reviewer(author):
    plan = submitted_plan(author)
    other_author = AuthorFactory(username="olga")
    message = refusal(other_author, plan)
    assert NOT_A_REVIEWER in message and REVIEWERS in message
    assert "author" not in message and "editor" not in message


def test_the_plans_author_who_is_a_reviewer_is_told_authors_never_review():
    both = ReviewerFactory(username="bea", roles=(AUTHORS, REVIEWERS))
    plan = submitted_plan(both)
    message = refusal(both, plan)
    assert AUTHOR_OR_EDITOR in message and NOT_A_REVIEWER not in message


def test_an_editor_who_is_a_reviewer_is_told_editors_never_review(author, reviewer):
    plan = submitted_plan(author)
    PlanEditor.objects.create(plan=plan, user=reviewer)
    message = refusal(reviewer, plan)
    assert AUTHOR_OR_EDITOR in message and NOT_A_REVIEWER not in message


def test_the_api_gives_the_same_reasons(author, reviewer):
    plan = submitted_plan(author)
    other_author = AuthorFactory(username="olga")
    body = _problem(token_client(other_author).post(f"/api/v1/plans/{plan.pk}/reviews"), 403)
    assert NOT_A_REVIEWER in body["detail"]
    PlanEditor.objects.create(plan=plan, user=reviewer)
    body = _problem(token_client(reviewer).post(f"/api/v1/plans/{plan.pk}/reviews"), 403)
    assert AUTHOR_OR_EDITOR in body["detail"]
    assert not Review.objects.filter(plan=plan).exists()
