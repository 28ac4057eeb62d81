"""On PostgreSQL, one function that takes the audit chain's lock and then reads its head
(audit/log.py): an append's two round trips become one.

The read is a statement of its own inside a volatile function, so under READ COMMITTED it takes
its snapshot after the lock was granted and sees every entry committed before. SQLite has no
such function (its one write lock serialises appends).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_chain_lock_and_head(lock_key bigint) RETURNS varchar
VOLATILE LANGUAGE plpgsql AS $$
DECLARE
    head varchar;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT entry_hash INTO head FROM audit_auditentry ORDER BY id DESC LIMIT 1;
    RETURN head;
END;
$$;
"""

DROP = "DROP FUNCTION IF EXISTS audit_chain_lock_and_head(bigint);"


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_versioned_entries_index")]
    operations = [migrations.RunPython(create_function, drop_function, elidable=False)]
