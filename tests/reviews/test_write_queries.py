"""A submit, a review start and a decision cost the same queries whether 1 or 10 reviewers hear
about them, and a decision stays within its budget (the writes' own transaction; what runs after
commit, e.g. the broker publish, is not part of it)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import OutboxMessage
from plans.services import plan_submit
from reviews import services
from reviews.models import ReviewRequest
from tests.factories import ReviewerFactory, ready_plan

pytestmark = pytest.mark.django_db

DECISION_MAX_QUERIES = 25
#: What each write costs now (SQLite), plus one advisory-lock statement per audit entry on
#: PostgreSQL: the policy, webhook routes and default checklist come from the shared cache,
#: the submission rule and the plan's editors are read once, a transition writes two columns.
WRITE_QUERIES = {"submit": 17, "start": 8, "decide": 15}
AUDIT_ENTRIES = {"submit": 1, "start": 1, "decide": 2}
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
    locks = 1 if connection.vendor == "postgresql" else 0
    for write, budget in WRITE_QUERIES.items():
        assert counts[write] <= budget + locks * AUDIT_ENTRIES[write], (write, counts)
