"""On PostgreSQL, one function that takes the audit chain's lock and then reads its head
(audit/log.py): an append's two round trips become one.

The read is a statement of its own inside a volatile function, so under READ COMMITTED it takes
its snapshot after the lock was granted and sees every entry committed before. A transaction
of a stricter isolation level reads with its first snapshot whatever it does (it could fork the
chain): the function refuses it. SQLite has no such function (its one write lock serialises
appends). The table is AuditEntry's (audit_auditentry).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_chain_lock_and_head(lock_key bigint) RETURNS varchar
VOLATILE LANGUAGE plpgsql AS $$
DECLARE
    head varchar;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'the audit chain is appended to under READ COMMITTED only, not %',
            current_setting('transaction_isolation');
    END IF;
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
