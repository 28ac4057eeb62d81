"""Re-importing a plan's Markdown updates its steps in place (plans/services.py::_write_steps):
comments and concerns anchored to a step stay on it."""

import pytest

from plans import services
from plans.document import PlanDocument, Step
from plans.markdown import render_plan
from plans.models import Plan, PlanStatus
from reviews import services as review_services

pytestmark = pytest.mark.django_db

STEPS = [
    Step("Add cache", objective="Sessions in Redis", estimate="2 hours", risk="Low"),
    Step("Expire keys", objective="Keys expire after 15 minutes", estimate="1 hour", risk="Low"),
    Step("Load test", objective="Prove it holds", estimate="30 minutes", risk="Medium"),
]


def markdown(steps: list[Step]) -> str:
    return render_plan(PlanDocument(
        title="Faster logins", problem_statement="Logins are slow.",
        unit_testing="- Counter tests", rollback_if_fails="- Turn the flag off", steps=steps,
    ))  # fmt: skip


def step_ids(plan: Plan) -> list[int]:
    return list(plan.steps.values_list("pk", flat=True))


def test_reimport_keeps_step_ids_and_the_comments_and_concerns_on_them(author, reviewer):
    plan = services.plan_import_markdown(actor=author, text=markdown(STEPS))
    ids = step_ids(plan)
    services.plan_submit(actor=author, plan=plan)
    concern = review_services.concern_raise(actor=reviewer, plan=plan, title="15 minutes?",
                                            step=ids[1])
    comment = review_services.comment_post(actor=reviewer, plan=plan, body="Why so short?",
                                           step=ids[1])
    review = review_services.review_start(actor=reviewer, plan=plan)
    review_services.review_decide(actor=reviewer, review=review, decision="NEEDS_REVISION",
                                  comment="Load test with real traffic.")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.NEEDS_REVISION

    changed = [*STEPS[:2], Step("Load test with replayed traffic", objective="Replay a day",
                                estimate="2 hours", risk="Medium")]
    plan = services.plan_import_markdown(actor=author, text=markdown(changed), plan=plan)

    assert step_ids(plan) == ids  # the retitled step 3 keeps its place, and so its id
    assert list(plan.steps.values_list("title", flat=True)) == [s.title for s in changed]
    concern.refresh_from_db()
    comment.refresh_from_db()
    assert concern.step_id == ids[1] and comment.step_id == ids[1]


def test_reimport_follows_moved_steps_by_title(author):
    plan = services.plan_import_markdown(actor=author, text=markdown(STEPS))
    add, expire, load = step_ids(plan)
    moved = [STEPS[2], STEPS[0], STEPS[1], Step("Write the runbook", objective="For on-call")]
    plan = services.plan_import_markdown(actor=author, text=markdown(moved), plan=plan)

    ids = step_ids(plan)
    assert ids[:3] == [load, add, expire]
    assert ids[3] not in (add, expire, load)
    assert list(plan.steps.values_list("position", flat=True)) == [0, 1, 2, 3]


def test_reimport_with_fewer_steps_deletes_the_rest(author):
    plan = services.plan_import_markdown(actor=author, text=markdown(STEPS))
    add, _, load = step_ids(plan)
    plan = services.plan_import_markdown(actor=author, text=markdown([STEPS[0], STEPS[2]]),
                                         plan=plan)
    assert step_ids(plan) == [add, load]
