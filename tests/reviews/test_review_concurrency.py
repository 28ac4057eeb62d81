"""Concurrent decisions on PostgreSQL with real connections (issue #4, Safety).

Each thread has its own database connection (Django gives each thread one) and closes it at the
end. The services lock the plan row (SELECT ... FOR UPDATE) and re-check state and revision inside
the lock, so of two conflicting actions one wins and the other gets Conflict; nothing is lost.
"""

import threading

import pytest
from django.db import connection, transaction

from audit.models import AuditEntry
from core.errors import Conflict
from plans.models import Plan, PlanStatus
from plans.services import plan_withdraw
from reviews import services
from reviews.events import TRANSITION_EVENTS
from reviews.models import Review, ReviewPolicy
from tests.reviewkit import answer_all, submitted_plan

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def defaults(django_db_setup, django_db_blocker):
    """Transactional tests start from flushed tables when another ran first: restore the rows the
    data migrations create (the role groups, the default checklist and policy)."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    from accounts.roles import ALL_ROLES

    with django_db_blocker.unblock():
        for name in ALL_ROLES:
            Group.objects.get_or_create(name=name)
        importlib.import_module(
            "reviews.migrations.0002_default_checklist_and_policy"
        ).create_defaults(apps, None)


def run_together(*calls):
    """Run each call in its own thread and connection, released together by a barrier.

    Returns each call's result or the exception it raised, in order.
    """
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results


def ready_reviews(plan, *reviewers):
    reviews = []
    for user in reviewers:
        review = services.review_start(actor=user, plan=plan)
        answer_all(review, user)
        reviews.append(review)
    return reviews


def transitions(plan):
    return list(AuditEntry.objects.filter(plan=plan, action__in=[e.name for e in TRANSITION_EVENTS])
                .order_by("id").values_list("action", flat=True))


def test_two_reviewers_deciding_at_once(require_postgres, author, reviewer, reviewer2):
    for _ in range(5):
        plan = submitted_plan(author)
        rob, rita = ready_reviews(plan, reviewer, reviewer2)
        results = run_together(
            lambda r=rob: services.review_decide(actor=reviewer, review=r, decision="APPROVED"),
            lambda r=rita: services.review_decide(actor=reviewer2, review=r,
                                                  decision="REJECTED", comment="No."),
        )
        winners = [r for r in results if isinstance(r, Review)]
        losers = [r for r in results if isinstance(r, Conflict)]
        assert len(winners) == 1 and len(losers) == 1, results
        plan.refresh_from_db()
        expected = {"APPROVED": PlanStatus.APPROVED, "REJECTED": PlanStatus.REJECTED}
        assert plan.status == expected[winners[0].decision]
        assert transitions(plan) == ["plan.submitted", f"plan.{plan.status.lower()}"]
        # No review lost: the loser's review is still there, undecided, answers intact.
        loser = Review.objects.get(plan=plan, decision="")
        assert loser.answers.count() == 15
        assert AuditEntry.objects.filter(plan=plan, action="review.decided").count() == 1


def test_two_approvals_at_once_both_count(require_postgres, author, reviewer, reviewer2):
    ReviewPolicy.objects.update(min_approvals=2)
    plan = submitted_plan(author)
    rob, rita = ready_reviews(plan, reviewer, reviewer2)
    results = run_together(
        lambda: services.review_decide(actor=reviewer, review=rob, decision="APPROVED"),
        lambda: services.review_decide(actor=reviewer2, review=rita, decision="APPROVED"),
    )
    assert all(isinstance(r, Review) for r in results), results
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    assert transitions(plan) == ["plan.submitted", "plan.approved"]


def test_decision_racing_a_withdraw(require_postgres, author, reviewer):
    for _ in range(5):
        plan = submitted_plan(author)
        [rob] = ready_reviews(plan, reviewer)
        decided, withdrawn = run_together(
            lambda r=rob: services.review_decide(actor=reviewer, review=r, decision="APPROVED"),
            lambda p=plan: plan_withdraw(actor=author, plan=p),
        )
        plan.refresh_from_db()
        if isinstance(decided, Review):
            assert isinstance(withdrawn, Conflict)
            assert plan.status == PlanStatus.APPROVED
        else:
            assert isinstance(decided, Conflict) and isinstance(withdrawn, Plan)
            assert plan.status == PlanStatus.DRAFT
            assert Review.objects.get(pk=rob.pk).answers.count() == 15
        assert len(transitions(plan)) == 2


def test_decision_waits_for_a_withdraw_holding_the_lock(require_postgres, author, reviewer):
    """Deterministic: the withdraw holds the row lock; the decision blocks, then sees DRAFT."""
    plan = submitted_plan(author)
    [rob] = ready_reviews(plan, reviewer)
    locked, release = threading.Event(), threading.Event()
    results = {}

    def withdraw():
        try:
            with transaction.atomic():
                plan_withdraw(actor=author, plan=plan)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    def decide():
        try:
            locked.wait(timeout=10)
            results["decide"] = services.review_decide(actor=reviewer, review=rob,
                                                      decision="APPROVED")
        except Exception as exc:
            results["decide"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=withdraw), threading.Thread(target=decide)]
    for t in threads:
        t.start()
    locked.wait(timeout=10)
    # The decision is blocked on the lock: it has not finished while the withdraw is open.
    threads[1].join(timeout=0.5)
    assert threads[1].is_alive() and "decide" not in results
    release.set()
    for t in threads:
        t.join(timeout=30)
    assert isinstance(results["decide"], Conflict)
    assert "no longer under review" in results["decide"].message
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT
    rob.refresh_from_db()
    assert rob.decision == "" and rob.answers.count() == 15
