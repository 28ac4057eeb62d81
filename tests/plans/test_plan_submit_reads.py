"""What a submission reads: the plan's content and latest revision in one statement after the
plan row's lock (plans/services.py CONTENT_SQL), and a revision that is exactly the plan's text,
however the plan was made and however large it is."""

import hashlib
import re
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.test.utils import CaptureQueriesContext

from plans import services
from plans.markdown import DEMO_DIR, content_hash_text, normalise_text
from plans.models import Plan, PlanRevision, PlanStep, SubmissionRule
from tests.factories import (
    PlanStepFactory,
    StepActionFactory,
    StepFileFactory,
    SuccessCriterionFactory,
    ready_plan,
)

CORPUS = Path(__file__).parent / "corpus"
TEXTS = sorted([*CORPUS.glob("*.md"), *DEMO_DIR.glob("*.md")])
CONTENT = (Prefetch("steps", queryset=PlanStep.objects.prefetch_related("actions", "files")),
           "success_criteria")


def full_plan(author, steps: int = 3) -> Plan:
    """A draft whose every content field holds a value of its own (so a column read into the
    wrong field shows), some steps without actions or files, and every list's positions
    running against the order its rows were created in (so an order by id shows)."""
    plan = ready_plan(author=author, title="Everything filled in")
    PlanStep.objects.filter(plan=plan).update(notes="First step's notes", dependencies="None")
    for n in range(1, steps):
        step = PlanStepFactory(plan=plan, position=steps + 1 - n, title=f"Step {n} title",
                               objective=f"Objective {n}", dependencies=f"Step {n - 1}",
                               estimate=f"{n}.5 hours", estimated_hours=Decimal(f"{n}.5"),
                               risk=("low", "medium", "high")[n % 3], notes=f"Notes {n}")
        for i in range(n % 3):
            StepActionFactory(step=step, position=3 - i, text=f"Task {n}.{i}", done=i == 0)
        if n % 2:
            for i in range(2):
                StepFileFactory(step=step, position=2 - i, path=f"app/m{n}_{i}.py",
                                description=f"File {n}.{i}")
    for i in range(3):
        SuccessCriterionFactory(plan=plan, position=3 - i, text=f"Criterion {i}", done=i == 1)
    return plan


def values(row) -> list:
    return [(getattr(row, f.attname), type(getattr(row, f.attname)))
            for f in type(row)._meta.concrete_fields]


def tables(captured) -> list[str]:
    """The table each statement is about (the first it reads from or writes to)."""
    found = []
    for query in captured.captured_queries:
        match = re.search(r'\b(?:FROM|UPDATE|INTO)\s+"?(\w+)', query["sql"])
        if match and not query["sql"].startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            found.append(match[1])
    return found


@pytest.mark.django_db
def test_the_content_read_is_what_the_orm_reads(author):
    """Every field of every step, action, file and criterion, with its type (SQLite returns
    booleans as 0/1 and decimals as numbers: they are converted as the ORM converts them), in
    the models' order, each row pointing back at its parent; and the latest revision."""
    plan = full_plan(author)
    expected = Plan.objects.get(pk=plan.pk)
    prefetch_related_objects([expected], *CONTENT)
    locked = Plan.objects.get(pk=plan.pk)
    assert services.read_content(locked) is None  # no revision yet

    def rows(p):
        return [(values(s), [values(a) for a in s.actions.all()],
                 [values(f) for f in s.files.all()]) for s in p.steps.all()], \
            [values(c) for c in p.success_criteria.all()]

    with CaptureQueriesContext(connection) as read:
        assert rows(locked) == rows(expected)
        steps = list(locked.steps.all())
        assert all(step.plan is locked for step in steps)
        assert all(a.step is step for step in steps for a in [*step.actions.all(),
                                                               *step.files.all()])
        assert all(c.plan is locked for c in locked.success_criteria.all())
        assert locked.steps.count() == 3 and steps[1].actions.exists()
    assert read.captured_queries == []  # all of it was read with the plan's content

    first = services.plan_submit(actor=author, plan=plan)
    services.plan_withdraw(actor=author, plan=Plan.objects.get(pk=plan.pk))
    second = services.plan_submit(actor=author, plan=Plan.objects.get(pk=plan.pk))
    assert (first.number, second.number) == (1, 2)
    assert services.read_content(Plan.objects.get(pk=plan.pk)) == (2, second.content_hash)


@pytest.mark.django_db
@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.name)
def test_an_imported_plans_revision_is_its_text(path, author, monkeypatch):
    # Nothing required, so that every shape in the corpus can be submitted as written.
    monkeypatch.setattr(SubmissionRule, "required_keys", classmethod(lambda cls: []))
    raw = path.read_bytes()
    plan = services.plan_import_markdown(actor=author, text=raw)
    revision = services.plan_submit(actor=author, plan=Plan.objects.get(pk=plan.pk))
    assert revision.content == normalise_text(raw)
    assert revision.content_hash == hashlib.sha256(revision.content.encode()).hexdigest()
    assert revision.content_hash == services.text_revision_hash(raw)


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(DEMO_DIR.glob("*.md")), ids=lambda p: p.name)
def test_an_edited_imported_plans_revision_is_its_export(path, author, monkeypatch):
    """Edited after the import (a step's objective, actions ticked, a criterion added): the
    revision is the export the ORM's own reads give, byte for byte."""
    monkeypatch.setattr(SubmissionRule, "required_keys", classmethod(lambda cls: []))
    plan = services.plan_import_markdown(actor=author, text=path.read_bytes())
    plan = Plan.objects.get(pk=plan.pk)
    steps = [{"id": s.pk, "title": s.title, "objective": s.objective, "estimate": s.estimate,
              "risk": s.risk, "dependencies": s.dependencies,
              "actions": [(a.text, not a.done) for a in s.actions.all()],
              "files": [(f.path, f.description) for f in s.files.all()]}
             for s in plan.steps.all()]
    steps[0]["objective"] = "Rewritten after the import."
    criteria = [(c.text, c.done) for c in plan.success_criteria.all()] + [("One more", False)]
    plan = services.plan_update(actor=author, plan=plan, steps=steps, success_criteria=criteria)
    expected = content_hash_text(Plan.objects.get(pk=plan.pk))  # lazily read, query by query
    assert "Rewritten after the import." in expected
    revision = services.plan_submit(actor=author, plan=Plan.objects.get(pk=plan.pk))
    assert revision.content == expected
    assert revision.content_hash == hashlib.sha256(expected.encode()).hexdigest()


@pytest.mark.django_db
def test_an_editor_plans_revision_is_its_canonical_text(author):
    plan = full_plan(author, steps=6)
    expected = content_hash_text(Plan.objects.get(pk=plan.pk))
    revision = services.plan_submit(actor=author, plan=plan)
    assert revision.content == expected
    assert "- [x] Task 1.0" in expected and "**Risk Level**: High" in expected
    assert revision.content_hash == hashlib.sha256(expected.encode()).hexdigest()


def statements(captured) -> int:
    return sum(1 for q in captured.captured_queries
               if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")))


@pytest.mark.django_db
def test_a_submission_reads_the_plan_in_two_statements_whatever_its_size(author):
    """The locked row, then its content with the latest revision; then the transition and the
    revision: the same four statements of the plan's own for a one-step plan and a large one,
    first submitted or resubmitted, and the same in all (audit and notifications included)."""
    # The shared values a running process holds (the submission rule, the webhook routes).
    services.plan_submit(actor=author, plan=ready_plan(author=author))
    counts = {}
    for name, plan in (("small", ready_plan(author=author)), ("large", full_plan(author, 12))):
        for submission in ("first", "again"):
            loaded = Plan.objects.get(pk=plan.pk)
            with CaptureQueriesContext(connection) as captured:
                services.plan_submit(actor=author, plan=loaded)
            assert [t for t in tables(captured) if t.startswith("plans_")] == [
                "plans_plan", "plans_planstep", "plans_plan", "plans_planrevision"]
            counts[name, submission] = statements(captured)
            services.plan_withdraw(actor=author, plan=Plan.objects.get(pk=plan.pk))
    assert counts["small", "first"] == counts["large", "first"]
    assert counts["small", "again"] == counts["large", "again"]


@pytest.mark.django_db
def test_nothing_is_saved_when_the_revision_cannot_be(author, monkeypatch):
    plan = ready_plan(author=author)

    def fails(*args, **kwargs):
        raise RuntimeError("the revision could not be written")

    monkeypatch.setattr(PlanRevision.objects, "create", fails)
    with pytest.raises(RuntimeError):
        services.plan_submit(actor=author, plan=plan)
    assert Plan.objects.get(pk=plan.pk).status == "DRAFT"
    assert not PlanRevision.objects.filter(plan=plan).exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_submission_waiting_for_an_edit_freezes_the_edited_text(author, require_postgres):
    """An edit holds the plan's lock; a submission of the plan as loaded before it waits, then
    freezes the steps as the edit left them (the content is read after the lock, in a statement
    of its own: read with the lock, it would be the text from before the edit)."""
    plan = ready_plan(author=author)
    step = plan.steps.get()
    stale = Plan.objects.get(pk=plan.pk)
    holding, results = threading.Event(), {}

    def edit():
        try:
            with transaction.atomic():
                services.plan_update(actor=author, plan=plan, steps=[
                    {"id": step.pk, "title": step.title, "objective": "Edited while waited for",
                     "estimate": step.estimate, "risk": step.risk}])
                holding.set()
                with connection.cursor() as cursor:  # until the submission waits for the row
                    for _ in range(100):
                        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE "
                                       "wait_event_type = 'Lock' AND datname = current_database()")
                        if cursor.fetchone()[0]:
                            break
                        time.sleep(0.05)
        finally:
            connection.close()

    def submit():
        try:
            holding.wait(timeout=10)
            results["revision"] = services.plan_submit(actor=author, plan=stale)
        except Exception as exc:
            results["error"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=edit), threading.Thread(target=submit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert "error" not in results, results
    content = results["revision"].content
    assert "**Objective**: Edited while waited for" in content
    assert content == content_hash_text(Plan.objects.get(pk=plan.pk))
