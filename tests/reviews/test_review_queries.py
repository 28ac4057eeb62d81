"""The review page, the plan page (with its review panel) and the discussion page keep a fixed
query count as steps, reviews, checklist answers, concerns, comments and requests grow."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plans.services import plan_submit
from reviews import services
from reviews.models import ReviewPolicy
from tests.factories import (
    PlanStepFactory,
    ReviewerFactory,
    StepActionFactory,
    StepFileFactory,
    ready_plan,
)
from tests.reviewkit import answer_all, items_of, resubmit

pytestmark = pytest.mark.django_db

# The review page's budget: session, user, the review (with the data version and whether the
# viewer edits the plan), the layout's groups and badge (when not cached); the rest (answers,
# checklist, the reviewer's reviews, concerns, steps, the current revision) is cached under the
# data version (reviews/selectors.py versioned). It must not grow with the data.
REVIEW_PAGE_MAX_QUERIES = 5


def build(author, viewer, *, others: int, answers_all: bool):
    """A plan under review with 1 + `others` steps; the viewer's review, plus `others`
    reviewers' reviews, concerns and comments."""
    ReviewPolicy.objects.update(min_approvals=50)
    plan = ready_plan(author=author)
    for position in range(1, others + 1):
        step = PlanStepFactory(plan=plan, position=position)
        StepActionFactory(step=step)
        StepFileFactory(step=step)
    plan_submit(actor=author, plan=plan)
    mine = services.review_start(actor=viewer, plan=plan)
    if answers_all:
        answer_all(mine, viewer)
    else:
        services.review_answer(actor=viewer, review=mine, item=items_of(mine)[0], answer="yes")
    reviewers = [ReviewerFactory() for _ in range(others)]
    for i, user in enumerate(reviewers):
        review = services.review_start(actor=user, plan=plan)
        answer_all(review, user)
        if i % 2:
            services.review_decide(actor=user, review=review, decision="APPROVED")
        services.concern_raise(actor=user, plan=plan, title=f"Concern {i}")
        services.comment_post(actor=user, plan=plan, body=f"Comment {i}")
    if reviewers:
        services.review_request(actor=author, plan=plan, users=reviewers)
    return plan, mine


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", ["review", "plan", "comments"])
def test_query_count_does_not_grow(client, author, reviewer, page, django_assert_num_queries):
    small_plan, small_review = build(author, reviewer, others=0, answers_all=False)
    big_author = ReviewerFactory(username="bea")
    big_plan, big_review = build(big_author, reviewer, others=8, answers_all=True)
    urls = {
        "review": lambda p, r: f"/reviews/{r.pk}/",
        "plan": lambda p, r: f"/plans/{p.pk}/",
        "comments": lambda p, r: f"/reviews/plan/{p.pk}/comments/",
    }[page]
    client.force_login(reviewer)
    client.get(urls(small_plan, small_review))  # warm caches (content types, rendered HTML)
    client.get(urls(big_plan, big_review))
    small = count(client, urls(small_plan, small_review))
    with django_assert_num_queries(small):
        response = client.get(urls(big_plan, big_review))
    body = response.content.decode()
    if page == "review":
        assert small <= REVIEW_PAGE_MAX_QUERIES
        assert "15 / 15 answered" in body and "Concern 7" in body
    elif page == "plan":
        assert "Concern 7" in body and "Reviewers:" in body
    else:
        assert "Comment 7" in body


def test_review_page_renders_the_revision_once_then_from_the_cache(client, author, reviewer,
                                                                    monkeypatch):
    from unittest import mock

    from django.core.cache import cache

    from plans import rendering

    plan = ready_plan(author=author, problem_statement="A unique problem for the cache test.")
    plan_submit(actor=author, plan=plan)
    review = services.review_start(actor=reviewer, plan=plan)
    cache.delete_many([f"plans:revision-html:v{rendering.RENDER_VERSION}:"
                       f"{review.revision.content_hash}"])
    client.force_login(reviewer)
    renderer = mock.Mock(wraps=rendering.render_markdown)
    monkeypatch.setattr(rendering, "render_markdown", renderer)
    first = client.get(f"/reviews/{review.pk}/")
    assert "A unique problem for the cache test." in first.content.decode()
    assert renderer.called  # once per part of the plan (the page lays its steps out)
    renderer.reset_mock()
    second = client.get(f"/reviews/{review.pk}/")
    assert second.status_code == 200 and renderer.call_count == 0
    assert "A unique problem for the cache test." in second.content.decode()


def test_a_review_of_an_earlier_revision_costs_what_a_current_one_does(client, author,
                                                                      reviewer):
    """Its concern form offers the current revision's sections: read from the cached outline,
    not from that revision's text (loaded without it)."""
    plan = ready_plan(author=author)
    plan_submit(actor=author, plan=plan)
    earlier = services.review_start(actor=reviewer, plan=plan)
    plan = resubmit(plan, author, plan.problem_statement, "A newer problem statement.")
    current = services.review_start(actor=reviewer, plan=plan)
    assert current.pk != earlier.pk
    client.force_login(reviewer)
    for review in (earlier, current):
        client.get(f"/reviews/{review.pk}/")  # warm caches
    assert (count(client, f"/reviews/{earlier.pk}/") == count(client, f"/reviews/{current.pk}/")
            <= REVIEW_PAGE_MAX_QUERIES)
