"""A submit, a review start and a decision cost the same queries whether 1 or 10 reviewers hear
about them, and a decision stays within its budget (the writes' own transaction; what runs after
commit, e.g. the broker publish, is not part of it)."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import OutboxMessage
from plans.models import PlanEditor
from plans.services import plan_submit
from reviews import selectors, services
from reviews.models import ReviewRequest
from tests.factories import AuthorFactory, ReviewerFactory, ready_plan

pytestmark = pytest.mark.django_db

DECISION_MAX_QUERIES = 25
#: What each write costs now, on SQLite and PostgreSQL alike (a write's audit entries are one
#: append: the chain's head read with its lock, then one insert): the webhook routes, default
#: checklist and submission rule come from the shared cache, a transition writes two columns,
#: each audience is one query of the recipients' columns, the current revision and whether the
#: actor edits the plan are read with the review (or the revision), and the decisions the
#: policy counts are read with their reviewers' editing. The decision reads the policy with its
#: groups (one query) from the database (reviews/policy.py evaluate_plan), never from the
#: shared copy.
WRITE_QUERIES = {"submit": 10, "start": 7, "decide": 11}
#: Transaction control: the test's own transaction turns each service's into a savepoint.
CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


def statements(captured) -> int:
    return sum(1 for q in captured.captured_queries if not q["sql"].startswith(CONTROL))


def cycle_queries(author, reviewers) -> dict:
    """Queries of each write of the second submit → start → decide cycle (the first warms up
    what a long-running process has loaded once)."""
    plan = ready_plan(author=author)
    for user in reviewers:
        ReviewRequest.objects.create(plan=plan, user=user, requested_by=author)
    counts = {}
    for _ in range(2):
        plan.refresh_from_db()
        with CaptureQueriesContext(connection) as submit:
            plan_submit(actor=author, plan=plan)
        with CaptureQueriesContext(connection) as start:
            review = services.review_start(actor=reviewers[0], plan=plan)
        with CaptureQueriesContext(connection) as decide:
            services.review_decide(actor=reviewers[0], review=review, decision="NEEDS_REVISION",
                                   comment="Say how it is rolled back.")
        counts = {"submit": statements(submit), "start": statements(start),
                  "decide": statements(decide)}
        inserts = [q["sql"] for q in submit.captured_queries
                   if q["sql"].startswith('INSERT INTO "notifications_outboxmessage"')]
        counts["outbox_inserts"] = len(inserts)
    counts["outbox_rows"] = OutboxMessage.objects.filter(plan=plan).count()
    return counts


def test_writes_cost_the_same_with_1_or_10_recipients(author):
    reviewers = [ReviewerFactory(username=f"rev{n}") for n in range(10)]
    one = cycle_queries(author, reviewers[:1])
    ten = cycle_queries(author, reviewers)
    assert ten["outbox_rows"] > one["outbox_rows"] >= 4  # 10 x (email + inbox) vs 1 x 2, twice
    assert one["outbox_inserts"] == ten["outbox_inserts"] == 1  # an event is one insert
    for write in ("submit", "start", "decide"):
        assert one[write] == ten[write], write
    assert ten["decide"] <= DECISION_MAX_QUERIES, ten


def test_writes_stay_within_their_budgets(author):
    reviewers = [ReviewerFactory(username=f"rev{n}") for n in range(10)]
    counts = cycle_queries(author, reviewers)
    for write, budget in WRITE_QUERIES.items():
        assert counts[write] <= budget, (write, counts)


def _ids(users) -> list[int]:
    return [user.pk for user in users]


def test_the_reviewer_pool_is_one_query_of_who_may_review(author, django_assert_num_queries):
    """Asked by name or through a group, only those who may review (in the Reviewers group,
    active, neither author nor editor), by id, in one query."""
    named, editor, member, outsider = (ReviewerFactory(username=n)
                                       for n in ("named", "editor", "member", "outsider"))
    inactive = ReviewerFactory(username="inactive", is_active=False)
    not_a_reviewer = AuthorFactory(username="writer")
    team = Group.objects.create(name="Team")
    team.user_set.add(member, not_a_reviewer, author)
    plan = ready_plan(author=author)
    PlanEditor.objects.create(plan=plan, user=editor)
    for user in (named, editor, inactive):
        ReviewRequest.objects.create(plan=plan, user=user, requested_by=author)
    ReviewRequest.objects.create(plan=plan, group=team, requested_by=author)
    with django_assert_num_queries(1):
        pool = selectors.reviewer_pool(plan)
    assert _ids(pool) == sorted([named.pk, member.pk])
    assert outsider.pk not in _ids(pool)
    with django_assert_num_queries(0):  # what a notification reads of them is loaded
        [(u.pk, u.is_active, u.email, u.get_full_name(), u.get_username()) for u in pool]


def test_with_no_one_asked_who_may_review_is_everyone_who_may(author):
    first, second, editor = (ReviewerFactory(username=n) for n in ("first", "second", "ed"))
    plan = ready_plan(author=author)
    PlanEditor.objects.create(plan=plan, user=editor)
    assert _ids(selectors.reviewer_pool(plan)) == [first.pk, second.pk]
    # Asked, but none of those asked may review it (its editor): everyone who may, as before.
    ReviewRequest.objects.create(plan=plan, user=editor, requested_by=author)
    assert _ids(selectors.reviewer_pool(plan)) == [first.pk, second.pk]
    assert selectors.requested_reviewers(plan) == []


def test_the_awaited_reviewers_are_the_pool_less_who_decided(author):
    asked, other = ReviewerFactory(username="asked"), ReviewerFactory(username="other")
    plan = ready_plan(author=author)
    ReviewRequest.objects.create(plan=plan, user=asked, requested_by=author)
    revision = plan_submit(actor=author, plan=plan)
    assert _ids(selectors.reviewers_awaited(plan, revision)) == [asked.pk]
    review = services.review_start(actor=asked, plan=plan)
    services.review_decide(actor=asked, review=review, decision="NEEDS_REVISION",
                           comment="Say how it is rolled back.")
    # Everyone asked decided: the plan waits on no one (not on everyone else instead).
    assert selectors.reviewers_awaited(plan, revision) == []
    assert _ids(selectors.reviewer_pool(plan)) == [asked.pk]  # and still asked of them
    assert other.pk not in _ids(selectors.reviewer_pool(plan))


def test_earlier_reviewers_are_the_active_reviewers_of_other_revisions(author,
                                                                         django_assert_num_queries):
    early, gone, late = (ReviewerFactory(username=n) for n in ("early", "gone", "late"))
    plan = ready_plan(author=author)
    plan_submit(actor=author, plan=plan)
    services.review_start(actor=gone, plan=plan)
    review = services.review_start(actor=early, plan=plan)
    services.review_decide(actor=early, review=review, decision="NEEDS_REVISION",
                           comment="Say how it is rolled back.")
    plan.refresh_from_db()
    second = plan_submit(actor=author, plan=plan)
    services.review_start(actor=late, plan=plan)
    gone.is_active = False
    gone.save()
    with django_assert_num_queries(1):
        assert _ids(selectors.earlier_reviewers(plan, second)) == [early.pk]
    assert _ids(selectors.earlier_reviewers(plan)) == sorted([early.pk, late.pk])
