"""An imported plan whose text has no Review Checklist section: a review checklist set through
the service or the API is written into the text (its export, revision and hash), as a section
where the template puts it (before the Approval, else at the end), in the text's own heading
level and line endings; emptied, its heading stays with nothing under it, as an emptied prose
section's does. A checklist whose text would not read back as entered is refused."""

import difflib

import pytest
from django.urls import reverse

from core.errors import ValidationError
from plans import services
from plans.markdown import content_hash_text, export_plan, parse_plan_with_warnings
from plans.models import Plan
from tests.api.conftest import token_client
from tests.plans.test_plan_text_input import rendered_form_data

pytestmark = pytest.mark.django_db

BODY = """

*Created: 2026-03-01*

{h} Problem Statement
The load balancer checks `/` which renders the whole dashboard.

{h} Implementation Steps

{h}# Step 1: Add /healthz
**Objective**: A view that checks the database and answers 200
**Estimated Time**: 1 hour
**Risk Level**: Low

{h} Testing Strategy
{h}# Unit Testing
- The view answers 200 when the database is up

{h} Rollback Plan
{h}# If Implementation Fails
- Point the check back at /
"""

APPROVAL = """
{h} Approval
**Reviewer**: [Name]
**Date**: [Date]
**Status**: [Approved/Needs Revision/Rejected]
**Comments**:
"""


def text(level: int = 2, approval: bool = False, newline: str = "\n") -> str:
    h = "#" * level
    out = "# Implementation Plan - Health endpoint" + BODY.format(h=h)
    out += APPROVAL.format(h=h) if approval else ""
    return out.replace("\n", newline)


CHECKLIST = "- [ ] The check does not touch the cache\n- [ ] The timeout is below the LB's"


def added(level: int = 2) -> list[str]:
    return ["+", f"+{'#' * level} Review Checklist", *(f"+{line}" for line in
                                                       CHECKLIST.split("\n"))]


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                                  lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def edit(how: str, author, plan: Plan, checklist: str) -> Plan:
    if how == "service":
        services.plan_update(actor=author, plan=plan, fields={"review_checklist": checklist})
    else:
        response = token_client(author).patch(f"/api/v1/plans/{plan.pk}",
                                              {"review_checklist": checklist}, format="json")
        assert response.status_code == 200, response.json()
    return Plan.objects.get(pk=plan.pk)


def assert_reads_back(exported: str, source: str, checklist: str) -> None:
    """The export reads as the plan with that checklist, and as the source in all else."""
    document, _ = parse_plan_with_warnings(exported)
    original, _ = parse_plan_with_warnings(source)
    assert document.review_checklist == checklist
    assert document.sections == original.sections
    assert document.steps == original.steps and document.extra_sections == []
    assert document.approval == original.approval


@pytest.mark.parametrize("how", ["service", "api"])
@pytest.mark.parametrize(("level", "newline"), [(2, "\n"), (2, "\r\n"), (3, "\n")])
def test_a_review_checklist_set_on_a_text_without_one_is_added_at_the_end(
        author, how, level, newline):
    source = text(level, newline=newline)
    plan = edit(how, author, services.plan_import_markdown(actor=author, text=source),
                CHECKLIST)
    exported = export_plan(plan)
    assert exported.startswith(source)  # every byte kept; the section follows the last one
    assert changed_lines(source, exported) == added(level)
    if newline == "\r\n":  # the lines added end as the text's own do
        assert exported.count("\r\n") == exported.count("\n")
    assert_reads_back(exported, source, CHECKLIST)

    # The revision reviewed is that text; imported again, it holds the checklist.
    revision = services.plan_submit(actor=author, plan=plan)
    assert revision.content == content_hash_text(Plan.objects.get(pk=plan.pk))
    assert CHECKLIST in revision.content
    again = services.plan_import_markdown(actor=author, text=exported)
    assert again.review_checklist == CHECKLIST


@pytest.mark.parametrize("how", ["service", "api"])
def test_it_goes_before_the_approval_section(author, how):
    source = text(approval=True)
    plan = edit(how, author, services.plan_import_markdown(actor=author, text=source),
                CHECKLIST)
    exported = export_plan(plan)
    assert changed_lines(source, exported) == [*added()[1:], "+"]  # a blank line, then Approval
    assert exported.index("## Review Checklist") < exported.index("## Approval")
    assert_reads_back(exported, source, CHECKLIST)


@pytest.mark.parametrize("how", ["service", "api"])
def test_emptied_its_heading_stays_with_nothing_under_it(author, how):
    source = text() + "\n## Review Checklist\n" + CHECKLIST + "\n"
    plan = services.plan_import_markdown(actor=author, text=source)
    assert plan.review_checklist == CHECKLIST
    plan = edit(how, author, plan, "")
    exported = export_plan(plan)
    # Its lines go; the heading and the line ending it stay (an emptied prose section's way).
    assert changed_lines(source, exported) == [
        *(f"-{line}" for line in CHECKLIST.split("\n")), "+"]
    assert exported.endswith("\n## Review Checklist\n\n")
    assert_reads_back(exported, text(), "")
    assert services.plan_import_markdown(actor=author, text=exported).review_checklist == ""


def test_saving_unchanged_in_the_editor_keeps_every_byte(author, author_client):
    # The editor has no review checklist field: its save keeps one set through the API.
    source = text(newline="\r\n")
    plan = services.plan_import_markdown(actor=author, text=source)
    url = reverse("plans:edit", args=[plan.pk])
    data, _ = rendered_form_data(author_client.get(url))
    assert author_client.post(url, data).status_code == 302
    assert export_plan(Plan.objects.get(pk=plan.pk)) == source

    plan = edit("api", author, plan, CHECKLIST)
    with_checklist = export_plan(plan)
    data, _ = rendered_form_data(author_client.get(url))
    assert author_client.post(url, data).status_code == 302
    plan = Plan.objects.get(pk=plan.pk)
    assert plan.review_checklist == CHECKLIST
    assert export_plan(plan) == with_checklist


def test_a_checklist_that_would_not_read_back_as_entered_is_refused(author):
    # A '##' heading in it would start a section of its own: the text would lose those lines.
    source = text()
    plan = services.plan_import_markdown(actor=author, text=source)
    with pytest.raises(ValidationError, match="Review checklist"):
        services.plan_update(actor=author, plan=plan,
                             fields={"review_checklist": CHECKLIST + "\n## Notes\n- more"})
    plan = Plan.objects.get(pk=plan.pk)
    assert plan.review_checklist == ""
    assert export_plan(plan) == source
