"""On PostgreSQL, also refuse TRUNCATE of the audit trail, and fire the append-only triggers
even under session_replication_role = replica (which a superuser could set to skip them).

Test databases are flushed with the triggers disabled for the flush (config/db/postgresql).
"""

from django.db import migrations

CREATE = """
DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry;
CREATE TRIGGER audit_entry_no_truncate
    BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();
ALTER TABLE audit_auditentry ENABLE ALWAYS TRIGGER audit_entry_append_only;
ALTER TABLE audit_auditentry ENABLE ALWAYS TRIGGER audit_entry_no_truncate;
"""

DROP = """
DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry;
ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_append_only;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_trigger")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
