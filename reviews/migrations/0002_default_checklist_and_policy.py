"""The default checklist is the plan template's Review Checklist (4 groups, 15 items); one policy."""

from django.db import migrations

DEFAULT_NAME = "Plan template review checklist"
DEFAULT_CHECKLIST = [
    ("Technical Review", [
        "Solution addresses the problem completely",
        "Implementation steps are clear and actionable",
        "Dependencies are identified correctly",
        "Risk assessment is realistic",
        "Testing strategy is comprehensive",
    ]),
    ("Project Alignment", [
        "Aligns with project architecture",
        "Follows coding standards",
        "Maintains backward compatibility",
        "Considers security implications",
    ]),
    ("Resource Planning", [
        "Time estimates are reasonable",
        "Required skills are available",
        "No conflicting work planned",
    ]),
    ("Documentation", [
        "Plan is clear and detailed",
        "Success criteria are measurable",
        "Rollback plan is viable",
    ]),
]


def create_defaults(apps, schema_editor):
    db = schema_editor.connection.alias if schema_editor else "default"
    Template = apps.get_model("reviews", "ChecklistTemplate")
    Group = apps.get_model("reviews", "ChecklistGroup")
    Item = apps.get_model("reviews", "ChecklistItem")
    Policy = apps.get_model("reviews", "ReviewPolicy")
    if not Template.objects.using(db).filter(is_default=True).exists():
        template = Template.objects.using(db).create(name=DEFAULT_NAME, is_default=True)
        for g_pos, (title, items) in enumerate(DEFAULT_CHECKLIST):
            group = Group.objects.using(db).create(template=template, title=title, position=g_pos)
            Item.objects.using(db).bulk_create(
                Item(group=group, text=text, position=i) for i, text in enumerate(items)
            )
    if not Policy.objects.using(db).exists():
        Policy.objects.using(db).create(name="Default", min_approvals=1, high_risk_min_approvals=2)


def remove_defaults(apps, schema_editor):
    db = schema_editor.connection.alias
    Template = apps.get_model("reviews", "ChecklistTemplate")
    Template.objects.using(db).filter(name=DEFAULT_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, remove_defaults)]
