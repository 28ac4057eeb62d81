"""Helpers for the insights tests: reach states through the services at chosen times."""

from contextlib import contextmanager
from datetime import UTC, datetime
from unittest import mock

from plans.services import plan_submit
from reviews import services
from tests.reviewkit import answer_all


def at(year, month, day, hour=9, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@contextmanager
def clock(when: datetime):
    """Every timezone.now() (auto_now_add, the audit log, the services) returns `when`."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


def decide(plan, reviewer, decision, when, comment="Split step 1."):
    with clock(when):
        review = services.review_start(actor=reviewer, plan=plan)
        if decision == "APPROVED":
            answer_all(review, reviewer)
            comment = ""
        return services.review_decide(actor=reviewer, review=review, decision=decision,
                                      comment=comment)


def submit(plan, author, when):
    with clock(when):
        plan_submit(actor=author, plan=plan)
    plan.refresh_from_db()
    return plan
