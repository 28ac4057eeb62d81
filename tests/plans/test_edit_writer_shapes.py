"""An edit of an imported plan in shapes the writer once got wrong: its text must read back as
entered (else the save is refused), and every line the edit does not touch keeps its bytes."""

import difflib

import pytest

from core.errors import ValidationError
from plans import services
from plans.markdown import export_plan, parse_plan, parse_plan_with_warnings
from plans.models import Plan

pytestmark = pytest.mark.django_db


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.split("\n"), after.split("\n"),
                                                  lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def rows(plan: Plan) -> list[dict]:
    """The plan's steps as the editor sends them back unchanged."""
    return [{"id": s.pk, "title": s.title, "objective": s.objective, "estimate": s.estimate,
             "risk": s.risk, "dependencies": s.dependencies,
             "actions": [(a.text, a.done) for a in s.actions.all()],
             "files": [(f.path, f.description) for f in s.files.all()]}
            for s in plan.steps.all()]


def new_step(title: str, **values) -> dict:
    return {"title": title, "objective": "", "estimate": "1 hour", "risk": "low",
            "dependencies": "", "actions": [], "files": [], **values}


def save(author, text: str, **edit) -> str:
    """Import ``text``, make the edit through the editor's service (it must be accepted), and
    return the plan's Markdown export, checked to read back as the plan now is."""
    plan = services.plan_import_markdown(actor=author, text=text)
    if callable(edit.get("steps")):
        edit["steps"] = edit["steps"](rows(plan))
    services.plan_update(actor=author, plan=plan, **edit)
    plan = Plan.objects.get(pk=plan.pk)
    exported = export_plan(plan)
    back = parse_plan(exported)
    assert back.title == plan.title
    assert [(s.title, s.objective, s.estimate) for s in back.steps] == [
        (s.title, s.objective, s.estimate) for s in plan.steps.all()]
    assert [c.text for c in back.success_criteria] == [
        c.text for c in plan.success_criteria.all()]
    for key, value in (edit.get("fields") or {}).items():
        if key == "review_checklist":
            assert back.review_checklist == value
        elif key != "title":  # (a block left open at its end reads back closed: the same)
            assert back.sections[key] in (value, value + "\n```")
    return exported


# --- 1. an edit that closes or removes the text's unclosed fence ------------------------------

OPEN_IN_ROLLBACK = """# Implementation Plan - Cache warmup

## Problem Statement
Cold caches after deploys.

## Implementation Steps

### Step 1: Warm the cache
**Objective**: Fill the cache before traffic arrives
**Estimated Time**: 1 hour
**Risk Level**: Low

## Rollback Plan
### If Implementation Fails
Turn it off:

```bash
./manage.py warmup --off
"""


def test_closing_the_open_fence_and_adding_a_section_after_it_adds_no_second_closer(author):
    exported = save(author, OPEN_IN_ROLLBACK, fields={
        "rollback_if_fails": "Turn it off:\n\n```bash\n./manage.py warmup --off\n```",
        "review_checklist": "- [ ] The warmup can be turned off"})
    assert changed_lines(OPEN_IN_ROLLBACK, exported) == [
        "+```", "+## Review Checklist", "+- [ ] The warmup can be turned off", "+"]
    assert parse_plan(exported).review_checklist == "- [ ] The warmup can be turned off"


def test_an_opener_rewritten_but_left_open_is_closed_once_before_a_section_after_it(author):
    exported = save(author, OPEN_IN_ROLLBACK, fields={
        "rollback_if_fails": "Turn it off:\n\n```sh\n./manage.py warmup --off",
        "review_checklist": "- [ ] Checked"})
    assert changed_lines(OPEN_IN_ROLLBACK, exported) == [
        "-```bash", "+```sh", "+```", "+## Review Checklist", "+- [ ] Checked"]


OPEN_IN_LAST_STEP = """# Implementation Plan - Health endpoint

## Problem Statement
The load balancer checks `/`.

## Implementation Steps

### Step 1: Add /healthz
**Objective**: A view that answers 200
**Estimated Time**: 1 hour
**Risk Level**: Low

### Step 2: Try it
**Estimated Time**: 30 minutes

```bash
curl localhost/healthz
"""


def test_deleting_the_step_with_the_open_fence_and_adding_a_section_opens_no_new_fence(author):
    exported = save(author, OPEN_IN_LAST_STEP, steps=lambda steps: steps[:1],
                    fields={"unit_testing": "- The view answers 200"})
    assert "```" not in exported and "curl" not in exported
    assert exported.startswith(OPEN_IN_LAST_STEP[:OPEN_IN_LAST_STEP.index("### Step 2")])
    assert parse_plan(exported).sections["unit_testing"] == "- The view answers 200"


# --- 2. an open fence in a section the edit does not touch ------------------------------------


def test_a_step_added_before_an_open_fence_elsewhere_reads_back(author):
    exported = save(author, OPEN_IN_ROLLBACK,
                    steps=lambda steps: [*steps, new_step("Schedule it")])
    assert changed_lines(OPEN_IN_ROLLBACK, exported) == [
        "+### Step 2: Schedule it", "+**Objective**: ", "+**Actions**:", "+",
        "+**Files to Modify/Create**:", "+", "+**Dependencies**: ", "+**Estimated Time**: 1 hour",
        "+**Risk Level**: Low", "+"]


def test_a_success_criterion_added_to_a_text_ending_in_an_open_fence_reads_back(author):
    exported = save(author, OPEN_IN_ROLLBACK, success_criteria=[("Warm within 1 minute", False)])
    assert changed_lines(OPEN_IN_ROLLBACK, exported) == [
        "+## Success Criteria", "+- [ ] Warm within 1 minute", "+"]


def test_a_criterion_added_after_an_open_fence_in_the_testing_strategy_reads_back(author):
    text = OPEN_IN_ROLLBACK.replace("## Rollback Plan\n### If Implementation Fails",
                                    "## Testing Strategy\n### Unit Testing")
    exported = save(author, text, success_criteria=[("Warm within 1 minute", False)])
    assert changed_lines(text, exported) == [
        "+```", "+## Success Criteria", "+- [ ] Warm within 1 minute"]


def test_a_section_added_after_an_open_fence_it_does_not_touch_closes_it_first(author):
    exported = save(author, OPEN_IN_ROLLBACK, fields={"review_checklist": "- [ ] Checked"})
    assert changed_lines(OPEN_IN_ROLLBACK, exported) == [
        "+```", "+## Review Checklist", "+- [ ] Checked"]


def test_an_open_fence_followed_by_blank_lines_does_not_block_a_section_added_after_it(author):
    text = OPEN_IN_ROLLBACK + "\n"
    exported = save(author, text, fields={"review_checklist": "- [ ] Checked"})
    assert changed_lines(text, exported)[-3:] == ["+```", "+## Review Checklist", "+- [ ] Checked"]


# --- 3. unnumbered step headings ---------------------------------------------------------------

UNNUMBERED = """# Move to Postgres

## Implementation Steps

### Set up the database
**Objective**: A Postgres the app can reach
**Estimated Time**: 2 hours
**Risk Level**: Low

### Write the migration
**Objective**: Copy every table
**Estimated Time**: 4 hours
**Risk Level**: Medium
"""


def test_a_number_first_title_among_unnumbered_steps_is_refused_saying_why(author):
    plan = services.plan_import_markdown(actor=author, text=UNNUMBERED)
    with pytest.raises(ValidationError, match="begin the title with a word"):
        services.plan_update(actor=author, plan=plan,
                             steps=[*rows(plan), new_step("3 retries")])
    assert Plan.objects.get(pk=plan.pk).source == UNNUMBERED  # nothing saved


def test_an_unnumbered_heading_among_numbered_steps_is_their_text_and_says_so():
    text = ("# T\n\n## Implementation Steps\n\n### Step 1: A\n**Objective**: first\n"
            "**Estimated Time**: 1 hour\n\n### Step Two - B\n**Objective**: second\n"
            "**Risk Level**: High\n")
    document, report = parse_plan_with_warnings(text)
    [step] = document.steps
    assert (step.objective, step.estimate, step.risk) == ("first", "1 hour", "")
    assert step.notes.startswith("### Step Two - B\n**Objective**: second")
    assert any(w.line == 9 and "'### Step Two - B' is not numbered" in w.message
               for w in report.warnings)


def test_a_step_added_to_unnumbered_steps_is_written_without_a_number(author):
    exported = save(author, UNNUMBERED, steps=lambda steps: [*steps, new_step("Switch over")])
    assert "+### Switch over" in changed_lines(UNNUMBERED, exported)
    assert exported.startswith(UNNUMBERED)
    assert [s.title for s in parse_plan(exported).steps] == [
        "Set up the database", "Write the migration", "Switch over"]


def test_a_step_added_in_a_phase_style_follows_it(author):
    text = UNNUMBERED.replace("### Set up", "### Phase 1: Set up").replace(
        "### Write", "### Phase 2: Write")
    exported = save(author, text, steps=lambda steps: [*steps, new_step("Switch over")])
    assert "+### Phase 3: Switch over" in changed_lines(text, exported)


# --- 4. a bare "Step N" heading ----------------------------------------------------------------

BARE = """# Implementation Plan - Queue

## Implementation Steps

### Step 1: Add the table
**Objective**: Store jobs
**Estimated Time**: 1 hour
**Risk Level**: Low

### Step 2
**Objective**: Run jobs
**Estimated Time**: 1 hour
**Risk Level**: Low
"""


def retitled(number: int, title: str):
    def change(steps):
        steps[number - 1]["title"] = title
        return steps
    return change


def test_giving_a_bare_step_heading_a_title(author):
    exported = save(author, BARE, steps=retitled(2, "Run the worker"))
    assert changed_lines(BARE, exported) == ["-### Step 2", "+### Step 2: Run the worker"]


def test_deleting_a_steps_title_leaves_a_bare_heading(author):
    exported = save(author, BARE, steps=retitled(1, "Step 1"))
    assert changed_lines(BARE, exported) == ["-### Step 1: Add the table", "+### Step 1"]


# --- 5. titles the parser strips a prefix from -------------------------------------------------


def test_a_plan_title_beginning_with_plan_reads_back(author):
    exported = save(author, UNNUMBERED, fields={"title": "Plan: Move to Postgres"})
    assert changed_lines(UNNUMBERED, exported) == [
        "-# Move to Postgres", "+# Implementation Plan - Plan: Move to Postgres"]


def test_editing_another_field_of_a_plan_titled_plan_colon_keeps_its_title(author):
    text = UNNUMBERED.replace("# Move to Postgres", "# Plan: Move to Postgres")
    exported = save(author, text, fields={"problem_statement": "MySQL is end of life."})
    assert exported.startswith("# Plan: Move to Postgres\n")
    assert parse_plan(exported).title == "Move to Postgres"


def test_a_step_title_beginning_with_a_number_reads_back(author):
    exported = save(author, BARE, steps=retitled(1, "2 new endpoints"))
    assert changed_lines(BARE, exported) == [
        "-### Step 1: Add the table", "+### Step 1: 2 new endpoints"]
    exported = save(author, BARE.replace("Step 1: ", "1. "), steps=lambda steps: [
        *retitled(1, "3 queues")(steps), new_step("2 new endpoints")])
    assert "+### 1. 3 queues" in changed_lines(BARE.replace("Step 1: ", "1. "), exported)


# --- 6. objectives of more than one paragraph --------------------------------------------------


@pytest.mark.parametrize("objective", [
    "Run jobs in the background.\n\nRetry each job three times.",
    "Run jobs:\n- in the background\n- with retries",
])
def test_a_multi_paragraph_objective_reads_back_or_is_refused_saying_why(author, objective):
    try:
        exported = save(author, BARE, steps=lambda steps: [
            steps[0], {**steps[1], "objective": objective}])
    except ValidationError as refused:
        assert "Step 2: objective" in str(refused)
        assert "one paragraph" in str(refused)
    else:
        assert parse_plan(exported).steps[1].objective == objective


# --- 7. sections added in one edit follow the template's order ----------------------------------


def test_sections_added_together_are_written_in_the_templates_order(author):
    exported = save(author, UNNUMBERED, success_criteria=[("Every table copied", False)],
                    fields={"rollback_if_fails": "Point the app back at MySQL",
                            "unit_testing": "- Row counts match",
                            "integration_testing": "- The app starts on Postgres"})
    added = [line for line in changed_lines(UNNUMBERED, exported) if line.startswith("+#")]
    assert added == ["+## Testing Strategy", "+### Unit Testing", "+### Integration Testing",
                     "+## Success Criteria", "+## Rollback Plan",
                     "+### If Implementation Fails"]
    assert exported.startswith(UNNUMBERED)


# --- what an edit adds after a list -------------------------------------------------------------

LISTS = """# Implementation Plan - Lists

## Implementation Steps

### Step 1: Prepare
**Objective**: Get ready
- [ ] a

### Step 2: Tabulate
**Objective**: Count things

| what | how many |
|---|---|
| rows | 3 |

## Success Criteria
1. zero data loss
2. downtime < 5 min
"""


def test_a_criterion_added_to_a_numbered_list_takes_the_next_number(author):
    exported = save(author, LISTS, success_criteria=[
        ("zero data loss", False), ("downtime < 5 min", False), ("alerts fire", False)])
    assert changed_lines(LISTS, exported) == ["+3. alerts fire"]


def test_a_field_added_under_a_list_item_or_a_table_row_is_set_off_by_a_blank_line(author):
    def edit(steps):
        return [{**steps[0], "estimate": "1 hour"}, {**steps[1], "risk": "high"}]

    exported = save(author, LISTS, steps=edit)
    assert "- [ ] a\n\n**Estimated Time**: 1 hour\n" in exported
    assert "| rows | 3 |\n\n**Risk Level**: High\n" in exported
