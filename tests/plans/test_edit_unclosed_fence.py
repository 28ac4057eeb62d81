"""An imported plan whose text ends inside a code block never closed: what an edit adds is
written after a line closing that block (never inside it, where the revision would read it as
code), a step's new objective goes under its heading, an edit whose text would not read back
as entered is refused with nothing saved, and the import report describes the text as edited."""

import difflib
from html import unescape

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from core.errors import ValidationError
from plans import events, services
from plans.markdown import (
    _Edits,
    content_hash_text,
    export_plan,
    parse_plan_with_warnings,
)
from plans.models import Plan
from plans.rendering import render_markdown
from tests.api.conftest import token_client
from tests.plans.test_markdown_corpus import CORPUS
from tests.plans.test_plan_text_input import rendered_form_data

pytestmark = pytest.mark.django_db

TEXT = """# Implementation Plan - Health endpoint

*Created: 2026-03-01*

## Problem Statement
The load balancer checks `/` which renders the whole dashboard.

## Implementation Steps

### Step 1: Add /healthz
**Objective**: A view that checks the database and answers 200
**Estimated Time**: 1 hour
**Risk Level**: Low

### Step 2: Point the load balancer at it
**Estimated Time**: 30 minutes

Try it:

```bash
echo "oops\""""

OBJECTIVE = "Change the health check path"
UNIT = "- The view answers 200 when the database is up"
ROLLBACK = "- Point the check back at /"

#: What the edit adds, in the text's order: the objective under step 2's heading; the block
#: closed with its own marker, then the risk; the two sections, where the template puts them.
ADDED = [
    f"+**Objective**: {OBJECTIVE}",
    "+```", "+**Risk Level**: Low", "+", "+## Testing Strategy", "+### Unit Testing", f"+{UNIT}",
    "+", "+## Rollback Plan", "+### If Implementation Fails", f"+{ROLLBACK}",
]  # fmt: skip

STALE = ["step 2 ('Point the load balancer at it') has no objective",
         "step 2 ('Point the load balancer at it') has no risk level",
         "missing section '## Testing Strategy'", "missing section '## Rollback Plan'",
         "is never closed"]  # fmt: skip


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.split("\n"), after.split("\n"),
                                                  lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def imported(author) -> Plan:
    plan = services.plan_import_markdown(actor=author, text=TEXT)
    messages = [w["message"] for w in plan.import_report["warnings"]]
    assert all(any(stale in m for m in messages) for stale in STALE)  # the repro's starting point
    return plan


def steps_of(plan: Plan, **second) -> list[dict]:
    rows = [{"id": s.pk, "title": s.title, "objective": s.objective, "estimate": s.estimate,
             "risk": s.risk, "dependencies": s.dependencies, "actions": [], "files": []}
            for s in plan.steps.all()]
    rows[1].update(second)
    return rows


def edit_in_service(author, plan: Plan) -> Plan:
    return services.plan_update(
        actor=author, plan=plan, fields={"unit_testing": UNIT, "rollback_if_fails": ROLLBACK},
        steps=steps_of(plan, objective=OBJECTIVE, risk="low"))


def edit_in_browser(client, plan: Plan):
    data, _ = rendered_form_data(client.get(reverse("plans:edit", args=[plan.pk])))
    data.update({"steps-1-objective": OBJECTIVE, "steps-1-risk": "low", "unit_testing": UNIT,
                 "rollback_if_fails": ROLLBACK})
    return client.post(reverse("plans:edit", args=[plan.pk]), data)


def edit_through_the_api(author, plan: Plan):
    return token_client(author).patch(f"/api/v1/plans/{plan.pk}", {
        "sections": {"unit_testing": UNIT, "rollback_if_fails": ROLLBACK},
        "steps": steps_of(plan, objective=OBJECTIVE, risk="low"),
    }, format="json")


def assert_written_outside_the_code_block(plan: Plan) -> None:
    exported = export_plan(plan)
    # Only lines added: every byte of the original text is kept, the block is closed.
    assert changed_lines(TEXT, exported) == ADDED
    document, report = parse_plan_with_warnings(exported)
    assert document.sections["unit_testing"] == UNIT
    assert document.sections["rollback_if_fails"] == ROLLBACK
    assert [s.objective for s in document.steps] == [
        "A view that checks the database and answers 200", OBJECTIVE]
    assert document.steps[1].risk == "Low"
    assert document.steps[1].notes == 'Try it:\n\n```bash\necho "oops"\n```'
    messages = " ".join(w.message for w in report.warnings)
    assert not any(stale in messages for stale in STALE)


@pytest.mark.parametrize("how", ["service", "browser", "api"])
def test_what_an_edit_adds_after_an_unclosed_fence_is_outside_the_code_block(
        author, author_client, how):
    plan = imported(author)
    if how == "service":
        edit_in_service(author, plan)
    elif how == "browser":
        response = edit_in_browser(author_client, plan)
        assert response.status_code == 302, response.context["form"].errors
    else:
        response = edit_through_the_api(author, plan)
        assert response.status_code == 200, response.json()
    plan = Plan.objects.get(pk=plan.pk)
    assert_written_outside_the_code_block(plan)

    # The revision reviewed is that text, and it reads as the page shows the plan.
    revision = services.plan_submit(actor=author, plan=plan)
    assert revision.content == content_hash_text(Plan.objects.get(pk=plan.pk))
    assert changed_lines(TEXT, revision.content) == ADDED
    html = render_markdown(revision.content)
    code = html[html.index("<pre"):html.index("</pre>")]
    assert "oops" in code and "Testing Strategy" not in code and OBJECTIVE not in code
    assert "<h2" in html[html.index("</pre>"):]  # the new sections are sections


def test_after_the_edit_the_report_and_the_page_describe_the_text_as_it_now_is(author,
                                                                              author_client):
    plan = imported(author)
    before = plan.import_report
    author_client.get(plan.get_absolute_url())  # the page's column, laid out and kept
    assert edit_in_browser(author_client, plan).status_code == 302

    plan = Plan.objects.get(pk=plan.pk)
    _, report = parse_plan_with_warnings(export_plan(plan))
    assert plan.import_report == report.as_dict() != before
    page = unescape(author_client.get(plan.get_absolute_url()).content.decode())
    assert not any(stale in page for stale in STALE)
    assert "4 of 8 template sections" in page and "2 of 8 template sections" not in page
    # The warnings left are about the text as edited, at its lines.
    assert "Line 8: missing section '## Current State Analysis'" in page
    assert ("Line 30: missing section '## Risk Assessment' (expected before '## Rollback "
            "Plan')") in page


def test_an_unchanged_save_keeps_an_unclosed_fence_and_every_byte(author, author_client):
    text = (CORPUS / "13-unclosed-fence.md").read_text()
    plan = services.plan_import_markdown(actor=author, text=text)
    report = plan.import_report
    data, _ = rendered_form_data(author_client.get(reverse("plans:edit", args=[plan.pk])))
    assert author_client.post(reverse("plans:edit", args=[plan.pk]), data).status_code == 302
    plan = Plan.objects.get(pk=plan.pk)
    assert export_plan(plan) == text
    assert plan.import_report == report


def assert_nothing_saved(plan: Plan) -> None:
    after = Plan.objects.get(pk=plan.pk)
    assert after.updated_at == plan.updated_at and after.sections == plan.sections
    assert [(s.objective, s.risk) for s in after.steps.all()] == [
        (s.objective, s.risk) for s in plan.steps.all()]
    assert after.import_report == plan.import_report
    assert export_plan(after) == TEXT
    assert not AuditEntry.objects.filter(action=events.PLAN_EDITED).exists()


def test_a_writer_that_leaves_the_block_open_is_refused_and_nothing_is_saved(
        author, author_client, monkeypatch):
    # As the export did before the block was closed: the new lines would be code.
    monkeypatch.setattr(_Edits, "_closed", lambda self, start, new: new)
    plan = imported(author)
    with pytest.raises(ValidationError) as refused:
        edit_in_service(author, plan)
    message = str(refused.value)
    for name in ("Step 2: risk level", "Testing strategy: unit testing",
                 "Rollback plan: if implementation fails", "Nothing was saved"):
        assert name in message
    assert_nothing_saved(plan)

    response = edit_in_browser(author_client, plan)
    assert response.status_code == 200
    assert "Step 2: risk level" in unescape(response.content.decode())
    assert_nothing_saved(plan)


def test_a_field_that_would_take_in_the_sections_after_it_is_refused(author):
    # An unclosed block typed into one field would make the sections after it code.
    text = (CORPUS / "01-template-exact.md").read_text()
    plan = services.plan_import_markdown(actor=author, text=text)
    with pytest.raises(ValidationError, match="Testing strategy: integration testing"):
        services.plan_update(actor=author, plan=plan,
                             fields={"unit_testing": "```python\nassert task()"})
    assert export_plan(Plan.objects.get(pk=plan.pk)) == text
