"""On PostgreSQL, reject UPDATE on plan revisions at the database itself.

DELETE is deliberately left alone: deleting a plan cascades to its revisions (the model's own
delete() and the QuerySet refuse everything else). SQLite has no such trigger; the model and
its QuerySet still refuse updates there.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION plan_revision_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'plan revisions are immutable: UPDATE on plans_planrevision rejected'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS plan_revision_immutable ON plans_planrevision;
CREATE TRIGGER plan_revision_immutable
    BEFORE UPDATE ON plans_planrevision
    FOR EACH ROW EXECUTE FUNCTION plan_revision_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS plan_revision_immutable ON plans_planrevision;
DROP FUNCTION IF EXISTS plan_revision_immutable();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("plans", "0003_single_line_text_fields")]
    operations = [migrations.RunPython(create_trigger, drop_trigger, elidable=False)]
