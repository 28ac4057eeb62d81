"""The prose sections move from a column each into one JSON field, Plan.sections (key -> text).

The columns are listed here as they were: a migration must not follow plans/schema.py, which
will grow. Going back restores these thirteen columns; a section added since has no column
to go back to.
"""

from django.db import migrations, models

COLUMNS = (
    "problem_statement", "existing_system", "research_findings", "high_level_approach",
    "technical_design", "unit_testing", "integration_testing", "manual_testing",
    "high_risk_items", "medium_risk_items", "risk_dependencies", "rollback_if_fails",
    "rollback_partial",
)


def columns_to_sections(apps, schema_editor):
    plans = apps.get_model("plans", "Plan").objects.using(schema_editor.connection.alias)
    # update() rather than save(): the content did not change, so updated_at must not either.
    for row in plans.values("pk", *COLUMNS).iterator():
        pk = row.pop("pk")
        plans.filter(pk=pk).update(sections=row)


def sections_to_columns(apps, schema_editor):
    plans = apps.get_model("plans", "Plan").objects.using(schema_editor.connection.alias)
    for pk, sections in plans.values_list("pk", "sections").iterator():
        plans.filter(pk=pk).update(**{name: sections.get(name, "") for name in COLUMNS})


class Migration(migrations.Migration):
    dependencies = [("plans", "0004_revision_update_trigger")]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="sections",
            field=models.JSONField(
                blank=True, default=dict,
                help_text="Markdown of each prose section by key (plans/schema.py); no key = empty.",
            ),
        ),
        migrations.RunPython(columns_to_sections, sections_to_columns, elidable=False),
        *(migrations.RemoveField(model_name="plan", name=name) for name in COLUMNS),
    ]
