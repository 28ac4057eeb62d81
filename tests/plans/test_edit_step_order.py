"""Removing, moving and adding steps of an imported plan in the editor: each step's own text (its
code, tables, prose) goes with the step, the numbers follow the new order, and the lines of the
steps the edit does not touch keep their bytes."""

import pytest

from plans import services
from plans.markdown import export_plan, parse_plan
from plans.models import Plan
from tests.plans.test_edit_writer_shapes import changed_lines, new_step, rows

pytestmark = pytest.mark.django_db

PLAN = """# Implementation Plan - Rate limits

## Problem Statement
Senders flood the queue.

## Implementation Steps

### Step 1: Add a token bucket
**Objective**: Limit each sender
**Estimated Time**: 2 hours
**Risk Level**: Medium

```python
bucket = TokenBucket(rate=10)
```

### Step 2: Wire into sender
Plain text step with no fields.

| sender | limit |
|---|---|
| mail | 10/s |

**Estimated Time**: 1 hour

### Step 3: Document the limits
**Objective**: Say what the limits are
**Estimated Time**: 30 minutes

## Rollback Plan
Turn the limiter off.
"""

BUCKET = "```python\nbucket = TokenBucket(rate=10)\n```"
TABLE = "| sender | limit |\n|---|---|\n| mail | 10/s |"


def edited(author, reorder) -> tuple[Plan, str]:
    plan = services.plan_import_markdown(actor=author, text=PLAN)
    services.plan_update(actor=author, plan=plan, steps=reorder(rows(plan)))
    plan = Plan.objects.get(pk=plan.pk)
    text = export_plan(plan)
    back = parse_plan(text)
    assert [s.title for s in back.steps] == [s.title for s in plan.steps.all()]
    assert [s.estimate for s in back.steps] == [s.estimate for s in plan.steps.all()]
    return plan, text


def step_text(text: str, title: str) -> str:
    """The lines of the step titled ``title`` in ``text``, up to the next heading of its level."""
    start = text.index(title)
    following = [i for i in (text.find("\n### ", start), text.find("\n## ", start)) if i >= 0]
    return text[start:min(following)]


def test_removing_the_first_step_removes_its_own_text_and_keeps_the_next_ones(author):
    plan, text = edited(author, lambda steps: steps[1:])
    assert [s.title for s in plan.steps.all()] == ["Wire into sender", "Document the limits"]
    assert BUCKET not in text and "Add a token bucket" not in text
    wire = step_text(text, "Wire into sender")
    assert TABLE in wire and "Plain text step with no fields." in wire
    assert "**Objective**" not in wire  # nothing written into the step it did not touch
    # The step is gone and the others are numbered from 1: nothing else changed.
    assert changed_lines(PLAN, text) == [
        "-### Step 1: Add a token bucket", "-**Objective**: Limit each sender",
        "-**Estimated Time**: 2 hours", "-**Risk Level**: Medium", "-",
        "-```python", "-bucket = TokenBucket(rate=10)", "-```", "-",
        "-### Step 2: Wire into sender", "+### Step 1: Wire into sender",
        "-### Step 3: Document the limits", "+### Step 2: Document the limits",
    ]


def test_removing_a_middle_step_keeps_the_steps_around_it(author):
    _, text = edited(author, lambda steps: [steps[0], steps[2]])
    assert TABLE not in text
    assert BUCKET in step_text(text, "Add a token bucket")
    assert "### Step 2: Document the limits" in text


def test_moving_a_step_down_takes_its_text_with_it(author):
    plan, text = edited(author, lambda steps: [steps[1], steps[0], steps[2]])
    assert [s.title for s in plan.steps.all()] == [
        "Wire into sender", "Add a token bucket", "Document the limits"]
    assert TABLE in step_text(text, "Wire into sender")
    assert BUCKET in step_text(text, "Add a token bucket")
    assert BUCKET not in step_text(text, "Wire into sender")
    assert text.index("### Step 1: Wire into sender") < text.index(
        "### Step 2: Add a token bucket") < text.index("### Step 3: Document the limits")
    # The moved step's lines are its own, as written.
    assert step_text(text, "Add a token bucket") == step_text(PLAN, "Add a token bucket")


def test_moving_the_last_step_first(author):
    _, text = edited(author, lambda steps: [steps[2], steps[0], steps[1]])
    assert text.index("### Step 1: Document the limits") < text.index(
        "### Step 2: Add a token bucket") < text.index("### Step 3: Wire into sender")
    assert TABLE in step_text(text, "Wire into sender")


def test_a_step_moved_and_changed_is_written_from_its_fields_with_its_notes(author):
    def reorder(steps):
        moved = {**steps[0], "estimate": "3 hours"}
        return [steps[1], steps[2], moved]

    _, text = edited(author, reorder)
    bucket = step_text(text, "Add a token bucket")
    assert "### Step 3: Add a token bucket" in text
    assert "**Estimated Time**: 3 hours" in bucket and BUCKET in bucket
    assert TABLE in step_text(text, "Wire into sender")


def test_a_step_added_between_two_goes_there(author):
    _, text = edited(author, lambda steps: [steps[0], new_step("Load test"), *steps[1:]])
    assert [s.title for s in parse_plan(text).steps] == [
        "Add a token bucket", "Load test", "Wire into sender", "Document the limits"]
    assert "### Step 2: Load test" in text and "### Step 3: Wire into sender" in text
    assert TABLE in step_text(text, "Wire into sender")


def test_steps_numbered_their_own_way_keep_their_numbers(author):
    text = PLAN.replace("### Step 2: Wire", "### Phase 2.1: Wire")
    plan = services.plan_import_markdown(actor=author, text=text)
    services.plan_update(actor=author, plan=plan, steps=rows(plan)[1:])
    exported = export_plan(Plan.objects.get(pk=plan.pk))
    assert "### Phase 2.1: Wire into sender" in exported  # not a position: left as written
    assert "### Step 2: Document the limits" in exported


def test_a_step_added_in_place_of_a_removed_one_gets_its_fields(author):
    """The removed step's action lines go, and the new step's estimate and risk, written at
    the end of that place, are not swallowed by their removal."""
    text = ("# Import items\n\n## Implementation\n\n### 1. Service\n- Parse the file\n\n"
            "### 2. Admin action\n- A form with a file field\n- Show how many were added\n\n"
            "## Verification\n- Import a file\n")
    plan = services.plan_import_markdown(actor=author, text=text)
    steps = [rows(plan)[0], new_step("Document it", estimate="2 hours", risk="medium")]
    services.plan_update(actor=author, plan=plan, steps=steps)
    back = parse_plan(export_plan(Plan.objects.get(pk=plan.pk)))
    assert [(s.title, s.estimate, s.risk, s.actions) for s in back.steps][1] == (
        "Document it", "2 hours", "Medium", [])
    assert "A form with a file field" not in export_plan(Plan.objects.get(pk=plan.pk))


def test_a_step_added_to_steps_numbered_from_elsewhere_counts_on_from_them(author):
    text = PLAN.replace("Step 1: Add", "Step 9: Add").replace("Step 2: Wire", "Step 10: Wire") \
        .replace("Step 3: Document", "Step 11: Document")
    plan = services.plan_import_markdown(actor=author, text=text)
    services.plan_update(actor=author, plan=plan, steps=[*rows(plan), new_step("Load test")])
    exported = export_plan(Plan.objects.get(pk=plan.pk))
    assert "### Step 12: Load test" in exported
    assert "### Step 9: Add a token bucket" in exported  # numbers of their own: kept
