from django.db import migrations

ROLES = ("Authors", "Reviewers", "Admins")


def create_roles(apps, schema_editor):
    db = schema_editor.connection.alias if schema_editor else "default"
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.using(db).get_or_create(name=name)


def remove_roles(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("auth", "Group").objects.using(db).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_roles, remove_roles)]
