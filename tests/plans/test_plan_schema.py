"""A section added to plans/schema.py, and nothing else, reaches every part of the app: the
editor, the plan page, Markdown import and export, the services and the revision diff."""

from dataclasses import dataclass

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from plans import schema, services
from plans.diff import section_diff
from plans.markdown import TEMPLATE, export_plan
from plans.models import Plan
from tests.factories import ready_plan
from tests.plans.test_plan_editor import editor_data

pytestmark = pytest.mark.django_db


@dataclass
class Added:
    section: schema.Section
    before: str  # the Markdown heading it is written before
    diff_heading: str  # its heading path in plans/diff.py


ADDED = [
    pytest.param(Added(schema.Section("security_considerations", "Security Considerations",
                                      schema.PROSE),
                       "## Success Criteria", "Security Considerations"), id="h2-section"),
    pytest.param(Added(schema.Section("performance_testing", "Performance Testing",
                                      schema.PROSE, parent="testing_strategy"),
                       "## Risk Assessment", "Testing Strategy / Performance Testing"),
                 id="h3-subsection"),
]


@pytest.fixture(params=ADDED)
def added(request, monkeypatch) -> Added:
    """One more prose section in the schema, where its Markdown heading puts it."""
    new = request.param
    at = next(i for i, s in enumerate(schema.SECTIONS) if f"## {s.heading}" == new.before)
    monkeypatch.setattr(schema, "SECTIONS", (*schema.SECTIONS[:at], new.section,
                                             *schema.SECTIONS[at:]))
    return new


def with_section(text: str, added: Added, body: str) -> str:
    hashes = "###" if added.section.parent else "##"
    return text.replace(f"{added.before}\n", f"{hashes} {added.section.heading}\n{body}\n\n"
                        f"{added.before}\n", 1)


def test_the_editor_has_a_field_for_it_and_saves_it(added, author_client):
    page = author_client.get(reverse("plans:create")).content.decode()
    key = added.section.key
    assert f'name="{key}"' in page
    heading = added.section.label if added.section.parent else f"<h2>{added.section.heading}</h2>"
    assert heading in page

    response = author_client.post(reverse("plans:create"), editor_data(**{key: "- Written"}))
    assert response.status_code == 302
    assert Plan.objects.get().sections[key] == "- Written"


def test_the_plan_page_shows_it(added, author_client, author):
    plan = ready_plan(author=author)
    services.plan_update(actor=author, plan=plan, fields={added.section.key: "**Vault**"})
    page = author_client.get(plan.get_absolute_url()).content.decode()
    assert added.section.heading in page and "<strong>Vault</strong>" in page


def test_markdown_with_it_imports_into_it_and_exports_back_byte_identical(added, author):
    text = with_section(TEMPLATE, added, "- Secrets stay in Vault").replace(
        "*Status: PENDING_REVIEW*", "*Status: DRAFT*")  # the export says the plan's status
    plan = services.plan_import_markdown(actor=author, text=text)
    assert plan.sections[added.section.key] == "- Secrets stay in Vault"
    assert plan.extra_sections == []  # a section of the plan, not one kept aside
    assert export_plan(Plan.objects.get(pk=plan.pk)) == text


def test_the_revision_diff_reports_a_change_in_it(added, author):
    plan = ready_plan(author=author)
    services.plan_update(actor=author, plan=plan, fields={added.section.key: "- Before"})
    first = services.plan_submit(actor=author, plan=plan)
    plan = services.plan_withdraw(actor=author, plan=Plan.objects.get(pk=plan.pk))
    services.plan_update(actor=author, plan=plan, fields={added.section.key: "- After"})
    second = services.plan_submit(actor=author, plan=Plan.objects.get(pk=plan.pk))

    changed = [s for s in section_diff(first.content, second.content) if s.changed]
    assert [(s.heading, s.status) for s in changed] == [(added.diff_heading, "changed")]
    assert [(line.kind, line.text) for line in changed[0].lines if line.kind != "equal"] == [
        ("delete", "- Before"), ("insert", "- After")]


# --- storage --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_migration_moves_the_prose_columns_into_sections_and_back(author):
    """plans 0005 copies each prose column into Plan.sections, and back when reversed."""
    before, after = ("plans", "0004_revision_update_trigger"), ("plans", "0005_plan_sections")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old_plan = executor.loader.project_state(before).apps.get_model("plans", "Plan")
    pk = old_plan.objects.create(author_id=author.pk, problem_statement="Slow",
                                 rollback_partial="Stop at step 2").pk

    executor = MigrationExecutor(connection)
    executor.migrate([after])
    new_plan = executor.loader.project_state(after).apps.get_model("plans", "Plan")
    sections = new_plan.objects.get(pk=pk).sections
    assert (sections.get("problem_statement"), sections.get("rollback_partial"),
            sections.get("unit_testing", "")) == ("Slow", "Stop at step 2", "")

    executor = MigrationExecutor(connection)
    executor.migrate([before])
    assert old_plan.objects.values_list("problem_statement", "rollback_partial").get(pk=pk) == (
        "Slow", "Stop at step 2")
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
