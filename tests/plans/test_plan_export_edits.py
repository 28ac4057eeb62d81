"""An imported plan exports as its own text: an edit in the browser changes only what was edited.
Also: the admin commands for a folder of plans, and the admins' rule of required sections."""

import difflib
import hashlib
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from audit.models import AuditEntry
from core.errors import NotAllowed, ValidationError
from plans import services
from plans.markdown import DEMO_DIR, export_plan
from plans.models import Plan, SubmissionRule
from tests.plans.test_plan_text_input import rendered_form_data

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "corpus"


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.split("\n"), after.split("\n"),
                                                  lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def edit(client, plan: Plan, **changes) -> None:
    """Open the editor, change some fields as a user would, and save."""
    data, _ = rendered_form_data(client.get(reverse("plans:edit", args=[plan.pk])))
    data.update(changes)
    response = client.post(reverse("plans:edit", args=[plan.pk]), data)
    assert response.status_code == 302, response.context["form"].errors


@pytest.mark.parametrize(("name", "field", "old", "new"), [
    ("01-template-exact.md", "steps-1-estimate", "**Estimated Time**: 4 hours",
     "**Estimated Time**: 5 hours"),
    ("19-bulleted-fields.md", "steps-0-estimate", "- **Estimate:** 3 hours",
     "- **Estimate:** 5 hours"),
    ("11-free-estimates.md", "steps-3-estimate", "**Estimated Time**: TBD",
     "**Estimated Time**: 5 hours"),
])  # fmt: skip
def test_changing_one_estimate_in_the_editor_changes_only_that_line(author_client, author, name,
                                                                    field, old, new):
    text = (CORPUS / name).read_text()
    plan = services.plan_import_markdown(actor=author, text=text)
    edit(author_client, plan, **{field: "5 hours"})
    exported = export_plan(Plan.objects.get(pk=plan.pk))
    assert changed_lines(text, exported) == [f"-{old}", f"+{new}"]


def test_an_unchanged_save_in_the_editor_keeps_the_text_and_its_hash(author_client, author):
    text = (CORPUS / "08-rich-steps.md").read_text()
    plan = services.plan_import_markdown(actor=author, text=text)
    edit(author_client, plan)
    assert export_plan(Plan.objects.get(pk=plan.pk)) == text


def test_each_edit_of_the_same_text_exports_as_itself(author_client, author):
    # The source's parse is memoised: one export's edits must never leak into the next.
    text = (CORPUS / "01-template-exact.md").read_text()
    plan = services.plan_import_markdown(actor=author, text=text)
    assert export_plan(Plan.objects.get(pk=plan.pk)) == text
    edit(author_client, plan, **{"steps-1-estimate": "5 hours"})
    assert changed_lines(text, export_plan(Plan.objects.get(pk=plan.pk))) == [
        "-**Estimated Time**: 4 hours", "+**Estimated Time**: 5 hours"]
    edit(author_client, plan, **{"steps-1-estimate": "4 hours"})
    assert export_plan(Plan.objects.get(pk=plan.pk)) == text


def test_edits_to_prose_titles_actions_and_criteria_rewrite_only_those_lines(author_client,
                                                                             author):
    text = (CORPUS / "04-phases-plain-bullets.md").read_text()
    plan = services.plan_import_markdown(actor=author, text=text)
    edit(author_client, plan, **{
        "title": "Move sessions to Redis (v2)",
        "steps-0-title": "Dual write everywhere",
        "steps-1-actions": "- [ ] Switch `SESSION_ENGINE` to `cache`\n- [x] Keep the table "
                           "for a week\n- [ ] Announce the logout of idle users",
        "problem_statement": "Sessions live in the database.",
    })  # fmt: skip
    exported = export_plan(Plan.objects.get(pk=plan.pk))
    assert changed_lines(text, exported) == [
        "-# Plan — Move sessions to Redis",
        "+# Plan — Move sessions to Redis (v2)",
        "-Sessions live in the database and every request writes one row. Moving them to Redis "
        "removes",
        "-a third of our writes.",
        "+Sessions live in the database.",
        "-### Phase 1: Dual write",
        "+### Phase 1: Dual write everywhere",
        "-- Keep the table for a week",
        "+- [x] Keep the table for a week",
    ]


def test_steps_added_and_removed_in_the_editor(author_client, author):
    text = (CORPUS / "05-no-title-numbered-steps.md").read_text()
    plan = services.plan_import_markdown(actor=author, text=text)
    data, _ = rendered_form_data(author_client.get(reverse("plans:edit", args=[plan.pk])))
    data["title"] = "Reviewer queue"  # the editor asks for one; the file had none
    data["steps-TOTAL_FORMS"] = "3"  # the last step goes
    for key in [k for k in data if k.startswith("steps-3-")]:
        del data[key]
    assert author_client.post(reverse("plans:edit", args=[plan.pk]), data).status_code == 302
    exported = export_plan(Plan.objects.get(pk=plan.pk))
    assert "### 4. Document it" not in exported and "### 3. Highlight plans" in exported
    assert exported.endswith("- Hide the column\n")
    assert exported.startswith("# Reviewer queue\n\n## Problem Statement\n")


def test_a_section_filled_in_the_editor_is_added_where_the_template_puts_it(author_client,
                                                                            author):
    text = (CORPUS / "09-risk-table.md").read_text()
    plan = services.plan_import_markdown(actor=author, text=text)
    edit(author_client, plan, success_criteria="- [ ] Emails never wait for webhooks")
    exported = export_plan(Plan.objects.get(pk=plan.pk))
    assert changed_lines(text, exported) == [
        "+## Success Criteria", "+- [ ] Emails never wait for webhooks", "+"]
    assert exported.index("## Success Criteria") < exported.index("## Rollback Plan")


def test_the_revision_of_an_imported_plan_is_the_agents_file(author, author_client):
    raw = (CORPUS / "01-template-exact.md").read_bytes()
    plan = services.plan_import_markdown(actor=author, text=raw)
    revision = services.plan_submit(actor=author, plan=plan)
    assert revision.content == raw.decode()
    assert revision.content_hash == hashlib.sha256(raw).hexdigest()
    assert services.text_revision_hash(raw) == revision.content_hash


def test_a_plan_made_in_the_editor_keeps_the_canonical_layout(author):
    plan = services.plan_create(actor=author, title="Typed")
    assert plan.source is None
    assert export_plan(Plan.objects.get(pk=plan.pk)).startswith("# Implementation Plan - Typed\n")


# --- admin commands --------------------------------------------------------------------------


def test_plan_import_prints_one_line_per_file(author, tmp_path):
    files = [CORPUS / "03-suffix-title-alert.md", CORPUS / "20-minimal.md"]
    out = StringIO()
    call_command("plan_import", "--author", author.username, *map(str, files), stdout=out)
    plans = list(Plan.objects.order_by("pk"))
    assert out.getvalue().splitlines() == [
        f"{plan.pk}\t{path}\t{len(plan.import_report['warnings'])} warnings"
        for plan, path in zip(plans, files, strict=True)]
    assert [plan.author for plan in plans] == [author, author]
    assert len(plans[1].import_report["warnings"]) == 8


def test_plan_import_names_refused_files_imports_the_rest_and_fails(author, tmp_path):
    bad = tmp_path / "latin1.md"
    bad.write_bytes("# Café".encode("latin-1"))
    missing = tmp_path / "missing.md"
    good = CORPUS / "20-minimal.md"
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="2 of 3 file"):
        call_command("plan_import", "--author", author.username, str(bad), str(good),
                     str(missing), stdout=out, stderr=err)
    assert Plan.objects.count() == 1
    assert out.getvalue().count("\n") == 1 and f"\t{good}\t" in out.getvalue()
    assert f"{bad}\trefused: line 1: the file is not valid UTF-8" in err.getvalue()
    assert f"{missing}\trefused:" in err.getvalue()


def test_plan_import_needs_a_known_author():
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("plan_import", "--author", "nobody", str(CORPUS / "20-minimal.md"))


def test_plan_export_prints_the_markdown_and_nothing_else(author):
    raw = (CORPUS / "17-unicode.md").read_text()
    plan = services.plan_import_markdown(actor=author, text=raw)
    out = StringIO()
    call_command("plan_export", str(plan.pk), stdout=out)
    assert out.getvalue() == raw
    with pytest.raises(CommandError, match="No plan with id 999999"):
        call_command("plan_export", "999999", stdout=StringIO())


def test_seed_demo_imports_the_demo_plans_from_the_repository():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    demos = sorted(DEMO_DIR.glob("*.md"))
    assert f"Example plans imported this run: {len(demos)}" in out.getvalue()
    assert Plan.objects.count() == len(demos) >= 3
    call_command("seed_demo", stdout=StringIO())  # again: nothing duplicated
    assert Plan.objects.count() == len(demos)


# --- which sections submission requires ------------------------------------------------------


def test_by_default_submission_requires_the_schemas_sections(author):
    plan = services.plan_create(actor=author, title="Empty")
    assert services.missing_for_submission(plan) == [
        "Problem statement", "At least one implementation step", "Testing strategy",
        "Rollback plan"]


def test_an_admin_changes_which_sections_submission_requires_and_it_is_audited(author,
                                                                               admin_user):
    plan = services.plan_create(actor=author, title="Empty")
    services.submission_rule_update(actor=admin_user,
                                    required=["risk_assessment", "problem_statement"])
    assert services.missing_for_submission(plan) == ["Problem statement", "Risk assessment"]
    entry = AuditEntry.objects.get(action="plan.submission_rule_changed")
    assert entry.actor == admin_user
    assert entry.payload == {"from": SubmissionRule.default_keys(),
                             "to": ["problem_statement", "risk_assessment"]}
    services.submission_rule_update(actor=admin_user, required=[])
    assert services.missing_for_submission(plan) == []
    assert services.plan_submit(actor=author, plan=plan).number == 1


def test_only_admins_change_the_rule_and_only_to_real_sections(author, admin_user):
    with pytest.raises(NotAllowed):
        services.submission_rule_update(actor=author, required=[])
    with pytest.raises(ValidationError, match="approval"):
        services.submission_rule_update(actor=admin_user, required=["approval"])
    assert not SubmissionRule.objects.exists()


def test_the_rule_is_edited_in_the_admin_through_the_service(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:plans_submissionrule_add"),
                           {"required": ["problem_statement", "success_criteria"]})
    assert response.status_code == 302
    assert SubmissionRule.required_keys() == ["problem_statement", "success_criteria"]
    assert AuditEntry.objects.filter(action="plan.submission_rule_changed").count() == 1
